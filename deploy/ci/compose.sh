#!/usr/bin/env bash
# The compose suite: the whole system in containers, tested from outside as a user would.
#
#   deploy/ci/compose.sh
#
# 1. makes sure a Docker engine runs (installs Debian's docker.io and docker-compose and starts
#    dockerd if needed; stops it again at the end if it started it);
# 2. builds every image with deploy/ci/build-images.sh (no registry needed) and checks that the
#    mTLS overlay (docker-compose.mtls.yaml) is a valid compose file on top of docker-compose.yaml;
# 3. brings docker-compose.yaml up, waits (bounded) until every container is healthy, and checks
#    that each runs as user 65532 on a read-only root filesystem;
# 4. runs the tutorial's integration test against the marketplace container (the homepage's
#    title, exactly three <li>), an nCr call through the gateway (/api/ncr/10/3 is 120), and the
#    demo client inside the network against the demo server;
# 5. Prometheus (the bookstore/prometheus image, deploy/prometheus): while traffic flows, every
#    job has a target, every target is up, and the recording rules return values
#    (deploy/ci/prometheus_ready.py); the tracing profile (Jaeger) is a valid compose file;
# 6. the catalog in PostgreSQL, through `bookstore books` (built on the host, calling
#    recommendations' published port): adds a book and reads it back; restarts the
#    recommendations container and reads it again (it lives in the database); stops the postgres
#    container: the homepage still shows three books (recommendations serve from memory) and a
#    write fails quickly with UNAVAILABLE; starts it again: a write succeeds (bounded poll);
# 7. stops the recommendations container: the homepage still answers 200, with the
#    "unavailable" notice; starts it again: recommendations come back (bounded poll);
# 8. mutual TLS: generates certificates with `bookstore certs` (into target/deploy-ci/certs, owned
#    by the images' user 65532; needs root), brings the stack up again with
#    docker-compose.mtls.yaml over it, waits for health, and repeats the homepage and nCr checks;
#    the demo client is refused without a certificate and answers with one; `bookstore books add`
#    succeeds with the admin certificate and is refused (PERMISSION_DENIED) with the marketplace's
#    (which may read) and the load generator's (which may not even connect);
# 9. brings the stack down with its volumes and deletes the certificates, on success and failure
#    alike (trap), after printing the containers' logs if anything failed.
#
# The stack runs as compose project "bookstore-ci" on free loopback ports, so it never collides
# with a developer's own stack or `bookstore up`. Each step has its own timeout; the whole suite
# takes the release build's time plus about two minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/ci/lib/docker-engine.sh

export COMPOSE_PROJECT_NAME=bookstore-ci
export BOOKSTORE_TAG="${TAG:-dev}"
export BOOKSTORE_PUBLISH_ADDRESS=127.0.0.1
read -r MARKETPLACE_PUBLISH_PORT NCR_GATEWAY_PUBLISH_PORT PROMETHEUS_PUBLISH_PORT \
    RECOMMENDATIONS_PUBLISH_PORT < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(4)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
')
export MARKETPLACE_PUBLISH_PORT NCR_GATEWAY_PUBLISH_PORT PROMETHEUS_PUBLISH_PORT \
    RECOMMENDATIONS_PUBLISH_PORT
marketplace="http://127.0.0.1:$MARKETPLACE_PUBLISH_PORT"
prometheus="http://127.0.0.1:$PROMETHEUS_PUBLISH_PORT"
target_dir="${CARGO_TARGET_DIR:-target}"
certs="$PWD/target/deploy-ci/certs"
bookstore="$PWD/$target_dir/release/bookstore"
gateway="http://127.0.0.1:$NCR_GATEWAY_PUBLISH_PORT"

compose() { timeout 300 docker-compose --file docker-compose.yaml "$@"; }
step() { printf '\n--- %s\n' "$*"; }

stack_up=false
cleanup() {
    local status=$?
    if $stack_up; then
        if ((status != 0)); then
            echo "FAILED; the containers and their last log lines:" >&2
            compose ps >&2 || true
            compose logs --no-color --tail=40 >&2 || true
        fi
        step "bringing the stack down"
        compose down --volumes --remove-orphans --timeout 45 || true
    fi
    rm -rf "$certs"
    stop_docker_engine
    exit "$status"
}
trap cleanup EXIT

# Runs "$@" every second until it succeeds or `seconds` have passed.
poll() {
    local seconds="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            echo "timed out after ${seconds}s waiting for: $what" >&2
            "$@" || true
            return 1
        fi
        sleep 1
    done
    echo "ok: $what"
}

# Every container of the project healthy.
all_healthy() {
    local ids status
    ids=$(compose ps --quiet)
    [[ -n "$ids" ]] || return 1
    for id in $ids; do
        status=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$id")
        if [[ "$status" != healthy ]]; then
            echo "$(docker inspect --format '{{.Name}}' "$id") is $status"
            return 1
        fi
    done
}

# The tutorial's integration test: the title and exactly three <li>.
homepage_has_three_books() {
    local html count
    html=$(curl --fail --silent --show-error --max-time 5 "$marketplace/")
    grep --quiet --fixed-strings '<title>Online Books For You</title>' <<<"$html" || {
        echo "no title in: $html"
        return 1
    }
    count=$(grep --only-matching --fixed-strings '<li>' <<<"$html" | wc -l)
    [[ "$count" -eq 3 ]] || {
        echo "expected 3 <li>, found $count in: $html"
        return 1
    }
}

# The homepage without recommendations: 200, the notice, no books.
homepage_says_unavailable() {
    local html
    html=$(curl --fail --silent --show-error --max-time 5 "$marketplace/")
    if ! grep --quiet 'unavailable' <<<"$html" || grep --quiet --fixed-strings '<li>' <<<"$html"; then
        echo "expected the unavailable notice and no <li> in: $html"
        return 1
    fi
}

# `bookstore books ...` against the published recommendations port; TLS from the UPSTREAM_*
# variables of the caller, if any. The CLI's own deadline is 10 s; `timeout` is a backstop.
books() {
    RECOMMENDATIONS_HOST=127.0.0.1 RECOMMENDATIONS_PORT="$RECOMMENDATIONS_PUBLISH_PORT" \
        timeout 30 "$bookstore" books "$@"
}

# The number of the book that `bookstore books add` printed (on standard input): its resource
# name books/<n>, or an "id" field or column.
book_id() {
    python3 -c '
import json, re, sys
text = sys.stdin.read()
try:
    book = json.loads(text)
    book = book.get("book", book)
    number = str(book.get("name", book.get("id", ""))).removeprefix("books/")
except (ValueError, AttributeError):
    match = re.search(r"books/(\d+)", text) or re.search(r"\bid\b\W*(\d+)", text, re.I)
    number = match.group(1) if match else ""
if not number.isdigit():
    sys.exit(f"no book id in: {text!r}")
print(number)
'
}

# Adds a book titled "$1" and prints its id.
add_book() {
    local added
    added=$(books add --title "$1" --author "Compose Suite" --category mystery --year 1930) || {
        echo "bookstore books add --title '$1' failed: $added" >&2
        return 1
    }
    book_id <<<"$added"
}

# `bookstore books get "$1"` shows the title "$2".
book_has_title() {
    local shown
    if ! shown=$(books get "$1") || ! grep --quiet --fixed-strings "$2" <<<"$shown"; then
        echo "bookstore books get $1 does not show '$2': $shown"
        return 1
    fi
}

# A write succeeds: adds a book with a title not used before.
write_succeeds() {
    add_book "Written after the database came back $SECONDS.$RANDOM" >/dev/null
}

# `books "$@"` fails, quickly, saying "$1" -- the status code the server answered.
books_refused_with() {
    local code="$1" output started=$SECONDS
    shift
    if output=$(books "$@" 2>&1); then
        echo "bookstore books $* succeeded, expected $code: $output" >&2
        return 1
    fi
    if ! grep --quiet "$code" <<<"$output"; then
        echo "bookstore books $* failed without saying $code: $output" >&2
        return 1
    fi
    if ((SECONDS - started > 8)); then
        echo "bookstore books $* took $((SECONDS - started)) s to fail (more than 8 s)" >&2
        return 1
    fi
    echo "ok: bookstore books $* is refused: $output"
}

ncr_of_10_3_is_120() {
    curl --fail --silent --show-error --max-time 5 "$gateway/api/ncr/10/3" |
        python3 -c 'import json, sys; body = json.load(sys.stdin); assert body["ncr"] == 120, body'
}

step "docker engine"
ensure_docker_engine

step "images"
timeout 2700 deploy/ci/build-images.sh
# The command-line client, for `bookstore books` and `bookstore certs`.
timeout 1200 cargo build --release --locked --bin bookstore

step "compose files"
compose config --quiet
compose --file docker-compose.mtls.yaml config --quiet
compose --profile tracing config --quiet
echo "ok: docker-compose.yaml, with the tracing profile and with docker-compose.mtls.yaml over it, is valid"

step "up (project $COMPOSE_PROJECT_NAME; marketplace $marketplace, gateway $gateway, Prometheus $prometheus)"
compose down --volumes --remove-orphans --timeout 45 >/dev/null 2>&1 || true
stack_up=true
compose up --detach --no-build
poll 120 "every container healthy" all_healthy
for id in $(compose ps --quiet); do
    read -r name user read_only < <(docker inspect \
        --format '{{.Name}} {{.Config.User}} {{.HostConfig.ReadonlyRootfs}}' "$id")
    if [[ "$user" != 65532:65532 || "$read_only" != true ]]; then
        echo "$name runs as user '$user', read-only root filesystem: $read_only" >&2
        exit 1
    fi
done
echo "ok: every container runs as 65532:65532 on a read-only root filesystem"

step "the tutorial's integration test, an nCr call and the demo client"
poll 30 "homepage: title and exactly three <li>" homepage_has_three_books
poll 30 "GET /api/ncr/10/3 answers 120" ncr_of_10_3_is_120
sum=$(timeout 30 docker-compose exec -T demo /usr/local/bin/demo sum 1 2 3 4)
grep --quiet 10 <<<"$sum" || {
    echo "demo sum 1 2 3 4 printed: $sum" >&2
    exit 1
}
echo "ok: demo client inside the network: sum 1 2 3 4 -> $sum"

step "Prometheus: every target up, the recording rules return values"
# Some traffic (the homepage, an nCr call, a failing one), then ask; rates need a few scrapes of
# moving counters, so the traffic goes on between the questions.
traffic_then_prometheus_ready() {
    local i
    for i in 1 2 3 4 5; do
        curl --silent --output /dev/null --max-time 5 "$marketplace/" || true
        curl --silent --output /dev/null --max-time 5 "$gateway/api/ncr/10/$i" || true
        curl --silent --output /dev/null --max-time 5 "$gateway/api/ncr/1/$((i + 1))" || true
    done
    python3 deploy/ci/prometheus_ready.py "$prometheus"
}
poll 120 "Prometheus sees every service and records their rates" traffic_then_prometheus_ready

step "the catalog in PostgreSQL: a book added through the API is there, and stays there"
title="The Compose Suite Mystery $$"
book=$(add_book "$title")
book_has_title "$book" "$title"
echo "ok: bookstore books add made book $book, and bookstore books get $book shows it"
compose restart --timeout 45 recommendations
poll 60 "every container healthy after restarting recommendations" all_healthy
poll 30 "book $book is still there after the restart (it lives in PostgreSQL)" \
    book_has_title "$book" "$title"

step "postgres stopped: reads go on from memory, writes fail quickly with UNAVAILABLE"
compose stop --timeout 45 postgres
poll 30 "homepage without the database: title and exactly three <li>" homepage_has_three_books
books_refused_with UNAVAILABLE add --title "Written while the database is away" \
    --author "Compose Suite" --category mystery --year 1930
book_has_title "$book" "$title"
echo "ok: bookstore books get $book still answers, from memory"

step "postgres started again: writes succeed again"
compose start postgres
poll 30 "a write succeeds once the database is back" write_succeeds
poll 60 "every container healthy" all_healthy

step "recommendations stopped: the homepage degrades, it does not fail"
compose stop --timeout 45 recommendations
poll 30 "homepage answers 200 with the unavailable notice" homepage_says_unavailable

step "recommendations started again: they come back by themselves"
compose start recommendations
poll 60 "homepage: three <li> again" homepage_has_three_books
poll 60 "every container healthy" all_healthy

step "mutual TLS between the services (docker-compose.mtls.yaml)"
if ((EUID != 0)); then
    echo "SKIP the mTLS run: giving the certificates to the images' user 65532 needs root"
else
    rm -rf "$certs"
    "$bookstore" certs --out "$certs" >/dev/null
    chown -R 65532:65532 "$certs"
    export BOOKSTORE_CERTS_DIR="$certs"
    compose --file docker-compose.mtls.yaml up --detach --no-build
    poll 120 "every container healthy, over mTLS" all_healthy
    poll 30 "homepage over mTLS: title and exactly three <li>" homepage_has_three_books
    poll 30 "GET /api/ncr/10/3 over mTLS answers 120" ncr_of_10_3_is_120
    if timeout 30 docker-compose exec -T demo /usr/local/bin/demo sum 1 2 >/dev/null 2>&1; then
        echo "the demo server answered a client without a certificate" >&2
        exit 1
    fi
    sum=$(timeout 30 docker-compose exec -T -e UPSTREAM_CA=/certs/ca.pem \
        -e UPSTREAM_CERT=/certs/demo.pem -e UPSTREAM_KEY=/certs/demo.key \
        demo /usr/local/bin/demo sum 1 2 3 4)
    grep --quiet 10 <<<"$sum" || {
        echo "demo sum 1 2 3 4 over mTLS printed: $sum" >&2
        exit 1
    }
    echo "ok: the demo server refuses a client without a certificate and answers one with: $sum"

    # Only admin may change the catalog; the marketplace may read it; loadgen may not connect.
    as_identity() {
        local name="$1"
        shift
        UPSTREAM_CA="$certs/ca.pem" UPSTREAM_CERT="$certs/$name.pem" \
            UPSTREAM_KEY="$certs/$name.key" "$@"
    }
    poll 30 "over mTLS, the marketplace's certificate reads book $book" \
        as_identity marketplace book_has_title "$book" "$title"
    admin_title="Added By The Admin $$"
    admin_id=$(as_identity admin add_book "$admin_title")
    as_identity admin book_has_title "$admin_id" "$admin_title"
    echo "ok: over mTLS, bookstore books add with the admin certificate made book $admin_id"
    for identity in marketplace loadgen; do
        as_identity "$identity" books_refused_with PERMISSION_DENIED add \
            --title "Added By $identity" --author "Compose Suite" --category mystery --year 1930
    done
fi

step "compose suite passed"
