#!/usr/bin/env bash
# bench/callgrind-homepage.sh — user-space instructions the `marketplace` spends per homepage,
# counted by valgrind's callgrind (deterministic, unlike timings on a shared machine): the
# marketplace's counterpart of bench/callgrind.sh. `recommendations` runs normally behind it.
#
#   bench/callgrind-homepage.sh                                   # the release marketplace
#   bench/callgrind-homepage.sh before=/path/to/old/marketplace   # also A/B another build
#   bench/callgrind-homepage.sh "quiet=ACCESS_LOG=false target/release/marketplace"
#                                                    # environment variables (VAR=value) first
#   PAGES=10000 CONNECTIONS=50 bench/callgrind-homepage.sh
#
# loadgen sends 1,000 warm-up pages, the counters are zeroed, PAGES pages are sent, SETTLE
# seconds pass (default 0), the counters are dumped. Profiles are left in target/callgrind/ for `callgrind_annotate --inclusive=yes`.
# Output: one JSON line per marketplace build on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PAGES=${PAGES:-5000}
CONNECTIONS=${CONNECTIONS:-10}
RELEASE=$ROOT/target/release
OUT=${CALLGRIND_OUT:-$ROOT/target/callgrind}
for tool in valgrind callgrind_control; do
    command -v "$tool" >/dev/null || {
        echo "callgrind-homepage: $tool is missing (Debian: valgrind)" >&2
        exit 1
    }
done
[ -x "$RELEASE/loadgen" ] && [ -x "$RELEASE/recommendations" ] && [ -x "$RELEASE/marketplace" ] ||
    cargo build --release --locked -p recommendations -p marketplace -p loadgen
mkdir -p "$OUT"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT

# Below the ephemeral port range (32768+); CALLGRIND_PORT_BASE moves them.
base=${CALLGRIND_PORT_BASE:-23100}
upstream=$((base + 51))
"$RELEASE/recommendations" --host 127.0.0.1 --port "$upstream" --metrics-port $((base + 61)) \
    >"$OUT/homepage-recommendations.log" 2>&1 &
STARTED_PIDS+=($!)
"$RELEASE/loadgen" health --addr "127.0.0.1:$upstream" --wait-ready 30s >/dev/null

port=$((base + 70))
# DEFAULTS=0 leaves out the release marketplace: only the builds given.
marketplaces=("$@")
[[ ${DEFAULTS:-1} == 0 ]] || marketplaces=("marketplace=$RELEASE/marketplace" "$@")
for entry in "${marketplaces[@]}"; do
    split_entry "$entry"
    name=$ENTRY_NAME
    port=$((port + 1))
    url=http://127.0.0.1:$port/
    rm -f "$OUT/homepage-$name.out"*
    env "${ENTRY_ENV[@]}" valgrind --tool=callgrind --callgrind-out-file="$OUT/homepage-$name.out" \
        "${ENTRY_COMMAND[@]}" \
        --host 127.0.0.1 --port "$port" \
        --recommendations-host 127.0.0.1 --recommendations-port "$upstream" \
        >"$OUT/homepage-$name.log" 2>&1 &
    pid=$!
    STARTED_PIDS+=("$pid")
    "$RELEASE/loadgen" homepage --url "$url" --wait-ready 60s >/dev/null
    "$RELEASE/loadgen" homepage --url "$url" -c "$CONNECTIONS" -n 1000 --warmup 0s -q >/dev/null
    callgrind_control -z "$pid" >/dev/null 2>&1
    "$RELEASE/loadgen" homepage --url "$url" -c "$CONNECTIONS" -n "$PAGES" --warmup 0s -q \
        --json "$OUT/homepage-$name.json" >/dev/null
    # Work the calls left behind (a batch of spans waiting for its export) counts too.
    sleep "${SETTLE:-0}"
    callgrind_control -d "$pid" >/dev/null 2>&1
    counted=$(callgrind_finish "callgrind-homepage: $name" "$pid" "$OUT/homepage-$name.log" \
        "$OUT/homepage-$name.out")
    read -r total dump <<<"$counted"
    ok=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ok"])' "$OUT/homepage-$name.json")
    printf '{"kind": "callgrind-homepage", "server": "%s", "pages": %s, "instructions": %s, "per_page": %s, "profile": "%s"}\n' \
        "$name" "$ok" "$total" "$(awk -v t="$total" -v n="$ok" 'BEGIN { printf "%.0f", t / n }')" \
        "${dump#"$ROOT/"}"
done
