#!/usr/bin/env bash
# bench/ab-homepage.sh — two builds of the marketplace, A/B, on the homepage: the same
# `recommendations` behind both, rounds alternating between them, so that the machine's drift
# hits both alike. What bench/run.sh cannot say when the change is smaller than the spread
# between its runs.
#
#   bench/ab-homepage.sh before=/path/to/old/marketplace                # vs target/release
#   ROUNDS=5 CONNECTIONS=50 bench/ab-homepage.sh before=/old after=/new
#   ENV_BOTH='SERVER_THREADS=1' bench/ab-homepage.sh before=/old        # e.g. one server thread
#
# Prints one JSON line per round and build: pages/s, p99, and the CPU each process spent per
# page (/proc ticks of 10 ms around the measured run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASE=$ROOT/target/release
ROUNDS=${ROUNDS:-3} CONNECTIONS=${CONNECTIONS:-10} SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
before='' after=$RELEASE/marketplace
for arg in "$@"; do
    case $arg in
        before=*) before=${arg#before=} ;;
        after=*) after=${arg#after=} ;;
        *) echo "usage: $0 before=PATH [after=PATH]" >&2; exit 2 ;;
    esac
done
[ -n "$before" ] || { echo "usage: $0 before=PATH [after=PATH]" >&2; exit 2; }
[ -x "$RELEASE/loadgen" ] && [ -x "$RELEASE/recommendations" ] ||
    cargo build --release --locked -p recommendations -p loadgen

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
base=${AB_PORT_BASE:-24100}
upstream=$((base + 51))
"$RELEASE/recommendations" --host 127.0.0.1 --port "$upstream" --metrics-port $((base + 61)) \
    >/dev/null 2>&1 &
upstream_pid=$!
STARTED_PIDS+=("$upstream_pid")
"$RELEASE/loadgen" health --addr "127.0.0.1:$upstream" --wait-ready 30s >/dev/null

declare -A PORT=([before]=$((base + 71)) [after]=$((base + 72))) PID
for name in before after; do
    binary=${!name}
    # shellcheck disable=SC2086 # ENV_BOTH is a list of NAME=VALUE words
    env ${ENV_BOTH:-} "$binary" --host 127.0.0.1 --port "${PORT[$name]}" \
        --recommendations-host 127.0.0.1 --recommendations-port "$upstream" >/dev/null 2>&1 &
    PID[$name]=$!
    STARTED_PIDS+=("${PID[$name]}")
    "$RELEASE/loadgen" homepage --url "http://127.0.0.1:${PORT[$name]}/" --wait-ready 30s >/dev/null
done

json=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
    for name in before after; do
        url=http://127.0.0.1:${PORT[$name]}/
        "$RELEASE/loadgen" homepage --url "$url" -c "$CONNECTIONS" -d 1s --warmup 0s -q >/dev/null
        web0=$(cpu_ticks "${PID[$name]}") up0=$(cpu_ticks "$upstream_pid")
        "$RELEASE/loadgen" homepage --url "$url" -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" \
            --warmup 0s -q --json "$json" >/dev/null
        web1=$(cpu_ticks "${PID[$name]}") up1=$(cpu_ticks "$upstream_pid")
        python3 - "$json" "$name" "$round" "$((web1 - web0))" "$((up1 - up0))" <<'PY'
import json, sys
path, name, round_, web, up = sys.argv[1:]
report = json.load(open(path))
pages = report["requests"] or 1
print(json.dumps({
    "build": name, "round": int(round_), "connections": report["connections"],
    "pages_per_s": round(report["throughput_rps"]),
    "p99_us": round(report["latency"]["p99_us"]),
    "web_cpu_us_per_page": round(int(web) * 10_000 / pages, 1),
    "upstream_cpu_us_per_page": round(int(up) * 10_000 / pages, 1),
}))
PY
    done
done
rm -f "$json"
