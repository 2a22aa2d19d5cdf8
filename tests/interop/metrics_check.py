"""GET /metrics read by the official Prometheus Python client's text parser.

Counters must move as expected after a completed run with a tool call, a
cancelled run, a failed provider call and a resume (and a resume miss).
Other clients use the same server, so every check compares deltas.
"""

import sys
import time

import requests
from prometheus_client.parser import text_string_to_metric_families

BASE = sys.argv[1].rstrip("/")
TIMEOUT = 10


def scrape():
    response = requests.get(f"{BASE}/metrics", timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4"), response.headers
    samples = {}
    types = {}
    for family in text_string_to_metric_families(response.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples, types


def total(samples, name, **labels):
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def delta(before, after, name, **labels):
    return total(after, name, **labels) - total(before, name, **labels)


def chat(text):
    response = requests.post(f"{BASE}/chat", json={"input": text, "stream": False}, timeout=TIMEOUT)
    return response


def main():
    before, _ = scrape()

    # A completed run with a tool call (the demo calls get_weather).
    ok = chat("What is the weather in Paris?")
    assert ok.status_code == 200, ok.text
    after, types = scrape()
    assert delta(before, after, "agentor_runs_started_total", gen_ai_agent_name="Weather") == 1
    assert delta(before, after, "agentor_runs_ended_total", status="completed") == 1
    assert delta(before, after, "agentor_tool_duration_seconds_count", gen_ai_tool_name="get_weather") == 1
    assert delta(before, after, "agentor_tool_errors_total") == 0
    assert types["agentor_runs_started"] == "counter", types
    assert types["gen_ai_client_operation_duration_seconds"] == "histogram", types
    assert types["gen_ai_client_token_usage"] == "histogram", types
    # Two model turns: the tool call, then the answer.
    assert delta(before, after, "gen_ai_client_operation_duration_seconds_count", gen_ai_operation_name="chat") == 2
    assert delta(before, after, "gen_ai_client_operation_time_to_first_chunk_seconds_count") == 2
    assert total(after, "agentor_runs_active", gen_ai_agent_name="Weather") == 0

    # A streamed run, counted by kind and wire with its bytes.
    before = after
    with requests.post(f"{BASE}/chat", json={"input": "Hi there", "stream": True}, stream=True, timeout=TIMEOUT) as streamed:
        body = streamed.content
    after, _ = scrape()
    assert delta(before, after, "agentor_events_out_total", wire="sse", kind="run_end") == 1
    assert delta(before, after, "agentor_events_out_total", wire="sse", kind="text_delta") >= 1
    assert delta(before, after, "agentor_stream_out_bytes_total", wire="sse") == len(body), (
        delta(before, after, "agentor_stream_out_bytes_total", wire="sse"), len(body))
    assert total(after, "agentor_streams_active", wire="sse") == 0

    # A failed provider call.
    before = after
    failed = chat("please fail")
    assert failed.status_code == 502, failed.text
    after, _ = scrape()
    assert delta(before, after, "agentor_provider_errors_total", http_response_status_code="none") == 1
    assert delta(before, after, "agentor_runs_ended_total", status="failed") == 1
    assert delta(before, after, "gen_ai_client_operation_duration_seconds_count", error_type="provider") == 1

    # A cancelled run: started streaming, cancelled by id while it runs.
    before = after
    long_input = "Explain " + "machine learning in depth " * 20
    with requests.post(f"{BASE}/chat", json={"input": long_input, "stream": True}, stream=True, timeout=TIMEOUT) as streamed:
        run_id = streamed.headers["x-run-id"]
        lines = streamed.iter_lines()
        next(lines)
        cancel = requests.post(f"{BASE}/runs/{run_id}/cancel", timeout=TIMEOUT)
        assert cancel.status_code in (200, 202, 204), (cancel.status_code, cancel.text)
        rest = b"\n".join(lines)
    assert b"cancelled" in rest, rest[-300:]
    deadline = time.monotonic() + 5
    while True:
        after, _ = scrape()
        if delta(before, after, "agentor_runs_ended_total", status="cancelled") >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert delta(before, after, "agentor_runs_ended_total", status="cancelled") == 1
    assert delta(before, after, "agentor_runs_ended_total", status="completed") == 0

    # A resume of a finished run's log, and a miss.
    before = after
    with requests.post(f"{BASE}/chat", json={"input": "Hi", "stream": True}, stream=True, timeout=TIMEOUT) as streamed:
        run_id = streamed.headers["x-run-id"]
        streamed.content
    again = requests.get(f"{BASE}/runs/{run_id}/events", headers={"Last-Event-ID": "0"}, timeout=TIMEOUT)
    assert again.status_code == 200, again.text
    missing = requests.get(f"{BASE}/runs/run_nosuchrun/events", timeout=TIMEOUT)
    assert missing.status_code == 404, missing.text
    after, _ = scrape()
    assert delta(before, after, "agentor_resume_requests_total") == 2
    assert delta(before, after, "agentor_resume_misses_total", http_response_status_code="404") == 1
    assert delta(before, after, "agentor_stream_out_bytes_total", wire="sse") >= len(again.content)
    print("metrics: prometheus_client parsed /metrics; counters moved for a completed, streamed, "
          "failed, cancelled and resumed run")


if __name__ == "__main__":
    main()
