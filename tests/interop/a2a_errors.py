#!/usr/bin/env python3
"""Raw JSON-RPC checks of every A2A error case, and of the agent card (httpx, no SDK).

Usage: a2a_errors.py BASE_URL

Each check prints `ok` or `FAIL`; the script exits 1 when any failed. Never an
HTTP 500, whatever is sent. Errors on a streaming method, before any event,
come as a one-event SSE stream for 0.3 methods and as plain JSON for 1.0
methods; 1.0 error `data` carries the spec's `google.rpc.ErrorInfo` objects.
"""

from __future__ import annotations

import json
import sys
import uuid

import httpx

V1 = {"A2A-Version": "1.0"}
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
STREAMING_0_3 = {"message/stream", "tasks/resubscribe"}
STREAMING_1_0 = {"SendStreamingMessage", "SubscribeToTask"}
METHODS_1_0 = STREAMING_1_0 | {"SendMessage", "GetTask", "CancelTask", "ListTasks"}
failures: list[str] = []


def check(name: str, condition: bool, detail: object = "") -> None:
    if condition:
        print(f"ok  a2a {name}")
    else:
        failures.append(name)
        print(f"FAIL a2a {name}: {detail}")


def sse_datas(body: str) -> list[dict]:
    blocks = body.replace("\r\n", "\n").split("\n\n")
    return [json.loads(line[5:]) for block in blocks for line in block.split("\n") if line.startswith("data:")]


def post(http: httpx.Client, body: object, headers: dict | None = None, raw: str | None = None) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body)
    headers = {"content-type": "application/json", **(headers or {})}
    response = http.post("/", content=content, headers=headers)
    assert response.status_code < 500, f"HTTP {response.status_code} for {content[:200]}"
    return response


def rpc(method: str, params: object, rid: object = 1) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def error_of(response: httpx.Response, method: str | None) -> dict | None:
    """The JSON-RPC error of a response, checking the framing its method calls for."""
    kind = response.headers.get("content-type", "")
    if method in STREAMING_0_3:
        if not kind.startswith("text/event-stream"):
            failures.append(f"{method} error framing")
            print(f"FAIL a2a {method}: an error must be a one-event SSE stream, got {kind}")
            return None
        datas = sse_datas(response.text)
        if len(datas) != 1:
            failures.append(f"{method} error framing")
            print(f"FAIL a2a {method}: {len(datas)} SSE events for an error, want exactly one")
            return None
        return datas[0].get("error")
    if not kind.startswith("application/json"):
        failures.append(f"{method} error framing")
        print(f"FAIL a2a {method}: an error must be plain JSON, got {kind}")
        return None
    return response.json().get("error")


def expect_error(http: httpx.Client, name: str, code: int, body: object = None, headers: dict | None = None,
                 raw: str | None = None) -> dict | None:
    method = body.get("method") if isinstance(body, dict) else None
    response = post(http, body, headers, raw)
    error = error_of(response, method)
    check(f"{name} -> {code}", error is not None and error.get("code") == code, error)
    if error is not None and method in METHODS_1_0:
        data = error.get("data")
        check(f"{name}: 1.0 error data carries ErrorInfo",
              isinstance(data, list) and any(d.get("@type") == ERROR_INFO and d.get("reason") for d in data), data)
    return error


def message(dialect: str, text: str = "hello", **overrides) -> dict:
    if dialect == "0.3":
        msg = {"kind": "message", "messageId": str(uuid.uuid4()), "role": "user", "parts": [{"kind": "text", "text": text}]}
    else:
        msg = {"messageId": str(uuid.uuid4()), "role": "ROLE_USER", "parts": [{"text": text}]}
    msg.update(overrides)
    return {k: v for k, v in msg.items() if v is not None}


def finished_task(http: httpx.Client) -> str:
    """Streams a run to its end (0.3) and returns its task id."""
    with http.stream("POST", "/", json=rpc("message/stream", {"message": message("0.3")})) as response:
        datas = sse_datas(response.read().decode())
    task_ids = {d["result"].get("taskId") or d["result"].get("id") for d in datas if "result" in d}
    last = datas[-1]["result"]
    check("a streamed run ends final and completed", last.get("final") is True
          and last["status"]["state"] == "completed", last)
    return task_ids.pop()


def card_checks(http: httpx.Client) -> None:
    for path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
        v1 = http.get(path, headers=V1)
        v03 = http.get(path, headers={"A2A-Version": "0.3"})
        plain = http.get(path)
        check(f"card {path}: HTTP 200 in each dialect", {v1.status_code, v03.status_code, plain.status_code} == {200},
              (v1.status_code, v03.status_code, plain.status_code))
        card1, card03 = v1.json(), v03.json()
        interfaces = card1.get("supportedInterfaces") or []
        check(f"card {path}: 1.0 card lists a JSON-RPC 1.0 interface",
              any(i.get("protocolBinding") == "JSONRPC" and str(i.get("protocolVersion")).startswith("1.")
                  for i in interfaces), interfaces)
        check(f"card {path}: 0.3 card has url and protocolVersion 0.3",
              "url" in card03 and str(card03.get("protocolVersion", "")).startswith("0.3"), card03)
        check(f"card {path}: the header-less card is one of the two dialects' cards",
              plain.json() in (card1, card03), plain.json())
        check(f"card {path}: the two dialects' cards differ", card1 != card03)
        urls = [i.get("url", "") for i in interfaces] + [card03.get("url", "")]
        check(f"card {path}: capabilities.streaming in both dialects",
              card1.get("capabilities", {}).get("streaming") is True
              and card03.get("capabilities", {}).get("streaming") is True)
        check(f"card {path}: no 0.0.0.0 URL", all(u.startswith("http") and "0.0.0.0" not in u for u in urls), urls)
        check(f"card {path}: name, description, version, modes",
              all(card1.get(k) for k in ("name", "description", "version", "defaultInputModes", "defaultOutputModes")),
              card1)
        # The interop server's instructions, which must stay private.
        check(f"card {path}: the description is not the system prompt",
              "Answer weather questions" not in card1.get("description", "") + card03.get("description", ""))
        check(f"card {path}: ETag and Cache-Control",
              bool(v1.headers.get("etag")) and bool(v1.headers.get("cache-control")), dict(v1.headers))
        again = http.get(path, headers={**V1, "If-None-Match": v1.headers.get("etag", "")})
        check(f"card {path}: If-None-Match with its ETag -> 304", again.status_code == 304, again.status_code)
        modified = v1.headers.get("last-modified", "")
        check(f"card {path}: Last-Modified is an HTTP date", _http_date(modified) is not None, modified)
        again = http.get(path, headers={**V1, "If-Modified-Since": modified})
        check(f"card {path}: If-Modified-Since its Last-Modified -> 304", again.status_code == 304, again.status_code)
        again = http.get(path, headers={**V1, "If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"})
        check(f"card {path}: If-Modified-Since 1970 -> 200", again.status_code == 200, again.status_code)
        # The 1.0 card read as the SDK's own 1.0 `AgentCard` message, strictly:
        # proto JSON with unknown fields rejected, which is the 1.0 schema.
        for label, card in (("A2A-Version: 1.0", card1), ("no A2A-Version", plain.json())):
            if label == "no A2A-Version" and plain.json() == card03:
                continue
            problem = _strict_1_0_card_problem(card)
            check(f"card {path} ({label}): a valid 1.0 AgentCard (unknown fields rejected)", problem is None, problem)


def _http_date(text: str):
    from email.utils import parsedate_to_datetime
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


def _strict_1_0_card_problem(card: dict) -> str | None:
    from a2a.types.a2a_pb2 import AgentCard
    from google.protobuf.json_format import ParseDict, ParseError

    try:
        parsed = ParseDict(card, AgentCard(), ignore_unknown_fields=False)
    except ParseError as e:
        return str(e)
    missing = [f for f in ("name", "description", "version") if not getattr(parsed, f)]
    if missing or not parsed.supported_interfaces or not parsed.skills:
        return f"missing {missing or 'supportedInterfaces/skills'}"
    return None


def main() -> int:
    base = sys.argv[1]
    with httpx.Client(base_url=base, timeout=30) as http:
        card_checks(http)

        expect_error(http, "unparsable JSON", -32700, raw="{not json")
        expect_error(http, "not a JSON-RPC request (an array of numbers)", -32600, raw="[1, 2]")
        expect_error(http, "not a JSON-RPC request (no method)", -32600, {"jsonrpc": "2.0", "id": 1})
        expect_error(http, "not a JSON-RPC request (jsonrpc 1.0)", -32600,
                     {"jsonrpc": "1.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}})
        expect_error(http, "unknown method", -32601, rpc("tasks/explode", {}))
        # JSON-RPC 2.0: a notification (no `id` member) gets no reply, not
        # even an error; an explicit null id is a request.
        for body in ({"jsonrpc": "2.0", "method": "tasks/explode"},
                     {"jsonrpc": "2.0", "method": "tasks/get", "params": {"id": "unknown"}}):
            response = post(http, body)
            check(f"notification {body['method']} -> 204, no body",
                  response.status_code == 204 and response.content == b"", (response.status_code, response.text))
        expect_error(http, "ListTasks statusTimestampAfter not a timestamp", -32602,
                     rpc("ListTasks", {"statusTimestampAfter": "yesterday"}), V1)
        expect_error(http, "null id is a request", -32601, {"jsonrpc": "2.0", "id": None, "method": "tasks/explode"})
        expect_error(http, "unknown 1.0-style method", -32601, rpc("ExplodeTask", {}), V1)

        for dialect, methods, headers in (("0.3", ("message/send", "message/stream"), {}),
                                          ("1.0", ("SendMessage", "SendStreamingMessage"), V1)):
            # A missing messageId, role or kind is filled in (the Python
            # guide's minimal message, tests/interop/guide_clients.py); what
            # is given must still be right.
            cases = {
                "missing parts": message(dialect, parts=None),
                "empty parts": message(dialect, parts=[]),
                "a part with no content": message(dialect, parts=[{"kind": "text"}]),
                "unknown role": message(dialect, role="boss"),
                "kind not message": message(dialect, kind="task"),
                "parts not a list": message(dialect, parts="hello"),
                "messageId a number": message(dialect, messageId=7),
            }
            for method in methods:
                for case, msg in cases.items():
                    expect_error(http, f"{method} {case}", -32602, rpc(method, {"message": msg}), headers)
                expect_error(http, f"{method} params not an object", -32602, rpc(method, ["x"]), headers)

        unknown = str(uuid.uuid4())
        for method in ("tasks/get", "tasks/cancel", "tasks/resubscribe"):
            expect_error(http, f"{method} unknown task", -32001, rpc(method, {"id": unknown}))
        for method in ("GetTask", "CancelTask", "SubscribeToTask"):
            expect_error(http, f"{method} unknown task", -32001, rpc(method, {"id": unknown}), V1)

        done = finished_task(http)
        expect_error(http, "tasks/cancel of a finished task", -32002, rpc("tasks/cancel", {"id": done}))
        expect_error(http, "CancelTask of a finished task", -32002, rpc("CancelTask", {"id": done}), V1)
        got = post(http, rpc("tasks/get", {"id": done})).json()
        check("tasks/get of the finished task", got.get("result", {}).get("status", {}).get("state") == "completed", got)
        got = post(http, rpc("GetTask", {"id": done}), V1).json()
        check("GetTask of the finished task (1.0 enum)",
              got.get("result", {}).get("status", {}).get("state") == "TASK_STATE_COMPLETED", got)

        # SubscribeToTask "can be used with any task that is not in a
        # terminal state": a finished task is UnsupportedOperationError.
        expect_error(http, "tasks/resubscribe of a finished task", -32004, rpc("tasks/resubscribe", {"id": done}))
        expect_error(http, "SubscribeToTask of a finished task", -32004, rpc("SubscribeToTask", {"id": done}), V1)

        # A message to a task in a terminal state: UnsupportedOperationError
        # (A2A 1.0 CORE-SEND-002), in both dialects.
        again = message("0.3")
        again["taskId"] = done
        expect_error(http, "message/send to a finished task", -32004, rpc("message/send", {"message": again}))
        again = message("1.0")
        again["taskId"] = done
        expect_error(http, "SendMessage to a finished task", -32004, rpc("SendMessage", {"message": again}), V1)

        # A body declared as something other than JSON: the protocol's
        # content-type error, with HTTP 415.
        for content_type in ("text/xml", "text/plain"):
            response = http.post("/", content=json.dumps(rpc("GetTask", {"id": done})),
                                 headers={**V1, "content-type": content_type})
            body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
            error = body.get("error") or {}
            check(f"Content-Type {content_type} -> 415 and -32005",
                  response.status_code == 415 and error.get("code") == -32005
                  and (error.get("data") or [{}])[0].get("reason") == "CONTENT_TYPE_NOT_SUPPORTED",
                  (response.status_code, body))

        expect_error(http, "unsupported A2A-Version", -32009, rpc("GetTask", {"id": done}), {"A2A-Version": "9.9"})
        expect_error(http, "unsupported A2A-Version on a stream", -32009,
                     rpc("SendStreamingMessage", {"message": message("1.0")}), {"A2A-Version": "9.9"})

    if failures:
        print(f"a2a errors: {len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
