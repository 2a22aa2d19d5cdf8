#!/usr/bin/env python3
"""The official Python A2A client (a2a-sdk 1.3.0) over our HTTP+JSON binding.

Usage: a2a_sdk_rest.py BASE_URL --text T --expect E

The SDK resolves the agent card and, asked for HTTP+JSON only, picks the
card's HTTP+JSON interface (`{base}/v1`). Checks, each failing the run:

- the streamed send goes to `POST {base}/v1/message:stream`, every SSE data
  event is a bare StreamResponse (no JSON-RPC envelope), the SDK yields as
  many events as the wire carried, the run ends TASK_STATE_COMPLETED and the
  artifact text equals E (computed by the caller from our `/chat` answer);
- a non-streaming send answers the finished Task;
- GetTask with historyLength 1 answers that Task with one history message;
- ListTasks lists it;
- CancelTask on the finished task raises the SDK's TaskNotCancelableError and
  GetTask of an unknown id its TaskNotFoundError (mapped from our error
  bodies' ErrorInfo reason).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

import httpx

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (
    CancelTaskRequest,
    GetTaskRequest,
    ListTasksRequest,
    Message,
    Part,
    Role,
    SendMessageRequest,
    TaskState,
)
from a2a.utils.errors import TaskNotCancelableError, TaskNotFoundError
from wire_tap import WireTap


def message(text: str) -> Message:
    return Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)])


async def run(args: argparse.Namespace) -> list[str]:
    wire = WireTap()
    problems: list[str] = []
    async with httpx.AsyncClient(transport=wire, timeout=30) as http:
        card = await A2ACardResolver(http, args.url).get_agent_card()
        rest = [i for i in card.supported_interfaces if i.protocol_binding == "HTTP+JSON"]
        if not rest:
            return ["the card lists no HTTP+JSON interface"]
        config = ClientConfig(streaming=True, httpx_client=http, supported_protocol_bindings=["HTTP+JSON"])
        client = ClientFactory(config).create(card)
        events = [ev async for ev in client.send_message(SendMessageRequest(message=message(args.text)))]
        stream_path = (wire.requests[-1].method, wire.requests[-1].path)
        if stream_path != ("POST", "/v1/message:stream"):
            problems.append(f"the streamed send went to {stream_path}")
        if len(wire.datas) != len(events):
            problems.append(f"{len(wire.datas)} SSE data events on the wire, the SDK yielded {len(events)}")
        if any("jsonrpc" in d or len(d) != 1 for d in wire.datas):
            problems.append("an SSE data event is not a bare StreamResponse")
        kinds = [ev.WhichOneof("payload") for ev in events]
        if not events or kinds[0] != "task":
            return problems + [f"the stream did not start with a Task: {kinds[:1]}"]
        task_id = events[0].task.id
        texts: dict[str, str] = {}
        for ev, kind in zip(events, kinds):
            if kind == "artifact_update":
                update = ev.artifact_update
                before = texts.get(update.artifact.artifact_id, "") if update.append else ""
                texts[update.artifact.artifact_id] = before + "".join(p.text for p in update.artifact.parts)
        last = events[-1]
        if kinds[-1] != "status_update" or last.status_update.status.state != TaskState.TASK_STATE_COMPLETED:
            problems.append(f"the stream ended with {kinds[-1]}, not a completed status")
        if "".join(texts.values()) != args.expect:
            problems.append(f"artifact text {''.join(texts.values())!r} != expected {args.expect!r}")

        blocking = ClientFactory(ClientConfig(streaming=False, httpx_client=http,
                                              supported_protocol_bindings=["HTTP+JSON"])).create(card)
        answers = [ev async for ev in blocking.send_message(SendMessageRequest(message=message(args.text)))]
        sent = (wire.requests[-1].method, wire.requests[-1].path)
        if sent != ("POST", "/v1/message:send"):
            problems.append(f"the non-streaming send went to {sent}")
        if not answers or answers[-1].WhichOneof("payload") != "task" \
                or answers[-1].task.status.state != TaskState.TASK_STATE_COMPLETED:
            problems.append(f"the non-streaming send answered {answers!r}")

        task = await client.get_task(GetTaskRequest(id=task_id, history_length=1))
        if task.id != task_id or task.status.state != TaskState.TASK_STATE_COMPLETED:
            problems.append(f"GetTask answered {task.id} in {TaskState.Name(task.status.state)}")
        if len(task.history) != 1:
            problems.append(f"GetTask with historyLength 1 answered {len(task.history)} messages")
        listed = await client.list_tasks(ListTasksRequest(page_size=100))
        if task_id not in [t.id for t in listed.tasks]:
            problems.append("ListTasks does not list the streamed task")
        try:
            await client.cancel_task(CancelTaskRequest(id=task_id))
            problems.append("CancelTask of a finished task did not raise")
        except TaskNotCancelableError:
            pass
        try:
            await client.get_task(GetTaskRequest(id="no-such-task"))
            problems.append("GetTask of an unknown task did not raise")
        except TaskNotFoundError:
            pass
    if not problems:
        print(f"ok  python a2a-sdk HTTP+JSON: {len(events)} streamed events, send, get, list, "
              f"and the SDK's own errors for cancel and unknown task")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--text", required=True)
    parser.add_argument("--expect", required=True)
    args = parser.parse_args()
    problems = asyncio.run(run(args))
    for problem in problems:
        print(f"FAIL python a2a-sdk HTTP+JSON: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
