#!/usr/bin/env bash
# scripts/run.sh: sets up, builds and boots Apus under QEMU with a Xen-style GRUB entry,
# its serial console on this terminal.
#
# Usage: scripts/run.sh [--protocol mb2|mb1] [--timeout SECONDS] [--smp N] [--memory MB]
#                       [--module PATH "ARGS"]... [--] [APUS OPTIONS...]
# With no options after `--` Apus gets the default command line below (Xen's options,
# see README). Modules become module2 lines in order: the first is the dom0 kernel, the
# second its initrd. Without --module the default dom0 is booted: the `dom0` test guest
# (Guests/dom0), which reports what it was given and powers off, so QEMU exits by itself.
# `--no-dom0` boots without any module (Apus then stops as Xen does: no dom0 kernel).
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_OPTIONS="dom0_mem=512M,max:512M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all"
protocol=mb2 timeout_s="" smp=1 memory=1024 modules=() options=() no_dom0=0
while (($#)); do
    case "$1" in
        --protocol) protocol=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        --smp) smp=${2:?}; shift ;;
        --memory) memory=${2:?}; shift ;;
        --module) modules+=(--module "${2:?}" "${3?--module needs PATH and ARGS}"); shift 2 ;;
        --no-dom0) no_dom0=1 ;;
        --) shift; options=("$@"); break ;;
        -h|--help) sed -n '2,12p' "$0" >&2; exit 2 ;;
        *) options=("$@"); break ;;
    esac
    shift
done
((${#options[@]})) || read -r -a options <<< "$DEFAULT_OPTIONS"

scripts/setup.sh
scripts/build.sh >/dev/null
if ((${#modules[@]} == 0 && !no_dom0)); then
    scripts/build-guests.sh dom0 >/dev/null
    head -c 12345 /dev/zero | tr '\0' 'A' > build/guests/run-initrd.bin
    modules=(--module build/guests/dom0.elf "console=hvc0 apus-guest=dom0" --module build/guests/run-initrd.bin "")
fi
mkdir -p build
scripts/mkiso.sh -o build/apus-run.iso --hypervisor build/apus.elf --protocol "$protocol" \
    --cmdline "${options[*]}" "${modules[@]}"
run=(scripts/run-qemu.sh --iso build/apus-run.iso --smp "$smp" --memory "$memory")
[[ -z $timeout_s ]] || run+=(--timeout "$timeout_s")
exec "${run[@]}"
