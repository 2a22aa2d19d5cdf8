#!/usr/bin/env python3
"""A push-notification round trip driven by the official Python A2A client (a2a-sdk 1.3.0).

Usage: a2a_push.py BASE_URL

The server must allow webhooks to loopback (the interop server does). A
webhook receiver (the standard library's HTTP server) listens on 127.0.0.1;
for each dialect (the card narrowed to its 0.3 or its 1.0 JSON-RPC
interface), the SDK:

- sends a blocking message whose configuration carries the webhook, a token
  and Bearer authentication (`SendMessageConfiguration.task_push_notification_config`,
  which the SDK's 0.3 transport turns into `pushNotificationConfig`);
- then, on that task, creates a second config, reads it back, lists both and
  deletes the second, through the SDK's config methods.

Checks, each failing the run: the receiver gets the task's states in order
(submitted, working, completed), each with the token in
`X-A2A-Notification-Token` and `Authorization: Bearer …`; the 0.3 bodies are
Tasks (`kind: task`), the 1.0 bodies StreamResponses whose last one is the
whole task; the final notification carries the answer's artifact; the SDK
reads the configs the server answers (url, token, id) in both dialects.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    AgentInterface,
    AuthenticationInfo,
    DeleteTaskPushNotificationConfigRequest,
    GetTaskPushNotificationConfigRequest,
    ListTaskPushNotificationConfigsRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    TaskPushNotificationConfig,
    TaskState,
)

STATES = {
    "0.3": ["submitted", "working", "completed"],
    "1.0": ["TASK_STATE_SUBMITTED", "TASK_STATE_WORKING", "TASK_STATE_COMPLETED"],
}


class Receiver:
    """Records every POST: its path, token and Authorization headers, and JSON body."""

    def __init__(self) -> None:
        self.hits: list[dict] = []
        lock = threading.Lock()
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with lock:
                    hits.append({
                        "path": self.path,
                        "token": self.headers.get("x-a2a-notification-token"),
                        "authorization": self.headers.get("authorization"),
                        "content_type": self.headers.get("content-type"),
                        "body": body,
                    })
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def for_path(self, path: str) -> list[dict]:
        return [hit for hit in list(self.hits) if hit["path"] == path]

    async def wait_for(self, path: str, count: int, within: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            hits = self.for_path(path)
            if len(hits) >= count:
                return hits
            await asyncio.sleep(0.02)
        return self.for_path(path)


def keep_only(card, protocol: str) -> None:
    keep = [i for i in card.supported_interfaces
            if i.protocol_binding == "JSONRPC" and i.protocol_version.startswith(protocol)]
    assert keep, f"the card offers no JSON-RPC interface of version {protocol}"
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(AgentInterface(url=i.url, protocol_binding=i.protocol_binding,
                                                    protocol_version=i.protocol_version) for i in keep)


def state_of(protocol: str, body: dict) -> tuple[str, str, dict]:
    """The task id, the state and the task (or status update) a notification carries."""
    if protocol == "0.3":
        if body.get("kind") != "task":
            raise AssertionError(f"0.3 notification is not a Task: {body}")
        return body["id"], body["status"]["state"], body
    (key, inner), = body.items()
    if key == "task":
        return inner["id"], inner["status"]["state"], inner
    if key == "statusUpdate":
        return inner["taskId"], inner["status"]["state"], inner
    raise AssertionError(f"1.0 notification is not a task or a status update: {body}")


async def round_trip(base: str, protocol: str, receiver: Receiver) -> list[str]:
    problems: list[str] = []
    path = f"/hook-{protocol}"
    token = f"tok-{uuid.uuid4()}"
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, base).get_agent_card()
        if not card.capabilities.push_notifications:
            problems.append("card: capabilities.pushNotifications is not true")
        keep_only(card, protocol)
        client = ClientFactory(ClientConfig(streaming=False, httpx_client=http)).create(card)
        push = TaskPushNotificationConfig(
            url=receiver.url + path, token=token,
            authentication=AuthenticationInfo(scheme="Bearer", credentials="hook-secret"))
        message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()),
                          parts=[Part(text="What is the weather in Paris?")])
        request = SendMessageRequest(message=message,
                                     configuration=SendMessageConfiguration(task_push_notification_config=push))
        events = [ev async for ev in client.send_message(request)]
        task = next((ev.task for ev in events if ev.WhichOneof("payload") == "task"), None)
        if task is None:
            return problems + [f"the send answered no task: {events}"]
        if task.status.state != TaskState.TASK_STATE_COMPLETED:
            problems.append(f"the send answered {TaskState.Name(task.status.state)}, not completed")

        hits = await receiver.wait_for(path, 3)
        await asyncio.sleep(0.2)
        hits = receiver.for_path(path)
        seen = []
        for hit in hits:
            try:
                seen.append(state_of(protocol, hit["body"]))
            except (AssertionError, KeyError, ValueError) as error:
                problems.append(str(error))
        if [s for _, s, _ in seen] != STATES[protocol]:
            problems.append(f"the webhook got states {[s for _, s, _ in seen]}, not {STATES[protocol]}")
        if any(task_id != task.id for task_id, _, _ in seen):
            problems.append("a notification for another task")
        for hit in hits:
            if hit["token"] != token:
                problems.append(f"notification token {hit['token']!r}, not {token!r}")
            if hit["authorization"] != "Bearer hook-secret":
                problems.append(f"Authorization {hit['authorization']!r}")
            if not (hit["content_type"] or "").startswith("application/json"):
                problems.append(f"Content-Type {hit['content_type']!r}")
        if seen:
            final = seen[-1][2]
            text = "".join(p.get("text", "") for a in final.get("artifacts", []) for p in a.get("parts", []))
            if not text:
                problems.append(f"the final notification carries no answer: {final}")
            if protocol == "1.0" and "task" not in hits[-1]["body"]:
                problems.append("1.0: the final notification is not the whole task")

        # The config methods, through the SDK, on the finished task.
        second = TaskPushNotificationConfig(task_id=task.id, id="second", url=receiver.url + "/second",
                                            token="t2")
        created = await client.create_task_push_notification_config(second)
        if (created.id, created.url, created.token) != ("second", second.url, "t2"):
            problems.append(f"create answered {created}")
        got = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=task.id, id="second"))
        if got.url != second.url or got.task_id != task.id:
            problems.append(f"get answered {got}")
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id))
        urls = sorted(c.url for c in listed.configs)
        if urls != sorted([push.url, second.url]):
            problems.append(f"list answered {urls}")
        inline = next((c for c in listed.configs if c.url == push.url), None)
        if inline is None or inline.token != token or inline.authentication.scheme != "Bearer":
            problems.append(f"the send's config reads back as {inline}")
        await client.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=task.id, id="second"))
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=task.id))
        if [c.url for c in listed.configs] != [push.url]:
            problems.append(f"after delete, list answered {[c.url for c in listed.configs]}")
        if receiver.for_path("/second"):
            problems.append("a config set on a finished task was sent notifications")
    if not problems:
        print(f"ok  python a2a-sdk push {protocol}: {len(hits)} notifications "
              f"({', '.join(s for _, s, _ in seen)}) with token and Bearer auth; "
              "create/get/list/delete through the SDK")
    return problems


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    args = parser.parse_args()
    receiver = Receiver()
    failed = False
    for protocol in ("0.3", "1.0"):
        problems = await round_trip(args.url, protocol, receiver)
        for problem in problems:
            print(f"FAIL python a2a-sdk push {protocol}: {problem}", file=sys.stderr)
        failed |= bool(problems)
    receiver.server.shutdown()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
