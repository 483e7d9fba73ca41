#!/usr/bin/env bash
# bench/smoke.sh — the benchmark pipeline in seconds, so it cannot rot (CI runs it).
#
# Builds the debug binaries (CI's tests have built most of them already), starts `recommendations`
# and `bench-ceiling`, and drives each with loadgen for 2 s through the same functions
# bench/run.sh uses, then renders the tables with bench/render.py. It fails if a server does
# not come up, if any request fails, or if anything in the pipeline breaks. It asserts nothing
# about speed: debug builds on a shared CI machine say nothing about performance.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=2
WARMUP=1
STARTS=1
OUT=$ROOT/target/bench-smoke
DEBUG=$ROOT/target/debug
LOADGEN=$DEBUG/loadgen
RESULTS=$OUT/results.jsonl
export RUST_LOG=${RUST_LOG:-warn}
# Ports (127.0.0.1 only), below the ephemeral range and away from bench/run.sh's and the services' defaults.
OURS_GRPC=21351 OURS_METRICS=21361 CEILING_GRPC=21353

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
declare -A PID STARTUP IDLE_RSS

say "bench smoke: building recommendations, bench-ceiling, loadgen (debug)"
cargo build --locked -p recommendations -p bench-ceiling -p loadgen

rm -rf "$OUT"
mkdir -p "$OUT/logs" "$OUT/loadgen"
: >"$RESULTS"
printf '{"date": "%s", "nproc": %s, "cpu": "%s", "kernel": "%s", "rustc": "%s", "h2load": "-", "python": "-", "commit": "%s", "load_before": "%s", "duration_s": %s, "warmup_s": %s}\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
    "$(uname -r)" "$(rustc --version)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" "$DURATION" "$WARMUP" >"$OUT/meta.json"

measure_start ours "health --addr 127.0.0.1:$OURS_GRPC" -- \
    "$DEBUG/recommendations" --host 127.0.0.1 --port "$OURS_GRPC" --metrics-port "$OURS_METRICS"
measure_start ceiling "recommend-legacy --addr 127.0.0.1:$CEILING_GRPC" -- \
    "$DEBUG/bench-ceiling" --port "$CEILING_GRPC"

say "bench smoke: ${DURATION} s of load each"
loadgen_case recommend recommend-ours-2x5-loadgen ours "${PID[ours]}" -- \
    recommend-legacy --addr "127.0.0.1:$OURS_GRPC" -c 2 -m 5
loadgen_case recommend recommend-ceiling-2x5-loadgen ceiling "${PID[ceiling]}" -- \
    recommend-legacy --addr "127.0.0.1:$CEILING_GRPC" -c 2 -m 5
loadgen_case v1 recommend-v1-ours ours "${PID[ours]}" -- \
    recommend-v1 --addr "127.0.0.1:$OURS_GRPC" -c 1 -m 4 --rate 200
loadgen_case health health-ours ours "${PID[ours]}" -- \
    health --addr "127.0.0.1:$OURS_GRPC" -c 1 -m 2
for name in "${!PID[@]}"; do
    record "{\"kind\": \"memory\", \"server\": \"$name\", \"peak_rss_kib\": $(mem_kib "${PID[$name]}" VmHWM), \"idle_rss_kib\": ${IDLE_RSS[$name]}}"
done
cut -d' ' -f1-3 /proc/loadavg >"$OUT/load_after.txt"
stop_all

"$LOADGEN" plot --out "$OUT/recommend.svg" --title "smoke" "$OUT"/loadgen/recommend-*.json
python3 bench/render.py "$OUT" "$OUT/BENCHMARKS.md"

# Every measured run must have exited 0: loadgen fails a run with any failed request or none.
failed=$(grep -c '"exit": [1-9]' "$RESULTS" || true)
if [ "$failed" != 0 ]; then
    echo "bench smoke: $failed load run(s) failed:" >&2
    grep -l -E 'failed|errors' "$OUT"/loadgen/*.txt | xargs -r cat >&2
    exit 1
fi
runs=$(grep -c '"client": "loadgen"' "$RESULTS")
echo "bench smoke: ${runs} passed, 0 failed"
