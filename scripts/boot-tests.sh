#!/usr/bin/env bash
# scripts/boot-tests.sh: boots build/apus.elf under QEMU through GRUB and checks the
# serial log, one case per situation a Xen user meets at boot.
#
# Usage: scripts/boot-tests.sh [CASE...]      (default: every case; names below)
# Each case builds an ISO with its own command line and protocol, boots it with a time
# limit (a case never hangs), and checks that every expected line appears, in the log,
# and that no unexpected ones do. Logs stay in build/boot-tests/<case>.log.
# Ends with "N passed, M failed" and a non-zero status if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -f build/apus.elf ]] || { echo "boot-tests: build/apus.elf missing (run scripts/build.sh)" >&2; exit 1; }
out=build/boot-tests
mkdir -p "$out"
passed=0 failed=0 failures=()
only=("$@")

STANDARD="dom0_mem=512M,max:512M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all"
NO_DOM0='dom0 kernel not specified\. Check bootloader configuration'

# boot NAME PROTOCOL CMDLINE STOP_REGEX [run-qemu options...]
# STOP_REGEX empty: wait for QEMU to exit by itself (it runs with -no-reboot).
boot() {
    local name=$1 protocol=$2 cmdline=$3 stop=$4; shift 4
    local iso=$out/$name.iso log=$out/$name.log
    scripts/mkiso.sh -o "$iso" --hypervisor build/apus.elf --protocol "$protocol" --cmdline "$cmdline" "${module_args[@]}"
    local run=(scripts/run-qemu.sh --iso "$iso" --log "$log" --timeout 90 "$@")
    [[ -z $stop ]] || run+=(--wait-for "$stop")
    status=0
    "${run[@]}" >/dev/null 2>"$out/$name.stderr" </dev/null || status=$?
    tr -d '\r' < "$log" > "$log.txt"
    log_txt=$log.txt
}

# expect PATTERN...: every extended regex must match some line of the last boot's log.
# refuse PATTERN...: none may.
case_problems=()
expect() { local p; for p; do grep -qE -- "$p" "$log_txt" || case_problems+=("missing: $p"); done; }
refuse() { local p; for p; do ! grep -qE -- "$p" "$log_txt" || case_problems+=("unexpected: $p"); done; }
expect_status() { [[ $status == "$1" ]] || case_problems+=("run-qemu.sh exit status $status, expected $1"); }

run_case() {
    local name=$1
    if ((${#only[@]})) && [[ " ${only[*]} " != *" $name "* ]]; then return; fi
    case_problems=() module_args=()
    "case_$name"
    if ((${#case_problems[@]} == 0)); then
        echo "PASS $name"; passed=$((passed + 1))
    else
        echo "FAIL $name (logs: $out/)"; printf '     %s\n' "${case_problems[@]}"
        failed=$((failed + 1)); failures+=("$name")
    fi
}

# The run command's entry: the whole boot log a Xen user expects, then Xen's no-dom0
# panic, the reboot after five seconds (QEMU exits by itself because of -no-reboot).
case_standard_mb2() {
    boot standard_mb2 mb2 "$STANDARD" ""
    expect_status 0
    expect '^\(XEN\) Apus version [0-9.]+ \(Xen 4\.17 interface\)' \
        '^\(XEN\) Bootloader: GRUB .*\(multiboot2\)' \
        "^\(XEN\) Command line: $STANDARD\$" \
        '^\(XEN\) CPU Vendor: (AMD|Intel), Family [0-9]+ \(0x[0-9a-f]+\), Model [0-9]+' \
        '^\(XEN\) Xen-e820 RAM map:' \
        '^\(XEN\)  \[0000000000100000, 000000003ffdffff\] \(usable\)' \
        '^\(XEN\)  \[0000000000200000, [0-9a-f]{16}\] Apus image' \
        '^\(XEN\) System RAM: 1023MB \(1048060kB\)' \
        '^\(XEN\) Domain heap initialised: [0-9]+ pages' \
        '^\(XEN\) ACPI: RSDP 000F[0-9A-F]{4}, 0014 \(r0 BOCHS \)' \
        '^\(XEN\) ACPI: APIC [0-9A-F]{8}, ' \
        '^\(XEN\) ACPI: IOAPIC \(id\[0x00\] address\[0xfec00000\] gsi_base\[0\]\)' \
        '^\(XEN\) SMP: Allowing 1 CPUs' \
        '^\(XEN\) Detected [0-9]+\.[0-9]{3} MHz processor\.' \
        '^\(XEN\) Local APIC timer: [0-9]+\.[0-9]{3} MHz' \
        '^\(XEN\) Timer tick: 100 Hz .* \([1-9][0-9]* ticks in 50 ms\)' \
        '^\(XEN\) Console: com1$' \
        '^\(XEN\) Allocated console ring of 16 KiB\.' \
        '^\(XEN\) Using scheduler: SMP Credit Scheduler \(credit\)' \
        '^\(XEN\) Dom0 memory: 512MB \(131072 pages\), min 0B, max 512MB' \
        '^\(XEN\) Std\. Loglevel: All' \
        '^\(XEN\) Guest Loglevel: All' \
        "^\(XEN\) $NO_DOM0" \
        '^\(XEN\) Reboot in five seconds\.\.\.'
    refuse 'unknown!' 'invalid value' 'FATAL' 'WARNING'
}

# GRUB's `multiboot` command (protocol 1) boots the same image with the same result.
case_multiboot1() {
    boot multiboot1 mb1 "$STANDARD noreboot" "Manual reset required"
    expect_status 0
    expect '^\(XEN\) Bootloader: GRUB .*\(multiboot\)$' \
        '^\(XEN\)  \[0000000000100000, 000000003ffdffff\] \(usable\)' \
        '^\(XEN\) System RAM: 1023MB' \
        '^\(XEN\) ACPI: IOAPIC' \
        "^\(XEN\) $NO_DOM0" \
        "^\(XEN\) Manual reset required \('noreboot' specified\)"
    refuse 'Reboot in five seconds'
}

# Unknown and malformed options are reported with the reason and ignored; the boot goes on.
case_bad_options() {
    boot bad_options mb2 "$STANDARD frobnicate=3 dom0_mem=12Q com2=fast loglvl=chatty sched=sedf noreboot hap" "Manual reset required"
    expect '^\(XEN\) parameter "frobnicate" unknown!' \
        '^\(XEN\) parameter "dom0_mem" has invalid value "12Q": ' \
        '^\(XEN\) parameter "com2" has invalid value "fast": ' \
        '^\(XEN\) parameter "loglvl" has invalid value "chatty": ' \
        '^\(XEN\) parameter "sched" .*credit' \
        '^\(XEN\) parameter "hap" accepted but not implemented by Apus yet' \
        '^\(XEN\) Dom0 memory: 512MB' \
        "^\(XEN\) $NO_DOM0"
}

# mem= cuts RAM above a physical address; badpage= keeps frames out of the allocator.
case_mem_and_badpage() {
    boot mem_and_badpage mb2 "console=com1 mem=256M badpage=0x12345,0x1000-0x1003 noreboot" "Manual reset required"
    expect '^\(XEN\) mem=0x10000000: ignoring 767MB of RAM above that physical address' \
        '^\(XEN\) Bad page 0x12345: reserved, never allocated' \
        '^\(XEN\) Bad pages 0x1000-0x1003: reserved, never allocated' \
        '^\(XEN\)  \[0000000001000000, 0000000001003fff\] bad page' \
        '^\(XEN\)  \[0000000012345000, 0000000012345fff\] bad page' \
        '^\(XEN\)  \[0000000010000000, 0000000012344fff\] above mem= limit' \
        '^\(XEN\) Domain heap initialised: [0-9]+ pages \(2[0-9][0-9]MB\) free' \
        "^\(XEN\) $NO_DOM0"
}

# dom0_mem with no amount: all but min(1/16, 128 MiB) of what is free, as the manual says.
case_dom0_mem_default() {
    boot dom0_mem_default mb2 "console=com1 noreboot" "Manual reset required"
    expect '^\(XEN\) Dom0 memory: 9[0-9][0-9]MB \([0-9]+ pages, default\), min 0B, max unlimited' \
        '^\(XEN\) Std\. Loglevel: Errors and warnings' "^\(XEN\) $NO_DOM0"
    # loglvl=warning by default: info-level lines stay quiet.
    refuse '^\(XEN\) ACPI: CPU 0: APIC id' '^\(XEN\) Boot stack:'
}

# A module that is not a kernel is refused with the reason, under Xen's wording.
case_with_module() {
    head -c 100000 /dev/urandom > "$out/not-a-kernel.bin"
    module_args=(--module "$out/not-a-kernel.bin" "console=hvc0 root=/dev/xvda1")
    boot with_module mb2 "console=com1 noreboot" "Manual reset required"
    expect '^\(XEN\) Dom0 kernel module: 0x[0-9a-f]+-0x[0-9a-f]+ \([0-9]+kB\), command line: console=hvc0 root=/dev/xvda1' \
        '^\(XEN\)  \[[0-9a-f]{16}, [0-9a-f]{16}\] boot module' \
        '^\(XEN\) Could not set up DOM0 guest OS: the dom0 kernel module cannot be loaded: .+'
}

# The crash report: a failed Swift runtime check, a page fault and a stack overflow each
# print vector, error code, RIP with its symbol, registers and a call trace, then panic.
case_fault_reports() {
    boot fault_swift mb2 "console=com1 noreboot apus_selftest=swift-trap" "Manual reset required"
    expect '^\(XEN\) RIP:    e008:\[<ffff82d04[0-9a-f]{7}>\] .*SelfTests\.failBoundsCheck' \
        '^\(XEN\) rax: [0-9a-f]{16}   rbx: [0-9a-f]{16}   rcx: [0-9a-f]{16}' \
        '^\(XEN\)    \[<ffff82d04[0-9a-f]{7}>\] F apus_kmain\+0x' \
        '^\(XEN\) FATAL TRAP: vector = 6 \(invalid opcode\)' \
        '^\(XEN\) A Swift runtime check failed here'
    boot fault_page mb2 "console=com1 noreboot apus_selftest=page-fault" "Manual reset required"
    expect '^\(XEN\) FATAL PAGE FAULT' '^\(XEN\) Faulting linear address: 0000000000001000' \
        '^\(XEN\) cr3: [0-9a-f]{16}   cr2: 0000000000001000' '^\(XEN\) RIP: .*readUnmappedMemory'
    boot fault_stack mb2 "console=com1 noreboot apus_selftest=stack-overflow" "Manual reset required"
    expect '^\(XEN\) FATAL TRAP: vector = 8 \(double fault\)' \
        '^\(XEN\) Apus stack overflow: the boot stack ran into its guard page' \
        '^\(XEN\)    \.\.\. the same frame [0-9]+ more times'
}

# Power-off through ACPI (PM1a_CNT with the DSDT's S5 type) makes QEMU exit by itself;
# so does a reset under -no-reboot.
case_power_paths() {
    boot power_off mb2 "console=com1 apus_selftest=poweroff" ""
    expect_status 0
    expect 'power-off through PM1a_CNT 0x604|Self-test \(apus_selftest=poweroff\)'
    refuse 'Power-off failed'
    boot reset mb2 "console=com1 apus_selftest=reset" ""
    expect_status 0
    expect 'Self-test \(apus_selftest=reset\)'
}

# loglvl=<print>/<rate-limit>: lines between the two levels come 10 per 5 s at most, and
# the count of the rest is reported.
case_rate_limit() {
    boot rate_limit mb2 "console=com1 loglvl=error/warning noreboot" "Manual reset required"
    expect '^\(XEN\) printk: [0-9]+ messages suppressed\.' "^\(XEN\) $NO_DOM0"
    refuse '^\(XEN\) Apus reservations:'
}

# The default dom0 (Guests/dom0) is built, entered in ring 3 and reports through
# console_io; its power-off powers the machine off through ACPI, so QEMU exits by itself.
case_default_dom0() {
    scripts/build-guests.sh dom0 >/dev/null
    head -c 12345 /dev/zero | tr '\0' 'A' > "$out/initrd.bin"
    module_args=(--module build/guests/dom0.elf "console=hvc0 apus-guest=dom0" --module "$out/initrd.bin" "")
    boot default_dom0 mb2 "$STANDARD" ""
    expect_status 0
    expect '^\(XEN\) \*\*\* Building a PV Dom0 \*\*\*' \
        '^\(XEN\)  Dom0 kernel: 64-bit, PAE, lsb, paddr 0 -> 0x' \
        '^\(XEN\) VIRTUAL MEMORY ARRANGEMENT:' \
        '^\(XEN\)  TOTAL:         ffffffff80000000->ffffffff80[0-9a-f]{6}' \
        '^dom0: domain id 0 \(initial domain, privileged\)' \
        '^dom0: memory 524288 KiB \(131072 pages\)' \
        '^dom0: kernel command line "console=hvc0 apus-guest=dom0"' \
        '^dom0: initrd 12345 bytes' \
        '^APUS-TEST dom0: PASS' \
        '^\(XEN\) Hardware Dom0 halted: halting machine'
    refuse 'Panic' 'unhandled'
}

# Four CPUs: every AP comes up, dom0 gets one vCPU per CPU and still runs to its verdict.
case_smp4_dom0() {
    scripts/build-guests.sh dom0 >/dev/null
    module_args=(--module build/guests/dom0.elf "console=hvc0 apus-guest=dom0")
    boot smp4_dom0 mb2 "$STANDARD" "" --smp 4
    expect_status 0
    expect '^\(XEN\) SMP: Allowing 4 CPUs \(0 hotplug CPUs\)' '^\(XEN\) CPU3: APIC id 3, online' \
        '^\(XEN\) Brought up 4 CPUs' '^\(XEN\) Dom0 has maximum 4 VCPUs' '^APUS-TEST dom0: PASS'
    refuse 'Panic' 'did not come up'
}

# maxcpus= and nosmp bound the CPUs started; dom0_max_vcpus= and dom0_vcpus_pin shape dom0.
case_smp_limits() {
    scripts/build-guests.sh dom0 >/dev/null
    module_args=(--module build/guests/dom0.elf "console=hvc0 apus-guest=dom0")
    boot smp_limits mb2 "$STANDARD maxcpus=2 dom0_max_vcpus=3 dom0_vcpus_pin" "" --smp 4
    expect_status 0
    expect '^\(XEN\) Brought up 2 CPUs' '^\(XEN\) Dom0 has maximum 3 VCPUs \(pinned: vCPU n on CPU n\)' \
        '^APUS-TEST dom0: PASS'
    refuse 'CPU2: APIC id' 'Panic'
    boot smp_nosmp mb2 "$STANDARD nosmp" "" --smp 2
    expect_status 0
    expect '^\(XEN\) Brought up 1 CPU$' '^\(XEN\) Dom0 has maximum 1 VCPUs' '^APUS-TEST dom0: PASS'
}

# Shadow paging and log-dirty (Apus's test option apus_dom0_shadow): dom0 runs on shadow
# page tables; the logdirty guest's PEEK/CLEAN bitmaps hold exactly the pool pages it
# wrote; guests that rewrite their own tables (mmu_update, update_va_mapping, the
# writable-page-table emulation, user/kernel switches, LDT/GDT) pass on shadows too.
case_shadow_logdirty() {
    scripts/build-guests.sh logdirty vamapping usermode ptwrite >/dev/null
    module_args=(--module build/guests/logdirty.elf "apus-guest=logdirty logdirty")
    boot shadow_logdirty mb2 "$STANDARD noreboot apus_dom0_shadow" 'APUS-TEST logdirty: (PASS|FAIL)|Panic on CPU'
    expect '^\(XEN\) Dom0 runs on shadow page tables \([0-9]+ shadows\)' '^APUS-TEST logdirty: PASS \(18 checks\)' \
        '^  ok PEEK: exactly the written pool pages = 0x232' '^  ok after writing 4 and 11 again = 0x810'
    refuse 'Panic' 'FAIL'
    local g
    for g in vamapping usermode ptwrite; do
        module_args=(--module build/guests/$g.elf "apus-guest=$g arg2=two last-word")
        boot shadow_$g mb2 "$STANDARD noreboot apus_dom0_shadow" "APUS-TEST $g: (PASS|FAIL)|Panic on CPU"
        expect "^APUS-TEST $g: PASS" '^\(XEN\) Dom0 runs on shadow page tables'
        refuse 'Panic'
    done
}

# The dom0 kernel gzip-compressed (GRUB told not to unpack it): Apus unpacks it itself.
case_gzip_dom0() {
    scripts/build-guests.sh dom0 >/dev/null
    gzip -9 -c build/guests/dom0.elf > "$out/dom0.elf.gz"
    module_args=(--nounzip --module "$out/dom0.elf.gz" "console=hvc0 apus-guest=dom0")
    boot gzip_dom0 mb2 "$STANDARD" ""
    expect_status 0
    expect '^\(XEN\) Dom0 kernel unpacked from gzip: [0-9]+kB' '^APUS-TEST dom0: PASS'
}

# An ELF that is not a Xen PV kernel (Apus's own image) is refused with Xen's reason.
case_not_xen_kernel() {
    cp build/apus.elf "$out/not-a-pv-kernel.elf"
    module_args=(--module "$out/not-a-pv-kernel.elf" "console=hvc0")
    boot not_xen_kernel mb2 "console=com1 noreboot" "Manual reset required"
    expect '^\(XEN\) Could not set up DOM0 guest OS: the dom0 kernel module cannot be loaded: .*(Xen-ELF|Xen notes|ELF notes)'
    refuse 'APUS-TEST'
}

# Serial input (the console guest in echo mode as dom0, keys typed by run-qemu.sh): input
# reaches dom0 through VIRQ_CONSOLE and CONSOLEIO_read (a lone Ctrl-A included); Ctrl-A x3
# switches to Apus, whose debug keys print as Xen 4.17's do; Ctrl-A x3 gives input back.
case_serial_input() {
    scripts/build-guests.sh console >/dev/null
    module_args=(--module build/guests/console.elf "apus-guest=console console-echo")
    local a3='\x01\x01\x01'
    boot serial_input mb2 "$STANDARD noreboot" 'APUS-TEST console: (PASS|FAIL)|Panic on CPU' \
        --type-after '^console: echo mode' 'hi\x01x\r' \
        --type-after '^console: input so far: hi\^Ax\^M$' "$a3" \
        --type-after "Serial input to Xen" 'h' \
        --type-after "key 't' \(ascii '74'\)" 'q' \
        --type-after '^\(XEN\) Notifying guest 0:0' 't' \
        --type-after '^\(XEN\) Synced cycles skew' 'm' \
        --type-after '^\(XEN\)     Dom heap' 'e' \
        --type-after '^\(XEN\) +[0-9]+ \[[01]/[01]/[01]\]: s=5 n=0 x=0 v=2$' 'r' \
        --type-after '^\(XEN\) CPU\[00\] current=' 'd' \
        --type-after '^\(XEN\) \*\*\* Dumping CPU0 host state' '0' \
        --type-after "^\(XEN\) \*\*\* Dumping Dom0 vcpu#0 state" 'z*' \
        --type-after '^\(XEN\) \[t: display multi-cpu clock info\]' "$a3" \
        --type-after 'Serial input to DOM0' 'bye.\r'
    expect_status 0
    expect '^\(XEN\) Serial input: com1 IRQ 4 -> GSI 4 \(IOAPIC at 0xfec00000 pin 4\) -> vector 0x50' \
        "^\(XEN\) \*\*\* Serial input to DOM0 \(type 'CTRL-a' three times to switch input\)" \
        '^console: input so far: hi\^Ax\^M$' \
        "^\(XEN\) \*\*\* Serial input to Xen \(type 'CTRL-a' three times to switch input\)" \
        "^\(XEN\) 'h' pressed -> showing installed handlers" \
        "^\(XEN\)  key 'q' \(ascii '71'\) => dump domain \(and guest debug\) info" \
        "^\(XEN\) 'q' pressed -> dumping domain info \(now = [0-9]+\)" \
        '^\(XEN\) General information for domain 0:' \
        '^\(XEN\)     nr_pages=131072 xenheap_pages=1 dirty_cpus=\{0?\} max_pages=131072' \
        '^\(XEN\)     VCPU0: CPU0 \[has=F\] poll=1 upcall_pend=0[01] upcall_mask=01 $' \
        '^\(XEN\) 100 Hz periodic timer \(period 10 ms\)' \
        '^\(XEN\) Notifying guest 0:0 \(virq 1, port 0\)' \
        '^\(XEN\) Synced stime skew: max=0ns avg=0ns samples=1 current=0ns' \
        '^\(XEN\) Physical memory information:' '^\(XEN\)     heap\[[0-9]{2}\]: [0-9]+kB free' \
        "^\(XEN\) 'e' pressed -> dumping event-channel info" \
        '^\(XEN\) Event channel information for domain 0:' '^\(XEN\) Polling vCPUs: \{0\}' \
        '^\(XEN\)     port \[p/m/s\]' \
        '^\(XEN\) Scheduler: SMP Credit Scheduler \(credit\)' '^\(XEN\) 	ncpus              = 1$' \
        '^\(XEN\) CPU\[00\] current=d\[IDLE\]v0, curr=d\[IDLE\]v0, prev=NULL' \
        '^\(XEN\) CPU\[00\] nr_run=0, sort=[0-9]+, sibling=\{0\}, core=\{0\}' \
        "^\(XEN\) 'd' pressed -> dumping registers" '^\(XEN\) \*\*\* Dumping CPU0 host state: \*\*\*' \
        '^\(XEN\) RFLAGS: [0-9a-f]{16}   CONTEXT: hypervisor$' '^\(XEN\)    \[<ffff82d04[0-9a-f]{7}>\] R .*Scheduling\.idleLoop' \
        '^\(XEN\) RFLAGS: [0-9a-f]{16}   EM: [01]   CONTEXT: pv guest \(d0v0\)' \
        '^\(XEN\) rax: [0-9a-f]{16}   rbx: [0-9a-f]{16}   rcx: [0-9a-f]{16}' \
        '^\(XEN\) r15: [0-9a-f]{16}   cr0: [0-9a-f]{16}   cr4: [0-9a-f]{16}' \
        "^\(XEN\) '0' pressed -> dumping Dom0's registers" \
        "^\(XEN\) '\*' pressed -> firing all diagnostic keyhandlers" \
        '^\(XEN\) \[d: dump registers\]' '^\(XEN\) \[q: dump domain \(and guest debug\) info\]' \
        "^\(XEN\) \*\*\* Serial input to DOM0 \(type 'CTRL-a' three times to switch input\)" \
        '^console: input so far: hi\^Ax\^Mbye\.\^M$' \
        '^APUS-TEST console: PASS'
    refuse 'Panic' 'FAIL' "'z' pressed" '^console: input so far: .*[hqtmerd0*]$'
}

# conswitch=ax keeps input with Apus at the end of boot (and says so); 'R' reboots.
case_serial_reboot_key() {
    scripts/build-guests.sh console >/dev/null
    module_args=(--module build/guests/console.elf "apus-guest=console console-echo")
    boot serial_reboot_key mb2 "$STANDARD conswitch=ax noreboot" 'Hardware Dom0 halted|Panic on CPU|APUS-TEST console: (PASS|FAIL)' \
        --type-after '^console: echo mode' 'R'
    expect "^\(XEN\) \*\*\* Serial input to Xen \(type 'CTRL-a' three times to switch input\)" \
        "^\(XEN\) 'R' pressed -> rebooting machine"
    refuse 'Serial input to DOM0' 'APUS-TEST console: (PASS|FAIL)'
}

run_case standard_mb2
run_case multiboot1
run_case bad_options
run_case mem_and_badpage
run_case dom0_mem_default
run_case with_module
run_case default_dom0
run_case gzip_dom0
run_case not_xen_kernel
run_case smp4_dom0
run_case shadow_logdirty
run_case smp_limits
run_case fault_reports
run_case power_paths
run_case rate_limit
run_case serial_input
run_case serial_reboot_key

echo "boot tests: $passed passed, $failed failed"
((failed == 0))
