# bench/lib.sh — shell functions shared by the bench scripts: starting servers with their
# start-up time measured, reading a process tree's CPU time and memory from /proc, ending a
# server profiled by callgrind and reading its count, and stopping everything that was started
# (by pid, never by name: `STARTED_PIDS+=(PID)`, `trap stop_all EXIT`).
#
# Sourced, not run. The server and measurement functions (run.sh, smoke.sh) expect $OUT (output
# directory), $RESULTS (a JSON-lines file), $LOADGEN, $DURATION and $WARMUP (seconds), and the
# associative arrays PID, STARTUP and IDLE_RSS (`declare -A PID STARTUP IDLE_RSS`) in the
# caller; the others expect nothing.

say() { printf '\n== %s\n' "$*" >&2; }

# record JSON: appends one result line.
record() { echo "$1" >>"$RESULTS"; }

# Every pid started, so the EXIT trap stops exactly those.
STARTED_PIDS=()

stop_all() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        # Servers have a grace period; give them a moment, then insist.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    STARTED_PIDS=()
}

# callgrind_finish NAME PID LOG PROFILE: ends PID, a server run under `valgrind
# --tool=callgrind --callgrind-out-file=PROFILE` whose counters were just dumped, and prints
# "INSTRUCTIONS DUMP_FILE" for its latest dump; fails with the end of LOG if it had died.
callgrind_finish() {
    local name=$1 pid=$2 log=$3 profile=$4 dump
    sleep 1
    if ! kill "$pid" 2>/dev/null; then
        echo "$name exited early; its log:" >&2
        tail -n 20 "$log" >&2
        return 1
    fi
    wait "$pid" 2>/dev/null || true
    dump=$(ls -t "$profile".* | head -1)
    echo "$(awk '/^(summary|totals):/ { print $2; exit }' "$dump") $dump"
}

# split_entry ENTRY: splits a server entry of the form `name=[VAR=value ...] command [args ...]`
# (as bench/callgrind.sh and bench/callgrind-homepage.sh take them) into ENTRY_NAME, the array
# ENTRY_ENV (the leading VAR=value words, for `env`) and the array ENTRY_COMMAND.
split_entry() {
    local words word
    ENTRY_NAME=${1%%=*}
    read -r -a words <<<"${1#*=}"
    ENTRY_ENV=()
    ENTRY_COMMAND=()
    for word in "${words[@]}"; do
        if ((${#ENTRY_COMMAND[@]} == 0)) && [[ $word =~ ^[A-Z_][A-Z0-9_]*= ]]; then
            ENTRY_ENV+=("$word")
        else
            ENTRY_COMMAND+=("$word")
        fi
    done
}

# tree_pids PID: PID and all its descendants (gunicorn's workers, for instance).
tree_pids() {
    local pid=$1 child
    echo "$pid"
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        tree_pids "$child"
    done
}

# cpu_ticks PID: user + system CPU of PID's tree, in clock ticks (1/100 s; `getconf CLK_TCK`).
cpu_ticks() {
    local total=0 pid fields
    for pid in $(tree_pids "$1"); do
        # Fields after the command name: state is field 3, utime 14, stime 15.
        fields=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        set -- $fields
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}

# mem_kib PID FIELD: the sum of FIELD (VmRSS, VmHWM) over PID's tree, in KiB.
mem_kib() {
    local total=0 pid value
    for pid in $(tree_pids "$1"); do
        value=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
        total=$((total + ${value:-0}))
    done
    echo "$total"
}

# start_server NAME PROBE -- COMMAND...: starts COMMAND in the background (output to
# $OUT/logs/NAME.log), waits until PROBE (loadgen target arguments) first succeeds, and sets
# SERVER_PID and STARTUP_MS (spawn to first successful answer).
start_server() {
    local name=$1 probe=$2
    shift 3
    local t0 ready
    t0=$EPOCHREALTIME
    "$@" >"$OUT/logs/$name.log" 2>&1 &
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    # shellcheck disable=SC2086 # PROBE is a list of loadgen arguments.
    if ! ready=$("$LOADGEN" $probe --wait-ready 20s); then
        echo "bench: $name did not become ready; its log:" >&2
        tail -20 "$OUT/logs/$name.log" >&2
        return 1
    fi
    ready=${ready#*\"ready_unix_us\":}
    ready=${ready%%,*}
    STARTUP_MS=$(awk -v r="$ready" -v t="$t0" 'BEGIN { printf "%.1f", (r / 1e6 - t) * 1000 }')
}

# stop_server PID: SIGTERM, wait for it to exit.
stop_server() {
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# measure_start NAME PROBE -- COMMAND...: $STARTS (default 3) cold starts, the median kept;
# the last one keeps running, with its pid in PID[NAME].
measure_start() {
    local name=$1 probe=$2 times=() starts=${STARTS:-3}
    shift 3
    for attempt in $(seq 1 "$starts"); do
        start_server "$name" "$probe" -- "$@"
        times+=("$STARTUP_MS")
        if [ "$attempt" -lt "$starts" ]; then
            stop_server "$SERVER_PID"
        fi
    done
    PID[$name]=$SERVER_PID
    STARTUP[$name]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((starts + 1) / 2))p")
    sleep 1
    IDLE_RSS[$name]=$(mem_kib "$SERVER_PID" VmRSS)
    say "$name: pid ${PID[$name]}, ready after ${STARTUP[$name]} ms (starts: ${times[*]}), idle RSS ${IDLE_RSS[$name]} KiB"
    record "{\"kind\": \"server\", \"server\": \"$name\", \"startup_ms\": ${STARTUP[$name]}, \"startup_all_ms\": [$(IFS=,; echo "${times[*]}")], \"idle_rss_kib\": ${IDLE_RSS[$name]}}"
}

# loadgen_case KIND SERVER PID... -- LOADGEN ARGS: a warm-up run, then a measured run with the
# CPU of every listed server process read around it.
loadgen_case() {
    local kind=$1 name=$2 label=$3
    shift 3
    local pids=()
    while [ "$1" != -- ]; do pids+=("$1"); shift; done
    shift
    "$LOADGEN" "$@" -d "${WARMUP}s" --warmup 0s -q >/dev/null 2>&1 || true
    local before=() after=() i
    for i in "${!pids[@]}"; do before[i]=$(cpu_ticks "${pids[i]}"); done
    local status=0
    "$LOADGEN" "$@" -d "${DURATION}s" --warmup 0s -q --label "$label" \
        --json "$OUT/loadgen/$name.json" >"$OUT/loadgen/$name.txt" 2>&1 || status=$?
    for i in "${!pids[@]}"; do after[i]=$(cpu_ticks "${pids[i]}"); done
    local ticks=()
    for i in "${!pids[@]}"; do ticks+=($((after[i] - before[i]))); done
    record "{\"kind\": \"$kind\", \"client\": \"loadgen\", \"name\": \"$name\", \"label\": \"$label\", \"exit\": $status, \"cpu_ticks\": [$(IFS=,; echo "${ticks[*]}")], \"json\": \"loadgen/$name.json\"}"
    printf '%-40s %s  server CPU %s ticks\n' "$name" \
        "$(grep -h throughput "$OUT/loadgen/$name.txt" | tr -s ' ')" "${ticks[*]}" >&2
}

