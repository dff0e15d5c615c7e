#!/usr/bin/env bash
# Boots a GRUB ISO (see mkiso.sh) under QEMU with the guest's first serial port on this
# terminal, and optionally in a log file.
#
# Exit status: QEMU's own when it exits by itself (0 on power-off; isa-debug-exit at port
# 0xf4 turns a guest's write of V into 2*V+1), 124 when --timeout ran out (QEMU is killed, and
# killed hard 5 s later if it ignores that). With --wait-for: 0 as soon as a serial line
# matches (QEMU is then stopped and `boot-time-ms: N`, the wall time since QEMU started, goes
# to stderr, with `hypervisor-time-ms: N` counted from GRUB's "GRUB: booting" line), 124 on
# timeout, 1 when QEMU exited without a match.
#
# Serial wiring: `-chardev stdio` without a multiplexer, and `-monitor none`. `-serial
# mon:stdio` (what -nographic gives) would make Ctrl-A QEMU's escape key, and Xen-style
# consoles need Ctrl-A x3 to reach the guest to switch input. Ctrl-C still stops QEMU.
#
# Typing into the serial port (with --wait-for): each `--type-after REGEX TEXT` waits for
# a serial line matching REGEX (after the line the previous one matched) and then sends
# TEXT, with printf %b escapes ('\x01\x01\x01' is Ctrl-A three times, '\r' Enter).
set -euo pipefail

usage() {
    cat >&2 <<'EOF'
usage: scripts/run-qemu.sh --iso X.iso [--timeout SECONDS] [--log FILE] [--wait-for REGEX]
                           [--smp N] [--memory MB] [--cpu MODEL] [--machine pc|q35] [--icount]
                           [--qemu PATH] [--dry-run] [--type-after REGEX TEXT]...
                           [-- extra qemu args]
  defaults: -M pc -m 1024 -smp 1 -cpu max (max,-x2apic,-tsc-deadline with --icount);
  --qemu reference: the QEMU 10 that xen-reference.sh unpacks (default: $QEMU or the system's);
  --wait-for alone implies --timeout 120.  --dry-run prints the QEMU command and stops.
EOF
    exit 2
}

iso="" timeout_s="" log="" wait_for="" smp=1 memory=1024 cpu="" machine=pc icount=0
qemu=${QEMU:-qemu-system-x86_64} dry_run=0 extra=() type_after=()
while (($#)); do
    case "$1" in
        --iso) iso=${2:?}; shift ;;
        --timeout) timeout_s=${2:?}; shift ;;
        --log) log=${2:?}; shift ;;
        --wait-for) wait_for=${2:?}; shift ;;
        --smp) smp=${2:?}; shift ;;
        --memory) memory=${2:?}; shift ;;
        --cpu) cpu=${2:?}; shift ;;
        --machine) machine=${2:?}; shift ;;
        --icount) icount=1 ;;
        --qemu) qemu=${2:?}; shift ;;
        --dry-run) dry_run=1 ;;
        --type-after) type_after+=("${2:?}" "${3?}"); shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) usage ;;
        *) echo "run-qemu.sh: unknown argument: $1" >&2; usage ;;
    esac
    shift
done
[[ -n $iso ]] || usage
[[ -f $iso ]] || { echo "run-qemu.sh: no such ISO: $iso" >&2; exit 1; }
[[ -z $wait_for || -n $timeout_s ]] || timeout_s=120
((${#type_after[@]} == 0)) || [[ -n $wait_for ]] || { echo "run-qemu.sh: --type-after needs --wait-for" >&2; exit 2; }
[[ $qemu != reference ]] || qemu=$("$(dirname "${BASH_SOURCE[0]}")/xen-reference.sh" qemu-path)

# Under -icount the TSC-deadline timer and x2APIC misbehave in QEMU 10 (DESIGN.md).
if [[ -z $cpu ]]; then
    if ((icount)); then cpu=max,-x2apic,-tsc-deadline; else cpu=max; fi
fi

# shellcheck disable=SC2054 # the commas are inside QEMU option values
cmd=("$qemu" -M "$machine" -m "$memory" -smp "$smp" -cpu "$cpu"
     -display none -monitor none -no-reboot
     -device isa-debug-exit,iobase=0xf4,iosize=0x04
     -cdrom "$iso" -boot d)
if ((icount)); then cmd+=(-icount shift=0); fi

# A QEMU unpacked outside /usr (xen-reference.sh's backports build) still has its
# compiled-in paths pointing at the system's files: point it at its own firmware, and keep it
# from probing audio backends, which loads the system QEMU's audio module and aborts on the
# version mismatch. (QEMU 7.2 has no `-audio none`, hence only here.)
qemu_path=$(command -v "$qemu" || true)
[[ -n $qemu_path ]] || { echo "run-qemu.sh: QEMU not found: $qemu (run scripts/setup.sh)" >&2; exit 1; }
prefix=$(cd "$(dirname "$qemu_path")/.." && pwd)
if [[ $prefix != /usr ]]; then
    cmd+=(-audio none)
    for dir in "$prefix/share/qemu" "$prefix/share/seabios"; do
        if [[ -d $dir ]]; then cmd+=(-L "$dir"); fi
    done
fi

tmp=""
if [[ -n $wait_for && -z $log ]]; then
    tmp=$(mktemp -d)
    log=$tmp/serial.log
fi
chardev=stdio,id=serial0,signal=on
if [[ -n $log ]]; then
    mkdir -p "$(dirname "$log")"
    : >"$log"
    chardev+=",logfile=${log//,/,,},logappend=on"   # QEMU option values double commas
fi
cmd+=(-chardev "$chardev" -serial chardev:serial0 "${extra[@]}")

if ((dry_run)); then
    printf '%q ' "${cmd[@]}"
    echo
    exit 0
fi
if [[ -n $timeout_s ]]; then
    cmd=(timeout --foreground -k 5 "$timeout_s" "${cmd[@]}")
fi

# A closed stdin would let QEMU open some other file as fd 0.
{ : <&0; } 2>/dev/null || exec </dev/null

if [[ -z $wait_for ]]; then
    status=0
    "${cmd[@]}" || status=$?
    ((status != 124)) || echo "run-qemu.sh: timed out after ${timeout_s}s" >&2
    exit "$status"
fi

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

qemu_pid="" typist_pid=""
cleanup() {
    if [[ -n $typist_pid ]]; then kill "$typist_pid" 2>/dev/null || true; wait "$typist_pid" 2>/dev/null || true; fi
    if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill "$qemu_pid" 2>/dev/null || true
        wait "$qemu_pid" 2>/dev/null || true
    fi
    [[ -z $tmp ]] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Serial input: QEMU reads a FIFO that stays open read-write here (so neither side blocks
# on open and QEMU never sees end-of-file); the typist writes into it.
input=/dev/null
if ((${#type_after[@]})); then
    [[ -n $tmp ]] || tmp=$(mktemp -d)
    mkfifo "$tmp/serial-in"
    exec 3<>"$tmp/serial-in"
    input=$tmp/serial-in
fi

start_ms=$(now_ms)
# QEMU's note that it was stopped is expected here; its other messages still show.
"${cmd[@]}" <"$input" 2> >(grep -v --line-buffered ': terminating on signal' >&2) &
qemu_pid=$!

# Types each TEXT once a serial line after the last match matches its REGEX.
type_input() {
    local done_lines=0 i=0 found
    while ((i < ${#type_after[@]})); do
        found=""
        while [[ -z $found ]]; do
            kill -0 "$qemu_pid" 2>/dev/null || return 0
            found=$(tail -n +$((done_lines + 1)) "$log" | tr -d '\r' | grep -n -m1 -E -- "${type_after[i]}" | cut -d: -f1) || true
            [[ -n $found ]] || sleep 0.1
        done
        done_lines=$((done_lines + found))
        printf '%b' "${type_after[i + 1]}" >&3
        i=$((i + 2))
    done
}
if ((${#type_after[@]})); then
    type_input &
    typist_pid=$!
fi

# Reads the serial log line by line as QEMU writes it; tail stops once QEMU has exited.
grub_ms=""
watch_log() {
    local line
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        if [[ -z $grub_ms && $line == *"GRUB: booting"* ]]; then
            grub_ms=$(now_ms)
        fi
        [[ ! $line =~ $wait_for ]] || return 0
    done
    return 1
}
if watch_log < <(tail -s 0.1 -n +1 -f --pid="$qemu_pid" "$log" 2>/dev/null); then
    end_ms=$(now_ms)
    kill "$qemu_pid" 2>/dev/null || true
    wait "$qemu_pid" 2>/dev/null || true
    qemu_pid=""
    echo "boot-time-ms: $((end_ms - start_ms))" >&2
    [[ -z $grub_ms ]] || echo "hypervisor-time-ms: $((end_ms - grub_ms))" >&2
    exit 0
fi
status=0
wait "$qemu_pid" || status=$?
qemu_pid=""
if ((status == 124)); then
    echo "run-qemu.sh: timed out after ${timeout_s}s without a line matching: $wait_for" >&2
    exit 124
fi
echo "run-qemu.sh: QEMU exited (status $status) without a line matching: $wait_for" >&2
exit 1
