#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup and on_signal are reached through traps
# Runs the Wirety server locally (`make run`): a private PostgreSQL cluster under
# $WIRETY_DATA_DIR/pg (unless WIRETY_DB points elsewhere; loopback only, scram-sha-256 with a
# generated password in $WIRETY_DATA_DIR/pg.pgpass, mode 0600), a Release build, and the
# server in the foreground (plain HTTP on loopback). Ctrl-C / SIGTERM stop the server, then the cluster.
#
# Environment:
#   WIRETY_DATA_DIR  default ./.wirety (relative to the caller's cwd; made absolute)
#   WIRETY_PG_PORT   default 55432 (private cluster port)
#   WIRETY_URLS      default http://127.0.0.1:8080
#   WIRETY_DB        Npgsql connection string; when set, no local cluster is used
#   WIRETY_ADMIN_TOKEN, WIRETY_PG_BIN  passed through
#   WIRETY_SERVER_CMD  override the server command (for testing this script), e.g.
#                      'sleep 5'; when set, nothing is built
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER="$ROOT/ops/pg/cluster.sh"
log() { echo "run-local: $*" >&2; }

# Resolve the data dir against the caller's cwd before we cd to the repo root.
WIRETY_DATA_DIR=${WIRETY_DATA_DIR:-./.wirety}
mkdir -p "$WIRETY_DATA_DIR"
WIRETY_DATA_DIR=$(cd "$WIRETY_DATA_DIR" && pwd)
WIRETY_PG_PORT=${WIRETY_PG_PORT:-55432}
WIRETY_URLS=${WIRETY_URLS:-http://127.0.0.1:8080}
export WIRETY_DATA_DIR WIRETY_PG_PORT WIRETY_URLS
cd "$ROOT"

PGDATA_DIR="$WIRETY_DATA_DIR/pg"
started_cluster=0
server_pid=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    # If we die before the server has exited (e.g. set -e), do not leave it behind.
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    # Only stop a cluster this script started; one that was already up belongs to someone else.
    if [[ $started_cluster -eq 1 ]]; then
        "$CLUSTER" stop "$PGDATA_DIR" || rc=1
    fi
    exit "$rc"
}

# Before the server runs, a signal just ends the script (EXIT trap cleans up). Once it
# runs, the signal is forwarded as SIGTERM: a background job of a non-interactive shell
# ignores SIGINT, and SIGTERM is what ASP.NET's host treats as "shut down gracefully".
on_signal() {
    local code=$1
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        log "stopping server (pid $server_pid)"
        kill -TERM "$server_pid" 2>/dev/null || true
    else
        exit "$code"
    fi
}
# Rebuild only what changed since the last start, judged by a hash of the inputs' names and contents
# (not their times, which a checkout or a copy moves). An unchanged tree starts without dotnet build,
# npm or the network. Stamps live next to the outputs they vouch for, so `make clean` drops them too.
SERVER_DLL=src/Wirety.Server/bin/Release/net10.0/wirety-server.dll
fingerprint() { # PATH... → a hash of every file under them (build outputs and node_modules left out)
    { find "$@" -type f -not -path '*/bin/*' -not -path '*/obj/*' -not -path '*/node_modules/*' -not -path '*/dist/*' -print0 2>/dev/null || true; } \
        | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
stale() { # STAMP-FILE HASH OUTPUT → true when OUTPUT is missing or was built from other inputs
    [[ ! -e "$3" || "$(cat "$1" 2>/dev/null)" != "$2" ]]
}
build_if_changed() {
    local stamp=src/Wirety.Server/bin/Release/wirety-build.stamp hash
    hash=$(fingerprint src Directory.Build.props Directory.Packages.props nuget.config)
    if stale "$stamp" "$hash" "$SERVER_DLL"; then
        log "building src/Wirety.Server (Release)"
        dotnet build src/Wirety.Server -c Release -nologo -v quiet
        echo "$hash" > "$stamp"
    else
        log "server build is up to date"
    fi
    [[ -f frontend/package.json ]] || return 0
    local deps=frontend/node_modules/.wirety-npm.stamp ui=frontend/node_modules/.wirety-dist.stamp
    hash=$(fingerprint frontend/package-lock.json)
    if stale "$deps" "$hash" frontend/node_modules; then
        log "installing frontend dependencies (npm ci)"
        (cd frontend && npm ci --no-audit --no-fund)
        echo "$hash" > "$deps"
    fi
    hash=$(cd frontend && fingerprint src public index.html package.json package-lock.json tsconfig.json vite.config.ts)
    if stale "$ui" "$hash" frontend/dist/index.html; then
        log "building frontend/"
        (cd frontend && npm run build)
        echo "$hash" > "$ui"
    else
        log "web UI build is up to date"
    fi
}

trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

if [[ -n "${WIRETY_DB:-}" ]]; then
    log "WIRETY_DB is set; not starting a local PostgreSQL cluster"
else
    "$CLUSTER" ensure "$PGDATA_DIR" "$WIRETY_PG_PORT"
    if "$CLUSTER" status "$PGDATA_DIR" >/dev/null; then
        log "cluster in $PGDATA_DIR is already running; leaving it running on exit"
    else
        started_cluster=1   # set first: a half-finished start still gets a stop
        "$CLUSTER" start "$PGDATA_DIR" "$WIRETY_PG_PORT"
    fi
    "$CLUSTER" createdb "$PGDATA_DIR" "$WIRETY_PG_PORT" wirety
    WIRETY_DB="Host=127.0.0.1;Port=$WIRETY_PG_PORT;Database=wirety;Username=postgres;Passfile=$("$CLUSTER" passfile "$PGDATA_DIR")"
fi
export WIRETY_DB

if [[ -n "${WIRETY_SERVER_CMD:-}" ]]; then
    log "running WIRETY_SERVER_CMD: $WIRETY_SERVER_CMD"
    # Word-split on purpose: it is a command line given by the caller.
    # shellcheck disable=SC2206
    server_cmd=($WIRETY_SERVER_CMD)
else
    build_if_changed
    server_cmd=(dotnet "$SERVER_DLL")
fi

log "server on $WIRETY_URLS, data in $WIRETY_DATA_DIR"
"${server_cmd[@]}" &
server_pid=$!
# `wait` returns early (status > 128) when a trapped signal arrives; keep waiting until
# the server itself has exited, then pass its exit status on.
rc=0
while :; do
    wait "$server_pid" && rc=0 || rc=$?
    kill -0 "$server_pid" 2>/dev/null || break
done
server_pid=""
log "server exited with status $rc"
exit "$rc"
