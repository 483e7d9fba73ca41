# shellcheck shell=bash
# Sourced by the deploy/ci scripts: makes sure a Docker engine answers, and stops it again at the
# end if this script was the one that started it.
#
#   source deploy/ci/lib/docker-engine.sh
#   ensure_docker_engine        # installs docker.io (and docker-compose) with apt if needed
#   ...
#   stop_docker_engine          # from an EXIT trap; does nothing if the engine was already running
#
# The engine is Debian's docker.io started as a background dockerd (its log in
# target/deploy-ci/dockerd.log). The images are built with the classic builder
# (DOCKER_BUILDKIT=0): the CLI's BuildKit needs a buildx plugin that Debian's engine lacks, and
# every stage is FROM scratch, so the classic builder loses nothing.

export DOCKER_BUILDKIT=0
export COMPOSE_DOCKER_CLI_BUILD=0

# Set when this shell started dockerd, so that stop_docker_engine stops only that one.
BOOKSTORE_DOCKERD_PID=""

ensure_docker_engine() {
    if docker info >/dev/null 2>&1; then
        return 0
    fi
    if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null; then
        echo "installing docker.io and docker-compose with apt"
        timeout 300 apt-get update -qq
        DEBIAN_FRONTEND=noninteractive timeout 600 \
            apt-get install -y -qq -o DPkg::Lock::Timeout=120 docker.io docker-compose >/dev/null
    fi
    mkdir -p target/deploy-ci
    echo "starting dockerd (log: target/deploy-ci/dockerd.log)"
    dockerd >target/deploy-ci/dockerd.log 2>&1 &
    BOOKSTORE_DOCKERD_PID=$!
    local deadline=$((SECONDS + 60))
    until docker info >/dev/null 2>&1; do
        if ((SECONDS > deadline)) || ! kill -0 "$BOOKSTORE_DOCKERD_PID" 2>/dev/null; then
            echo "dockerd did not come up; its log:" >&2
            tail -n 30 target/deploy-ci/dockerd.log >&2 || true
            return 1
        fi
        sleep 1
    done
    echo "docker engine $(docker version --format '{{.Server.Version}}') is up"
}

stop_docker_engine() {
    if [[ -n "$BOOKSTORE_DOCKERD_PID" ]] && kill -0 "$BOOKSTORE_DOCKERD_PID" 2>/dev/null; then
        echo "stopping the dockerd this script started"
        kill -TERM "$BOOKSTORE_DOCKERD_PID" 2>/dev/null || true
        local deadline=$((SECONDS + 30))
        while kill -0 "$BOOKSTORE_DOCKERD_PID" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 1
        done
        kill -KILL "$BOOKSTORE_DOCKERD_PID" 2>/dev/null || true
    fi
    BOOKSTORE_DOCKERD_PID=""
}
