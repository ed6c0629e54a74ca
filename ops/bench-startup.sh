#!/usr/bin/env bash
# Cold start of the real server binary, as an operator restarts it on an existing database:
#   readyz  time from process start to the first /readyz 200
#   get     the first authenticated API call (GET /api/v1/networks with the bootstrap admin token)
#   post    the first POST (create a network)
#   rss     the server's VmRSS 3 s after those calls (idle)
# Each run starts a fresh process on the same database; a first, uncounted run creates the schema and
# warms the file cache. Prints every run, then the median and range of each measure.
#
# usage: ops/bench-startup.sh [RUNS]      (default 5)
# env:   WIRETY_SERVER_CMD  server command (default: dotnet src/Wirety.Server/bin/Release/net10.0/wirety-server.dll,
#                           built when missing), e.g. another checkout's binary to compare against
#        WIRETY_PG_PORT     port of the private PostgreSQL this script creates and removes (default 55493)
#        WIRETY_BENCH_PORT  the server's port (default 58093)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER="$ROOT/ops/pg/cluster.sh"
log() { echo "bench-startup: $*" >&2; }

RUNS=${1:-5}
PG_PORT=${WIRETY_PG_PORT:-55493}
PORT=${WIRETY_BENCH_PORT:-58093}
URL=http://127.0.0.1:$PORT
TOKEN=wirety_bench-startup-admin-token-0123456789abcdef
DLL="$ROOT/src/Wirety.Server/bin/Release/net10.0/wirety-server.dll"
if [[ -z "${WIRETY_SERVER_CMD:-}" && ! -f "$DLL" ]]; then dotnet build "$ROOT/src/Wirety.Server" -c Release -nologo -v quiet; fi
read -r -a SERVER <<< "${WIRETY_SERVER_CMD:-dotnet $DLL}"

work=$(mktemp -d)
chmod 755 "$work" # the cluster runs as the postgres user when we are root
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    "$CLUSTER" stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
"$CLUSTER" ensure "$work/pg" "$PG_PORT" 2>/dev/null
"$CLUSTER" start "$work/pg" "$PG_PORT" 2>/dev/null
"$CLUSTER" createdb "$work/pg" "$PG_PORT" wirety 2>/dev/null

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# One start: prints "readyz_ms get_ms post_ms rss_mib".
run_once() {
    local n=$1 start ready get post rss code
    start=$(now_ms)
    WIRETY_DB="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=wirety;Passfile=$("$CLUSTER" passfile "$work/pg")" WIRETY_URLS=$URL \
        WIRETY_DATA_DIR="$work/data" WIRETY_ADMIN_TOKEN=$TOKEN WIRETY_LOG_FORMAT=text \
        "${SERVER[@]}" > "$work/server-$n.log" 2>&1 &
    server_pid=$!
    until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz" || true)" == 200 ]]; do
        if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server-$n.log" >&2; log "the server exited"; exit 1; fi
        sleep 0.02
    done
    ready=$(( $(now_ms) - start ))
    get=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" "$URL/api/v1/networks")
    post=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -d "{\"name\":\"bench-$n-$$\",\"cidr\":\"10.$((n % 250)).0.0/24\"}" "$URL/api/v1/networks")
    for r in "$get" "$post"; do
        code=${r%% *}
        if [[ $code != 200 && $code != 201 ]]; then cat "$work/server-$n.log" >&2; log "API call answered $code"; exit 1; fi
    done
    sleep 3
    rss=$(awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$server_pid/status")
    kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
    awk -v r="$ready" -v g="${get#* }" -v p="${post#* }" -v m="$rss" 'BEGIN { printf "%d %d %d %d\n", r, g * 1000, p * 1000, m }'
}

log "server: ${SERVER[*]}"
run_once 0 > /dev/null # schema, admin bootstrap, file cache
printf '%-5s %10s %10s %10s %9s\n' run readyz_ms get_ms post_ms rss_mib
: > "$work/results"
for i in $(seq 1 "$RUNS"); do
    line=$(run_once "$i")
    echo "$line" >> "$work/results"
    printf '%-5s %10s %10s %10s %9s\n' "$i" $line
done
# Median (middle value; the lower middle for an even count) and range per column.
for col in 1 2 3 4; do
    sort -n <(cut -d' ' -f"$col" "$work/results") | awk -v c="$col" '
        { v[NR] = $1 } END { split("readyz_ms get_ms post_ms rss_mib", name, " ");
        printf "%-9s median %6d  range %d-%d\n", name[c], v[int((NR + 1) / 2)], v[1], v[NR] }'
done
