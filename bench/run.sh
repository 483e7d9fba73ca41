#!/usr/bin/env bash
# bench/run.sh — the benchmark of issue 7: our services against the Python original
# (bench/reference) and against the ceiling of our own stack (a bare tonic server, crates/
# bench-ceiling), alternately, in one run, under the same load and the same clients.
#
#   bench/run.sh                     # about 5 minutes; BENCH_DURATION=10 for longer runs
#
# What it does:
#   1. builds the release binaries and a Python venv (target/bench-venv) for the reference;
#   2. starts every server, measuring spawn-to-first-successful-answer (three cold starts each)
#      and idle RSS;
#   3. Recommend at 1x1, 10x10 and 50x20 (connections x concurrent streams), with h2load (the
#      most frugal HTTP/2 client there is, so the server gets the most of the 2 cores) and with
#      loadgen (which checks every grpc-status and gives the percentiles), alternating servers
#      within each load level; then the same with the server pinned to CPU 0 and the client to
#      CPU 1; then p99 at half our maximum throughput (open loop);
#   4. the homepage at 1, 10 and 50 connections: ours (default threads, and one server thread),
#      Flask's development server, gunicorn 2x4;
#   5. server CPU per request from /proc/<pid>/stat around each measured run (warm-ups are
#      separate runs), peak RSS (VmHWM) at the end;
#   6. instructions per Recommend call, ours and the ceiling, under callgrind (bench/callgrind.sh:
#      deterministic, so the middleware's cost can be compared on a noisy machine);
#   7. raw results into bench/out/ (gitignored), tables into BENCHMARKS.md (bench/render.py).
#
# Load goes to 127.0.0.1 only, every run is bounded in time, and every process started is
# stopped by its pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-5}   # seconds measured per run
WARMUP=${BENCH_WARMUP:-1}       # seconds of (separate, unmeasured) warm-up run before each
ROUNDS=${BENCH_ROUNDS:-3}       # h2load runs per case (servers alternating); the median is reported
OUT=$ROOT/bench/out
RELEASE=$ROOT/target/release
LOADGEN=$RELEASE/loadgen
VENV=$ROOT/target/bench-venv
export REFERENCE_STUBS_DIR=$ROOT/target/bench-stubs
# Our servers run as shipped (RUST_LOG unset: info); their logs go to $OUT/logs.

# Ports (127.0.0.1 only), below the ephemeral range (32768+) so that no client socket holds one;
# BENCH_PORT_BASE moves them all (two runs on one machine must not share ports).
P=${BENCH_PORT_BASE:-21100}
OURS_GRPC=$((P + 51)) OURS_METRICS=$((P + 61)) PY_GRPC=$((P + 52)) CEILING_GRPC=$((P + 53))
OURS_WEB=$((P + 71)) FLASK_WEB=$((P + 72)) GUNICORN_WEB=$((P + 73)) OURS_WEB_1T=$((P + 75))
FACTORIAL_GRPC=$((P + 54)) FACTORIAL_METRICS=$((P + 64)) NCR_WEB=$((P + 74))
CEILING_TPC_GRPC=$((P + 55))

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
declare -A PID STARTUP IDLE_RSS

# --- 1. build ----------------------------------------------------------------------------------
command -v h2load >/dev/null || {
    echo "bench: h2load is missing (Debian: apt-get install nghttp2-client)" >&2
    exit 1
}
packages=(-p recommendations -p marketplace -p bench-ceiling -p loadgen)
[ -d crates/factorial ] && [ -d crates/ncr-gateway ] && packages+=(-p factorial -p ncr-gateway)
say "building ${packages[*]} (release)"
cargo build --release --locked "${packages[@]}"

say "Python reference venv ($VENV)"
stamp=$VENV/.requirements.sha256
want=$(sha256sum bench/reference/requirements.txt | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r bench/reference/requirements.txt
    echo "$want" >"$stamp"
fi
# The tutorial ships generated stubs; generate them once so start-up times do not include protoc.
mkdir -p "$REFERENCE_STUBS_DIR"
"$VENV/bin/python" -c "import sys; sys.path.insert(0, 'bench/reference'); import legacy_stubs; legacy_stubs.generate('$REFERENCE_STUBS_DIR')"

rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/h2load" "$OUT/loadgen"
RESULTS=$OUT/results.jsonl
: >"$RESULTS"

# --- machine -----------------------------------------------------------------------------------
{
    printf '{"date": "%s", "nproc": %s, "cpu": "%s", "kernel": "%s",' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" \
        "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(uname -r)"
    printf ' "rustc": "%s", "h2load": "%s", "python": "%s",' \
        "$(rustc --version)" "$(h2load --version | head -1)" "$("$VENV/bin/python" --version)"
    printf ' "commit": "%s", "load_before": "%s",' \
        "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates || echo '+dirty')" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    printf ' "duration_s": %s, "warmup_s": %s, "rounds": %s}\n' "$DURATION" "$WARMUP" "$ROUNDS"
} >"$OUT/meta.json"

# --- 2. servers --------------------------------------------------------------------------------
say "starting servers"
measure_start ours "health --addr 127.0.0.1:$OURS_GRPC" -- \
    "$RELEASE/recommendations" --host 127.0.0.1 --port "$OURS_GRPC" --metrics-port "$OURS_METRICS"
measure_start python "recommend-legacy --addr 127.0.0.1:$PY_GRPC" -- \
    "$VENV/bin/python" bench/reference/recommendations.py --port "$PY_GRPC"
measure_start ceiling "recommend-legacy --addr 127.0.0.1:$CEILING_GRPC" -- \
    "$RELEASE/bench-ceiling" --port "$CEILING_GRPC"
# The same bare server on the thread-per-core arrangement ours uses by default (one server
# thread per CPU): the like-for-like ceiling of the middleware's cost.
measure_start ceiling-tpc "recommend-legacy --addr 127.0.0.1:$CEILING_TPC_GRPC" -- \
    "$RELEASE/bench-ceiling" --port "$CEILING_TPC_GRPC" --server-threads "$(nproc)"
measure_start ours-marketplace "homepage --url http://127.0.0.1:$OURS_WEB/" -- \
    "$RELEASE/marketplace" --host 127.0.0.1 --port "$OURS_WEB" \
    --recommendations-host 127.0.0.1 --recommendations-port "$OURS_GRPC"
# The same marketplace with one server thread (and one runtime worker for the rest), as a pod
# given one CPU runs it: `--server-threads` and tokio both default to the CPUs it may use.
measure_start ours-marketplace-1t "homepage --url http://127.0.0.1:$OURS_WEB_1T/" -- \
    env SERVER_THREADS=1 TOKIO_WORKER_THREADS=1 "$RELEASE/marketplace" --host 127.0.0.1 --port "$OURS_WEB_1T" \
    --recommendations-host 127.0.0.1 --recommendations-port "$OURS_GRPC"
measure_start flask "homepage --url http://127.0.0.1:$FLASK_WEB/" -- \
    env RECOMMENDATIONS_HOST=127.0.0.1 RECOMMENDATIONS_PORT="$PY_GRPC" \
    "$VENV/bin/python" bench/reference/marketplace.py --port "$FLASK_WEB"
measure_start gunicorn "homepage --url http://127.0.0.1:$GUNICORN_WEB/" -- \
    env RECOMMENDATIONS_HOST=127.0.0.1 RECOMMENDATIONS_PORT="$PY_GRPC" \
    "$VENV/bin/gunicorn" --chdir bench/reference -w 2 --threads 4 \
    -b "127.0.0.1:$GUNICORN_WEB" marketplace:app
declare -A GRPC_PORT=([ours]=$OURS_GRPC [python]=$PY_GRPC [ceiling]=$CEILING_GRPC [ceiling-tpc]=$CEILING_TPC_GRPC)
declare -A WEB_PORT=([ours-marketplace]=$OURS_WEB [ours-marketplace-1t]=$OURS_WEB_1T [flask]=$FLASK_WEB [gunicorn]=$GUNICORN_WEB)
declare -A UPSTREAM=([ours-marketplace]=ours [ours-marketplace-1t]=ours [flask]=python [gunicorn]=python)

# --- 3. Recommend ------------------------------------------------------------------------------
# The request every client sends: RecommendationRequest{user_id: 1, category: MYSTERY,
# max_results: 3} as a gRPC frame (uncompressed flag, 4-byte length, protobuf: 08 01 18 03),
# the same bytes loadgen's generated client puts on the wire.
FRAME=$OUT/recommend.frame
printf '\x00\x00\x00\x00\x04\x08\x01\x18\x03' >"$FRAME"
H2LOAD_ARGS=(-t 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$FRAME")

us_of() { # h2load durations (26us, 1.53ms, 2.1s) in microseconds
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else print n * 1e6 }'
}

# pin_server NAME CPUS: moves every thread of the server's tree onto CPUS.
pin_server() {
    local pid
    for pid in $(tree_pids "${PID[$1]}"); do taskset -a -p -c "$2" "$pid" >/dev/null; done
}

# h2load_case SERVER CONNECTIONS STREAMS SCHEDULING ROUND
h2load_case() {
    local server=$1 c=$2 m=$3 sched=$4 round=$5 client=()
    local url=http://127.0.0.1:${GRPC_PORT[$server]}/Recommendations/Recommend
    local name=recommend-$server-${c}x$m-$sched-r$round
    [ "$sched" = pinned ] && client=(taskset -c 1)
    "${client[@]}" h2load -D "$WARMUP" -c "$c" -m "$m" "${H2LOAD_ARGS[@]}" "$url" >/dev/null 2>&1 || true
    local before after
    before=$(cpu_ticks "${PID[$server]}")
    "${client[@]}" h2load -D "$DURATION" -c "$c" -m "$m" "${H2LOAD_ARGS[@]}" "$url" >"$OUT/h2load/$name.txt" 2>&1 || true
    after=$(cpu_ticks "${PID[$server]}")
    local f=$OUT/h2load/$name.txt
    local rps ok failed min max mean
    rps=$(awk '/^finished in/ { print $4 }' "$f")
    read -r ok failed < <(awk '/^requests:/ { print $8, $10 + $12 + $14 }' "$f")
    read -r min max mean < <(awk '/^time for request:/ { print $4, $5, $6 }' "$f")
    record "{\"kind\": \"recommend\", \"client\": \"h2load\", \"server\": \"$server\", \"connections\": $c, \"streams\": $m, \"scheduling\": \"$sched\", \"round\": $round, \"rps\": ${rps:-0}, \"ok\": ${ok:-0}, \"failed\": ${failed:-0}, \"mean_us\": $(us_of "${mean:-0us}"), \"max_us\": $(us_of "${max:-0us}"), \"cpu_ticks\": $((after - before)), \"raw\": \"h2load/$name.txt\"}"
    printf '%-40s %10s req/s  mean %-8s  server CPU %s ticks\n' "$name" "$rps" "$mean" "$((after - before))" >&2
}

LOADS=("1 1" "10 10" "50 20")
SERVERS=(ours python ceiling ceiling-tpc)

say "Recommend, default scheduling (h2load $ROUNDS rounds, then loadgen, servers alternating)"
for load in "${LOADS[@]}"; do
    read -r c m <<<"$load"
    for round in $(seq 1 "$ROUNDS"); do
        for server in "${SERVERS[@]}"; do h2load_case "$server" "$c" "$m" default "$round"; done
    done
    for server in "${SERVERS[@]}"; do
        loadgen_case recommend "recommend-$server-${c}x$m-loadgen" "$server" "${PID[$server]}" -- \
            recommend-legacy --addr "127.0.0.1:${GRPC_PORT[$server]}" -c "$c" -m "$m"
    done
done

say "Recommend, server pinned to CPU 0, h2load to CPU 1"
for server in "${SERVERS[@]}"; do pin_server "$server" 0; done
for load in "10 10" "50 20"; do
    read -r c m <<<"$load"
    for round in $(seq 1 "$ROUNDS"); do
        for server in "${SERVERS[@]}"; do h2load_case "$server" "$c" "$m" pinned "$round"; done
    done
done
for server in "${SERVERS[@]}"; do pin_server "$server" 0-$(($(nproc) - 1)); done

say "Recommend, open loop at half our best throughput"
# "Our maximum" as measured by the client that drives the open loop (loadgen, closed loop): on a
# 2-core machine shared with the client, h2load's maximum is out of loadgen's reach, and a rate
# the client itself cannot sustain would measure the client.
best=$(python3 -c 'import json, sys; print(int(max(json.load(open(f))["throughput_rps"] for f in sys.argv[1:])))' \
    "$OUT"/loadgen/recommend-ours-*-loadgen.json)
half=$((best / 2))
for server in ours ceiling ceiling-tpc; do
    loadgen_case half-rate "recommend-$server-rate$half" "$server" "${PID[$server]}" -- \
        recommend-legacy --addr "127.0.0.1:${GRPC_PORT[$server]}" -c 10 -m 10 --rate "$half"
done

# --- 4. Homepage -------------------------------------------------------------------------------
say "Homepage (loadgen, servers alternating)"
for c in 1 10 50; do
    for web in ours-marketplace ours-marketplace-1t flask gunicorn; do
        up=${UPSTREAM[$web]}
        loadgen_case homepage "homepage-$web-c$c" "$web" "${PID[$web]}" "${PID[$up]}" -- \
            homepage --url "http://127.0.0.1:${WEB_PORT[$web]}/" -c "$c"
    done
done

if [ -x "$RELEASE/ncr-gateway" ] && [ -x "$RELEASE/factorial" ]; then
    say "nCr gateway (ours only: the reference has no Python counterpart)"
    measure_start factorial "health --addr 127.0.0.1:$FACTORIAL_GRPC" -- \
        "$RELEASE/factorial" --host 127.0.0.1 --port "$FACTORIAL_GRPC" --metrics-port "$FACTORIAL_METRICS"
    measure_start ncr-gateway "ncr --url http://127.0.0.1:$NCR_WEB" -- \
        "$RELEASE/ncr-gateway" --host 127.0.0.1 --port "$NCR_WEB" \
        --factorial-host 127.0.0.1 --factorial-port "$FACTORIAL_GRPC"
    loadgen_case ncr "ncr-c10" ncr-gateway "${PID[ncr-gateway]}" "${PID[factorial]}" -- \
        ncr --url "http://127.0.0.1:$NCR_WEB" -c 10
fi

# --- 5. memory, then the report ----------------------------------------------------------------
for name in "${!PID[@]}"; do
    record "{\"kind\": \"memory\", \"server\": \"$name\", \"peak_rss_kib\": $(mem_kib "${PID[$name]}" VmHWM), \"idle_rss_kib\": ${IDLE_RSS[$name]}}"
done
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load_after.txt"
stop_all

if command -v valgrind >/dev/null; then
    say "instructions per call under callgrind (bench/callgrind.sh)"
    CALLGRIND_OUT=$OUT/callgrind bench/callgrind.sh >>"$RESULTS"
else
    say "valgrind is missing: no instruction counts (Debian: apt-get install valgrind)"
fi

say "plots and BENCHMARKS.md"
for load in 1x1 10x10 50x20; do
    "$LOADGEN" plot --out "$OUT/recommend-$load.svg" --title "Recommend $load (loadgen, closed loop)" \
        "$OUT"/loadgen/recommend-{ours,python,ceiling}-"$load"-loadgen.json
done
"$LOADGEN" plot --out "$OUT/homepage-c10.svg" --title "Homepage, 10 connections" \
    "$OUT"/loadgen/homepage-{ours-marketplace,ours-marketplace-1t,flask,gunicorn}-c10.json
python3 bench/render.py "$OUT" BENCHMARKS.md
say "done: BENCHMARKS.md, raw results in bench/out/"
