#!/usr/bin/env bash
# A regression guard for the hot paths (issue #19): runs the headline
# criterion benches in a short mode and prints each ratio (a case's median
# over its baseline's median, both from this run) next to the figure
# recorded in docs/performance.md, flagging any that is more than 15 %
# worse. Exits 1 if one is flagged.
#
# Not in CI: these shared machines are too noisy for timing gates. Run it
# before a submission that touches a hot path and put its output in the
# closing note.
#
# The checks are the `<!-- bench-check: BENCH CASE BASELINE RECORDED -->`
# lines of docs/performance.md, each beside the table it guards: CASE and
# BASELINE are criterion ids (`group/function`) of `benches/benches/BENCH.rs`,
# RECORDED is the ratio CASE / BASELINE the page reports (lower is better).
#
# Environment: BENCH_CHECK_SECS (measurement seconds per case, default 2),
# BENCH_CHECK_TOLERANCE (percent, default 15). Usage:
#   scripts/bench-check.sh            # every check
#   scripts/bench-check.sh pipeline   # the checks of one bench file
set -euo pipefail
cd "$(dirname "$0")/.."

doc=docs/performance.md
secs=${BENCH_CHECK_SECS:-2}
tolerance=${BENCH_CHECK_TOLERANCE:-15}
export CARGO_INCREMENTAL=0
# The benches' groups set their measurement time in code, which criterion's
# `--measurement-time` does not override; this does (benches/lib.rs).
export AGENTOR_BENCH_SECS=$secs

mapfile -t checks < <(sed -n 's/^<!-- bench-check: \(.*\) -->$/\1/p' "$doc")
if [ "${#checks[@]}" -eq 0 ]; then
    echo "no bench-check lines in $doc" >&2
    exit 2
fi
if [ $# -gt 0 ]; then
    mapfile -t checks < <(printf '%s\n' "${checks[@]}" | awk -v only=" $* " 'index(only, " " $1 " ")')
fi

target=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)

# One run per bench file, filtered to the groups its checks need.
for bench in $(printf '%s\n' "${checks[@]}" | awk '{print $1}' | sort -u); do
    groups=$(printf '%s\n' "${checks[@]}" | awk -v b="$bench" '$1 == b {
        split($2, c, "/"); split($3, d, "/"); print c[1]; print d[1] }' | sort -u | paste -sd '|')
    echo "running benches/benches/$bench.rs ($groups), ${secs}s per case ..." >&2
    log=$(mktemp)
    if ! cargo bench -q -p agentor-benches --bench "$bench" -- \
        --warm-up-time 1 --measurement-time "$secs" "^($groups)/" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        exit 2
    fi
    rm -f "$log"
done

median_ns() {
    jq -r .median.point_estimate "$target/criterion/$1/new/estimates.json"
}

printf '%-58s %12s %12s %9s %9s\n' "case / baseline" "case" "baseline" "ratio" "recorded"
worse=0
for check in "${checks[@]}"; do
    read -r _ case baseline recorded <<<"$check"
    a=$(median_ns "$case")
    b=$(median_ns "$baseline")
    line=$(awk -v a="$a" -v b="$b" -v r="$recorded" -v t="$tolerance" 'BEGIN {
        ratio = a / b
        flag = ratio > r * (1 + t / 100) ? "WORSE" : (ratio < r * (1 - t / 100) ? "better" : "ok")
        printf "%12.3f ms %9.3f ms %8.3f× %8.3f×  %s", a / 1e6, b / 1e6, ratio, r, flag }')
    printf '%-58s %s\n' "$case / ${baseline##*/}" "$line"
    case $line in *WORSE*) worse=1 ;; esac
done
if [ "$worse" -ne 0 ]; then
    echo "at least one ratio is more than ${tolerance} % worse than docs/performance.md records" >&2
fi
exit "$worse"
