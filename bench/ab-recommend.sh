#!/usr/bin/env bash
# bench/ab-recommend.sh — two builds of recommendations, A/B, on Recommend with h2load: rounds
# alternate between them at each load, so the machine's drift hits both alike. What bench/run.sh
# cannot say when a change is smaller than the spread between its runs.
#
#   bench/ab-recommend.sh before=/path/to/old/recommendations            # vs target/release
#   ROUNDS=5 bench/ab-recommend.sh before=/old after=/new
#
# Prints one JSON line per run (calls/s, the server's CPU per call from /proc) and a table of
# medians per build and load (connections x streams: 1x1, 10x10, 50x20).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASE=$ROOT/target/release
ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
before='' after=$RELEASE/recommendations
for arg in "$@"; do
    case $arg in
        before=*) before=${arg#before=} ;;
        after=*) after=${arg#after=} ;;
        *) echo "usage: $0 before=PATH [after=PATH]" >&2; exit 2 ;;
    esac
done
[ -n "$before" ] || { echo "usage: $0 before=PATH [after=PATH]" >&2; exit 2; }
command -v h2load >/dev/null || {
    echo "ab-recommend: h2load is missing (Debian: apt-get install nghttp2-client)" >&2
    exit 1
}
[ -x "$RELEASE/loadgen" ] && [ -x "$RELEASE/recommendations" ] ||
    cargo build --release --locked -p recommendations -p loadgen

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
base=${AB_PORT_BASE:-24500}
FRAME=$(mktemp)
# RecommendationRequest{user_id: 1, category: MYSTERY, max_results: 3} as a gRPC frame.
printf '\x00\x00\x00\x00\x04\x08\x01\x18\x03' >"$FRAME"

declare -A PORT=([before]=$((base + 1)) [after]=$((base + 2))) PID
for name in before after; do
    binary=${!name}
    "$binary" --host 127.0.0.1 --port "${PORT[$name]}" --metrics-port $((PORT[$name] + 10)) \
        >/dev/null 2>&1 &
    PID[$name]=$!
    STARTED_PIDS+=("${PID[$name]}")
    "$RELEASE/loadgen" recommend-legacy --addr "127.0.0.1:${PORT[$name]}" --wait-ready 30s >/dev/null
done

results=$(mktemp)
for load in 1x1 10x10 50x20; do
    connections=${load%x*} streams=${load#*x}
    for round in $(seq 1 "$ROUNDS"); do
        for name in before after; do
            url=http://127.0.0.1:${PORT[$name]}/Recommendations/Recommend
            h2=(-c "$connections" -m "$streams" -t 1 -H 'content-type: application/grpc'
                -H 'te: trailers' -d "$FRAME" "$url")
            h2load -D 1 "${h2[@]}" >/dev/null 2>&1
            ticks0=$(cpu_ticks "${PID[$name]}")
            out=$(h2load -D "$SECONDS_PER_RUN" "${h2[@]}" 2>&1)
            ticks1=$(cpu_ticks "${PID[$name]}")
            rate=$(awk '/^finished in/ { gsub(/,/, "", $4); print $4 }' <<<"$out")
            calls=$(awk '/^requests:/ { print $8 }' <<<"$out")
            line=$(printf '{"build": "%s", "load": "%s", "round": %s, "calls_per_s": %s, "cpu_us_per_call": %s}' \
                "$name" "$load" "$round" "$rate" \
                "$(awk -v t=$((ticks1 - ticks0)) -v n="$calls" 'BEGIN { printf "%.1f", t * 10000 / n }')")
            echo "$line"
            echo "$line" >>"$results"
        done
    done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print("\n| load | build | calls/s (median) | CPU µs/call (median) |\n|---|---|---|---|")
for load in ("1x1", "10x10", "50x20"):
    for build in ("before", "after"):
        mine = [r for r in runs if r["build"] == build and r["load"] == load]
        rate = statistics.median(r["calls_per_s"] for r in mine)
        cpu = statistics.median(r["cpu_us_per_call"] for r in mine)
        print(f"| {load} | {build} | {rate:,.0f} | {cpu:.1f} |")
EOF
