#!/usr/bin/env bash
# bench/callgrind.sh — user-space instructions per Recommend call, ours against the ceiling,
# counted by valgrind's callgrind: a deterministic measure of what our middleware and service
# cost per call, unaffected by whatever else the (shared, 2-core) machine is doing. Time per call
# also includes the kernel's share (sockets, epoll), the same for both, so the ratio of times is
# a little smaller than the ratio of instructions.
#
#   bench/callgrind.sh                        # ours and the ceiling, 20,000 calls at 10 x 10
#   CALLS=50000 bench/callgrind.sh
#   bench/callgrind.sh variant=/path/to/recommendations ...   # also A/B another build
#   bench/callgrind.sh "tpc=target/release/bench-ceiling --server-threads 2"  # with arguments
#   bench/callgrind.sh "off=OTEL_SDK_DISABLED=true target/release/recommendations"
#                                             # with environment variables (VAR=value first)
#
# Each server runs under callgrind; h2load sends 2,000 warm-up calls, the counters are zeroed,
# CALLS calls are sent, SETTLE seconds pass (default 0), the counters are dumped. Profiles are
# left in target/callgrind/ (or $CALLGRIND_OUT; bench/run.sh uses bench/out/callgrind/) for
# `callgrind_annotate --inclusive=yes FILE`. Output: one JSON line per server on stdout.
# CALLGRIND_READY (default 60s) is how long a server may take to start under callgrind (a
# million-book catalog takes ~2 minutes there: bench/catalog-scale.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CALLS=${CALLS:-20000}
CONNECTIONS=${CONNECTIONS:-10}
STREAMS=${STREAMS:-10}
RELEASE=$ROOT/target/release
OUT=${CALLGRIND_OUT:-$ROOT/target/callgrind}
for tool in valgrind callgrind_control h2load; do
    command -v "$tool" >/dev/null || {
        echo "callgrind: $tool is missing (Debian: valgrind, nghttp2-client)" >&2
        exit 1
    }
done
[ -x "$RELEASE/loadgen" ] && [ -x "$RELEASE/recommendations" ] && [ -x "$RELEASE/bench-ceiling" ] ||
    cargo build --release --locked -p recommendations -p bench-ceiling -p loadgen
mkdir -p "$OUT"
FRAME=$OUT/recommend.frame
# RecommendationRequest{user_id: 1, category: MYSTERY, max_results: 3} as a gRPC frame.
printf '\x00\x00\x00\x00\x04\x08\x01\x18\x03' >"$FRAME"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT

# DEFAULTS=0 leaves out ours and the ceiling: only the servers given.
servers=("$@")
[[ ${DEFAULTS:-1} == 0 ]] || servers=("ours=$RELEASE/recommendations" "ceiling=$RELEASE/bench-ceiling" "$@")
# Below the ephemeral port range (32768+); CALLGRIND_PORT_BASE moves them.
port=${CALLGRIND_PORT_BASE:-21600}
for entry in "${servers[@]}"; do
    split_entry "$entry"
    name=$ENTRY_NAME command=("${ENTRY_COMMAND[@]}")
    port=$((port + 1))
    case $name in
        ceiling*) args=(--port "$port") ;;
        *) args=(--host 127.0.0.1 --port "$port" --metrics-port $((port + 1000))) ;;
    esac
    rm -f "$OUT/$name.out"*
    env "${ENTRY_ENV[@]}" valgrind --tool=callgrind --callgrind-out-file="$OUT/$name.out" \
        "${command[@]}" "${args[@]}" \
        >"$OUT/$name.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    "$RELEASE/loadgen" recommend-legacy --addr "127.0.0.1:$port" --wait-ready "${CALLGRIND_READY:-60s}" >/dev/null
    url=http://127.0.0.1:$port/Recommendations/Recommend
    h2=(-c "$CONNECTIONS" -m "$STREAMS" -t 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$FRAME" "$url")
    h2load -n 2000 "${h2[@]}" >/dev/null 2>&1
    callgrind_control -z "$pid" >/dev/null 2>&1
    ok=$(h2load -n "$CALLS" "${h2[@]}" 2>&1 | awk '/^requests:/ { print $8 }')
    # Work the calls left behind (a batch of spans waiting for its export) counts too.
    sleep "${SETTLE:-0}"
    callgrind_control -d "$pid" >/dev/null 2>&1
    counted=$(callgrind_finish "callgrind: $name" "$pid" "$OUT/$name.log" "$OUT/$name.out")
    read -r total dump <<<"$counted"
    printf '{"kind": "callgrind", "server": "%s", "calls": %s, "instructions": %s, "per_call": %s, "profile": "%s"}\n' \
        "$name" "$ok" "$total" "$(awk -v t="$total" -v n="$ok" 'BEGIN { printf "%.0f", t / n }')" \
        "${dump#"$ROOT/"}"
done
