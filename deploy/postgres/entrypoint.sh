#!/bin/sh
# The entrypoint of the bookstore/postgres image (deploy/Dockerfile, target postgres), as
# /usr/local/bin/postgres-entrypoint. Runs as the image's user 65532 under dash, the image's only
# shell, with no other programs than PostgreSQL's: so builtins and redirections only.
#
# First start (no $PGDATA/PG_VERSION), as the official postgres image does:
#   - initdb with the superuser POSTGRES_USER (default postgres) and its password
#     POSTGRES_PASSWORD (required), stored as a SCRAM-SHA-256 hash; UTF-8, locale C;
#   - pg_hba.conf: every TCP client authenticates with scram-sha-256 (there is no Unix socket);
#   - the database POSTGRES_DB (default: POSTGRES_USER), owned by that user, created in
#     single-user mode (no server listens before the real one does).
# The variables are read on the first start only; later starts use what the volume holds.
# Then, every start: exec postgres listening on every address, port 5432, with the arguments
# given to the container appended (e.g. `-c max_connections=50`).
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
export PGDATA

fail() {
    echo "postgres-entrypoint: $*" >&2
    exit 1
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    user="${POSTGRES_USER:-postgres}"
    database="${POSTGRES_DB:-$user}"
    [ -n "${POSTGRES_PASSWORD:-}" ] ||
        fail "$PGDATA holds no database yet and POSTGRES_PASSWORD is empty: set it to initialise"
    # Names go into SQL below: plain identifiers only, so no quoting can go wrong.
    for name in "$user" "$database"; do
        case "$name" in
        "" | *[!A-Za-z0-9_-]*)
            fail "POSTGRES_USER and POSTGRES_DB may hold only letters, digits, _ and -, not '$name'"
            ;;
        esac
    done
    echo "postgres-entrypoint: initialising $PGDATA (superuser $user, database $database)"
    # The password goes through a pipe, never a file or the command line.
    printf '%s\n' "$POSTGRES_PASSWORD" | initdb --pgdata="$PGDATA" --username="$user" \
        --pwfile=/dev/stdin --auth-host=scram-sha-256 --auth-local=scram-sha-256 \
        --encoding=UTF8 --locale=C --no-instructions
    printf '%s\n' \
        '# Written by the bookstore/postgres entrypoint at initialisation: every client connects' \
        '# over TCP (the image has no Unix socket) and authenticates with a SCRAM password.' \
        '# TYPE  DATABASE  USER  ADDRESS  METHOD' \
        'host    all       all   all      scram-sha-256' >"$PGDATA/pg_hba.conf"
    if [ "$database" != postgres ]; then
        # exit_on_error: a failing statement fails the command (and so this script).
        echo "CREATE DATABASE \"$database\" OWNER \"$user\";" |
            postgres --single -D "$PGDATA" -c unix_socket_directories= -c exit_on_error=on \
                postgres >/dev/null
    fi
    echo "postgres-entrypoint: initialised"
fi

# No Unix socket: the root filesystem is read-only, and nothing in the container needs one.
# No JIT: the image leaves LLVM out.
exec postgres -D "$PGDATA" -c listen_addresses='*' -c port=5432 -c unix_socket_directories= \
    -c jit=off "$@"
