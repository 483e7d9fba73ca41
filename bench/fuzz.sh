#!/usr/bin/env bash
# bench/fuzz.sh — the property tests as a long fuzzing run, on stable Rust: every parser of
# outside input (the nCr path, the marketplace's queries, the catalog loader, the duration
# flags, `grpc-timeout`, any bytes and any well-typed message into every gRPC handler, any
# path and header through both web apps) tried PROPTEST_CASES times per property instead of
# `cargo test`'s few hundred.
#
#   bench/fuzz.sh            # 10000 cases per property
#   bench/fuzz.sh 100000     # or as many as given (PROPTEST_CASES in the environment works too)
#
# Each property asserts the documented status for every input, not only "no panic". A failure
# prints proptest's minimal failing input: fix the code, and keep that input as a regular test
# beside the property. Runs the crates one after another; fails at the first that fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export PROPTEST_CASES=${1:-${PROPTEST_CASES:-10000}}

# crate, test target ("lib": the unit tests), name filter ("" for the whole target).
SUITES=(
    "ncr-gateway gateway properties::"
    "marketplace properties "
    "recommendations properties "
    "factorial properties "
    "demo streaming properties::"
    "bookstore-serve serve durations::"
    "bookstore-layers lib request_timeout::"
)

echo "== fuzz: $PROPTEST_CASES cases per property" >&2
for suite in "${SUITES[@]}"; do
    read -r crate target filter <<<"$suite"
    echo "== $crate ($target${filter:+, $filter})" >&2
    started=$SECONDS
    if [[ $target == lib ]]; then selected=(--lib); else selected=(--test "$target"); fi
    cargo test -q -p "$crate" "${selected[@]}" -- ${filter:+"$filter"}
    echo "   $crate: $((SECONDS - started)) s" >&2
done
echo "== fuzz: every property held for $PROPTEST_CASES cases" >&2
