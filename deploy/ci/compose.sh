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
# 6. stops the recommendations container: the homepage still answers 200, with the
#    "unavailable" notice; starts it again: recommendations come back (bounded poll);
# 7. mutual TLS: generates certificates with `bookstore certs` (into target/deploy-ci/certs, owned
#    by the images' user 65532; needs root), brings the stack up again with
#    docker-compose.mtls.yaml over it, waits for health, and repeats the homepage and nCr checks;
#    the demo client is refused without a certificate and answers with one;
# 8. brings the stack down with its volumes and deletes the certificates, on success and failure
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
read -r MARKETPLACE_PUBLISH_PORT NCR_GATEWAY_PUBLISH_PORT PROMETHEUS_PUBLISH_PORT < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
')
export MARKETPLACE_PUBLISH_PORT NCR_GATEWAY_PUBLISH_PORT PROMETHEUS_PUBLISH_PORT
marketplace="http://127.0.0.1:$MARKETPLACE_PUBLISH_PORT"
prometheus="http://127.0.0.1:$PROMETHEUS_PUBLISH_PORT"
target_dir="${CARGO_TARGET_DIR:-target}"
certs="$PWD/target/deploy-ci/certs"
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

ncr_of_10_3_is_120() {
    curl --fail --silent --show-error --max-time 5 "$gateway/api/ncr/10/3" |
        python3 -c 'import json, sys; body = json.load(sys.stdin); assert body["ncr"] == 120, body'
}

step "docker engine"
ensure_docker_engine

step "images"
timeout 2700 deploy/ci/build-images.sh

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
    timeout 1200 cargo build --release --locked --bin bookstore
    rm -rf "$certs"
    "$target_dir/release/bookstore" certs --out "$certs" >/dev/null
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
fi

step "compose suite passed"
