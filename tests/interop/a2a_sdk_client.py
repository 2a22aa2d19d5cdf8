#!/usr/bin/env python3
"""The official Python A2A client (a2a-sdk 1.3.0) streams one message from us.

Usage: a2a_sdk_client.py BASE_URL --protocol auto|0.3|1.0 --text T --expect E [--minimal]

The SDK resolves the agent card, picks the JSON-RPC interface (`auto`: as the
SDK chooses, which prefers 1.0; `0.3` / `1.0`: only the card's interface of
that version is kept) and streams. Checks, each failing the run:

- the first event is a Task (or a Message), a terminal state is reached and
  nothing follows it;
- the SDK yielded exactly as many events as the wire carried SSE `data:`
  events (none dropped), none parsed empty or with an UNSPECIFIED enum;
- the artifact text assembled from the appends equals E (computed by the
  caller independently, from our `/chat` JSON answer), in more than one chunk;
- the dialect on the wire is the one forced (0.3: `message/stream`, results
  with `kind`; 1.0: `SendStreamingMessage`, wrapped results, the
  `A2A-Version: 1.0` header); `auto` uses 1.0 when the card offers it.

With `--minimal` the SDK is given the Python streaming guide's minimal
message: parts only, no message id and no role. In 1.0 the SDK sends it as it
is (`{"parts": [{"text": …}]}`, checked on the wire); its 0.3 transport fills
in `messageId: ""` and `role: "agent"` itself. Either way the answer must pass
every check above, and the Task's history must carry a non-empty messageId
that the server generated (and the user role where the request had none).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

import httpx

from a2a.client import A2ACardResolver, ClientConfig, ClientFactory
from wire_tap import WireTap
from a2a.types.a2a_pb2 import AgentInterface, Message, Part, Role, SendMessageRequest, TaskState

TERMINAL = {
    TaskState.TASK_STATE_COMPLETED,
    TaskState.TASK_STATE_FAILED,
    TaskState.TASK_STATE_CANCELED,
    TaskState.TASK_STATE_REJECTED,
}
WRAPPERS = {"task", "message", "statusUpdate", "artifactUpdate"}


def keep_only(card, protocol: str) -> None:
    keep = [i for i in card.supported_interfaces
            if i.protocol_binding == "JSONRPC" and i.protocol_version.startswith(protocol)]
    assert keep, f"the card offers no JSON-RPC interface of version {protocol}"
    del card.supported_interfaces[:]
    card.supported_interfaces.extend(AgentInterface(url=i.url, protocol_binding=i.protocol_binding,
                                                    protocol_version=i.protocol_version) for i in keep)


async def run(args: argparse.Namespace) -> list[str]:
    wire = WireTap()
    problems: list[str] = []
    async with httpx.AsyncClient(transport=wire, timeout=30) as http:
        card = await A2ACardResolver(http, args.url).get_agent_card()
        if not card.capabilities.streaming:
            problems.append("card: capabilities.streaming is not true")
        offers_1_0 = any(i.protocol_version.startswith("1.") for i in card.supported_interfaces)
        if args.protocol != "auto":
            keep_only(card, args.protocol)
        client = ClientFactory(ClientConfig(streaming=True, httpx_client=http)).create(card)
        if args.minimal:
            message = Message(parts=[Part(text=args.text)])
        else:
            message = Message(role=Role.ROLE_USER, message_id=str(uuid.uuid4()), parts=[Part(text=args.text)])
        events = [ev async for ev in client.send_message(SendMessageRequest(message=message))]

    kinds = [ev.WhichOneof("payload") for ev in events]
    if not events:
        return ["no events"]
    if kinds[0] not in ("task", "message"):
        problems.append(f"first event is {kinds[0]}, not a Task or Message")
    if None in kinds:
        problems.append(f"event {kinds.index(None)} parsed to an empty StreamResponse")
    if len(wire.datas) != len(events):
        problems.append(f"{len(wire.datas)} SSE data events on the wire, the SDK yielded {len(events)}")
    terminal_at, texts, chunks = None, {}, 0
    for n, (ev, kind) in enumerate(zip(events, kinds)):
        if terminal_at is not None:
            problems.append(f"event {n} ({kind}) after the terminal event {terminal_at}")
        state = None
        if kind == "task":
            state = ev.task.status.state
        elif kind == "status_update":
            state = ev.status_update.status.state
        elif kind == "message":
            terminal_at = n
            if ev.message.role == Role.ROLE_UNSPECIFIED:
                problems.append(f"event {n}: role parsed as ROLE_UNSPECIFIED")
        elif kind == "artifact_update":
            update = ev.artifact_update
            if not update.artifact.artifact_id:
                problems.append(f"event {n}: artifact update without artifactId")
            piece = "".join(p.text for p in update.artifact.parts)
            before = texts.get(update.artifact.artifact_id, "") if update.append else ""
            texts[update.artifact.artifact_id] = before + piece
            chunks += 1
        if state is not None:
            if state == TaskState.TASK_STATE_UNSPECIFIED:
                problems.append(f"event {n}: state parsed as TASK_STATE_UNSPECIFIED")
            if state in TERMINAL:
                terminal_at = n
                if state != TaskState.TASK_STATE_COMPLETED:
                    problems.append(f"the run ended {TaskState.Name(state)}")
    if terminal_at is None:
        problems.append("the stream closed before a terminal state")
    if "".join(texts.values()) != args.expect:
        problems.append(f"artifact text {''.join(texts.values())!r} != expected {args.expect!r}")
    if chunks < 2:
        problems.append(f"{chunks} artifact chunk(s): the answer was not streamed as deltas")

    dialect = args.protocol if args.protocol != "auto" else ("1.0" if offers_1_0 else "0.3")
    methods = [r.body.get("method") for r in wire.posts()]
    versions = [r.headers.get("a2a-version") for r in wire.posts()]
    results = [d.get("result", {}) for d in wire.datas]
    if dialect == "0.3":
        if methods[-1] != "message/stream":
            problems.append(f"0.3 forced but the SDK called {methods[-1]}")
        if not all("kind" in r for r in results):
            problems.append("0.3: a result without `kind`")
    else:
        if methods[-1] != "SendStreamingMessage":
            problems.append(f"1.0 expected but the SDK called {methods[-1]}")
        if versions[-1] != "1.0":
            problems.append(f"1.0: the request's A2A-Version header was {versions[-1]!r}")
        if not all(len(r) == 1 and set(r) <= WRAPPERS for r in results):
            problems.append("1.0: a result that is not wrapped in task/message/statusUpdate/artifactUpdate")
    if args.minimal:
        problems += minimal_checks(dialect, (wire.posts()[-1].body.get("params") or {}).get("message") or {}, events[0])
    label = f"python a2a-sdk {args.protocol:>4}{' minimal' if args.minimal else ''}"
    if not problems:
        print(f"ok  {label}: {len(events)} events ({chunks} artifact chunks) over {dialect} "
              f"({methods[-1]}), ended {TaskState.Name(events[-1].status_update.status.state)}")
    return problems


def minimal_checks(dialect: str, sent: dict, first) -> list[str]:
    """What the SDK sent for a message without id or role, and the id the server gave it."""
    problems = []
    if dialect == "1.0" and ("messageId" in sent or "role" in sent):
        problems.append(f"1.0: the SDK sent {sent}, not the minimal message")
    if sent.get("messageId"):
        problems.append(f"the SDK sent messageId {sent['messageId']!r}: nothing left for the server to fill in")
    history = first.task.history if first.WhichOneof("payload") == "task" else []
    if not history or not history[0].message_id:
        problems.append("the Task's history does not carry the user's message with a messageId")
    elif "role" not in sent and history[0].role != Role.ROLE_USER:
        problems.append(f"a message sent without role came back as {Role.Name(history[0].role)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--protocol", choices=["auto", "0.3", "1.0"], default="auto")
    parser.add_argument("--text", required=True)
    parser.add_argument("--expect", required=True)
    parser.add_argument("--minimal", action="store_true", help="send no message id and no role")
    args = parser.parse_args()
    problems = asyncio.run(run(args))
    for problem in problems:
        print(f"FAIL python a2a-sdk {args.protocol}{' minimal' if args.minimal else ''}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
