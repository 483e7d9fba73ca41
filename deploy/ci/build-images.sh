#!/usr/bin/env bash
# Builds the image of every service without pulling anything, for machines with no registry
# (CI): the release binaries are built on this host (deploy/build-rootfs.sh), and
# deploy/Dockerfile.prebuilt packs them into FROM scratch images tagged bookstore/<image>:$TAG
# (TAG defaults to dev). The prometheus and postgres images take Debian's prometheus and
# postgresql servers, installed with apt if missing. Prints each image's size.
#
#   deploy/ci/build-images.sh
#
# Starts a Docker engine if none answers (installing Debian's docker.io if needed) and stops it
# again at the end; a caller that already runs one (deploy/ci/compose.sh) keeps it. First checks
# that deploy/Dockerfile and deploy/Dockerfile.prebuilt still agree on their runtime stages.
# Takes the release build's time (about 6 minutes from nothing on 2 cores, seconds when built)
# plus a few seconds per image. Idempotent: reruns retag the same images.
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/ci/lib/docker-engine.sh
source deploy/ci/lib/prometheus.sh
source deploy/ci/lib/postgresql.sh
trap stop_docker_engine EXIT

tag="${TAG:-dev}"
context="${CARGO_TARGET_DIR:-target}/docker-context"

# The two Dockerfiles must differ only in where the staged files come from.
runtime_part() { sed -n '/^# ---- runtime/,$p' "$1" | sed 's|--from=builder /rootfs/|rootfs/|'; }
if ! diff -u <(runtime_part deploy/Dockerfile) <(runtime_part deploy/Dockerfile.prebuilt); then
    echo "deploy/Dockerfile and deploy/Dockerfile.prebuilt differ in their runtime stages (above)" >&2
    exit 1
fi

ensure_prometheus
ensure_postgresql
timeout 2400 deploy/build-rootfs.sh "$context/rootfs" >/dev/null
ensure_docker_engine

images=$(sed -n 's/^FROM runtime AS \([a-z-]*\)$/\1/p' deploy/Dockerfile.prebuilt)
for image in $images; do
    echo "building bookstore/$image:$tag"
    if ! log=$(timeout 300 docker build --file deploy/Dockerfile.prebuilt --target "$image" \
        --tag "bookstore/$image:$tag" "$context" 2>&1); then
        echo "$log" >&2
        exit 1
    fi
done

printf '%-32s %8s\n' image size
for image in $images; do
    bytes=$(docker image inspect --format '{{.Size}}' "bookstore/$image:$tag")
    awk -v name="bookstore/$image:$tag" -v bytes="$bytes" 'BEGIN { printf "%-32s %5.1f MB\n", name, bytes / 1e6 }'
done
