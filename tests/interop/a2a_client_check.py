#!/usr/bin/env python3
"""Agentor's A2A client provider streams from an A2A server; checks its events.

Usage: a2a_client_check.py EXAMPLE URL TEXT --dialect auto|0.3|1.0 --agent NAME
                           --expect-text E | --expect-error E [--expect-tool NAME]

Runs EXAMPLE (the `a2a_stream` example of agentor-a2a) and reads the native
JSON lines it prints. Checks: the dialect it reports on stderr is the one
forced (1.0 for auto: both servers offer it); every line is an event of the
stream contract — `run_start` first (agent = the card's name), `run_end`
last and only there, every event's `source` the card's name; with
--expect-text, the text deltas join to E, a `message` carries the whole E,
the run ends `completed` and the example exits 0; with --expect-error, an
`error` event whose message contains E comes before a `failed` run end and
the example exits 1; with --expect-tool, a call and a result of that tool.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("example")
    parser.add_argument("url")
    parser.add_argument("text")
    parser.add_argument("--dialect", default="auto")
    parser.add_argument("--agent", required=True)
    parser.add_argument("--expect-text")
    parser.add_argument("--expect-error")
    parser.add_argument("--expect-tool", help="a tool whose call and result the run shows")
    args = parser.parse_args()

    command = [args.example, args.url, args.text]
    if args.dialect != "auto":
        command += ["--dialect", args.dialect]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    label = f"agentor a2a client {args.dialect:>4} -> {args.agent}"
    problems = []
    types = [e["type"] for e in events]
    if not events or types[0] != "run_start" or events[0].get("agent") != args.agent:
        problems.append(f"the first event is not the run start of {args.agent}: {events[:1]}")
    if not events or types[-1] != "run_end" or types.count("run_end") != 1:
        problems.append(f"not exactly one run_end, last: {types[-1:]}")
    if any(e.get("source") != args.agent for e in events):
        problems.append(f"an event's source is not {args.agent}")
    status = events[-1].get("status") if events else None
    # The dialect spoken: the one forced, else 1.0 (both servers offer it).
    spoken = {"auto": "1.0", "0.3": "0.3.0", "1.0": "1.0"}[args.dialect]
    if f"over A2A {spoken}\n" not in done.stderr:
        problems.append(f"the client did not speak {spoken}: {done.stderr.strip()!r}")
    if args.expect_tool is not None:
        for kind in ("tool_call", "tool_result"):
            if not any(e["type"] == kind and e.get("name") == args.expect_tool for e in events):
                problems.append(f"no {kind} of {args.expect_tool}")
    if args.expect_text is not None:
        deltas = "".join(e["text"] for e in events if e["type"] == "text_delta")
        messages = [e["text"] for e in events if e["type"] == "message"]
        if deltas != args.expect_text:
            problems.append(f"text deltas {deltas!r} != {args.expect_text!r}")
        if types.count("text_delta") < 2:
            problems.append("fewer than two text deltas: not streamed")
        if args.expect_text not in messages:
            problems.append(f"no message event with the whole text: {messages}")
        if status != "completed" or done.returncode != 0:
            problems.append(f"ended {status}, exit code {done.returncode}")
    if args.expect_error is not None:
        errors = [e.get("message", "") for e in events if e["type"] == "error"]
        if not any(args.expect_error in m for m in errors):
            problems.append(f"no error event saying {args.expect_error!r}: {errors}")
        if status != "failed" or done.returncode != 1:
            problems.append(f"ended {status}, exit code {done.returncode}: want failed, 1")
    for problem in problems:
        print(f"FAIL {label}: {problem}")
    if problems:
        print(done.stdout, done.stderr, sep="\n")
        return 1
    print(f"ok  {label}: {len(events)} events, ended {status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
