#!/usr/bin/env bash
# Lighthouse's accessibility and best-practices audits of the storefront: the homepage, a book
# page and a search page, each of which must score at least 0.95 in both categories.
#
#     tests/browser/lighthouse.sh          # prints every score; fails naming the audits that failed
#
# Installs what it needs: chromium (tests/browser/install-chromium.sh), node and npm from apt
# when absent or older than Lighthouse needs, and Lighthouse itself at the version pinned in
# tests/browser/lighthouse/package-lock.json, into target/deploy-tools/lighthouse. Builds
# `bookstore`, starts Recommendations and the Marketplace with it on free ports of 127.0.0.1
# (which Lighthouse counts as a secure origin, as it would HTTPS), and stops them at the end.
# Reports (HTML and JSON) are left in target/lighthouse/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

readonly MINIMUM=0.95
readonly TOOLS="$root/target/deploy-tools/lighthouse"
readonly OUT="$root/target/lighthouse"

tests/browser/install-chromium.sh
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"

# Node: Lighthouse 12 needs 18.16 or later (Debian 12's nodejs is 18.19).
node_ok() {
    command -v node >/dev/null && command -v npm >/dev/null &&
        node -e 'const [a, b] = process.versions.node.split(".").map(Number);
                 process.exit(a > 18 || (a === 18 && b >= 16) ? 0 : 1)'
}
if ! node_ok; then
    echo "installing nodejs and npm with apt"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -qq
    timeout 900 apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    node_ok || { echo "error: no node 18.16+ and npm after installing nodejs" >&2; exit 1; }
fi
echo "node $(node --version)"

# Lighthouse, exactly as locked; reinstalled only when the lock changes.
mkdir -p "$TOOLS"
if ! cmp -s tests/browser/lighthouse/package-lock.json "$TOOLS/package-lock.json" ||
    [[ ! -x "$TOOLS/node_modules/.bin/lighthouse" ]]; then
    cp tests/browser/lighthouse/package.json tests/browser/lighthouse/package-lock.json "$TOOLS/"
    (cd "$TOOLS" && timeout 600 npm ci --no-audit --no-fund --loglevel=error)
fi
lighthouse="$TOOLS/node_modules/.bin/lighthouse"
echo "lighthouse $("$lighthouse" --version)"

timeout 900 cargo build --locked -p bookstore
bookstore="$root/target/debug/bookstore"

rm -rf "$OUT"
mkdir -p "$OUT/tmp"
# Chrome's profile goes here (chrome-launcher writes it under TMPDIR, with chrome.pid).
export TMPDIR="$OUT/tmp"

pids=()
cleanup() {
    # Only what this script started, by process id: the services, and the Chrome of a
    # Lighthouse run that was cut short (chrome-launcher starts it as the leader of its own
    # process group and writes its pid beside its profile).
    local pid file
    for file in "$OUT"/tmp/lighthouse.*/chrome.pid; do
        if [[ -f "$file" ]]; then
            kill -KILL -- "-$(<"$file")" 2>/dev/null || true
        fi
    done
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The address a service bound (it is given port 0, so no port can be taken in between), from
# the JSON line it logs once it listens; fails, showing its log, if it stops first.
bound_addr() {
    local log=$1 message=$2 field=$3 pid=$4 addr
    for _ in $(seq 200); do
        addr=$(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("message") == sys.argv[2]:
        print(event[sys.argv[3]])
        break' "$log" "$message" "$field")
        if [[ -n "$addr" ]]; then
            echo "$addr"
            return
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: $message: the process exited:" >&2
            cat "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "error: no \"$message\" within 20 s:" >&2
    cat "$log" >&2
    exit 1
}

"$bookstore" serve recommendations --host 127.0.0.1 --port 0 --metrics-port 0 \
    --grace-period 1s --log-format json 2>"$OUT/recommendations.log" &
pids+=($!)
grpc=$(bound_addr "$OUT/recommendations.log" "recommendations serving" grpc "$!")
"$bookstore" serve marketplace --host 127.0.0.1 --port 0 --grace-period 1s \
    --recommendations-host 127.0.0.1 --recommendations-port "${grpc##*:}" \
    --log-format json 2>"$OUT/marketplace.log" &
pids+=($!)
base="http://$(bound_addr "$OUT/marketplace.log" "marketplace serving" http "$!")"

# Ready once the homepage shows recommendations (the channel to Recommendations connects
# lazily), which also gives a book page to audit.
book=""
for _ in $(seq 100); do
    book=$(curl -fsS --max-time 2 "$base/" 2>/dev/null |
        grep -o 'href="/books/[0-9]*"' | head -1 | cut -d'"' -f2 || true)
    [[ -n "$book" ]] && break
    sleep 0.2
done
if [[ -z "$book" ]]; then
    echo "error: the homepage at $base/ never showed a book; logs in $OUT" >&2
    exit 1
fi
# Search for the first word of that book's title, so the results page lists something.
word=$(curl -fsS --max-time 5 "$base$book" |
    python3 -c 'import re, sys, urllib.parse
h1 = re.search(r"<h1[^>]*>(.*?)</h1>", sys.stdin.read(), re.S)
words = re.findall(r"\w+", re.sub(r"<[^>]+>", " ", h1.group(1))) if h1 else []
print(urllib.parse.quote(words[0] if words else "the"))')

reports=()
for page in "home=/" "book=$book" "search=/search?q=$word"; do
    name=${page%%=*}
    url="$base${page#*=}"
    echo "auditing $url"
    timeout --kill-after=10 240 "$lighthouse" "$url" \
        --only-categories=accessibility,best-practices \
        --chrome-flags="--headless=new --no-sandbox --disable-dev-shm-usage" \
        --output=json --output=html --output-path="$OUT/$name" \
        --quiet
    reports+=("$name=$OUT/$name.report.json")
done

node tests/browser/lighthouse/summarize.mjs "$MINIMUM" "${reports[@]}"
echo "lighthouse: every page scores at least $MINIMUM in accessibility and best practices"
