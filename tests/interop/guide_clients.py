#!/usr/bin/env python3
"""The Python streaming guide's client snippets, run against our server as a
new user would run them: the same libraries (`requests`, `websockets`), the
same requests and the same reading logic.

Usage: guide_clients.py BASE_URL

Each snippet prints what the guide's prints; the output is captured and checked:

- `/chat`: `requests` posts `{"input": …, "stream": true}` and prints every
  non-empty line. Checked: the lines are SSE fields (`id:`, `event:`, `data:`),
  every `data:` is JSON, its chunks are the story the agent answers (the same
  text as `/chat` with `stream: false`), and it ends with `event: done`
  carrying `completed`.
- A2A: `requests` posts the guide's minimal `message/stream` request (no
  messageId, role or kind) and walks the `data:` lines. Checked: it prints
  "Task created: <id>", then the artifact text (the agent's answer), then a
  completion line with status `completed`. Every streamed result of the same
  request is also read with the official Python SDK's own 0.3 types
  (`a2a.compat.v0_3.types`) and converted to its 1.0 `StreamResponse`, as its
  0.3 client transport does.
- `/ws`: `websockets` sends `{"text": …}` and prints `event["message"]`
  wherever it is set. Checked: the agent's name first, the assistant's message,
  `completed` last. The guide's loop reads until the server closes; ours keeps
  the connection open for further inputs, so this reader stops at the run end
  (`type == "run_end"`), and a second input on the same connection is checked.

Exit 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys

import requests
import websockets
from a2a.compat.v0_3 import conversions
from a2a.compat.v0_3 import types as types_v03

failures: list[str] = []
TIMEOUT = 30


def check(name: str, condition: bool, detail: object = "") -> None:
    if condition:
        print(f"ok  guide {name}")
    else:
        failures.append(name)
        print(f"FAIL guide {name}: {detail}")


def printed_by(snippet, *args) -> list[str]:
    """What a snippet prints, line by line; a snippet that raises or hangs is a failure."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            result = snippet(*args)
            if asyncio.iscoroutine(result):
                asyncio.run(asyncio.wait_for(result, TIMEOUT))
    except Exception as error:  # noqa: BLE001 - reported, the other checks still run
        check(f"{snippet.__name__} ran to its end", False, f"{type(error).__name__}: {error}")
    return out.getvalue().splitlines()


def answer_of(base: str, text: str) -> str:
    """The agent's answer to `text`, from `/chat` without streaming (the demo agent is deterministic)."""
    response = requests.post(f"{base}/chat", json={"input": text, "stream": False}, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()["output"]


# --- the guide's snippets (a timeout added so that a test cannot hang) ---


def chat_snippet(base: str) -> None:
    response = requests.post(
        f"{base}/chat",
        json={"input": "Tell me a story", "stream": True},
        stream=True,
        timeout=TIMEOUT,
    )
    for line in response.iter_lines():
        if line:
            print(line.decode("utf-8"))


A2A_REQUEST = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "message/stream",
    "params": {"message": {"parts": [{"kind": "text", "text": "Explain machine learning"}]}},
}


def a2a_snippet(base: str) -> None:
    response = requests.post(f"{base}/", json=A2A_REQUEST, stream=True, timeout=TIMEOUT)
    for line in response.iter_lines():
        if line and line.startswith(b"data: "):
            data = json.loads(line[6:])
            result = data.get("result", {})
            if "artifact" in result:
                print(result["artifact"]["parts"][0]["text"], end="", flush=True)
            elif result.get("final"):
                print(f"\nTask finished with status: {result['status']['state']}")
            elif "id" in result and "status" in result:
                print(f"Task created: {result['id']}")


async def ws_snippet(base: str, then=None) -> None:
    uri = base.replace("http://", "ws://") + "/ws"
    async with websockets.connect(uri) as websocket:
        await websocket.send(json.dumps({"text": "Hello!"}))
        async for message in websocket:
            event = json.loads(message)
            if event.get("message"):
                print(event["message"])
            # Ours only: the connection stays open for the next input.
            if event.get("type") == "run_end":
                break
        if then is not None:
            await then(websocket)


# --- the checks ---


def check_chat(base: str) -> None:
    lines = printed_by(chat_snippet, base)
    fields = [line.split(":", 1)[0] for line in lines]
    check("/chat: every printed line is an SSE field", set(fields) <= {"id", "event", "data", ""}, set(fields))
    datas = [json.loads(line[len("data: "):]) for line in lines if line.startswith("data: ")]
    story = "".join(d["chunk"] for d in datas if d.get("type") == "raw_response_event" and d.get("chunk"))
    expected = answer_of(base, "Tell me a story")
    check("/chat: the streamed chunks are the story", story == expected, (story, expected))
    check("/chat: the story came in pieces", sum(1 for d in datas if d.get("chunk")) > 3, len(datas))
    check("/chat: ends with event: done carrying completed",
          len(lines) >= 2 and lines[-2] == "event: done" and datas[-1].get("message") == "completed", lines[-2:])


def check_a2a(base: str) -> None:
    lines = printed_by(a2a_snippet, base)
    expected = answer_of(base, "Explain machine learning")
    check("A2A: first prints Task created: <id>",
          bool(lines) and lines[0].startswith("Task created: ") and len(lines[0]) > len("Task created: "), lines[:1])
    check("A2A: then the artifact text, the agent's answer", lines[1:-1] == [expected], (lines[1:-1], expected))
    check("A2A: a completion line with status completed",
          bool(lines) and lines[-1] == "Task finished with status: completed", lines[-1:])

    # The same request's every result, read by the official SDK's 0.3 types
    # and converted as its 0.3 client transport converts them.
    kinds = {"task": types_v03.Task, "status-update": types_v03.TaskStatusUpdateEvent,
             "artifact-update": types_v03.TaskArtifactUpdateEvent, "message": types_v03.Message}
    read, problems = [], []
    with requests.post(f"{base}/", json=A2A_REQUEST, stream=True, timeout=TIMEOUT) as response:
        for line in response.iter_lines():
            if not line.startswith(b"data: "):
                continue
            result = json.loads(line[6:]).get("result")
            try:
                event = kinds[result["kind"]].model_validate(result)
                core = conversions.to_core_stream_response(
                    types_v03.SendStreamingMessageSuccessResponse(result=event))
                read.append(core.WhichOneof("payload"))
            except Exception as error:  # noqa: BLE001 - any refusal is the finding
                problems.append(f"{result}: {type(error).__name__}: {error}")
    check("A2A: the official SDK's 0.3 types read every result", not problems and bool(read), problems[:2])
    check("A2A: the SDK reads a task first and a status update last",
          read[:1] == ["task"] and read[-1:] == ["status_update"], read)


def check_ws(base: str) -> None:
    second: list[dict] = []

    async def then(websocket) -> None:
        # Still open after the run end: another input runs on it.
        await websocket.send(json.dumps({"text": "And again?"}))
        while not second or second[-1].get("type") != "run_end":
            second.append(json.loads(await websocket.recv()))

    lines = printed_by(ws_snippet, base, then)
    expected = answer_of(base, "Hello!")
    check("/ws: prints the agent's name first", lines[:1] == ["Weather"], lines[:1])
    check("/ws: prints the assistant's message", expected in lines, (lines, expected))
    check("/ws: prints completed last", lines[-1:] == ["completed"], lines[-1:])
    check("/ws: the connection stays open for another input",
          bool(second) and second[-1].get("message") == "completed", second[-1:])


def main(base: str) -> int:
    check_chat(base)
    check_a2a(base)
    check_ws(base)
    if failures:
        print(f"guide clients: {len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
