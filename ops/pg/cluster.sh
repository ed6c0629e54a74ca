#!/usr/bin/env bash
# Manages a private PostgreSQL cluster (own data dir, own port, loopback only) for local
# runs. Nothing here touches the distribution's clusters under /var/lib/postgresql.
#
# usage:
#   cluster.sh ensure   DATADIR PORT        install PostgreSQL if missing; initdb once
#   cluster.sh start    DATADIR PORT        start (ok if already running on PORT)
#   cluster.sh stop     DATADIR             fast shutdown (ok if not running)
#   cluster.sh status   DATADIR             exit 0 if running, 3 if not
#   cluster.sh createdb DATADIR PORT NAME   create database NAME unless it exists
#   cluster.sh passfile DATADIR             print the path of the cluster's password file
#
# Authentication: scram-sha-256 for every connection (TCP and socket), user postgres, with a random
# password generated at initdb into DATADIR.pgpass (a libpq password file, mode 0600, owned by the
# caller): clients use it as PGPASSFILE (psql) or `Passfile=` in an Npgsql connection string. No other
# local user can connect. A cluster made by an older version with `-A trust` is switched over by
# `ensure` (while it is stopped).
#
# Binaries: $WIRETY_PG_BIN if set, else the highest /usr/lib/postgresql/*/bin.
# PostgreSQL refuses to run as root, so as root every server-side command runs as the
# `postgres` user (runuser) and the data dir is owned by it; otherwise as the caller.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PG_USER=postgres

die() { echo "cluster.sh: error: $*" >&2; exit 1; }
log() { echo "cluster.sh: $*" >&2; }
usage() { sed -n '5,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

is_root() { [[ $(id -u) -eq 0 ]]; }

# Locate the server binaries; prints the bin dir or returns 1.
# (A bad $WIRETY_PG_BIN is rejected up front, outside any $(...), so it is never "missing".)
find_bin() {
    if [[ -n "${WIRETY_PG_BIN:-}" ]]; then
        echo "$WIRETY_PG_BIN"
        return 0
    fi
    local d best=""
    # sort -V so that 15 beats 9.6 and 16 beats 15
    while IFS= read -r d; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && best=$d
    done < <(compgen -G '/usr/lib/postgresql/*/bin' | sort -V)
    [[ -n "$best" ]] || return 1
    echo "$best"
}

require_bin() {
    PG_BIN=$(find_bin) ||
        die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin; run 'ops/install-prereqs.sh --postgresql' (apt-get install -y postgresql) or set WIRETY_PG_BIN"
}

# Run a server-side command as the cluster owner. cd / first: the caller's cwd may not be
# readable by postgres (e.g. under /root), which makes initdb/pg_ctl print warnings.
as_owner() {
    if is_root; then
        (cd / && runuser -u "$PG_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

# Absolute and normalized (no ./ or ..), without requiring the path to exist yet.
abs_path() { realpath -m -- "$1"; }

# The password file sits next to the data dir, not in it (the data dir belongs to postgres when run as root).
passfile_path() { echo "$DATADIR.pgpass"; }

new_password() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40; }

write_passfile() { # PASSWORD → DATADIR.pgpass (0600 before the secret is in it)
    local f
    f=$(passfile_path)
    (umask 077 && : > "$f")
    chmod 0600 "$f"
    printf '*:*:*:postgres:%s\n' "$1" > "$f"
}

# Every line of pg_hba.conf that says trust becomes scram-sha-256 (initdb -A trust wrote them).
hba_to_scram() {
    as_owner sed -i -E 's/^([^#].*[[:space:]])trust([[:space:]]*)$/\1scram-sha-256\2/' "$DATADIR/pg_hba.conf"
}

hba_trusts() { grep -Eq '^[^#].*[[:space:]]trust[[:space:]]*$' "$DATADIR/pg_hba.conf"; }

# A cluster made with -A trust (older versions of this script): give postgres a password in single-user
# mode and require it from now on. Only while stopped; a running one is left as it is, with a warning.
migrate_from_trust() {
    [[ -f "$(passfile_path)" ]] && ! hba_trusts && return 0
    if is_running; then
        log "warning: $DATADIR still trusts every local user; stop it and run 'cluster.sh ensure' to switch it to passwords"
        return 0
    fi
    log "switching $DATADIR from trust to scram-sha-256 (password in $(passfile_path))"
    local password out
    password=$(new_password)
    # Single-user mode reads the statement on stdin; the password is made of base64 letters and digits only.
    if ! out=$(echo "ALTER ROLE postgres PASSWORD '$password';" | as_owner "$PG_BIN/postgres" --single -D "$DATADIR" -c password_encryption=scram-sha-256 postgres 2>&1); then
        echo "$out" >&2
        die "could not set the postgres password in $DATADIR"
    fi
    write_passfile "$password"
    hba_to_scram
}

check_datadir_arg() {
    [[ -n "$1" ]] || die "DATADIR must not be empty"
    # The path ends up inside pg_ctl's -o string (run by sh) and a GUC list; refuse the
    # few characters that would need quoting there rather than quote them wrongly.
    case "$1" in
        *[\'\"\\\$\`,\;]*|*$'\n'*) die "DATADIR '$1' contains a quote, backslash, \$, backtick, comma, ';' or newline; pick a plainer path" ;;
    esac
}

check_port_arg() {
    if ! [[ "$1" =~ ^[1-9][0-9]{0,4}$ ]] || (( $1 > 65535 )); then
        die "PORT '$1' is not a TCP port number"
    fi
}

# The postgres user must be able to walk down to DATADIR. Grant only the search bit
# (o+x, not read) on ancestors that lack it, e.g. /root (0700) when the repo lives there.
make_parents_traversable() {
    is_root || return 0
    local dir
    dir=$(dirname "$1")
    while [[ "$dir" != "/" ]]; do
        if ! runuser -u "$PG_USER" -- test -x "$dir" 2>/dev/null; then
            log "granting o+x on $dir so that user $PG_USER can reach the data dir"
            chmod o+x "$dir"
        fi
        dir=$(dirname "$dir")
    done
}

is_running() {
    [[ -f "$DATADIR/PG_VERSION" ]] || return 1
    as_owner "$PG_BIN/pg_ctl" status -D "$DATADIR" >/dev/null 2>&1
}

# Port the running postmaster listens on: line 4 of postmaster.pid.
running_port() { sed -n '4p' "$DATADIR/postmaster.pid" 2>/dev/null || true; }

log_tail() {
    local f="$DATADIR/postmaster.log"
    if [[ -f "$f" ]]; then
        echo "---- last lines of $f ----" >&2
        tail -n 25 "$f" >&2 || true
        echo "----" >&2
    fi
}

cmd_ensure() {
    local port=$1
    check_port_arg "$port"
    if ! PG_BIN=$(find_bin); then
        log "PostgreSQL binaries missing; installing them"
        "$SCRIPT_DIR/../install-prereqs.sh" --postgresql
        require_bin
    fi
    if is_root && ! id -u "$PG_USER" >/dev/null 2>&1; then
        die "running as root but there is no '$PG_USER' user to run PostgreSQL as; install the postgresql package (it creates the user) or run as a normal user"
    fi

    local want_major
    want_major=$("$PG_BIN/pg_ctl" --version | sed -E 's/.* ([0-9]+)(\.[0-9]+)*.*/\1/')

    if [[ -f "$DATADIR/PG_VERSION" ]]; then
        local have_major
        have_major=$(cat "$DATADIR/PG_VERSION")
        [[ "$have_major" == "$want_major" ]] ||
            die "$DATADIR holds a PostgreSQL $have_major cluster but the binaries in $PG_BIN are $want_major; set WIRETY_PG_BIN to a $have_major bin dir or delete $DATADIR"
        if is_root; then
            local owner
            owner=$(stat -c %U "$DATADIR")
            [[ "$owner" == "$PG_USER" ]] || die "$DATADIR is owned by $owner, expected $PG_USER; fix with: chown -R $PG_USER: '$DATADIR'"
            make_parents_traversable "$DATADIR"
        fi
        migrate_from_trust
        log "cluster already initialized in $DATADIR (PostgreSQL $have_major)"
        return 0
    fi

    if [[ -d "$DATADIR" ]] && [[ -n "$(ls -A "$DATADIR")" ]]; then
        die "$DATADIR exists, is not empty and holds no cluster (no PG_VERSION); refusing to touch it"
    fi

    mkdir -p "$DATADIR"
    if is_root; then
        chown "$PG_USER:" "$DATADIR"
        make_parents_traversable "$DATADIR"
    fi
    chmod 0700 "$DATADIR"

    log "initdb $DATADIR (PostgreSQL $want_major, $PG_BIN)"
    local out
    # C.UTF-8 exists on every Debian 12 (built into glibc) and does not depend on which
    # locales the machine generated, so initdb cannot fail on LANG.
    # initdb reads the password from a file the cluster owner can read; it is gone again right after.
    local password pwfile
    password=$(new_password)
    pwfile=$(mktemp)
    chmod 0600 "$pwfile"
    echo "$password" > "$pwfile"
    is_root && chown "$PG_USER:" "$pwfile"
    if ! out=$(as_owner "$PG_BIN/initdb" -D "$DATADIR" -A scram-sha-256 --pwfile="$pwfile" -U postgres --no-sync -E UTF8 --locale=C.UTF-8 2>&1); then
        rm -f "$pwfile"
        echo "$out" >&2
        die "initdb failed for $DATADIR"
    fi
    rm -f "$pwfile"
    write_passfile "$password"
}

cmd_start() {
    local port=$1
    check_port_arg "$port"
    require_bin
    [[ -f "$DATADIR/PG_VERSION" ]] || die "no cluster in $DATADIR; run: cluster.sh ensure '$DATADIR' $port"

    if is_running; then
        local rp
        rp=$(running_port)
        [[ "$rp" == "$port" ]] || die "cluster in $DATADIR is already running on port ${rp:-?}, not $port; stop it first: cluster.sh stop '$DATADIR'"
        log "already running on 127.0.0.1:$port"
        return 0
    fi

    # Unix socket inside DATADIR keeps it private (no /var/run/postgresql needed). Socket
    # paths are limited to 107 bytes; for a deep DATADIR, go TCP-only instead of failing.
    local sockdir="$DATADIR"
    if (( ${#sockdir} + ${#port} + 16 > 107 )); then
        log "DATADIR path too long for a unix socket; TCP only"
        sockdir=""
    fi

    local logfile="$DATADIR/postmaster.log"
    log "starting on 127.0.0.1:$port (log: $logfile)"
    if ! as_owner "$PG_BIN/pg_ctl" start -w -t 60 -D "$DATADIR" -l "$logfile" \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$sockdir'" >/dev/null; then
        log_tail
        die "pg_ctl start failed for $DATADIR on port $port (port in use? see log above)"
    fi
}

cmd_stop() {
    require_bin
    if [[ ! -f "$DATADIR/PG_VERSION" ]]; then
        log "no cluster in $DATADIR; nothing to stop"
        return 0
    fi
    if ! is_running; then
        log "not running: $DATADIR"
        return 0
    fi
    log "stopping $DATADIR"
    if ! as_owner "$PG_BIN/pg_ctl" stop -D "$DATADIR" -m fast -w -t 60 >/dev/null; then
        log_tail
        die "pg_ctl stop failed for $DATADIR"
    fi
}

cmd_status() {
    require_bin
    if is_running; then
        echo "running on 127.0.0.1:$(running_port) ($DATADIR)"
        return 0
    fi
    echo "not running ($DATADIR)"
    return 3
}

cmd_createdb() {
    local port=$1 name=$2
    check_port_arg "$port"
    [[ -n "$name" ]] || die "database NAME must not be empty"
    require_bin
    is_running || die "cluster in $DATADIR is not running; run: cluster.sh start '$DATADIR' $port"
    # Clients connect over TCP with the password file, so they need not run as postgres.
    export PGPASSFILE
    PGPASSFILE=$(passfile_path)
    [[ -f "$PGPASSFILE" ]] || die "no password file $PGPASSFILE for $DATADIR; run: cluster.sh ensure '$DATADIR' $port"
    local psql=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    local exists
    # Variables are interpolated only in psql's script input, hence stdin rather than -c.
    exists=$(printf "select 1 from pg_database where datname = :'n';\n" | "${psql[@]}" -tA -v n="$name") ||
        die "could not query 127.0.0.1:$port"
    if [[ "$exists" == 1 ]]; then
        log "database $name exists"
        return 0
    fi
    local out
    if ! out=$("$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres -- "$name" 2>&1); then
        # Lost a race with another createdb? Then it exists now, which is what we want.
        exists=$(printf "select 1 from pg_database where datname = :'n';\n" | "${psql[@]}" -tA -v n="$name" || true)
        [[ "$exists" == 1 ]] || { echo "$out" >&2; die "createdb $name failed"; }
    fi
    log "created database $name"
}

[[ $# -ge 2 ]] || usage
if [[ -n "${WIRETY_PG_BIN:-}" ]] && ! [[ -x "$WIRETY_PG_BIN/initdb" && -x "$WIRETY_PG_BIN/pg_ctl" ]]; then
    die "WIRETY_PG_BIN=$WIRETY_PG_BIN does not contain initdb and pg_ctl; unset it to use /usr/lib/postgresql/*/bin"
fi
cmd=$1
check_datadir_arg "$2"
DATADIR=$(abs_path "$2")
shift 2

case "$cmd" in
    ensure)   [[ $# -eq 1 ]] || usage; cmd_ensure "$1" ;;
    start)    [[ $# -eq 1 ]] || usage; cmd_start "$1" ;;
    stop)     [[ $# -eq 0 ]] || usage; cmd_stop ;;
    status)   [[ $# -eq 0 ]] || usage; cmd_status ;;
    createdb) [[ $# -eq 2 ]] || usage; cmd_createdb "$1" "$2" ;;
    passfile) [[ $# -eq 0 ]] || usage; passfile_path ;;
    *) usage ;;
esac
