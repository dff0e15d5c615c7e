#!/usr/bin/env bash
# scripts/bench-dom0.sh: the dom0 benchmarks of issues 3 and 4 (figures to read, asserted
# nowhere).
#
# Usage: scripts/bench-dom0.sh [--qemu system|reference|both] [--runs N] [--boot-runs N]
#                              [--timeout S] [--no-build]
#   defaults: --qemu both, 1 icount run and 3 boot-time runs per hypervisor, 300 s per boot.
#
# Builds Apus (scripts/build.sh) and the bench and smp guests (Guests/bench, Guests/smp),
# and boots them as dom0 on Apus and on real Xen 4.17 (scripts/xen-reference.sh) with the
# same GRUB entry as scripts/guest-tests.sh, on the SAME QEMU for both (the system's 7.2,
# the reference 10, or one table for each). Three kinds of boot:
#  - under -icount shift=0 (run-qemu.sh --icount), where the guest's TSC deltas count the
#    instructions the guest and the hypervisor retire: the guest prints
#    `APUS-BENCH <metric> <instructions>` lines (see Guests/bench/main.swift);
#  - without icount, waiting for dom0's first console line (`APUS-TEST bench: start`):
#    the wall-clock time from QEMU's start (and from GRUB's hand-over) to that line, as
#    run-qemu.sh --wait-for measures it; the median of --boot-runs boots.
#  - under -icount shift=0 with -smp 2, the smp guest with the command-line word `bench`
#    (Guests/smp/Bench.swift): event sends, SCHEDOP_yield and block/wake round trips
#    between two vCPUs. With -icount QEMU runs both CPUs round-robin in one thread and
#    the TSC counts what BOTH retire, so these are instructions of the whole machine per
#    operation (the waiting vCPU idles in the hypervisor, halted). While
#    Guests/smp/APUS-PENDING exists, Apus's column may stay empty without failing.
# The table puts each figure for Apus beside Xen's from the same invocation. An icount
# figure that differed between --runs shows as "median [min..max]".
# Logs: build/bench-dom0/. Exits 0 unless a build or a boot failed (no PASS verdict, no
# first line, or a missing figure).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,28p' "$0" >&2; exit 2; }

qemus=(system reference) runs=1 boot_runs=3 timeout_s=300 build=1
while (($#)); do
    case "$1" in
        --qemu)
            case "${2:?}" in
                system|reference) qemus=("$2") ;;
                both) qemus=(system reference) ;;
                *) echo "bench-dom0.sh: --qemu must be system, reference or both" >&2; exit 2 ;;
            esac
            shift ;;
        --runs) runs=${2:?}; shift ;;
        --boot-runs) boot_runs=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        --no-build) build=0 ;;
        -h|--help) usage ;;
        *) echo "bench-dom0.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done

out=build/bench-dom0
mkdir -p "$out"
failed=0

if ((build)); then
    scripts/build.sh >"$out/apus-build.log" 2>&1 || { cat "$out/apus-build.log" >&2; exit 1; }
    scripts/build-guests.sh bench smp >"$out/guest-build.log" 2>&1 || { cat "$out/guest-build.log" >&2; exit 1; }
fi
[[ -f build/apus.elf && -f build/guests/bench.elf && -f build/guests/smp.elf ]] \
    || { echo "bench-dom0.sh: build/apus.elf, build/guests/bench.elf or smp.elf missing" >&2; exit 1; }
scripts/xen-reference.sh fetch >"$out/fetch.log" 2>&1 || { cat "$out/fetch.log" >&2; exit 1; }

# The command line and module arguments of scripts/guest-tests.sh.
CMDLINE="dom0_mem=64M,max:64M console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot"
MODULE=(--module build/guests/bench.elf "apus-guest=bench arg2=two last-word")
STOP='APUS-TEST bench: (PASS|FAIL)|Panic on CPU|Domain 0 crashed|Hardware Dom0 crashed|Hardware Dom0 halted'
FIRST_LINE='APUS-TEST bench: start'
scripts/mkiso.sh -o "$out/apus.iso" --hypervisor build/apus.elf --cmdline "$CMDLINE" "${MODULE[@]}" \
    >"$out/iso.log" 2>&1 || { cat "$out/iso.log" >&2; exit 1; }
scripts/xen-reference.sh iso -o "$out/xen.iso" --cmdline "$CMDLINE" "${MODULE[@]}" \
    >>"$out/iso.log" 2>&1 || { cat "$out/iso.log" >&2; exit 1; }
SMP_MODULE=(--module build/guests/smp.elf "apus-guest=smp bench")
SMP_STOP='APUS-TEST smp: (PASS|FAIL)|Panic on CPU|Domain 0 crashed|Hardware Dom0 crashed|Hardware Dom0 halted'
scripts/mkiso.sh -o "$out/apus-smp.iso" --hypervisor build/apus.elf --cmdline "$CMDLINE" "${SMP_MODULE[@]}" \
    >>"$out/iso.log" 2>&1 || { cat "$out/iso.log" >&2; exit 1; }
scripts/xen-reference.sh iso -o "$out/xen-smp.iso" --cmdline "$CMDLINE" "${SMP_MODULE[@]}" \
    >>"$out/iso.log" 2>&1 || { cat "$out/iso.log" >&2; exit 1; }
smp_pending=""
[[ ! -f Guests/smp/APUS-PENDING ]] || smp_pending=$(head -1 Guests/smp/APUS-PENDING)

METRICS=(null-hypercall enosys-hypercall multicall-8 mmu-update-va mmu-update-1 mmu-update-512 pin-unpin-l4-tree
         grant-map-unmap trap-bounce loop-overhead rdtsc-delta entry-tsc)
SMP_METRICS=(smp-send-local-masked smp-send-remote-masked smp-yield smp-block-wake-roundtrip)
declare -A label=(
    [null-hypercall]="null hypercall (xen_version)"
    [enosys-hypercall]="unknown hypercall (-ENOSYS)"
    [multicall-8]="multicall, 8 x xen_version"
    [mmu-update-va]="update_va_mapping, 1 PTE"
    [mmu-update-1]="mmu_update, 1 L1 entry"
    [mmu-update-512]="mmu_update, batch of 512 entries"
    [pin-unpin-l4-tree]="pin + unpin of an L4 tree (4 tables)"
    [grant-map-unmap]="grant map + unmap (own grant)"
    [trap-bounce]="#UD bounce + iret"
    [loop-overhead]="loop overhead (subtracted)"
    [rdtsc-delta]="rdtsc;mov;rdtsc (2: native)"
    [entry-tsc]="dom0 entry, virtual ms"
    [smp-send-local-masked]="send, masked port on own vCPU"
    [smp-send-remote-masked]="send, masked port on vCPU 1"
    [smp-yield]="SCHEDOP_yield (vCPU 1 blocked)"
    [smp-block-wake-roundtrip]="block/wake round trip, 2 vCPUs"
    [boot-ms]="QEMU start -> dom0 line"
    [hv-ms]="GRUB -> dom0 line"
)
declare -A values=()   # "<hypervisor> <metric>" -> space-separated figures, one per run

# median of the arguments; "median [min..max]" when they differ; "-" when none.
summary() {
    (($#)) || { echo "-"; return; }
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        if (v[1] == v[NR]) print v[1]; else printf "%s [%s..%s]\n", m, v[1], v[NR] }'
}
median() { summary "$@" | cut -d' ' -f1; }

# icount QEMU_CHOICE HYPERVISOR RUN: one icount boot; records the APUS-BENCH figures.
icount_run() {
    local q=$1 hv=$2 run=$3 log=$out/$1-$2-icount-$3.log qemu=()
    [[ $q == system ]] || qemu=(--qemu reference)
    scripts/run-qemu.sh --iso "$out/$hv.iso" "${qemu[@]}" --icount --log "$log" --timeout "$timeout_s" \
        --wait-for "$STOP" >/dev/null 2>"$log.stderr" </dev/null || true
    if ! tr -d '\r' <"$log" | grep -aq "APUS-TEST bench: PASS"; then
        echo "FAIL: $hv on $q QEMU (icount run $run): no PASS verdict (see $log)" >&2
        failed=1
    fi
    local metric value
    for metric in "${METRICS[@]}"; do
        value=$(tr -d '\r' <"$log" | sed -n "s/^APUS-BENCH $metric \([0-9.]*\)\$/\1/p" | tail -1)
        if [[ -z $value ]]; then
            echo "FAIL: $hv on $q QEMU (icount run $run): no APUS-BENCH $metric line (see $log)" >&2
            failed=1
            continue
        fi
        [[ $metric != entry-tsc ]] || value=$(awk -v t="$value" 'BEGIN { printf "%.1f", t / 1e6 }')
        values["$hv $metric"]+=" $value"
    done
}

# smp_run QEMU_CHOICE HYPERVISOR RUN: one icount boot of the smp guest's benchmarks on two
# CPUs; records its APUS-BENCH figures. Apus failing is not a failure while the guest is
# pending there.
smp_run() {
    local q=$1 hv=$2 run=$3 log=$out/$1-$2-smp2-icount-$3.log qemu=() metric value
    [[ $q == system ]] || qemu=(--qemu reference)
    scripts/run-qemu.sh --iso "$out/$hv-smp.iso" "${qemu[@]}" --icount --smp 2 --log "$log" \
        --timeout "$timeout_s" --wait-for "$SMP_STOP" >/dev/null 2>"$log.stderr" </dev/null || true
    if ! tr -d '\r' <"$log" | grep -aq "APUS-TEST smp: PASS"; then
        if [[ $hv == apus && -n $smp_pending ]]; then
            echo "note: smp benchmarks pending on Apus ($smp_pending); see $log" >&2
            return
        fi
        echo "FAIL: $hv on $q QEMU (smp icount run $run): no PASS verdict (see $log)" >&2
        failed=1
    elif [[ $hv == apus && -n $smp_pending ]]; then
        echo "note: the smp benchmarks pass on Apus: remove Guests/smp/APUS-PENDING" >&2
    fi
    for metric in "${SMP_METRICS[@]}"; do
        value=$(tr -d '\r' <"$log" | sed -n "s/^APUS-BENCH $metric \([0-9.]*\)\$/\1/p" | tail -1)
        if [[ -z $value ]]; then
            [[ $hv == apus && -n $smp_pending ]] && continue
            echo "FAIL: $hv on $q QEMU (smp icount run $run): no APUS-BENCH $metric line (see $log)" >&2
            failed=1
            continue
        fi
        values["$hv $metric"]+=" $value"
    done
}

# boot_run QEMU_CHOICE HYPERVISOR RUN: one plain boot up to dom0's first line.
boot_run() {
    local q=$1 hv=$2 run=$3 log=$out/$1-$2-boot-$3.log qemu=()
    [[ $q == system ]] || qemu=(--qemu reference)
    if scripts/run-qemu.sh --iso "$out/$hv.iso" "${qemu[@]}" --log "$log" --timeout "$timeout_s" \
            --wait-for "$FIRST_LINE" >/dev/null 2>"$log.stderr" </dev/null; then
        values["$hv boot-ms"]+=" $(sed -n 's/^boot-time-ms: //p' "$log.stderr")"
        values["$hv hv-ms"]+=" $(sed -n 's/^hypervisor-time-ms: //p' "$log.stderr")"
    else
        echo "FAIL: $hv on $q QEMU (boot run $run): no first dom0 line (see $log)" >&2
        failed=1
    fi
}

row() { printf '%-32s %22s %22s %8s\n' "$@"; }

for q in "${qemus[@]}"; do
    values=()
    for ((run = 1; run <= runs; run++)); do
        for hv in apus xen; do icount_run "$q" "$hv" "$run"; done
        for hv in apus xen; do smp_run "$q" "$hv" "$run"; done
    done
    for ((run = 1; run <= boot_runs; run++)); do
        for hv in apus xen; do boot_run "$q" "$hv" "$run"; done
    done

    if [[ $q == system ]]; then qemu_bin=${QEMU:-qemu-system-x86_64}; else qemu_bin=$(scripts/xen-reference.sh qemu-path); fi
    echo
    echo "$("$qemu_bin" --version | head -n1) ($q); Apus $(git describe --always --dirty 2>/dev/null || echo '?')" \
         "vs Xen 4.17; dom0 = Guests/bench"
    echo "instructions per operation under -icount shift=0 (${runs} run(s); guest + hypervisor, loop overhead subtracted):"
    row "" "Apus" "Xen 4.17" "Apus/Xen"
    for metric in "${METRICS[@]}" "${SMP_METRICS[@]}" boot-ms hv-ms; do
        if [[ $metric == smp-send-local-masked ]]; then
            echo "two vCPUs, -smp 2 (Guests/smp bench): instructions of both CPUs per operation${smp_pending:+ (Apus: pending)}:"
        fi
        if [[ $metric == boot-ms ]]; then
            echo "wall-clock ms without icount (median of ${boot_runs} boots) to dom0's first console line:"
        fi
        # shellcheck disable=SC2086 # the lists are space-separated numbers
        apus=$(summary ${values["apus $metric"]:-}) xen=$(summary ${values["xen $metric"]:-})
        ratio=-
        # shellcheck disable=SC2086
        a=$(median ${values["apus $metric"]:-}) x=$(median ${values["xen $metric"]:-})
        if [[ $a != - && $x != - ]]; then
            ratio=$(awk -v a="$a" -v x="$x" 'BEGIN { if (x > 0) printf "%.2f", a / x; else print "-" }')
        fi
        row "  ${label[$metric]}" "$apus" "$xen" "$ratio"
    done
done
echo
echo "logs: $out/"
exit "$failed"
