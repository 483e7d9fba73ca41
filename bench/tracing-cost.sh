#!/usr/bin/env bash
# bench/tracing-cost.sh — what tracing costs: user-space instructions per Recommend call (the
# recommendations server) and per homepage (the marketplace), counted by callgrind
# (bench/callgrind.sh, bench/callgrind-homepage.sh), for each of
#
#   before        the build before tracing existed (BEFORE=DIR holding its release binaries;
#                 left out without it)
#   off           this build, no OTLP endpoint: the default, nothing exported
#   sampled-1pct  exporting over OTLP/gRPC to a counting sink (otlp-sink), 1% of calls sampled
#                 (OTEL_TRACES_SAMPLER=traceidratio, OTEL_TRACES_SAMPLER_ARG=0.01)
#   sampled-all   exporting, every call sampled (always_on)
#
# and for the homepage also `off, no access log` (ACCESS_LOG=false): the share of the one log
# line per request. The load sends no traceparent, so each call's sampling is decided at its
# root. After the load each server gets SETTLE (default 6) seconds, past the exporter's 5-second
# batch delay, so the export of the last batch is counted too.
#
#   bench/tracing-cost.sh
#   BEFORE=/tmp/base-target/release CALLS=20000 PAGES=5000 bench/tracing-cost.sh
#
# Output: the scripts' JSON lines (each traced run followed by the sink's count of spans it
# received), then a table of instructions per call and per page.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASE=$ROOT/target/release
export SETTLE=${SETTLE:-6} DEFAULTS=0
cargo build --release --locked -p recommendations -p marketplace -p loadgen -p bench-ceiling \
    -p bookstore-testing >&2

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
trap stop_all EXIT
RESULTS=$(mktemp)
SINK_PORT=${SINK_PORT:-24317}
ENDPOINT=http://127.0.0.1:$SINK_PORT
EXPORT="OTEL_EXPORTER_OTLP_ENDPOINT=$ENDPOINT OTEL_EXPORTER_OTLP_PROTOCOL=grpc"
ONE_PERCENT="$EXPORT OTEL_TRACES_SAMPLER=traceidratio OTEL_TRACES_SAMPLER_ARG=0.01"
EVERY_CALL="$EXPORT OTEL_TRACES_SAMPLER=always_on"

# measure SCRIPT ENTRY: one callgrind run of one server; with a sink around it if it exports.
measure() {
    local script=$1 entry=$2 sink_pid sink_out
    if [[ $entry == *OTEL_EXPORTER_OTLP_ENDPOINT* ]]; then
        sink_out=$(mktemp)
        "$RELEASE/otlp-sink" --port "$SINK_PORT" >"$sink_out" &
        sink_pid=$!
        STARTED_PIDS+=("$sink_pid")
        sleep 0.5
    fi
    "$script" "$entry" | tee -a "$RESULTS"
    if [[ -n ${sink_pid:-} ]]; then
        kill -INT "$sink_pid"
        wait "$sink_pid" || true
        printf '{"kind": "otlp-sink", "server": "%s", "received": %s}\n' "${entry%%=*}" \
            "$(tail -n 1 "$sink_out")" | tee -a "$RESULTS"
        rm -f "$sink_out"
    fi
}

if [[ -n ${BEFORE:-} ]]; then
    measure bench/callgrind.sh "before=$BEFORE/recommendations"
fi
measure bench/callgrind.sh "off=$RELEASE/recommendations"
measure bench/callgrind.sh "sampled-1pct=$ONE_PERCENT $RELEASE/recommendations"
measure bench/callgrind.sh "sampled-all=$EVERY_CALL $RELEASE/recommendations"

if [[ -n ${BEFORE:-} ]]; then
    measure bench/callgrind-homepage.sh "before=$BEFORE/marketplace"
fi
measure bench/callgrind-homepage.sh "off=$RELEASE/marketplace"
measure bench/callgrind-homepage.sh "off-no-access-log=ACCESS_LOG=false $RELEASE/marketplace"
measure bench/callgrind-homepage.sh "sampled-1pct=$ONE_PERCENT $RELEASE/marketplace"
measure bench/callgrind-homepage.sh "sampled-all=$EVERY_CALL $RELEASE/marketplace"

python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
for kind, unit, key in (("callgrind", "call", "per_call"), ("callgrind-homepage", "page", "per_page")):
    runs = [row for row in rows if row["kind"] == kind]
    base = next((row[key] for row in runs if row["server"] == "off"), None)
    print(f"\ninstructions per {unit} ({kind})")
    for row in runs:
        change = f"{(row[key] / base - 1) * 100:+.1f}% vs off" if base else ""
        print(f"  {row['server']:<20} {row[key]:>10,}  {change}")
PY
rm -f "$RESULTS"
