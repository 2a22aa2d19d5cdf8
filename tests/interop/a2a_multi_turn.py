#!/usr/bin/env python3
"""A multi-turn A2A task driven by the official Python client (a2a-sdk 1.3.0).

Usage: a2a_multi_turn.py BASE_URL --protocol auto|0.3|1.0

The interop server's agent has the built-in `request_input` tool, and the
offline demo calls it when the message says "request input". Checks, each
failing the run:

- the first message's stream ends with the task `input-required` (not a
  terminal state), its status message the agent's question;
- the answer, sent by the SDK with that task's id and context id, streams
  the same task: first the Task (working), then the demo's tool round trip,
  then `completed`, the answer naming what the user said;
- GetTask shows one task whose history holds both turns: user, agent
  (the question), user (the answer), agent;
- a third message to the completed task is refused with the SDK's
  UnsupportedOperationError (-32004: "Messages sent to Tasks that are in a
  terminal state ... cannot accept further messages").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

import httpx

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from a2a.types.a2a_pb2 import (AgentInterface, GetTaskRequest, Message, Part, Role,
                               SendMessageRequest, TaskState)
from a2a.utils.errors import UnsupportedOperationError


def keep_only(card, protocol: str) -> None:
    keep = [i for i in card.supported_interfaces
            if i.protocol_binding == "JSONRPC" and i.protocol_version.startswith(protocol)]
    assert keep, f"the card offers no JSON-RPC interface of version {protocol}"
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(AgentInterface(url=i.url, protocol_binding=i.protocol_binding,
                                                    protocol_version=i.protocol_version) for i in keep)


def user(text: str, task_id: str = "", context_id: str = "") -> SendMessageRequest:
    message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=text)],
                      task_id=task_id, context_id=context_id)
    return SendMessageRequest(message=message)


def state_of(event):
    kind = event.WhichOneof("payload")
    if kind == "task":
        return event.task.status.state
    if kind == "status_update":
        return event.status_update.status.state
    return None


async def run(args: argparse.Namespace) -> list[str]:
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=30) as http:
        card = await A2ACardResolver(http, args.url).get_agent_card()
        if args.protocol != "auto":
            keep_only(card, args.protocol)
        client = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)

        first = [ev async for ev in client.send_message(user("Please request input about the weather"))]
        last = first[-1]
        if state_of(last) != TaskState.TASK_STATE_INPUT_REQUIRED:
            return [f"the first turn ended {TaskState.Name(state_of(last) or 0)}, not INPUT_REQUIRED"]
        update = last.status_update
        question = "".join(p.text for p in update.status.message.parts)
        if not question:
            problems.append("input-required without the agent's question as its status message")
        if any(ev.WhichOneof("payload") == "artifact_update" for ev in first):
            problems.append("the question also came as an answer artifact")
        task_id, context_id = update.task_id, update.context_id

        second = [ev async for ev in client.send_message(user("Paris", task_id, context_id))]
        head = second[0]
        if head.WhichOneof("payload") != "task" or head.task.id != task_id:
            problems.append(f"the answer's stream did not start with task {task_id}: {head}")
        elif head.task.status.state != TaskState.TASK_STATE_WORKING:
            problems.append(f"the continued task is {TaskState.Name(head.task.status.state)}, not WORKING")
        if state_of(second[-1]) != TaskState.TASK_STATE_COMPLETED:
            problems.append(f"the second turn ended {TaskState.Name(state_of(second[-1]) or 0)}")
        answer = "".join(p.text for ev in second if ev.WhichOneof("payload") == "artifact_update"
                         for p in ev.artifact_update.artifact.parts)
        if "Paris" not in answer:
            problems.append(f"the answer {answer!r} does not take up the user's 'Paris'")

        task = await client.get_task(GetTaskRequest(id=task_id))
        roles = [Role.Name(m.role) for m in task.history]
        if roles != ["ROLE_USER", "ROLE_AGENT", "ROLE_USER", "ROLE_AGENT"]:
            problems.append(f"the task's history is {roles}, not both turns")
        elif "".join(p.text for p in task.history[1].parts) != question:
            problems.append("the history's agent message is not the question")

        try:
            late = [ev async for ev in client.send_message(user("And Rome?", task_id, context_id))]
            problems.append(f"a message to the completed task was accepted: {late[:1]}")
        except UnsupportedOperationError as error:
            if "terminal" not in str(error):
                problems.append(f"UnsupportedOperationError without the reason: {error}")

    if not problems:
        print(f"ok  python a2a-sdk {args.protocol:>4} multi-turn: input-required ({question!r}), "
              f"answered on task {task_id[:8]}…, completed; a message after that refused")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--protocol", choices=["auto", "0.3", "1.0"], default="auto")
    args = parser.parse_args()
    problems = asyncio.run(run(args))
    for problem in problems:
        print(f"FAIL python a2a-sdk {args.protocol} multi-turn: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
