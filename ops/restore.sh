#!/usr/bin/env bash
# Restores every project in Wirety.sln from the committed packages.lock.json files.
#
# usage: ops/restore.sh            restore (locked mode when CI=true: nothing the lock files
#                                  do not name is taken, and a drifted lock fails)
#        ops/restore.sh --lock     refresh the lock files after a package change (`make lock`)
#        ops/restore.sh --verify   restore in locked mode into an empty package folder, so a package
#                                  the source no longer serves (or serves with other content) fails
#                                  here instead of passing on a warm cache (`make verify-restore`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { echo "restore: $*" >&2; }

hint() {
    log "the restore did not match the committed lock files (packages.lock.json)."
    log "After changing a package reference or Directory.Packages.props, refresh them with 'make lock'"
    log "and commit the changed packages.lock.json files. If the lock files are unchanged, the package"
    log "source no longer serves a locked version (see the NU1xxx errors above)."
}

case "${1:-}" in
    --lock)
        dotnet restore Wirety.sln --force-evaluate -p:RestoreLockedMode=false
        log "lock files refreshed; commit every changed packages.lock.json"
        ;;
    --verify)
        empty=$(mktemp -d)
        trap 'rm -rf "$empty"' EXIT
        log "locked restore into an empty package folder ($empty)"
        NUGET_PACKAGES=$empty dotnet restore Wirety.sln --locked-mode --no-http-cache || { hint; exit 1; }
        log "every locked package restored from the source"
        ;;
    "")
        if [[ "${CI:-}" == true ]]; then
            dotnet restore Wirety.sln --locked-mode || { hint; exit 1; }
        else
            dotnet restore Wirety.sln || { hint; exit 1; }
        fi
        ;;
    *) log "unknown option '$1'"; exit 2 ;;
esac
