#!/usr/bin/env bash
# bench/server-threads.sh — our two ways of serving thread-per-core, side by side: connections
# accepted on one socket and handed round-robin to the server threads (what we ship,
# crates/platform/serve/src/server_threads.rs), or each thread accepting on a socket of its own
# bound with SO_REUSEPORT (the usual alternative). Measured on the bare ceiling (bench-ceiling
# --server-threads N [--reuseport]) and on our whole recommendations service (the shipped build,
# and one built from bench/variants/reuseport.patch into target/variant-reuseport).
#
#   bench/server-threads.sh                  # ~5 minutes: h2load at 2x10, 10x10, 50x20
#   ROUNDS=5 SECONDS_PER_RUN=5 bench/server-threads.sh
#
# Rounds alternate between the four servers at each load, so the machine's drift hits them
# alike; each line is one run (calls/s, and the server's CPU per call from /proc), and a
# summary gives the median per server and load. Instructions per call: bench/callgrind.sh with
# the same four servers (see BENCHMARKS.md for the command).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASE=$ROOT/target/release
VARIANT=$ROOT/target/variant-reuseport
ROUNDS=${ROUNDS:-3} SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
THREADS=${THREADS:-$(nproc)}
command -v h2load >/dev/null || {
    echo "server-threads: h2load is missing (Debian: apt-get install nghttp2-client)" >&2
    exit 1
}
cargo build --release --locked -p recommendations -p bench-ceiling -p loadgen
if [ ! -x "$VARIANT/release/recommendations" ] ||
    [ "$VARIANT/release/recommendations" -ot bench/variants/reuseport.patch ]; then
    # The variant: the same tree with the patch applied, built beside it.
    work=$(mktemp -d)
    git worktree add --detach "$work" HEAD >/dev/null
    git -C "$work" apply "$ROOT/bench/variants/reuseport.patch"
    (cd "$work" && CARGO_TARGET_DIR=$VARIANT cargo build --release --locked -p recommendations)
    git worktree remove --force "$work"
fi

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
base=${SERVER_THREADS_PORT_BASE:-24300}
FRAME=$(mktemp)
# RecommendationRequest{user_id: 1, category: MYSTERY, max_results: 3} as a gRPC frame.
printf '\x00\x00\x00\x00\x04\x08\x01\x18\x03' >"$FRAME"

declare -A PORT PID
start() {
    local name=$1 port=$2
    shift 2
    "$@" >/dev/null 2>&1 &
    PID[$name]=$!
    PORT[$name]=$port
    STARTED_PIDS+=("${PID[$name]}")
    "$RELEASE/loadgen" recommend-legacy --addr "127.0.0.1:$port" --wait-ready 30s >/dev/null
}
ours=(--host 127.0.0.1 --server-threads "$THREADS")
start handoff $((base + 1)) "$RELEASE/recommendations" "${ours[@]}" --port $((base + 1)) \
    --metrics-port $((base + 11))
start reuseport $((base + 2)) "$VARIANT/release/recommendations" "${ours[@]}" \
    --port $((base + 2)) --metrics-port $((base + 12))
start ceiling-handoff $((base + 3)) "$RELEASE/bench-ceiling" --port $((base + 3)) \
    --server-threads "$THREADS"
start ceiling-reuseport $((base + 4)) "$RELEASE/bench-ceiling" --port $((base + 4)) \
    --server-threads "$THREADS" --reuseport

results=$(mktemp)
for load in 2x10 10x10 50x20; do
    connections=${load%x*} streams=${load#*x}
    for round in $(seq 1 "$ROUNDS"); do
        for name in handoff reuseport ceiling-handoff ceiling-reuseport; do
            url=http://127.0.0.1:${PORT[$name]}/Recommendations/Recommend
            h2=(-c "$connections" -m "$streams" -t 1 -H 'content-type: application/grpc'
                -H 'te: trailers' -d "$FRAME" "$url")
            h2load -D 1 "${h2[@]}" >/dev/null 2>&1
            ticks0=$(cpu_ticks "${PID[$name]}")
            out=$(h2load -D "$SECONDS_PER_RUN" "${h2[@]}" 2>&1)
            ticks1=$(cpu_ticks "${PID[$name]}")
            rate=$(awk '/^finished in/ { gsub(/,/, "", $4); print $4 }' <<<"$out")
            calls=$(awk '/^requests:/ { print $8 }' <<<"$out")
            line=$(printf '{"server": "%s", "load": "%s", "round": %s, "calls_per_s": %s, "cpu_us_per_call": %s}' \
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
print("\n| server | load | calls/s (median) | CPU µs/call (median) |\n|---|---|---|---|")
for load in ("2x10", "10x10", "50x20"):
    for server in ("handoff", "reuseport", "ceiling-handoff", "ceiling-reuseport"):
        mine = [r for r in runs if r["server"] == server and r["load"] == load]
        rate = statistics.median(r["calls_per_s"] for r in mine)
        cpu = statistics.median(r["cpu_us_per_call"] for r in mine)
        print(f"| {server} | {load} | {rate:,.0f} | {cpu:.1f} |")
EOF
