#!/usr/bin/env bash
# One coverage-guided campaign of a fuzz target (crates/agentor-fuzz) with
# cargo-fuzz (libFuzzer): scripts/fuzz.sh TARGET [SECONDS] (default 60).
#
# Targets: sse_decoder chat_completions responses a2a_stream jsonrpc
# server_request ws_message native_lines agentor_toml. The committed seeds in
# fuzz/corpus/TARGET are read, never written: what the campaign finds goes to
# target/fuzz-corpus/TARGET, a crash to fuzz/artifacts/TARGET (make it a
# regression test, and its input a seed). CI does not run this; it runs the
# same targets with proptest (cargo test -p agentor-fuzz).
set -euo pipefail
target="${1:?usage: scripts/fuzz.sh TARGET [SECONDS]}"
seconds="${2:-60}"
cd "$(dirname "$0")/.."
root="$(pwd)"
[ -d "fuzz/corpus/$target" ] || { echo "fuzz: no target '$target' (see fuzz/corpus/)"; exit 2; }
command -v cargo-fuzz > /dev/null || cargo install cargo-fuzz --locked
# libFuzzer builds need -Z flags: a nightly toolchain when one is installed,
# else the stable compiler told to accept them.
toolchain=()
if rustup toolchain list 2> /dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
work="$root/target/fuzz-corpus/$target"
mkdir -p "$work"
cd fuzz
exec cargo "${toolchain[@]}" fuzz run "$target" "$work" "$root/fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1
