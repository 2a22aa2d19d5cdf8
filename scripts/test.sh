#!/usr/bin/env bash
# The project's test command: formatting, lints, every test (unit, property,
# doc), every example run to completion, and the interop tests (the server
# read by third-party SSE clients; they need python3 and node). CI runs
# exactly this.
#
# PROPTEST_CASES sets the property-test case count (CI: 10000; default: 256).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
cargo test --workspace --locked

# Every example is a smoke test: it exits non-zero when what it shows did not
# happen. Built first, so the time limit covers the run alone (each takes a
# few seconds; a hang fails the suite instead of stalling it).
cargo build --quiet --locked -p agentor-examples --examples
for example in $(sed -n 's/^name = "\(.*\)"$/\1/p' examples/Cargo.toml | grep -v '^agentor-examples$'); do
    echo "example: $example"
    # Offline on purpose: examples fall back to the demo provider without a key.
    env -u OPENAI_API_KEY -u OPENAI_BASE_URL timeout 60 \
        cargo run --quiet --locked -p agentor-examples --example "$example" > /dev/null
done

# The server read by independent clients (installs them, pinned, on first use).
tests/interop/run.sh

# The playground page (`GET /`) in a real headless Chromium against `agentor serve`.
tests/browser/run.sh
