# pg_lib.sh: a throwaway PostgreSQL cluster for the integration tests
# (sourced after lib.sh, bash).
#
#   pg_start      initdb into a fresh temporary directory, start the server on
#                 127.0.0.1 at a free port (its unix socket in that directory,
#                 nowhere else), create the database "tend" and export its URL
#                 in TEND_TEST_PG_URL (postgresql://tend@127.0.0.1:PORT/tend)
#   pg_createdb NAME   another empty database of the cluster; prints its URL
#   pg_stop       stop the server at once and remove the directory; also run
#                 at exit, on failure and on SIGTERM/SIGINT (tests/run's
#                 timeout), so no postmaster outlives its test
#
# Why not Debian's pg_virtualenv: it wraps one command (the whole test would
# run inside it), and run as root it registers its cluster under
# /etc/postgresql, which parallel test runs on one machine would share. This
# runs Debian's own binaries (/usr/lib/postgresql/VERSION/bin, the newest
# installed; PG_BINDIR overrides) directly, so start and stop are two
# functions and nothing outside the temporary directory changes.
#
# Root cannot run postgres. As root the cluster runs as the system user
# "postgres" that Debian's postgresql-common creates with the server (or
# "tend-test", created with useradd when there is no postgres user); as any
# other user, as that user. Its directory is its own mktemp -d (not under $T,
# which is root's, mode 700, and so closed to that user).
#
# Settings for a test, not for data anyone keeps: trust authentication on
# 127.0.0.1 and the socket only, fsync, synchronous_commit and
# full_page_writes off (a crash loses the cluster, which a test never
# needs). Nothing waits for a time that assumes a speed: pg_ctl -w waits
# until the server accepts connections, up to PG_START_TIMEOUT (120) seconds,
# a deadline for a broken case only.
: "${T:?source lib.sh first}"
PG_URL=""
PG_DIR=""
PG_PORT=""

# The directory of the newest installed server's binaries.
pg_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$d/initdb" ] || return 1
    echo "$d"
}

# The user the server runs as (see the header), created when missing.
pg_user() {
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        id tend-test >/dev/null 2>&1 ||
            useradd --system --no-create-home --shell /usr/sbin/nologin tend-test || return 1
        echo tend-test
    fi
}

# pg_as USER COMMAND...: COMMAND as USER (as it is when USER is the caller).
pg_as() {
    local u=$1
    shift
    if [ "$(id -un)" = "$u" ]; then
        "$@"
    else
        runuser -u "$u" -- "$@"
    fi
}

pg_start() {
    local bin user
    if ! bin=$(pg_bindir); then
        echo "pg_start: no PostgreSQL server in /usr/lib/postgresql/*/bin (scripts/install-deps)" >&2
        return 1
    fi
    user=$(pg_user) || {
        echo "pg_start: no user to run postgres as" >&2
        return 1
    }
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tend-pg.XXXXXX") || return 1
    chown "$user" "$PG_DIR"
    chmod 700 "$PG_DIR"
    PG_PORT=$(free_port)
    if ! pg_as "$user" "$bin/initdb" -D "$PG_DIR/data" -U tend --auth=trust -E UTF8 \
        --locale=C.UTF-8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        echo "pg_start: initdb failed:" >&2
        tail -20 "$PG_DIR/initdb.log" >&2
        return 1
    fi
    cat >>"$PG_DIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
EOF
    # The port was free a moment ago; another test may take it before the
    # server binds. A bind failure is reported at once (pg_ctl -w sees the
    # server exit), and is retried on another port, at most 5 times.
    local try
    for try in 1 2 3 4 5; do
        if pg_as "$user" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
            -t "${PG_START_TIMEOUT:-120}" start >"$PG_DIR/pg_ctl.log" 2>&1; then
            break
        fi
        if [ "$try" = 5 ] || ! grep -q "could not bind\|Address already in use" "$PG_DIR/server.log"; then
            echo "pg_start: the server did not start:" >&2
            tail -20 "$PG_DIR/pg_ctl.log" "$PG_DIR/server.log" >&2
            return 1
        fi
        PG_PORT=$(free_port)
        sed -i "s/^port = .*/port = $PG_PORT/" "$PG_DIR/data/postgresql.conf"
    done
    if ! "$bin/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U tend -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE tend" >"$PG_DIR/createdb.log" 2>&1; then
        echo "pg_start: CREATE DATABASE failed:" >&2
        cat "$PG_DIR/createdb.log" >&2
        return 1
    fi
    PG_URL="postgresql://tend@127.0.0.1:$PG_PORT/tend"
    export TEND_TEST_PG_URL=$PG_URL
}

# pg_createdb NAME: a new, empty database NAME; prints its URL.
pg_createdb() {
    "$(pg_bindir)/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -U tend -d postgres \
        -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$1\"" >/dev/null || return 1
    echo "postgresql://tend@127.0.0.1:$PG_PORT/$1"
}

# pg_psql SQL: runs SQL on the test database, prints rows unaligned, no header.
pg_psql() {
    "$(pg_bindir)/psql" -X -q -A -t -d "$PG_URL" -v ON_ERROR_STOP=1 -c "$1"
}

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
        # Immediate: nothing of a test cluster needs to reach disk.
        pg_as "$(pg_user)" "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m immediate -w \
            -t "${PG_START_TIMEOUT:-120}" stop >/dev/null 2>&1
    fi
    rm -rf "$PG_DIR"
    PG_DIR=""
}

trap 'pg_stop; cleanup' EXIT
trap 'exit 143' TERM INT HUP
