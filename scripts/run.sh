#!/usr/bin/env bash
# scripts/run.sh: sets up, builds and boots Apus under QEMU with a Xen-style GRUB entry,
# its serial console on this terminal.
#
# Usage: scripts/run.sh [--protocol mb2|mb1] [--timeout SECONDS] [--smp N] [--memory MB]
#                       [--module PATH "ARGS"]... [--] [APUS OPTIONS...]
# With no options after `--` Apus gets the default command line below (Xen's options,
# see README). Modules become module2 lines in order: the first is the dom0 kernel, the
# second its initrd. Until the dom0 issue lands there is no default dom0: Apus reports
# that it has no dom0 kernel and follows the fatal-error rule (reboot, which ends QEMU
# here because it runs with -no-reboot; or halt with `noreboot`: end QEMU with Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_OPTIONS="dom0_mem=512M,max:512M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all"
protocol=mb2 timeout_s="" smp=1 memory=1024 modules=() options=()
while (($#)); do
    case "$1" in
        --protocol) protocol=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        --smp) smp=${2:?}; shift ;;
        --memory) memory=${2:?}; shift ;;
        --module) modules+=(--module "${2:?}" "${3?--module needs PATH and ARGS}"); shift 2 ;;
        --) shift; options=("$@"); break ;;
        -h|--help) sed -n '2,12p' "$0" >&2; exit 2 ;;
        *) options=("$@"); break ;;
    esac
    shift
done
((${#options[@]})) || read -r -a options <<< "$DEFAULT_OPTIONS"

scripts/setup.sh
scripts/build.sh >/dev/null
mkdir -p build
scripts/mkiso.sh -o build/apus-run.iso --hypervisor build/apus.elf --protocol "$protocol" \
    --cmdline "${options[*]}" "${modules[@]}"
run=(scripts/run-qemu.sh --iso build/apus-run.iso --smp "$smp" --memory "$memory")
[[ -z $timeout_s ]] || run+=(--timeout "$timeout_s")
exec "${run[@]}"
