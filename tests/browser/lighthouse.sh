#!/usr/bin/env bash
# Lighthouse's accessibility and best-practices audits of the storefront: the homepage, a book
# page, a category page and a search page, each of which must score at least 0.95 in both
# categories.
#
#     tests/browser/lighthouse.sh          # prints every score; fails naming the audits that failed
#
# Installs what it needs: chromium (tests/browser/install-chromium.sh), node and npm from apt
# when absent or older than Lighthouse needs, and Lighthouse itself at the version pinned in
# tests/browser/lighthouse/package-lock.json, into target/deploy-tools/lighthouse. Takes
# `bookstore` from `cargo test --workspace --no-run` (after `cargo test --workspace`, as in
# .ci/run, a build with the same features that compiles nothing), starts Recommendations and the
# Marketplace with it on free ports of 127.0.0.1 (which Lighthouse counts as a secure origin,
# as it would HTTPS), and stops them at the end. Reports (HTML and JSON) are left in
# target/lighthouse/.
#
# Its caller bounds it in time (.ci/run: `timeout --kill-after=30 900`). The only timeouts in
# here are `--foreground` ones, which stay in the caller's process group, so the caller's
# signal reaches whatever runs; the Chrome that Lighthouse starts in a group of its own is
# ended by the EXIT trap.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

readonly MINIMUM=0.95
readonly TOOLS="$root/target/deploy-tools/lighthouse"
readonly OUT="$root/target/lighthouse"

# python3 reads the services' logs and fetches the pages to audit.
if ! command -v python3 >/dev/null; then
    echo "error: lighthouse.sh needs python3" >&2
    exit 1
fi
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
    apt-get update -qq -o DPkg::Lock::Timeout=120
    apt-get install -y -qq -o DPkg::Lock::Timeout=120 --no-install-recommends \
        nodejs npm >/dev/null
    node_ok || { echo "error: no node 18.16+ and npm after installing nodejs" >&2; exit 1; }
fi
echo "node $(node --version)"

# Lighthouse, exactly as locked; reinstalled only when the lock changes.
mkdir -p "$TOOLS"
if ! cmp -s tests/browser/lighthouse/package-lock.json "$TOOLS/package-lock.json" ||
    [[ ! -x "$TOOLS/node_modules/.bin/lighthouse" ]]; then
    cp tests/browser/lighthouse/package.json tests/browser/lighthouse/package-lock.json "$TOOLS/"
    (cd "$TOOLS" && timeout --foreground 600 npm ci --no-audit --no-fund --loglevel=error)
fi
lighthouse="$TOOLS/node_modules/.bin/lighthouse"
echo "lighthouse $("$lighthouse" --version)"

# The launcher as `cargo test --workspace` builds it for its integration tests: the same
# feature resolution (a `cargo build -p bookstore` would resolve others and recompile).
bookstore=$(cargo test --workspace --locked --no-run --message-format=json-render-diagnostics |
    python3 -c 'import json, sys
for line in sys.stdin:
    message = json.loads(line)
    target = message.get("target", {})
    if (message.get("reason") == "compiler-artifact" and target.get("name") == "bookstore"
            and target.get("kind") == ["bin"] and not message["profile"]["test"]):
        print(message["executable"])')
if [[ ! -x "$bookstore" ]]; then
    echo "error: cargo test --workspace --no-run built no bookstore binary" >&2
    exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT"
# Chrome's profile goes here (chrome-launcher writes it under TMPDIR, with chrome.pid): a
# directory of this run's own, so the EXIT trap never reads another run's pid files.
TMPDIR=$(mktemp -d "$OUT/tmp.XXXXXX")
export TMPDIR

pids=()
cleanup() {
    # Only what this script started, by process id: the services, and the Chrome of a
    # Lighthouse run that was cut short (chrome-launcher starts it as the leader of its own
    # process group and writes its pid beside its profile). A pid file outlives its Chrome,
    # and by now the pid may be another process's: the group is killed only if it still names
    # a Chrome.
    local pid file program
    for file in "$TMPDIR"/lighthouse.*/chrome.pid; do
        [[ -f "$file" ]] || continue
        pid=$(<"$file")
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        program=""
        # argv[0], up to its NUL; nothing if the process is gone.
        IFS= read -r -d '' program 2>/dev/null <"/proc/$pid/cmdline" || true
        if [[ "${program##*/}" =~ ^chrom(e|ium) ]]; then
            kill -KILL -- "-$pid" || true
        fi
    done
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMPDIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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
# lazily). From there: the first book's page, its category's page, and a search for the first
# word of its title (so the results list something). python3 fetches: it is needed anyway.
mapfile -t paths < <(python3 - "$base" <<'PYTHON'
import re, sys, time, urllib.error, urllib.parse, urllib.request

base = sys.argv[1]

def fetch(path):
    with urllib.request.urlopen(base + path, timeout=5) as response:
        return response.read().decode()

deadline, book, error = time.monotonic() + 20, None, "no book listed"
while book is None and time.monotonic() < deadline:
    try:
        book = re.search(r'href="(/books/[0-9]+)"', fetch("/"))
    except (urllib.error.URLError, OSError) as failure:
        error = failure
    if book is None:
        time.sleep(0.2)
if book is None:
    sys.exit(f"error: the homepage at {base}/ never showed a book: {error}")
page = fetch(book[1])
category = re.search(r'href="(/categories/[^"]+)"', page.split("<main", 1)[-1])
if category is None:
    sys.exit(f"error: {base}{book[1]} links to no category")
h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
words = re.findall(r"\w+", re.sub(r"<[^>]+>", " ", h1[1])) if h1 else []
print(book[1], category[1], "/search?" + urllib.parse.urlencode({"q": words[0] if words else "the"}),
      sep="\n")
PYTHON
)
if [[ ${#paths[@]} -ne 3 ]]; then
    echo "error: no pages to audit; logs in $OUT" >&2
    exit 1
fi

reports=()
for page in "home=/" "book=${paths[0]}" "category=${paths[1]}" "search=${paths[2]}"; do
    name=${page%%=*}
    url="$base${page#*=}"
    echo "auditing $url"
    # --foreground: in this script's process group (the caller's timeout reaches it); its
    # Chrome, if it is cut short, is the EXIT trap's.
    timeout --foreground --kill-after=10 240 "$lighthouse" "$url" \
        --only-categories=accessibility,best-practices \
        --chrome-flags="--headless=new --no-sandbox --disable-dev-shm-usage" \
        --output=json --output=html --output-path="$OUT/$name" \
        --quiet
    reports+=("$name=$OUT/$name.report.json")
done

node tests/browser/lighthouse/summarize.mjs "$MINIMUM" "${reports[@]}"
echo "lighthouse: every page scores at least $MINIMUM in accessibility and best practices"
