#!/usr/bin/env bash
# scripts/guest-tests.sh: boots each test guest as dom0 and reads its verdict line.
#
# Usage: scripts/guest-tests.sh [--hypervisor apus|xen|both] [--timeout S] [GUEST...]
#   default: --hypervisor both, every guest under Guests/ (but Runtime), 120 s per boot (twice that with -smp > 1).
#
# Every guest gets the same GRUB entry on either hypervisor (only the image differs):
#   multiboot2 /boot/<apus.elf|xen.gz> <dom0_mem part> $CMDLINE_REST   (see CMDLINE below)
#   module2 /boot/<guest>.elf apus-guest=<guest> arg2=two last-word
#   module2 /boot/initrd.bin                    (startinfo and dom0 only)
# Xen is real Xen 4.17 on QEMU 10 (scripts/xen-reference.sh); Apus runs on the system
# QEMU. A boot ends at the guest's verdict line (APUS-TEST <guest>: PASS|FAIL ...), at
# a hypervisor panic or dom0 crash, or at the time limit; logs stay in
# build/guest-tests/<hypervisor>-<guest>.log.
#
# A guest whose folder holds a file SMP (CPU counts, e.g. `1 2 4`) boots once per count
# with QEMU's -smp N on either hypervisor (run-qemu.sh --smp N); its logs and ISOs are
# named <hypervisor>-<guest>-smpN and each boot is one result ("PASS xen/smp(smp2): ...").
# Xen's default gives dom0 one vCPU per CPU, so no dom0_max_vcpus= is passed; the guest
# finds its vCPU count itself. Guests without the file boot once with -smp 1.
#
# Every guest's hypervisor command line starts with dom0_mem=64M,max:64M (then
# `console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot`). A guest folder
# may hold a file CMDLINE whose first line replaces that dom0_mem=... part, on either
# hypervisor: e.g. `dom0_mem=64M,max:96M` leaves the balloon guest room to grow. The
# line may carry further options; it should keep a dom0_mem= of its own, or the
# hypervisor's default dom0 size applies.
#
# A run passes when its verdict is PASS. With --hypervisor both, the two verdict lines
# (of the same CPU count) must also be identical; a difference fails unless the guest's
# source has a line `// apus-xen-difference: <why>` explaining it (a documented Xen bug
# or emulator fault), in which case it is reported and not counted as a failure.
# Ends with "N passed, M failed, K skipped" (one count per hypervisor run) and a
# non-zero status if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

hypervisor=both timeout_s=120 guests=()
while (($#)); do
    case "$1" in
        --hypervisor) hypervisor=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        -h|--help) sed -n '2,34p' "$0" >&2; exit 2 ;;
        -*) echo "guest-tests.sh: unknown option $1" >&2; exit 2 ;;
        *) guests+=("$1") ;;
    esac
    shift
done
case "$hypervisor" in
    apus) hypervisors=(apus) ;;
    xen) hypervisors=(xen) ;;
    both) hypervisors=(xen apus) ;;
    *) echo "guest-tests.sh: --hypervisor must be apus, xen or both" >&2; exit 2 ;;
esac
if ((${#guests[@]} == 0)); then
    for dir in Guests/*/; do
        name=$(basename "$dir")
        [[ $name == Runtime ]] || guests+=("$name")
    done
fi

DOM0_MEM_DEFAULT="dom0_mem=64M,max:64M"
CMDLINE_REST="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot"
STOP='APUS-TEST [A-Za-z0-9_-]+: (PASS|FAIL)|Panic on CPU|Domain 0 crashed|Hardware Dom0 crashed|Hardware Dom0 halted'
out=build/guest-tests
mkdir -p "$out"

scripts/build-guests.sh "${guests[@]}" >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }

# The initrd the startinfo and dom0 guests expect: a 12345-byte file starting with the
# magic "APUS-INITRD" followed by byte i = i mod 251 (the guests check both).
initrd=build/guests/initrd.bin
python3 - "$initrd" <<'EOF'
import sys
data = bytearray(i % 251 for i in range(12345))
data[0:11] = b"APUS-INITRD"
open(sys.argv[1], "wb").write(data)
EOF

for hv in "${hypervisors[@]}"; do
    case "$hv" in
        xen) scripts/xen-reference.sh fetch ;;
        apus) [[ -f build/apus.elf ]] || scripts/build.sh >"$out/apus-build.log" 2>&1 \
                  || { cat "$out/apus-build.log" >&2; exit 1; } ;;
    esac
done

# boot HYPERVISOR GUEST CPUS TAG: prints the verdict line (or a reason there is none).
# TAG ("" or "-smpN") names the ISO and log.
boot() {
    local hv=$1 name=$2 cpus=$3 iso=$out/$1-$2$4.iso log=$out/$1-$2$4.log
    local modules=(--module "build/guests/$name.elf" "apus-guest=$name arg2=two last-word")
    case "$name" in startinfo|dom0) modules+=(--module "$initrd" "") ;; esac
    local qemu=() dom0_mem=$DOM0_MEM_DEFAULT
    if [[ -f Guests/$name/CMDLINE ]]; then
        dom0_mem=$(head -1 "Guests/$name/CMDLINE" | tr -d '\r')
    fi
    local cmdline="$dom0_mem $CMDLINE_REST"
    if [[ $hv == xen ]]; then
        scripts/xen-reference.sh iso -o "$iso" --cmdline "$cmdline" "${modules[@]}"
        qemu=(--qemu reference)
    else
        scripts/mkiso.sh -o "$iso" --hypervisor build/apus.elf --cmdline "$cmdline" "${modules[@]}"
    fi
    # Several emulated CPUs share the host's cores (TCG): their boots get twice the time.
    local limit=$timeout_s
    ((cpus == 1)) || limit=$((timeout_s * 2))
    scripts/run-qemu.sh --iso "$iso" "${qemu[@]}" --smp "$cpus" --log "$log" --timeout "$limit" \
        --wait-for "$STOP" >/dev/null 2>"$log.stderr" </dev/null || true
    local verdict
    verdict=$(tr -d '\r' <"$log" | grep -aoE "APUS-TEST $name: (PASS|FAIL).*" | tail -1 || true)
    if [[ -n $verdict ]]; then
        echo "$verdict"
    elif grep -aqE 'Panic on CPU|Domain 0 crashed|Hardware Dom0 crashed' "$log"; then
        echo "no verdict: the hypervisor reported a crash (see $log)"
    else
        echo "no verdict within ${limit}s (see $log)"
    fi
}

# A guest whose folder holds APUS-PENDING specifies behaviour Apus does not have yet (the
# file says what is missing): it must pass on Xen, and its Apus result is reported as
# skipped instead of failing the suite, until the file is removed. Per CPU count alike.
passed=0 failed=0 skipped=0
for name in "${guests[@]}"; do
    pending=""
    [[ ! -f Guests/$name/APUS-PENDING ]] || pending=$(head -1 "Guests/$name/APUS-PENDING")
    counts=(1) tagged=0
    if [[ -f Guests/$name/SMP ]]; then
        read -r -a counts <<<"$(tr '\t\n' '  ' <"Guests/$name/SMP")"
        tagged=1
        ((${#counts[@]})) || { echo "guest-tests.sh: Guests/$name/SMP lists no CPU count" >&2; exit 2; }
        for cpus in "${counts[@]}"; do
            [[ $cpus =~ ^[1-9][0-9]*$ ]] || { echo "guest-tests.sh: Guests/$name/SMP: bad CPU count '$cpus'" >&2; exit 2; }
        done
    fi
    apus_all_pass=1
    for cpus in "${counts[@]}"; do
        declare -A verdicts=()
        tag="" label=$name
        if ((tagged)); then tag="-smp$cpus" label="$name(smp$cpus)"; fi
        for hv in "${hypervisors[@]}"; do
            verdict=$(boot "$hv" "$name" "$cpus" "$tag")
            verdicts[$hv]=$verdict
            if [[ $verdict == "APUS-TEST $name: PASS"* ]]; then
                echo "PASS $hv/$label: $verdict"; passed=$((passed + 1))
            elif [[ $hv == apus && -n $pending ]]; then
                echo "SKIP $hv/$label: $verdict (pending in Apus: $pending)"; skipped=$((skipped + 1))
                apus_all_pass=0
            else
                echo "FAIL $hv/$label: $verdict"; failed=$((failed + 1))
            fi
        done
        if [[ -z $pending ]] && ((${#hypervisors[@]} == 2)) && [[ ${verdicts[xen]} != "${verdicts[apus]}" ]]; then
            note=$(grep -rhoE '// apus-xen-difference: .*' "Guests/$name" | head -1 || true)
            if [[ -n $note ]]; then
                echo "NOTE $label: verdicts differ, explained: ${note#// apus-xen-difference: }"
            else
                echo "FAIL $label: verdicts differ (xen: ${verdicts[xen]} | apus: ${verdicts[apus]})"
                failed=$((failed + 1))
            fi
        fi
        unset verdicts
    done
    if [[ -n $pending && " ${hypervisors[*]} " == *" apus "* ]] && ((apus_all_pass)); then
        echo "NOTE $name passes on Apus now (every CPU count): remove Guests/$name/APUS-PENDING"
    fi
done
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
