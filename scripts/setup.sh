#!/usr/bin/env bash
# Installs, from Debian, what the boot scripts need: QEMU, GRUB's BIOS modules and the tools
# grub-mkrescue drives (xorriso, mtools). Idempotent: a package already installed is left alone,
# and `apt-get update` runs at most once, only when something is missing. Quiet on success.
#
# --reference also enables the machine's own Debian mirror's bookworm-backports suite (the
# reference oracle's QEMU 10 comes from there; see xen-reference.sh). Backports are
# not installed by default (apt pins them low), so this changes no installed package.
#
# Works as root on a fresh Debian 12 without sudo; uses sudo only when not root.
set -euo pipefail

usage() { echo "usage: $0 [--reference]" >&2; exit 2; }

reference=0
while (($#)); do
    case "$1" in
        --reference) reference=1 ;;
        -h|--help) usage ;;
        *) echo "setup.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done

as_root() {
    if ((EUID == 0)); then "$@"; else sudo "$@"; fi
}

# grub-mkrescue needs grub-pc-bin (i386-pc modules), xorriso and mtools; timeout comes from
# coreutils; readelf (binutils) lets bench-boot.sh measure loaded segments; zlib1g-dev gives
# the fuzz harness (scripts/fuzz.sh) zlib, its reference for the dom0 kernel's gzip decoder.
packages=(qemu-system-x86 grub-pc-bin grub-common xorriso mtools binutils python3 zlib1g-dev)

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

updated=0
apt_update_once() {
    if ((updated == 0)); then
        as_root apt-get update -qq >/dev/null
        updated=1
    fi
}

# Adds bookworm-backports to the existing entry for the main Debian archive (the one that
# already lists `bookworm`), so no new host is introduced. Handles both the deb822
# debian.sources file and the one-line sources.list format.
enable_backports() {
    local deb822=/etc/apt/sources.list.d/debian.sources
    if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        return 0
    fi
    if [[ -f $deb822 ]] && grep -Eq '^Suites:(.* )?bookworm( |$)' "$deb822"; then
        as_root sed -i -E 's/^(Suites:(.* )?bookworm)( |$)/\1 bookworm-backports\3/' "$deb822"
    elif [[ -f /etc/apt/sources.list ]] &&
         grep -Eq '^deb [^#]* bookworm( |$)' /etc/apt/sources.list; then
        local line
        line=$(grep -E '^deb [^#]* bookworm( |$)' /etc/apt/sources.list | head -n1)
        echo "${line/ bookworm / bookworm-backports }" | as_root tee -a /etc/apt/sources.list >/dev/null
    else
        echo "setup.sh: found no Debian bookworm source entry to add backports to" >&2
        exit 1
    fi
    updated=0
    apt_update_once
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((reference)); then
    enable_backports
fi
