#!/usr/bin/env bash
# Builds the service binaries in release mode and stages the root filesystem of every image.
#
#   deploy/build-rootfs.sh OUT_DIR
#
# The one build step both image paths share: deploy/Dockerfile runs it inside its Rust builder
# stage, deploy/ci/build-images.sh runs it on the host and feeds the result to
# deploy/Dockerfile.prebuilt. It writes, under OUT_DIR (emptied first):
#
#   common/            /usr/local/bin/healthcheck (deploy/healthcheck.rs), the shared libraries
#                      it needs, and /etc/nsswitch.conf
#   <image>/           /usr/local/bin/<binary> for each of the image's binaries, and the shared
#                      libraries they need that common/ does not already hold
#   prometheus/        Debian's Prometheus (/usr/bin/prometheus, from the `prometheus` package,
#                      which must be installed), its web UI, and deploy/prometheus/ as
#                      /etc/prometheus: the configuration and rules it starts with
#   postgres/, postgres-home/
#                      Debian's PostgreSQL server (the `postgresql` package, which must be
#                      installed) and the image's volume directory: deploy/postgres/stage-rootfs.sh
#
# The binaries lose their debug information (strip --strip-debug). "The shared libraries they
# need" are exactly those `ldd` names (glibc, libgcc_s, the dynamic
# loader), copied to the same paths (deploy/lib/shared-libraries.sh), so an image FROM scratch
# runs the binaries as built.
# Honours CARGO_TARGET_DIR. Idempotent; a no-op rebuild takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
out="$(realpath -m "$1")"  # absolute: some steps below change directory
source deploy/lib/shared-libraries.sh

# image -> its binaries (the first is the entrypoint). The targets of deploy/Dockerfile and
# deploy/Dockerfile.prebuilt copy these directories.
declare -A IMAGES=(
    [recommendations]="recommendations"
    [marketplace]="marketplace"
    [factorial]="factorial"
    [ncr-gateway]="ncr-gateway"
    [demo]="demo-server demo"
)

bin_args=()
for image in "${!IMAGES[@]}"; do
    for binary in ${IMAGES[$image]}; do
        bin_args+=(--bin "$binary")
    done
done
target_dir="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked "${bin_args[@]}"
rustc --edition 2024 -C opt-level=3 -C panic=abort -C strip=symbols -D warnings \
    -o "$target_dir/release/healthcheck" deploy/healthcheck.rs

# Copies a binary, without its debug information (the release profile keeps line tables, which
# would make it five times larger; symbol names stay, for backtraces), and the libraries it needs
# (those `skip_root` lacks) into `root`.
stage() {
    local root="$1" skip_root="$2" binary="$3"
    mkdir -p "$root/usr/local/bin"
    strip --strip-debug -o "$root/usr/local/bin/$(basename "$binary")" "$binary"
    chmod 0755 "$root/usr/local/bin/$(basename "$binary")"
    stage_libraries "$root" "$skip_root" "$binary"
}

rm -rf "$out"
mkdir -p "$out"
stage "$out/common" "" "$target_dir/release/healthcheck"
# Names in /etc/hosts (localhost; the container's own name) before DNS, as distroless images do;
# glibc has the files and dns lookups built in.
mkdir -p "$out/common/etc"
echo "hosts: files dns" >"$out/common/etc/nsswitch.conf"
for image in "${!IMAGES[@]}"; do
    for binary in ${IMAGES[$image]}; do
        stage "$out/$image" "$out/common" "$target_dir/release/$binary"
    done
done

# Prometheus: Debian's binary (Go, needs only glibc), its classic web UI -- Debian's package links
# the UI's JavaScript libraries in from other packages, so copy exactly the files its pages load
# from those (the moment-timezone package alone is 200 MB) -- and the bookstore's configuration.
stage_prometheus() {
    local root="$1" web=/usr/share/prometheus/web link target file
    if [[ ! -x /usr/bin/prometheus || ! -d "$web/templates" ]]; then
        echo "no /usr/bin/prometheus: install Debian's prometheus package" \
            "(apt-get install --no-install-recommends prometheus)" >&2
        return 1
    fi
    stage "$root" "$out/common" /usr/bin/prometheus
    mkdir -p "$root$web"
    (cd "$web" && find . -type f -print0 | xargs -0 cp --parents -t "$root$web")
    while IFS= read -r file; do
        # static/<package>/<path> behind a link: copy that one file, dereferenced.
        [[ -e "$root$web/$file" ]] && continue
        [[ -e "$web/$file" ]] || {
            echo "the Prometheus UI loads $file, which $web lacks" >&2
            return 1
        }
        mkdir -p "$(dirname "$root$web/$file")"
        cp -L "$web/$file" "$root$web/$file"
    done < <(grep -rhoa 'static/[A-Za-z0-9_./-]*\.\(js\|css\|ico\)' "$web/templates" | sort -u)
    # The glyph font the UI's CSS refers to, relative to its own directory.
    link="$web/static/vendor/bootstrap4-glyphicons/fonts/glyphicons"
    if [[ -L "$link" ]]; then
        target="$root$link"
        mkdir -p "$target"
        cp -L "$link"/* "$target/"
    fi
    mkdir -p "$root/etc/prometheus" "$root/prometheus"
    cp -r deploy/prometheus/prometheus.yml deploy/prometheus/kubernetes.yml \
        deploy/prometheus/rules "$root/etc/prometheus/"
    chmod -R a+rX "$root/etc/prometheus" "$root$web"
}
stage_prometheus "$out/prometheus"

# PostgreSQL for the catalog: Debian's server, staged by its own script (its comments say what).
deploy/postgres/stage-rootfs.sh "$out"

(cd "$out" && find . -type f | sort | sed 's|^\./|staged: |')
