# shellcheck shell=bash
# Sourced by the deploy/ci scripts: makes sure Debian's PostgreSQL server is installed, for the
# test suite's database (deploy/ci/postgres.sh) and for the server that
# deploy/postgres/stage-rootfs.sh stages into the bookstore/postgres image.
#
#   source deploy/ci/lib/postgresql.sh
#   ensure_postgresql
#
# Without recommends (sysstat is not needed). Debian's package creates and starts a cluster
# "main" where an init system runs; here it is created, and started by deploy/ci/postgres.sh.

ensure_postgresql() {
    if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && command -v pg_ctlcluster >/dev/null; then
        return 0
    fi
    echo "installing Debian's postgresql (the tests' database server, and the postgres image's)"
    timeout 300 apt-get update -qq
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=120 postgresql >/dev/null
}
