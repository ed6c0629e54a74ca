#!/usr/bin/env bash
# Wolverine's generated handler and HTTP endpoint code, ahead of time. The server runs it with
# TypeLoadMode.Static (no Roslyn at run time), so the committed src/Wirety.Server/Internal/Generated
# must match what the current handlers and endpoints generate. Then the web UI's API types: the OpenAPI
# document (frontend/src/lib/openapi.json, what GET /api/v1/openapi.json serves) and the TypeScript types
# openapi-typescript generates from it (frontend/src/lib/api.generated.ts); both are committed too.
#
# usage: ops/codegen.sh           regenerate Internal/Generated from the current code (`make codegen`)
#        ops/codegen.sh --check   regenerate, then fail when the result differs from what git has
#                                 (changed, deleted or new files): `make codegen-check`, run by `make test`
#
# Needs no database: `wirety-server codegen write` and `wirety-server openapi` build the host without starting
# it. Ends with a server build (CONFIG, default Release) that includes the regenerated code. The UI types need
# Node.js; frontend/node_modules is installed with `npm ci` when openapi-typescript is not there yet (a fresh
# clone: make test runs this check before the UI tests install it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "codegen: $*" >&2; }

CONFIG=${CONFIG:-Release}
PROJECT=src/Wirety.Server
GENERATED=$PROJECT/Internal/Generated
OPENAPI_DOCUMENT=frontend/src/lib/openapi.json
API_TYPES=frontend/src/lib/api.generated.ts
check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) log "unknown option '$1'"; exit 2 ;;
esac

# Generate from scratch: a handler that was removed leaves no file behind, and generated code that no
# longer compiles against the changed handlers cannot stop the build that regenerates it.
rm -rf "$GENERATED"
log "building $PROJECT ($CONFIG) without generated code"
dotnet build "$PROJECT" -c "$CONFIG" -nologo -v quiet

# The content root is the working directory, and Wolverine writes to <content root>/Internal/Generated.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! (cd "$PROJECT" && WIRETY_LOG_FORMAT=text dotnet "bin/$CONFIG/net10.0/wirety-server.dll" codegen write) >"$out" 2>&1; then
    cat "$out" >&2
    log "wirety-server codegen write failed (output above)"
    exit 1
fi
log "wrote $(grep -c '^Wrote generated code file' "$out") files to $GENERATED"
# Leave a server build that holds the generated code: the one above has none and would refuse to start
# (make run's build stamp goes by source contents, which regenerating the same code leaves unchanged).
log "building $PROJECT ($CONFIG) with the generated code"
dotnet build "$PROJECT" -c "$CONFIG" -nologo -v quiet

# The API's shape for the web UI. Written by the build that holds the generated code (the one without would
# refuse to map the endpoints), from the same host and transformers that serve /api/v1/openapi.json.
root=$PWD
if ! (cd "$PROJECT" && WIRETY_LOG_FORMAT=text dotnet "bin/$CONFIG/net10.0/wirety-server.dll" openapi -d v1 -o "$root/$OPENAPI_DOCUMENT") >"$out" 2>&1; then
    cat "$out" >&2
    log "wirety-server openapi failed (output above)"
    exit 1
fi
log "wrote $OPENAPI_DOCUMENT"
command -v npm >/dev/null || { log "npm is not installed (Node.js 20.19+ generates the UI's API types)"; exit 1; }
if [[ ! -x frontend/node_modules/.bin/openapi-typescript || ! -d frontend/node_modules/typescript-5 ]]; then
    log "installing the frontend's packages (npm ci) for openapi-typescript"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error) >&2
fi
if ! (cd frontend && npm run --silent generate:api) >"$out" 2>&1; then
    cat "$out" >&2
    log "openapi-typescript failed (output above)"
    exit 1
fi
log "wrote $API_TYPES"

if [[ $check -eq 1 ]]; then
    # Against the index, so a regenerated tree that is staged but not yet committed passes locally; in CI the
    # index is the commit. Untracked files are new generated types nobody committed.
    status=$(git status --porcelain --untracked-files=all -- "$GENERATED" "$OPENAPI_DOCUMENT" "$API_TYPES") || { log "--check needs a git checkout"; exit 1; }
    changed=$(grep -v '^[MADRC] ' <<< "$status" || true)
    if [[ -n "$changed" ]]; then
        echo "$changed" >&2
        git --no-pager diff --stat -- "$GENERATED" "$OPENAPI_DOCUMENT" "$API_TYPES" >&2 || true
        log "the committed generated code is stale: it does not match what the current handlers and endpoints generate."
        log "Run 'make codegen' and commit $GENERATED, $OPENAPI_DOCUMENT and $API_TYPES (the tree now holds the regenerated files)."
        exit 1
    fi
    log "committed generated code is up to date"
fi
