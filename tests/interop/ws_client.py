#!/usr/bin/env python3
"""GET /ws driven by the `websockets` library (17.x): two inputs on one
connection, a malformed message answered by an error frame, and a cancel.

Usage: ws_client.py BASE_URL
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect


async def run(ws, text, fmt="native"):
    await ws.send(json.dumps({"input": text, "format": fmt}))
    events = []
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 30))
        events.append(event)
        if event.get("type") == "run_end":
            return events


async def main(base):
    url = base.replace("http://", "ws://") + "/ws"
    async with connect(url) as ws:
        first = await run(ws, "What is the weather in Paris?")
        assert first[0]["type"] == "run_start", first[0]
        assert [e["seq"] for e in first] == list(range(len(first))), "seq 0,1,2,..."
        assert first[-1]["status"] == "completed", first[-1]
        assert "(demo)" in "".join(e.get("text", "") for e in first if e["type"] == "text_delta")

        await ws.send("this is not json")
        error = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert error["type"] == "error" and error["error"]["code"] == "invalid_json", error

        second = await run(ws, "And in Rome?")  # the connection is still usable
        assert second[-1]["status"] == "completed", second[-1]

        await ws.send(json.dumps({"input": "Tell me a long story", "format": "native"}))
        seen = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
        await ws.send(json.dumps({"type": "cancel"}))
        while seen[-1].get("type") != "run_end":
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
        assert seen[-1]["status"] == "cancelled", seen[-1]
    print(f"ok  websockets 17    {len(first)} + {len(second)} events on one connection, error frame, cancel -> cancelled")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
