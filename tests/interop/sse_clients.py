#!/usr/bin/env python3
"""POST /chat read by two independent SSE parsers: httpx-sse and sseclient-py.

Checks what any SSE client relies on: the content type, one JSON document per
`data:`, ids increasing from 0, the run start first, a terminal `done` frame
carrying the run end, and text that arrives in pieces before the end.

Usage: sse_clients.py BASE_URL     Exit 0 when every check passes.
"""

import json
import sys
import time

import httpx
import sseclient
from httpx_sse import EventSource

BODY = {"input": "What is the weather in Paris?", "stream": True}


def check(events, fmt):
    """events: list of (event, data, id, arrival_seconds)."""
    assert events, "no events"
    ids = [int(e[2]) for e in events]
    assert ids == list(range(len(ids))), f"ids not 0,1,2,...: {ids}"
    payloads = [json.loads(e[1]) for e in events]  # every data line is JSON
    names = [e[0] for e in events]
    assert names[0] == "run_start", names
    assert names[-1] == "done", names
    assert names.count("done") == 1, names
    if fmt == "native":
        assert payloads[-1]["status"] == "completed", payloads[-1]
        assert all(p["seq"] == i for i, p in enumerate(payloads)), "seq matches id"
        text = "".join(p["text"] for p in payloads if p["type"] == "text_delta")
        assert "(demo)" in text, text
        assert "tool_call" in names and "tool_result" in names, names
    else:
        assert set(payloads[1]) == {"type", "message", "chunk", "tool_action", "reasoning"}, payloads[1]
        assert any(p["type"] == "raw_response_event" and p["chunk"] for p in payloads), payloads
    deltas = [e[3] for e in events if e[0] == "text_delta"]
    assert len(deltas) > 3, f"only {len(deltas)} text deltas"
    # Streamed, not buffered: the first delta came well before the end.
    assert events[-1][3] - deltas[0] > 0.05, (deltas[0], events[-1][3])


def read_httpx_sse(base, fmt):
    start = time.monotonic()
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", f"{base}/chat?format={fmt}", json=BODY) as resp:
            assert resp.status_code == 200, resp.status_code
            assert resp.headers["content-type"].startswith("text/event-stream"), resp.headers
            assert resp.headers["cache-control"] == "no-cache", resp.headers
            return [
                (sse.event, sse.data, sse.id, time.monotonic() - start)
                for sse in EventSource(resp).iter_sse()
            ]


def read_sseclient(base, fmt):
    start = time.monotonic()
    with httpx.Client(timeout=30) as client:
        with client.stream("POST", f"{base}/chat?format={fmt}", json=BODY) as resp:
            assert resp.status_code == 200, resp.status_code
            return [
                (ev.event, ev.data, ev.id, time.monotonic() - start)
                for ev in sseclient.SSEClient(resp.iter_bytes()).events()
            ]


def main():
    base = sys.argv[1]
    for reader in (read_httpx_sse, read_sseclient):
        for fmt in ("native", "agentor"):
            events = reader(base, fmt)
            check(events, fmt)
            print(f"ok  {reader.__name__:15} format={fmt:8} {len(events)} events")


if __name__ == "__main__":
    main()
