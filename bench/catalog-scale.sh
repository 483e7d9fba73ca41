#!/usr/bin/env bash
# bench/catalog-scale.sh — how recommendations scales with the size of its catalog (issue 17):
# for each size, a new SQLite catalog of generated books, served with DATABASE_URL, and
#
#   - start-up: spawn to the first grpc.health.v1 check answered SERVING (migrate, load every
#     book, build the snapshot), one cold start;
#   - memory: VmRSS after start and after 10,000 Recommend calls, and bytes per book: the RSS
#     above the built-in catalog's (83 books, no DATABASE_URL) divided by the books, and above
#     a database seeded with those 83 (sqlite83: the same code, so only the books differ);
#   - Recommend throughput with h2load (CALLS calls at 10 x 10, ROUNDS rounds, the median) and
#     the server's CPU per call from /proc;
#   - user-space instructions per Recommend call, by bench/callgrind.sh (20,000 calls each).
#
#   bench/catalog-scale.sh                          # 1,000, 100,000 and 1,000,000 books
#   SIZES="1000 100000" CALLGRIND=0 bench/catalog-scale.sh
#
# The catalogs are made by the generate_catalog example (crates/recommendations/examples) in a
# temporary directory, removed at the end. Results in bench/out/catalog-scale/ (results.jsonl,
# table.md, the servers' logs and the callgrind profiles); the table is also printed.
# Environment: SIZES, CALLS (20000), ROUNDS (3), CALLGRIND (1; 0 skips it), SCALE_OUT (the
# results directory, emptied first), SCALE_PORT_BASE (24200; the first free ports above it are
# used), CALLGRIND_PORT_BASE (24400), BUILD (1; 0 uses the binaries already in target/release).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASE=$ROOT/target/release
SIZES=${SIZES:-1000 100000 1000000}
CALLS=${CALLS:-20000} ROUNDS=${ROUNDS:-3} CALLGRIND=${CALLGRIND:-1}
OUT=${SCALE_OUT:-$ROOT/bench/out/catalog-scale}
RESULTS=$OUT/results.jsonl
export RUST_LOG=${RUST_LOG:-warn}

for tool in h2load python3; do
    command -v "$tool" >/dev/null || {
        echo "catalog-scale: $tool is missing (Debian: nghttp2-client, python3)" >&2
        exit 1
    }
done
if [[ ${BUILD:-1} != 0 ]]; then
    cargo build --release --locked -p recommendations -p loadgen -p bench-ceiling \
        --example generate_catalog
fi

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
WORK=$(mktemp -d)
trap 'stop_all; rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT/logs"
: >"$RESULTS"
FRAME=$WORK/recommend.frame
# RecommendationRequest{user_id: 1, category: MYSTERY, max_results: 3} as a gRPC frame.
printf '\x00\x00\x00\x00\x04\x08\x01\x18\x03' >"$FRAME"

printf '{"kind": "meta", "date": "%s", "nproc": %s, "cpu": "%s", "commit": "%s", "load_before": "%s", "calls": %s, "rounds": %s}\n' \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(nproc)" "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" \
    "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$CALLS" "$ROUNDS" >>"$RESULTS"

# free_port FROM: the first port from FROM up that nothing on 127.0.0.1 listens on.
free_port() {
    local port=$1
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    echo "$port"
}

next_port=${SCALE_PORT_BASE:-24200}

# measure NAME BOOKS [VAR=value ...]: starts recommendations with the variables given and
# records its start-up, memory, throughput and CPU per call as one "scale" line.
measure() {
    local name=$1 books=$2
    shift 2
    local grpc metrics
    grpc=$(free_port "$next_port")
    metrics=$(free_port $((grpc + 1)))
    next_port=$((metrics + 1))
    say "$name: $books books"
    start_server "$name" "health --addr 127.0.0.1:$grpc" -- \
        env "$@" "$RELEASE/recommendations" --host 127.0.0.1 --port "$grpc" --metrics-port "$metrics"
    local pid=$SERVER_PID startup_ms=$STARTUP_MS
    sleep 1
    local rss_start rss_after
    rss_start=$(mem_kib "$pid" VmRSS)
    local h2=(-c 10 -m 10 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' -d "$FRAME"
        "http://127.0.0.1:$grpc/Recommendations/Recommend")
    h2load -n 10000 "${h2[@]}" >/dev/null 2>&1
    rss_after=$(mem_kib "$pid" VmRSS)
    local rates=() cpus=() out ticks0 ticks1 calls
    for _ in $(seq 1 "$ROUNDS"); do
        ticks0=$(cpu_ticks "$pid")
        out=$(h2load -n "$CALLS" "${h2[@]}" 2>&1)
        ticks1=$(cpu_ticks "$pid")
        calls=$(awk '/^requests:/ { print $8 }' <<<"$out")
        [[ $calls == "$CALLS" ]] || {
            echo "catalog-scale: $name answered $calls of $CALLS calls" >&2
            return 1
        }
        rates+=("$(awk '/^finished in/ { gsub(/,/, "", $4); print $4 }' <<<"$out")")
        cpus+=("$(awk -v t=$((ticks1 - ticks0)) -v n="$calls" 'BEGIN { printf "%.1f", t * 10000 / n }')")
    done
    local hwm
    hwm=$(mem_kib "$pid" VmHWM)
    stop_server "$pid"
    printf '{"kind": "scale", "server": "%s", "books": %s, "startup_ms": %s, "rss_start_kib": %s, "rss_after_kib": %s, "hwm_kib": %s, "calls_per_s": [%s], "cpu_us_per_call": [%s]}\n' \
        "$name" "$books" "$startup_ms" "$rss_start" "$rss_after" "$hwm" \
        "$(IFS=,; echo "${rates[*]}")" "$(IFS=,; echo "${cpus[*]}")" | tee -a "$RESULTS" >&2
}

# The reference: the built-in catalog, no database.
measure builtin 83
variants=("builtin=$RELEASE/recommendations")
# The database's own cost: a new file the service seeds with the same 83 books.
measure sqlite83 83 "DATABASE_URL=sqlite://$WORK/seeded.db"
variants+=("sqlite83=DATABASE_URL=sqlite://$WORK/seeded.db $RELEASE/recommendations")
for books in $SIZES; do
    file=$WORK/books-$books.db
    say "generating $books books"
    generated=$("$RELEASE/examples/generate_catalog" --books "$books" --database-url "sqlite://$file")
    # The database and its write-ahead log (not always checkpointed into the file yet).
    bytes=$(cat "$file" "$file-wal" 2>/dev/null | wc -c)
    echo "{\"kind\": \"generated\", \"books\": $books, \"file_bytes\": $bytes, \"run\": $generated}" >>"$RESULTS"
    measure "n$books" "$books" "DATABASE_URL=sqlite://$file"
    variants+=("n$books=DATABASE_URL=sqlite://$file $RELEASE/recommendations")
done

if [[ $CALLGRIND != 0 ]]; then
    say "callgrind: ${variants[*]%%=*}"
    CALLGRIND_OUT=$OUT/callgrind CALLGRIND_PORT_BASE=${CALLGRIND_PORT_BASE:-24400} \
        CALLGRIND_READY=900s DEFAULTS=0 bench/callgrind.sh "${variants[@]}" | tee -a "$RESULTS"
fi

python3 - "$RESULTS" "$OUT/table.md" <<'EOF'
import json, statistics, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
meta = next(l for l in lines if l["kind"] == "meta")
scale = [l for l in lines if l["kind"] == "scale"]
per_call = {l["server"]: l["per_call"] for l in lines if l["kind"] == "callgrind"}
base = next(l for l in scale if l["server"] == "builtin")
seeded = next((l for l in scale if l["server"] == "sqlite83"), base)
rows = [
    "| server | books | start-up s | RSS MiB (start / after calls) | bytes per book (vs built-in "
    "/ vs sqlite83) | Recommend calls/s | server CPU µs/call | instructions/call |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
]
for l in scale:
    def per_book(reference):
        extra = (l["rss_after_kib"] - reference["rss_after_kib"]) * 1024
        books = l["books"] - (reference["books"] if reference is seeded else 0)
        return f"{extra / books:,.0f}" if l["books"] >= 1000 else f"+{extra / 2**20:.1f} MiB"
    bytes_per_book = "–" if l is base else f"{per_book(base)} / {per_book(seeded)}"
    instructions = f"{per_call[l['server']]:,}" if l["server"] in per_call else "–"
    rows.append(
        f"| {l['server']} | {l['books']:,} | {l['startup_ms'] / 1000:.2f} "
        f"| {l['rss_start_kib'] / 1024:.1f} / {l['rss_after_kib'] / 1024:.1f} | {bytes_per_book} "
        f"| {statistics.median(l['calls_per_s']):,.0f} | {statistics.median(l['cpu_us_per_call']):.1f} "
        f"| {instructions} |"
    )
table = "\n".join(rows)
note = (f"{meta['date']}, commit {meta['commit']}, {meta['nproc']} × {meta['cpu']}, "
        f"load before {meta['load_before']}; {meta['calls']:,} calls × {meta['rounds']} rounds at 10 × 10")
open(sys.argv[2], "w").write(table + "\n\n" + note + "\n")
print("\n" + table + "\n\n" + note)
EOF
