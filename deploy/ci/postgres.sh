#!/usr/bin/env bash
# Starts the PostgreSQL server the test suite runs its PostgreSQL tests against, and prints the URL
# they connect with (standard output: that line only; progress goes to standard error).
#
#   TEST_DATABASE_URL=$(deploy/ci/postgres.sh)      # as .ci/run does
#
# Needs root (CI runs as root): installs Debian's postgresql if missing (apt, non-interactive),
# makes sure its cluster (the newest version's `main`; created if the package made none) runs,
# and makes sure the role bookstore exists with LOGIN, CREATEDB (each test creates and drops its
# own database) and the password bookstore -- throwaway credentials for a server that listens on
# loopback only (Debian's default), which a CI machine discards. The URL names the maintenance
# database `postgres`: postgres://bookstore:bookstore@127.0.0.1:<port>/postgres (port 5432 unless
# that cluster was made on another). Finally connects with that URL, as the tests will.
#
# Idempotent: on a machine where the cluster already runs and the role exists it changes nothing
# and takes a second. Every wait is bounded (the install by apt's timeouts, the start by 60 s).
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/ci/lib/postgresql.sh

readonly ROLE=bookstore PASSWORD=bookstore
# Another cluster than `main` (created on the next free port): BOOKSTORE_POSTGRES_CLUSTER.
readonly CLUSTER="${BOOKSTORE_POSTGRES_CLUSTER:-main}"

if ((EUID != 0)); then
    echo "$0: needs root (to install PostgreSQL and run its cluster as the user postgres)" >&2
    exit 1
fi
ensure_postgresql >&2

version=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' |
    sort -V | tail -n 1 | cut -d/ -f5)
# pg_lsclusters: version, cluster, port, status, owner, data directory, log file.
cluster_line() { pg_lsclusters --no-header | awk -v v="$version" -v c="$CLUSTER" '$1 == v && $2 == c'; }
if [[ -z "$(cluster_line)" ]]; then
    echo "creating the PostgreSQL $version cluster $CLUSTER" >&2
    timeout 120 pg_createcluster "$version" "$CLUSTER" >&2
fi
read -r _ _ port status _ < <(cluster_line)
if [[ "$status" != online* ]]; then
    echo "starting the PostgreSQL $version cluster $CLUSTER (port $port)" >&2
    timeout 90 pg_ctlcluster "$version" "$CLUSTER" start >&2
fi

deadline=$((SECONDS + 60))
until pg_isready --quiet --host=127.0.0.1 --port="$port"; do
    if ((SECONDS >= deadline)); then
        echo "PostgreSQL $version/$CLUSTER does not accept connections on 127.0.0.1:$port" \
            "after 60 s; its log:" >&2
        tail -n 30 "/var/log/postgresql/postgresql-$version-$CLUSTER.log" >&2 || true
        exit 1
    fi
    sleep 1
done

# As the superuser, over the Unix socket (peer authentication). Idempotent: creates the role if
# missing, then sets what it must have either way.
timeout 60 runuser -u postgres -- psql --quiet --no-psqlrc --port="$port" --dbname=postgres \
    --set=ON_ERROR_STOP=1 --set=role="$ROLE" --set=password="$PASSWORD" >&2 <<'SQL'
SELECT NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
CREATE ROLE :"role";
\endif
ALTER ROLE :"role" WITH LOGIN CREATEDB PASSWORD :'password';
SQL

url="postgres://$ROLE:$PASSWORD@127.0.0.1:$port/postgres"
if ! PGCONNECT_TIMEOUT=10 timeout 30 psql --no-psqlrc --tuples-only --no-align "$url" \
    --command='SELECT 1' >/dev/null; then
    echo "cannot connect to $url as the tests would" >&2
    exit 1
fi
echo "PostgreSQL $version/$CLUSTER is up on 127.0.0.1:$port, role $ROLE may create databases" >&2
echo "$url"
