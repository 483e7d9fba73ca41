#!/usr/bin/env bash
# The storefront in a real browser: installs chromium and chromium-driver when they are missing,
# then runs the WebDriver tests (crates/browser-tests), which a plain `cargo test` skips as
# ignored. Each test starts its own chromedriver and headless Chromium, and the Marketplace and
# Recommendations on free loopback ports; nothing outlives the run.
#
#     tests/browser/run.sh                 # from anywhere; fails unless every test listed ran and passed
#     tests/browser/run.sh homepage        # extra arguments go to the test binary (a filter)
#
# cargo runs with `--workspace`, selecting only the `storefront` test target, so it resolves
# features as `cargo test --workspace` does and, run after it (as in .ci/run), compiles nothing
# but that target.
#
# No `timeout` in here: one would move cargo into a process group of its own, out of reach of
# the caller's. The caller bounds the run (.ci/run: `timeout --kill-after=30 900`), and cargo,
# the test binary, chromedriver and Chromium all stay in the caller's process group, so its
# signal reaches every one of them.
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/browser/install-chromium.sh

cargo=(cargo test --workspace --locked --test storefront --)

# Every test the filter selects, ignored or not ("name: test" lines).
listed=$("${cargo[@]}" --list "$@" | awk '/: test$/ { n++ } END { print n + 0 }')
if [[ "$listed" -eq 0 ]]; then
    echo "error: no browser test matches: $*" >&2
    exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Two tests at a time (one browser each) on a 2-core machine.
"${cargo[@]}" --include-ignored --test-threads 2 "$@" 2>&1 | tee "$log"

# A run where fewer tests passed than were listed (one skipped) fails too.
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | tail -1)
if [[ "${passed:-0}" -ne "$listed" ]]; then
    echo "error: ${passed:-0} of $listed browser tests passed" >&2
    exit 1
fi
echo "browser tests: all $passed passed"
