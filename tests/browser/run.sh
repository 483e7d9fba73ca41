#!/usr/bin/env bash
# The storefront in a real browser: installs chromium and chromium-driver when they are missing,
# then runs the WebDriver tests (crates/browser-tests), which a plain `cargo test` skips as
# ignored. Each test starts its own chromedriver and headless Chromium, and the Marketplace and
# Recommendations on free loopback ports; nothing outlives the run.
#
#     tests/browser/run.sh                 # from anywhere; fails unless every test ran and passed
#     tests/browser/run.sh homepage        # extra arguments go to the test binary (a filter)
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/browser/install-chromium.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Two tests at a time (one browser each) on a 2-core machine.
timeout 900 cargo test --locked -p storefront-browser --test storefront -- \
    --ignored --test-threads 2 "$@" 2>&1 | tee "$log"

# A filter or an un-ignored test must not turn into a run that tested nothing.
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log" | tail -1)
if [[ -z "$passed" || "$passed" -eq 0 ]]; then
    echo "error: no browser test ran" >&2
    exit 1
fi
echo "browser tests: $passed passed"
