#!/usr/bin/env python3
"""`curl -N` shows frames as they are produced.

Runs curl with buffering off against POST /chat and timestamps each line as
curl writes it: the first text frame must arrive well before the `done`
frame, and the output must be well-formed SSE.

Usage: curl_frames.py BASE_URL
"""

import json
import subprocess
import sys
import time


def main():
    base = sys.argv[1]
    cmd = [
        "curl", "-sSN", f"{base}/chat?format=native",
        "-H", "content-type: application/json",
        "-d", json.dumps({"input": "Tell me about streaming", "stream": True}),
    ]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    lines = []
    for raw in proc.stdout:
        lines.append((raw.decode().rstrip("\n"), time.monotonic() - start))
    assert proc.wait(timeout=30) == 0, "curl failed"
    events = [(l, t) for l, t in lines if l.startswith("event: ")]
    first_text = next(t for l, t in events if l == "event: text_delta")
    done = next(t for l, t in events if l == "event: done")
    assert done - first_text > 0.05, (first_text, done)
    datas = [json.loads(l[len("data: "):]) for l, _ in lines if l.startswith("data: ")]
    assert len(datas) == len(events), "one data line per frame"
    assert datas[-1] == {**datas[-1], "type": "run_end", "status": "completed"}, datas[-1]
    print(f"ok  curl -N        {len(events)} frames, first text at {first_text:.3f}s, done at {done:.3f}s")


if __name__ == "__main__":
    main()
