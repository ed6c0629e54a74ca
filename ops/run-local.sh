#!/usr/bin/env bash
# shellcheck disable=SC2317  # cleanup and on_signal are reached through traps
# Runs the Wirety server locally (`make run`): a private PostgreSQL cluster under
# $WIRETY_DATA_DIR/pg (unless WIRETY_DB points elsewhere), a Release build, and the
# server in the foreground. Ctrl-C / SIGTERM stop the server, then the cluster.
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
    WIRETY_DB="Host=127.0.0.1;Port=$WIRETY_PG_PORT;Database=wirety;Username=postgres"
fi
export WIRETY_DB

if [[ -n "${WIRETY_SERVER_CMD:-}" ]]; then
    log "running WIRETY_SERVER_CMD: $WIRETY_SERVER_CMD"
    # Word-split on purpose: it is a command line given by the caller.
    # shellcheck disable=SC2206
    server_cmd=($WIRETY_SERVER_CMD)
else
    log "building src/Wirety.Server (Release)"
    dotnet build src/Wirety.Server -c Release -nologo -v quiet
    if [[ -f frontend/package.json ]]; then
        log "building frontend/"
        (cd frontend && npm ci && npm run build)
    fi
    server_cmd=(dotnet src/Wirety.Server/bin/Release/net10.0/wirety-server.dll)
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
