#!/usr/bin/env bash
# Wolverine's generated handler and HTTP endpoint code, ahead of time. The server runs it with
# TypeLoadMode.Static (no Roslyn at run time), so the committed src/Wirety.Server/Internal/Generated
# must match what the current handlers and endpoints generate.
#
# usage: ops/codegen.sh           regenerate Internal/Generated from the current code (`make codegen`)
#        ops/codegen.sh --check   regenerate, then fail when the result differs from what git has
#                                 (changed, deleted or new files): `make codegen-check`, run by `make test`
#
# Needs no database: `wirety-server codegen write` builds the host without starting it. Ends with a server
# build (CONFIG, default Release) that includes the regenerated code.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "codegen: $*" >&2; }

CONFIG=${CONFIG:-Release}
PROJECT=src/Wirety.Server
GENERATED=$PROJECT/Internal/Generated
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

if [[ $check -eq 1 ]]; then
    # Against the index, so a regenerated tree that is staged but not yet committed passes locally; in CI the
    # index is the commit. Untracked files are new generated types nobody committed.
    status=$(git status --porcelain --untracked-files=all -- "$GENERATED") || { log "--check needs a git checkout"; exit 1; }
    changed=$(grep -v '^[MADRC] ' <<< "$status" || true)
    if [[ -n "$changed" ]]; then
        echo "$changed" >&2
        git --no-pager diff --stat -- "$GENERATED" >&2 || true
        log "the committed generated code is stale: it does not match what the current handlers and endpoints generate."
        log "Run 'make codegen' and commit $GENERATED (the tree now holds the regenerated files)."
        exit 1
    fi
    log "committed generated code is up to date"
fi
