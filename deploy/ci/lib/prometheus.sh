# shellcheck shell=bash
# Sourced by the deploy/ci scripts: makes sure Debian's prometheus package is installed, for its
# promtool (deploy/ci/prometheus.sh) and its prometheus binary, which deploy/build-rootfs.sh
# stages into the bookstore/prometheus image.
#
#   source deploy/ci/lib/prometheus.sh
#   ensure_prometheus
#
# Without recommends: the package recommends prometheus-node-exporter, which is not needed here.
# Installing does not start a Prometheus (no init system runs the package's service here).

ensure_prometheus() {
    if command -v promtool >/dev/null && [[ -x /usr/bin/prometheus ]]; then
        return 0
    fi
    echo "installing Debian's prometheus (promtool, and the binary the prometheus image ships)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=120 prometheus >/dev/null
}
