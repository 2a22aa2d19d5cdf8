#!/usr/bin/env bash
# The playground's browser tests: the real `agentor serve` binary on free
# loopback ports, driven by the system Chromium through playwright-core
# (pinned in package.json; it never downloads a browser). Screenshots go to
# target/playground/.
#
# Two servers: one with the demo's tool, a slow pace (so Cancel and a cut
# connection land mid-run) and a resume window; one behind a token, where
# the demo echoes the prompt (the HTML-injection check).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
    echo "browser: $chromium not found (apt-get install chromium, or set CHROMIUM)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent --no-package-lock --no-audit --no-fund)
fi

cargo build --quiet --locked -p agentor-cli
mkdir -p target/playground

logs=()
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -f "${logs[@]}"
}
trap cleanup EXIT

# Starts `agentor serve` with the given flags on 127.0.0.1:0 and prints the
# playground URL it announces.
serve() {
    local log
    log="$(mktemp)"
    logs+=("$log")
    # No key or base URL: the offline demo provider answers.
    env -u OPENAI_API_KEY -u OPENAI_BASE_URL -u AGENTOR_TOKEN \
        target/debug/agentor serve --host 127.0.0.1 --port 0 "$@" > "$log" 2>&1 &
    pids+=($!)
    local url=""
    for _ in $(seq 1 100); do
        url="$(sed -n 's/^agentor: playground: open \(http[^ ]*\) .*/\1/p' "$log")"
        [ -n "$url" ] && break
        sleep 0.1
    done
    if [ -z "$url" ]; then
        echo "browser: agentor serve did not start" >&2
        cat "$log" >&2
        exit 1
    fi
    echo "$url"
}

# Command substitutions run in a subshell: start each server in the main
# shell (so cleanup knows it) and read its URL from the log afterwards.
serve --name Weather --demo-tool --demo-delay-ms 40 --resume-window 30 > "$root/target/playground/.url-tool"
serve --name Echo --token s3cret > "$root/target/playground/.url-token"
tool_url="$(cat target/playground/.url-tool)"
token_url="$(cat target/playground/.url-token)"
rm -f target/playground/.url-tool target/playground/.url-token
echo "browser: servers at $tool_url and $token_url"

CHROMIUM="$chromium" timeout 150 node "$here/playground.mjs" "$tool_url" "$token_url" s3cret "$root/target/playground"
