#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the store's PostgreSQL tests; safe to run again.
# Prints the URL to use as HEARTH_TEST_POSTGRES_URL on its last line.
set -euo pipefail

PORT="${HEARTH_TEST_POSTGRES_PORT:-55432}"
DATA="${HEARTH_TEST_POSTGRES_DATA:-/tmp/hearth-postgres}"

say() { echo "ci/postgres: $*" >&2; }

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    say "installing postgresql"
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
fi
BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"

if [ ! -f "$DATA/PG_VERSION" ]; then
    say "creating a cluster in $DATA"
    mkdir -p "$DATA"
    chown postgres "$DATA"
    su postgres -c "$BIN/initdb -D $DATA -A trust -U hearth" >/dev/null
fi
if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    # Nothing answers, so a pid file here is left over from a server that is gone.
    rm -f "$DATA/postmaster.pid"
    say "starting on 127.0.0.1:$PORT"
    su postgres -c "$BIN/pg_ctl -D $DATA -w -l $DATA/server.log \
        -o '-k /tmp -p $PORT -c listen_addresses=127.0.0.1' start" >/dev/null
fi
echo "postgresql+psycopg://hearth@127.0.0.1:$PORT/postgres"
