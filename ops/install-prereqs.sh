#!/usr/bin/env bash
# Installs the Debian packages Wirety's build, tests and local runs need, and nothing
# that is already there. Idempotent: when everything is present it touches nothing
# (no `apt-get update`), so `make test` stays fast on a prepared machine.
#
# usage: ops/install-prereqs.sh [GROUP-FLAG...] [--dry-run] [PACKAGE...]
#   (no arguments)  same as --postgresql
#   --postgresql    PostgreSQL server + client (initdb, pg_ctl, psql)
#   --wireguard     wireguard-go wireguard-tools (userspace WireGuard; no kernel module here)
#                   nftables (a jump peer's NAT and the agent's packet filter)
#                   iptables (the agent's fallback where nft is missing; its tests use both)
#   --network       iproute2 iputils-ping (namespaces, veth, ping)
#   --browser       chromium chromium-driver (headless browser tests)
#   --all           every group above
#   --dry-run       only report what is missing; exit 1 if something is
#   PACKAGE         any further Debian package name
# Works as root; otherwise uses sudo when available, else fails saying what to run.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
log() { echo "install-prereqs: $*" >&2; }
die() { echo "install-prereqs: error: $*" >&2; exit 1; }

wanted=()
dry_run=0
add_group() {
    case "$1" in
        postgresql) wanted+=(postgresql) ;;
        wireguard)  wanted+=(wireguard-go wireguard-tools nftables iptables) ;;
        network)    wanted+=(iproute2 iputils-ping) ;;
        browser)    wanted+=(chromium chromium-driver) ;;
        *) die "unknown group '$1'" ;;
    esac
}

for arg in "$@"; do
    case "$arg" in
        -h|--help) usage; exit 0 ;;
        --dry-run) dry_run=1 ;;
        --all) for g in postgresql wireguard network browser; do add_group "$g"; done ;;
        --postgresql|--wireguard|--network|--browser) add_group "${arg#--}" ;;
        -*) die "unknown option '$arg' (see --help)" ;;
        *) [[ "$arg" =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "'$arg' is not a Debian package name"
           wanted+=("$arg") ;;
    esac
done
[[ ${#wanted[@]} -gt 0 ]] || add_group postgresql

# Is PACKAGE usable already? Checked by what we actually run rather than by dpkg alone
# where that matters: e.g. PostgreSQL server binaries may come from postgresql-NN
# without the `postgresql` metapackage, or from $WIRETY_PG_BIN.
present() {
    case "$1" in
        postgresql)
            if [[ -n "${WIRETY_PG_BIN:-}" && -x "${WIRETY_PG_BIN}/initdb" ]]; then return 0; fi
            compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && command -v psql >/dev/null
            return ;;
        wireguard-go)    command -v wireguard-go >/dev/null; return ;;
        wireguard-tools) command -v wg >/dev/null; return ;;
        nftables)        command -v nft >/dev/null || [[ -x /usr/sbin/nft ]]; return ;;
        iptables)        { command -v iptables-restore >/dev/null || [[ -x /usr/sbin/iptables-restore ]]; } &&
                         { command -v ip6tables-restore >/dev/null || [[ -x /usr/sbin/ip6tables-restore ]]; }; return ;;
        iproute2)        command -v ip >/dev/null; return ;;
        iputils-ping)    command -v ping >/dev/null; return ;;
        chromium)        [[ -x /usr/bin/chromium ]]; return ;;
        chromium-driver) [[ -x /usr/bin/chromedriver ]]; return ;;
    esac
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for p in "${wanted[@]}"; do
    # de-duplicate while keeping order
    case " ${missing[*]-} " in *" $p "*) continue ;; esac
    present "$p" || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    log "all present: ${wanted[*]}"
    exit 0
fi
if [[ $dry_run -eq 1 ]]; then
    log "missing: ${missing[*]}"
    exit 1
fi

command -v apt-get >/dev/null || die "missing ${missing[*]} and apt-get is not available; install them by hand"

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
elif command -v sudo >/dev/null && [[ -t 0 ]]; then
    sudo=(sudo)   # interactive: let sudo ask for a password
else
    die "missing ${missing[*]}; not root and no usable sudo. Run as root: apt-get update && apt-get install -y ${missing[*]}"
fi

log "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
# --no-install-recommends keeps CI installs small; each group names what it needs.
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"

still=()
for p in "${missing[@]}"; do present "$p" || still+=("$p"); done
[[ ${#still[@]} -eq 0 ]] || die "apt-get finished but these are still not usable: ${still[*]}"
log "installed: ${missing[*]}"
