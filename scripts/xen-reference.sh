#!/usr/bin/env bash
# The reference oracle: real Xen 4.17 from Debian's xen-hypervisor-4.17-amd64 package, and
# QEMU 10 from bookworm-backports, both unpacked into reference-cache/ (gitignored) with
# `apt-get download` + `dpkg -x`, never installed. The system's QEMU 7.2 stays as it is.
#
#   fetch       download and unpack both (once; later calls reuse the cache)
#   xen-path    print the path of xen.gz, fetching first if needed
#   qemu-path   print the path of the QEMU 10 binary (for run-qemu.sh --qemu), fetching first
#   iso -o OUT.iso [mkiso.sh options]
#               build an ISO whose entry is `multiboot2 /boot/xen.gz <opts>` plus module2
#               lines, exactly like Apus's (options go to mkiso.sh)
#
# QEMU 10 is needed because QEMU 7.2 reports a #GP from `int n` with a wrong error code,
# which breaks PV test guests under real Xen. The unpacked QEMU needs no library beyond
# what Debian 12's QEMU 7.2 already pulls in; run-qemu.sh points it at its own firmware.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: scripts/xen-reference.sh fetch | xen-path | qemu-path | iso -o OUT.iso [mkiso.sh options]
EOF
    exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=$(realpath -m "${REFERENCE_CACHE:-$here/../reference-cache}")
xen_pkg=xen-hypervisor-4.17-amd64
qemu_pkgs=(qemu-system-x86/bookworm-backports qemu-system-data/bookworm-backports
           seabios/bookworm-backports)

xen_gz() { echo "$cache/xen/boot/xen-4.17-amd64.gz"; }
qemu_bin() { echo "$cache/qemu/usr/bin/qemu-system-x86_64"; }

# Downloads packages into $1/debs and unpacks every one of them into $1.
download_unpack() {
    local dir=$1 log deb
    shift
    mkdir -p "$dir/debs"
    log=$(mktemp)
    # apt warns when it downloads as root into a folder its sandbox user cannot write to.
    if ! (cd "$dir/debs" && apt-get download -q "$@") >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "xen-reference.sh: apt-get download $* failed" >&2
        exit 1
    fi
    rm -f "$log"
    for deb in "$dir"/debs/*.deb; do
        dpkg -x "$deb" "$dir"
    done
}

fetch() {
    if [[ ! -f $(xen_gz) ]]; then
        rm -rf "$cache/xen"
        download_unpack "$cache/xen" "$xen_pkg"
        [[ -f $(xen_gz) ]] || { echo "xen-reference.sh: no $(xen_gz) in $xen_pkg" >&2; exit 1; }
    fi
    if [[ ! -x $(qemu_bin) ]]; then
        "$here/setup.sh" --reference
        rm -rf "$cache/qemu"
        download_unpack "$cache/qemu" "${qemu_pkgs[@]}"
        "$(qemu_bin)" --version >/dev/null || {
            echo "xen-reference.sh: the unpacked QEMU does not run" >&2; exit 1; }
    fi
}

(($#)) || usage
action=$1
shift
case "$action" in
    fetch) fetch ;;
    xen-path) fetch; xen_gz ;;
    qemu-path) fetch; qemu_bin ;;
    iso)
        fetch
        exec "$here/mkiso.sh" --hypervisor "$(xen_gz)" --name /boot/xen.gz \
            --title "Xen 4.17 (reference)" "$@"
        ;;
    -h|--help) usage ;;
    *) echo "xen-reference.sh: unknown action: $action" >&2; usage ;;
esac
