#!/usr/bin/env bash
# Interop tests: the real server on 127.0.0.1, read by independent clients
# (Python httpx-sse and sseclient-py, curl -N, Python websockets, Node's
# eventsource v4 including a Last-Event-ID reconnect).
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
if [ ! -d "$here/node_modules/eventsource" ]; then
    (cd "$here" && npm install --silent --no-package-lock --no-audit --no-fund)
fi

cargo build --quiet --locked -p agentor-server --example interop_server
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
"$here/.venv/bin/python" "$here/curl_frames.py" "$base"
"$here/.venv/bin/python" "$here/ws_client.py" "$base"
node "$here/eventsource.mjs" "$base"
node "$here/eventsource_resume.mjs" "$base"

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
