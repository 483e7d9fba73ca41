#!/usr/bin/env bash
# Runs the Python grpcio interop suite against the Rust servers: builds the binaries, starts
# recommendations, factorial and demo-server on their default ports on a loopback address of
# their own (127.0.0.5, so nothing a developer runs on 127.0.0.1 is in the way), waits until
# each accepts connections, runs pytest with every target required, and stops the servers.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
host=127.0.0.5
venv=${INTEROP_VENV:-$root/target/interop-venv}
logs=$root/target/interop-logs

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/interop/requirements.txt

cargo build --quiet --locked --bin recommendations --bin factorial --bin demo-server
mkdir -p "$logs"

pids=()
cleanup() {
    if [ ${#pids[@]} -gt 0 ]; then
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap cleanup EXIT

start() { # name port metrics-port
    "target/debug/$1" --host "$host" --port "$2" --metrics-port "$3" >"$logs/$1.log" 2>&1 &
    pids+=($!)
}

wait_for_port() { # name port
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/$host/$2") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "interop: $1 did not start listening on $host:$2; its log:" >&2
    cat "$logs/$1.log" >&2
    return 1
}

start recommendations 50051 9101
start factorial 50052 9102
start demo-server 50053 9103
wait_for_port recommendations 50051
wait_for_port factorial 50052
wait_for_port demo-server 50053

INTEROP_REQUIRE_ALL=1 \
RECOMMENDATIONS_ADDR=$host:50051 \
FACTORIAL_ADDR=$host:50052 \
DEMO_ADDR=$host:50053 \
    "$venv/bin/python" -m pytest tests/interop -q -p no:cacheprovider
