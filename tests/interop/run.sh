#!/usr/bin/env bash
# Interop tests: the real server on 127.0.0.1, read by independent clients
# (Python httpx-sse and sseclient-py, curl -N, Python websockets, Node's
# eventsource v4 including a Last-Event-ID reconnect, the official A2A SDKs
# for Python and JS (the Python one also over the HTTP+JSON binding, with
# push notifications, and through a multi-turn input-required task), raw
# A2A JSON-RPC error checks, the Python streaming
# guide's own client snippets with requests and websockets), GET /metrics
# parsed by the official prometheus_client, the frontends'
# clients (the Vercel AI SDK's `ai` package: its UI-message-stream reader and
# its chat with DefaultChatTransport; AG-UI's HttpAgent with @ag-ui/core's
# schemas and the client's sequence verification), and agentor's own A2A
# client against a server built with the official Python A2A SDK.
# Installs the clients it needs (pinned) on first use: a Python venv in
# tests/interop/.venv and node_modules in tests/interop.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ ! -x "$here/.venv/bin/python" ]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
if [ ! -d "$here/node_modules/eventsource" ] || [ ! -d "$here/node_modules/@a2a-js/sdk" ] \
    || [ ! -d "$here/node_modules/ai" ] || [ ! -d "$here/node_modules/@ag-ui/client" ]; then
    (cd "$here" && npm install --silent --no-package-lock --no-audit --no-fund)
fi

cargo build --quiet --locked -p agentor-server --example interop_server
cargo build --quiet --locked -p agentor-a2a --example a2a_stream
a2a_stream="$root/target/debug/examples/a2a_stream"
log="$(mktemp)"
target/debug/examples/interop_server > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
    base="$(head -n 1 "$log" 2>/dev/null || true)"
    case "$base" in http://*) break ;; esac
    sleep 0.1
done
case "$base" in http://*) ;; *) echo "interop: the server did not start"; cat "$log"; exit 1 ;; esac
echo "interop: server at $base"

"$here/.venv/bin/python" "$here/sse_clients.py" "$base"
"$here/.venv/bin/python" "$here/metrics_check.py" "$base"
"$here/.venv/bin/python" "$here/curl_frames.py" "$base"
"$here/.venv/bin/python" "$here/ws_client.py" "$base"
"$here/.venv/bin/python" "$here/guide_clients.py" "$base"
node "$here/eventsource.mjs" "$base"
node "$here/eventsource_resume.mjs" "$base"
# The frontends' protocols, read by their official clients.
node "$here/ai_sdk_stream.mjs" "$base"
node "$here/ai_sdk_chat.mjs" "$base"
node "$here/ag_ui_client.mjs" "$base"

# A2A: the official SDK clients in each mode, the error cases, our client.
# What the agent answers is taken from /chat's JSON answer to the same input.
question="What is the weather in Paris?"
expected="$(curl -sS "$base/chat" -H 'content-type: application/json' \
    -d "{\"input\": \"$question\", \"stream\": false}" | "$here/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["output"])')"
agent="$(curl -sS "$base/.well-known/agent-card.json" | "$here/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["name"])')"
for mode in auto 0.3 1.0; do
    "$here/.venv/bin/python" "$here/a2a_sdk_client.py" "$base" --protocol "$mode" --text "$question" --expect "$expected"
    node "$here/a2a_sdk_client.mjs" "$base" --protocol "$mode" --text "$question" --expect "$expected"
    "$here/.venv/bin/python" "$here/a2a_client_check.py" "$a2a_stream" "$base" "$question" \
        --dialect "$mode" --agent "$agent" --expect-text "$expected" --expect-tool get_weather
done
# The guide's minimal message (no message id, no role) through both SDKs.
minimal="Explain machine learning"
minimal_expected="$(curl -sS "$base/chat" -H 'content-type: application/json' \
    -d "{\"input\": \"$minimal\", \"stream\": false}" | "$here/.venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["output"])')"
for mode in 0.3 1.0; do
    "$here/.venv/bin/python" "$here/a2a_sdk_client.py" "$base" --protocol "$mode" --text "$minimal" \
        --expect "$minimal_expected" --minimal
    node "$here/a2a_sdk_client.mjs" "$base" --protocol "$mode" --text "$minimal" --expect "$minimal_expected" --minimal
done
"$here/.venv/bin/python" "$here/a2a_errors.py" "$base"
# The HTTP+JSON binding under /v1, read by the official Python SDK's REST transport.
"$here/.venv/bin/python" "$here/a2a_sdk_rest.py" "$base" --text "$question" --expect "$expected"
# Push notifications: the SDK sets webhooks (inline and by method) and a
# receiver on 127.0.0.1 checks what the server POSTs, both dialects.
"$here/.venv/bin/python" "$here/a2a_push.py" "$base"
# A multi-turn task: input-required, answered on the same task, then closed.
for mode in auto 0.3 1.0; do
    "$here/.venv/bin/python" "$here/a2a_multi_turn.py" "$base" --protocol "$mode"
done

# Agentor's A2A client against an agent built with the official Python SDK.
sdk_log="$(mktemp)"
"$here/.venv/bin/python" "$here/a2a_sdk_server.py" > "$sdk_log" 2>&1 &
sdk_server=$!
trap 'kill "$server" "$sdk_server" 2>/dev/null || true; rm -f "$log" "$sdk_log"' EXIT
for _ in $(seq 1 100); do
    sdk_base="$(head -n 1 "$sdk_log" 2>/dev/null || true)"
    case "$sdk_base" in http://*) break ;; esac
    sleep 0.1
done
case "$sdk_base" in http://*) ;; *) echo "interop: the SDK server did not start"; cat "$sdk_log"; exit 1 ;; esac
sdk_answer="The official Python SDK streams this answer in pieces."
for mode in auto 0.3 1.0; do
    "$here/.venv/bin/python" "$here/a2a_client_check.py" "$a2a_stream" "$sdk_base" "hello" \
        --dialect "$mode" --agent "SDK Agent" --expect-text "$sdk_answer"
done
for mode in 0.3 1.0; do
    "$here/.venv/bin/python" "$here/a2a_client_check.py" "$a2a_stream" "$sdk_base" "please fail" \
        --dialect "$mode" --agent "SDK Agent" --expect-error "the SDK agent failed on purpose"
done
kill "$sdk_server"
wait "$sdk_server" 2>/dev/null || true
rm -f "$sdk_log"
trap 'kill "$server" 2>/dev/null || true; rm -f "$log" "$sdk_log"' EXIT

# A real SIGTERM while a WebSocket run streams: the client still gets its
# `cancelled` run end and Close 1001, and the server exits 0, gracefully.
ready="$(mktemp -u)"
"$here/.venv/bin/python" "$here/ws_shutdown.py" "$base" "$ready" &
client=$!
for _ in $(seq 1 100); do [ -f "$ready" ] && break; sleep 0.1; done
kill -TERM "$server"
wait "$server"
wait "$client"
rm -f "$ready"
grep -q "stopped gracefully" "$log"
trap 'rm -f "$log"' EXIT
echo "interop: all clients passed; the server stopped gracefully on SIGTERM"
