#!/usr/bin/env bash
# Boot benchmark (a figure to read, asserted nowhere): image size and the time from QEMU's
# start to the hypervisor's "no dom0 kernel" panic, for Apus (build/apus.elf) beside real
# Xen 4.17 (xen-reference.sh) on the same QEMU, same command line, no modules. Each is booted
# N times; the table shows medians. "hv ms" counts from GRUB's last line ("GRUB: booting"),
# so it leaves out firmware and GRUB.
#
# Environment: APUS_REGEX and XEN_REGEX (both default to `dom0 kernel not specified`, the
# line Xen 4.17 panics with and Apus prints too) are the lines waited for; BENCH_CMDLINE is
# the command line given to both. Xen panics before most of its set-up, Apus at the very
# end of its (ACPI, timer calibration over 2 x 50 ms): the "hv ms" are not the same work.
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: scripts/bench-boot.sh [--runs N] [--timeout SECONDS] [--qemu PATH|reference] [-- run-qemu.sh options]
  defaults: 3 runs, 60 s per boot; a hypervisor whose boot fails once is not retried
EOF
    exit 2
}

runs=3 timeout_s=60 qemu_opt=() run_opts=()
while (($#)); do
    case "$1" in
        --runs) runs=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        --qemu) qemu_opt=(--qemu "${2:?}"); shift ;;
        --) shift; run_opts=("$@"); break ;;
        -h|--help) usage ;;
        *) echo "bench-boot.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
apus_elf=$here/../build/apus.elf
apus_regex=${APUS_REGEX:-dom0 kernel not specified}
xen_regex=${XEN_REGEX:-dom0 kernel not specified}
cmdline=${BENCH_CMDLINE:-console=com1 com1=115200,8n1 noreboot}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Sum of PT_LOAD memory sizes: what the image occupies once loaded.
loaded_bytes() {
    local type memsz sum=0
    while read -r type _ _ _ _ memsz _; do
        [[ $type != LOAD ]] || sum=$((sum + memsz))
    done < <(readelf -lW "$1")
    echo "$sum"
}

median() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
        else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# Boots $1 (an ISO) up to $runs times waiting for $2; prints "boot-median hv-median failures".
measure() {
    local iso=$1 regex=$2 i failures=0
    : >"$tmp/boot" ; : >"$tmp/hv"
    for ((i = 0; i < runs; i++)); do
        if "$here/run-qemu.sh" --iso "$iso" --timeout "$timeout_s" --wait-for "$regex" \
                "${qemu_opt[@]}" "${run_opts[@]}" >/dev/null 2>"$tmp/err"; then
            sed -n 's/^boot-time-ms: //p' "$tmp/err" >>"$tmp/boot"
            sed -n 's/^hypervisor-time-ms: //p' "$tmp/err" >>"$tmp/hv"
        else
            failures=$((failures + 1))
            grep '^run-qemu.sh:' "$tmp/err" >&2 || true
            break
        fi
    done
    echo "$(median <"$tmp/boot") $(median <"$tmp/hv") $failures"
}

row() { printf '%-22s %12s %12s %10s %8s %6s\n' "$@"; }

qemu=${qemu_opt[1]:-${QEMU:-qemu-system-x86_64}}
[[ $qemu != reference ]] || qemu=$("$here/xen-reference.sh" qemu-path)
qemu_name=$("$qemu" --version | head -n1)
echo "$qemu_name; $runs runs each; cmdline: $cmdline"
row "" "image bytes" "loaded bytes" "boot ms" "hv ms" "fails"

if [[ -f $apus_elf ]]; then
    "$here/mkiso.sh" -o "$tmp/apus.iso" --hypervisor "$apus_elf" --cmdline "$cmdline"
    read -r boot hv failures < <(measure "$tmp/apus.iso" "$apus_regex")
    row "Apus (apus.elf)" "$(stat -c %s "$apus_elf")" "$(loaded_bytes "$apus_elf")" \
        "$boot" "$hv" "$failures"
else
    echo "build/apus.elf does not exist yet (scripts/build.sh makes it): Apus row skipped" >&2
fi

xen_gz=$("$here/xen-reference.sh" xen-path)
gunzip -c "$xen_gz" >"$tmp/xen-syms"
"$here/xen-reference.sh" iso -o "$tmp/xen.iso" --cmdline "$cmdline"
read -r boot hv failures < <(measure "$tmp/xen.iso" "$xen_regex")
row "Xen 4.17 (xen.gz)" "$(stat -c %s "$xen_gz")" "$(loaded_bytes "$tmp/xen-syms")" \
    "$boot" "$hv" "$failures"
echo "(Xen's image bytes are its gzip'd file; unpacked: $(stat -c %s "$tmp/xen-syms"))"
