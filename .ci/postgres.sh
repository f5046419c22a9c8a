#!/usr/bin/env bash
# Throw-away PostgreSQL cluster for the Bulletin test suite.
#
#   source .ci/postgres.sh            start a cluster, export BULLETIN_TEST_DATABASE_URL and
#                                     BULLETIN_PG_DIR, define bulletin_pg_stop (call it, or
#                                     `trap bulletin_pg_stop EXIT`)
#   eval "$(.ci/postgres.sh start)"   the same from an interactive shell; prints how to stop it
#   .ci/postgres.sh stop [DIR]        stop the cluster in DIR (default $BULLETIN_PG_DIR), remove DIR
#   .ci/postgres.sh bindir            print the directory with initdb/pg_ctl/postgres, or fail
#
# The cluster lives in a fresh temp directory (data, log, unix socket), listens on a free port
# on 127.0.0.1 only, trusts every local connection and trades durability for speed.
# As root the server runs as the `postgres` system user (created if missing), since initdb
# refuses to run as root.
#
# Optional environment: PG_BINDIR (server binaries to use), BULLETIN_PG_USER (server user when
# running as root, default postgres).
#
# When sourced it does not change the caller's shell options or traps, and it works the same
# under `set -euo pipefail` as without it (every step checks its own errors).

_bpg_log() { printf 'postgres.sh: %s\n' "$*" >&2; }

# Prints the directory holding initdb, pg_ctl and postgres.
_bpg_bindir() {
    local d
    if [[ -n "${PG_BINDIR:-}" ]]; then
        if [[ -x "$PG_BINDIR/initdb" && -x "$PG_BINDIR/pg_ctl" && -x "$PG_BINDIR/postgres" ]]; then
            printf '%s\n' "$PG_BINDIR"
            return 0
        fi
        _bpg_log "PG_BINDIR=$PG_BINDIR does not contain initdb, pg_ctl and postgres"
        return 1
    fi
    # On PATH (e.g. /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl): use the
    # directory of the real file so that all three binaries come from the same installation.
    if d=$(command -v pg_ctl 2>/dev/null) && d=$(readlink -f "$d") && d=${d%/*} &&
        [[ -x "$d/initdb" && -x "$d/postgres" ]]; then
        printf '%s\n' "$d"
        return 0
    fi
    # Debian/Ubuntu packages: /usr/lib/postgresql/<version>/bin, newest version first.
    while IFS= read -r d; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
    _bpg_log "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found;" \
        "install them (Debian: apt-get install postgresql) or set PG_BINDIR"
    return 1
}

# Runs a command as the given user (only possible, and only needed, when we are root).
_bpg_as() {
    local user=$1
    shift
    if [[ $(id -u) -eq 0 && "$user" != root ]]; then
        runuser -u "$user" -- "$@"
    else
        "$@"
    fi
}

# Prints a TCP port on 127.0.0.1 that nothing listens on: a random start below the Linux
# ephemeral range, then upwards. A race with another process is handled by the caller, which
# retries with another port when the server cannot bind.
_bpg_pick_port() {
    local port i
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    for ((i = 0; i < 200; i++)); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
        port=$((port >= 31999 ? 20000 : port + 1))
    done
    _bpg_log "could not find a free TCP port"
    return 1
}

# Stops the server of the cluster in DIR (if running) without removing anything.
_bpg_stop_server() {
    local dir=$1 data=$1/data bindir owner pid i
    [[ -f "$data/postmaster.pid" ]] || return 0
    bindir=$(cat "$dir/bindir" 2>/dev/null) || bindir=
    owner=$(stat -c %U "$data" 2>/dev/null) || owner=$(id -un)
    if [[ -n "$bindir" ]] &&
        (cd "$dir" && _bpg_as "$owner" "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop) \
            >/dev/null 2>&1; then
        return 0
    fi
    # pg_ctl failed: signal the postmaster recorded in the pid file directly (SIGQUIT is an
    # immediate shutdown), making sure the pid still belongs to a postgres process.
    pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null) || pid=
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]] || return 0
    _bpg_log "pg_ctl stop failed; sending SIGQUIT to postmaster $pid"
    kill -QUIT "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    return 0
}

# bulletin_pg_stop [DIR]: stops the cluster in DIR (default $BULLETIN_PG_DIR) and removes DIR.
# Idempotent and never fails for an already removed cluster, so it is safe in an EXIT trap.
bulletin_pg_stop() {
    local dir=${1:-${BULLETIN_PG_DIR:-}}
    [[ -n "$dir" ]] || return 0
    if [[ ! -e "$dir/.bulletin-pg" ]]; then
        if [[ -e "$dir" ]]; then
            _bpg_log "refusing to remove $dir: not a cluster directory made by this script"
            return 1
        fi
        return 0
    fi
    _bpg_stop_server "$dir"
    rm -rf -- "$dir"
    if [[ "$dir" == "${BULLETIN_PG_DIR:-}" ]]; then
        unset BULLETIN_PG_DIR BULLETIN_TEST_DATABASE_URL
    fi
    return 0
}

# Starts a new cluster; exports BULLETIN_PG_DIR and BULLETIN_TEST_DATABASE_URL.
bulletin_pg_start() {
    local bindir user group dir port attempt
    bindir=$(_bpg_bindir) || return 1
    if [[ $(id -u) -eq 0 ]]; then
        user=${BULLETIN_PG_USER:-postgres}
        if ! id -u "$user" >/dev/null 2>&1; then
            _bpg_log "creating system user $user to run the server"
            useradd --system --user-group --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin "$user" || return 1
        fi
        # /tmp, not $TMPDIR: the server user must be able to reach the directory.
        dir=$(mktemp -d /tmp/bulletin-pg.XXXXXX) || return 1
    else
        user=$(id -un)
        dir=$(mktemp -d "${TMPDIR:-/tmp}/bulletin-pg.XXXXXX") || return 1
    fi
    export BULLETIN_PG_DIR=$dir
    # The marker lets bulletin_pg_stop recognise (and only then delete) this directory.
    if ! { : >"$dir/.bulletin-pg" && printf '%s\n' "$bindir" >"$dir/bindir"; }; then
        bulletin_pg_stop "$dir"
        return 1
    fi
    if [[ $(id -u) -eq 0 ]]; then
        if ! { group=$(id -gn "$user") && chown "$user:$group" "$dir"; }; then
            bulletin_pg_stop "$dir"
            return 1
        fi
    fi

    # Work from inside $dir: the server user may not be allowed into the caller's cwd.
    if ! (cd "$dir" && _bpg_as "$user" env LC_ALL=C "$bindir/initdb" --pgdata="$dir/data" \
        --auth=trust -U postgres --no-sync --encoding=UTF8 --locale=C) >"$dir/initdb.log" 2>&1; then
        _bpg_log "initdb failed:"
        cat "$dir/initdb.log" >&2
        bulletin_pg_stop "$dir"
        return 1
    fi
    if ! cat >>"$dir/data/postgresql.conf" <<EOF

# Throw-away test cluster (.ci/postgres.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
shared_buffers = 128MB
EOF
    then
        bulletin_pg_stop "$dir"
        return 1
    fi

    for ((attempt = 1; ; attempt++)); do
        port=$(_bpg_pick_port) || {
            bulletin_pg_stop "$dir"
            return 1
        }
        rm -f "$dir/postgres.log"
        if (cd "$dir" && _bpg_as "$user" env LC_ALL=C "$bindir/pg_ctl" -D "$dir/data" \
            -l "$dir/postgres.log" -o "-p $port" -w -t 120 start) >"$dir/pg_ctl.log" 2>&1; then
            break
        fi
        # Lost a race for the port with another process: try another one.
        if ((attempt < 10)) && grep -q 'could not bind\|could not create any TCP/IP sockets' \
            "$dir/postgres.log" 2>/dev/null; then
            _bpg_log "port $port is taken, retrying with another port"
            continue
        fi
        _bpg_log "the server did not start:"
        cat "$dir/pg_ctl.log" "$dir/postgres.log" >&2 2>/dev/null
        bulletin_pg_stop "$dir"
        return 1
    done
    export BULLETIN_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    _bpg_log "$("$bindir/postgres" --version) running as $user on 127.0.0.1:$port," \
        "cluster in $dir"
    return 0
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: start right away.
    bulletin_pg_start || return 1
    printf 'BULLETIN_TEST_DATABASE_URL=%s\n' "$BULLETIN_TEST_DATABASE_URL"
else
    set -euo pipefail
    case "${1:-}" in
    start)
        bulletin_pg_start
        printf "export BULLETIN_TEST_DATABASE_URL='%s'\n" "$BULLETIN_TEST_DATABASE_URL"
        printf "export BULLETIN_PG_DIR='%s'\n" "$BULLETIN_PG_DIR"
        printf '# stop it with: %s stop %s\n' "$0" "$BULLETIN_PG_DIR"
        ;;
    stop)
        dir=${2:-${BULLETIN_PG_DIR:-}}
        if [[ -z "$dir" ]]; then
            _bpg_log "usage: $0 stop DIR (or with BULLETIN_PG_DIR set)"
            exit 2
        fi
        bulletin_pg_stop "$dir"
        _bpg_log "stopped and removed $dir"
        ;;
    bindir)
        _bpg_bindir
        ;;
    *)
        _bpg_log "usage: $0 start | stop [DIR] | bindir   (or source it from bash)"
        exit 2
        ;;
    esac
fi
