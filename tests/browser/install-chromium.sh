#!/usr/bin/env bash
# Makes sure Debian's chromium and chromium-driver (chromedriver) are installed, installing them
# with apt when they are not (as root, which CI is). Fails, saying what is missing, when they
# cannot be: the browser suites must never pass without a browser.
#
#     tests/browser/install-chromium.sh     # prints the versions it found or installed
#
# apt waits up to 120 s for another apt's lock. No `timeout` here: it would move apt into a
# process group of its own, out of reach of the caller's timeout (run.sh, lighthouse.sh).
set -euo pipefail

chrome="${CHROME_PATH:-/usr/bin/chromium}"
driver="${CHROMEDRIVER:-chromedriver}"

present() { [[ -x "$chrome" ]] && command -v "$driver" >/dev/null; }

if ! present; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "error: $chrome or $driver is missing; install chromium and chromium-driver" \
            "(apt-get install chromium chromium-driver) or run this as root" >&2
        exit 1
    fi
    echo "installing chromium and chromium-driver with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq -o DPkg::Lock::Timeout=120
    # fonts-liberation: metric-compatible fonts, so pages lay out as on a desktop.
    apt-get install -y -qq -o DPkg::Lock::Timeout=120 --no-install-recommends \
        chromium chromium-driver fonts-liberation >/dev/null
fi
if ! present; then
    echo "error: $chrome or $driver is still missing after installing chromium-driver" >&2
    exit 1
fi
# Debian's launcher script prints a harmless shell warning on some machines; keep the version.
"$chrome" --version 2>/dev/null
"$driver" --version
