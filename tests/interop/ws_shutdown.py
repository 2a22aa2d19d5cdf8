#!/usr/bin/env python3
"""A WebSocket run in progress when the server gets SIGTERM: the client must
still receive the `cancelled` run end, then a Close frame with code 1001
(going away), before the server process exits.

Usage: ws_shutdown.py BASE_URL READY_FILE
Writes READY_FILE once the run is streaming; the caller then sends SIGTERM.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def main(base, ready_file):
    url = base.replace("http://", "ws://") + "/ws"
    story = " ".join(["a long story about streaming every token as it comes"] * 40)
    async with connect(url) as ws:
        await ws.send(json.dumps({"input": story, "format": "native"}))
        events = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(3)]
        with open(ready_file, "w") as f:
            f.write("ready\n")
        try:
            while events[-1].get("type") != "run_end":
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 20)))
            await asyncio.wait_for(ws.recv(), 10)
        except ConnectionClosed:
            pass
        assert events[-1].get("type") == "run_end", events[-1]
        assert events[-1]["status"] == "cancelled", events[-1]
        assert ws.close_code == 1001, ws.close_code
    print(f"ok  websockets 17    SIGTERM mid-run: {len(events)} events, run end cancelled, close 1001")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
