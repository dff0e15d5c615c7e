// msr: privileged instructions a PV kernel executes in ring 3: rdmsr/wrmsr, in/out
// with and without a virtual IOPL, control- and debug-register reads, rdtsc, wbinvd
// and hlt. Each either is emulated by the hypervisor (no trap reaches the guest, the
// result is the hypervisor's) or bounces #GP(0) to the guest at the instruction.
//
// Facts Xen 4.17 showed on QEMU 10 (-cpu max, vendor AuthenticAMD; the spec Apus
// must meet):
// rdmsr, emulated (value):
//   EFER 0xd01 (SCE|LME|LMA|NXE); FS_BASE, GS_BASE and SHADOW_GS_BASE = the FS,
//   kernel GS and user GS bases set_segment_base (or wrmsr) gave; TSC_AUX 0;
//   APIC_BASE 0xfee00900 (BSP, enabled, 0xfee00000); TSC (a time stamp); MCG_CAP 2
//   (Xen's two virtual banks); MISC_ENABLE 0x801801 (fast strings | BTS and PEBS
//   unavailable | xTPR disabled); PAT 0x00050100070406 (Xen's PV PAT); 0x40000000 (Xen's hypercall-page MSR) 0; AMD HWCR 0 (info).
// rdmsr, #GP(0): STAR, LSTAR, PLATFORM_ID, SPEC_CTRL, MTRRcap, MTRRdefType,
//   SYSENTER_CS, unknown 0xdead and 0xc0001234.
// wrmsr, emulated: FS_BASE, GS_BASE, SHADOW_GS_BASE (read back); EFER with its
//   current value; MISC_ENABLE with its current value.
// wrmsr, #GP(0): FS_BASE non-canonical (the base is kept); EFER without NX; APIC_BASE,
//   PAT even with their current values; TSC; SPEC_CTRL; unknown 0xdead.
// Ports: with the virtual IOPL 0 (the start) every in/out (dx and immediate forms)
//   is #GP(0). After PHYSDEVOP_set_iopl 1 (or 3) they are emulated: port 0x80 reads
//   0xff and takes writes; ports Xen keeps from dom0 read 0xff: its console UART
//   (0x3f8-0x3ff), the PIC (0x21), the PIT (0x40); 0x61 is Xen's own PIT-channel-2
//   view (0x20 or 0x30: info), 0x64 the device's (info); the PCI configuration
//   mechanism is emulated (0xcf8 reads back the 0x80000000 written, 0xcfc then reads
//   0x12378086, QEMU's i440FX host bridge); the RTC index/data pair works (register A
//   reads 0x26). set_iopl 0 makes them #GP again.
// Other: rdtsc runs (no trap, increasing); hlt is #GP(0); wbinvd is emulated (dom0);
//   mov from %cr2 reads 0 before any #PF, then the last #PF address; %cr3 the L4's
//   machine address (mfn << 12); %cr4 0x660 (PAE|MCE|OSFXSR|OSXMMEXCPT); %dr7 0x400.
import XenGuest
import XenGuestC
import ApusPublic
import PrivilegedProbes

private struct Outcome {
    var trapped: Bool
    var value: UInt64
    var record: TrapRecord
}

private func run(_ instruction: UInt64, _ body: () -> UInt64) -> Outcome {
    let before = Traps.count
    Traps.arm(faultAt: instruction, resumeAt: priv_fixup_address())
    let value = body()
    Traps.disarm()
    let trapped = Traps.count != before
    return Outcome(trapped: trapped, value: value, record: trapped ? Traps.last : TrapRecord.empty)
}

private func rdmsr(_ msr: UInt32) -> Outcome { run(priv_rdmsr_insn_address()) { priv_rdmsr(msr) } }
private func wrmsr(_ msr: UInt32, _ value: UInt64) -> Outcome {
    run(priv_wrmsr_insn_address()) { priv_wrmsr(msr, value) }
}

/// An instruction the hypervisor emulates: no trap reaches the guest; the value if given.
private func expectEmulated(_ report: inout TestReport, _ name: StaticString, _ outcome: Outcome,
                            value: UInt64? = nil) {
    report.check(name, !outcome.trapped)
    if outcome.trapped {
        report.info("  unexpected vector", Int64(outcome.record.vector))
        report.info("  error code", hex: outcome.record.errorCode)
    }
    if let value { report.expect("  value", hex: outcome.trapped ? ~0 : outcome.value, equals: value) }
}

/// An instruction the hypervisor refuses: #GP(0) at the instruction.
private func expectGP(_ report: inout TestReport, _ name: StaticString, _ outcome: Outcome, at instruction: UInt64) {
    report.check(name, outcome.trapped)
    report.expect("  vector", Int64(outcome.trapped ? Int64(outcome.record.vector) : -1), equals: 13)
    report.expect("  error code", hex: outcome.trapped ? outcome.record.errorCode : ~0, equals: 0)
    report.expect("  rip", hex: outcome.record.rip, equals: outcome.trapped ? instruction : 0)
}

private func setIOPL(_ level: UInt32) -> Int64 {
    var request = physdev_set_iopl(iopl: level)
    return HYPERVISOR_physdev_op(UInt32(PHYSDEVOP_set_iopl), &request)
}

private let rdmsrAt = priv_rdmsr_insn_address()
private let wrmsrAt = priv_wrmsr_insn_address()
private func inb(_ port: UInt32) -> Outcome { run(priv_inb_insn_address()) { priv_inb(port) } }
private func outb(_ port: UInt32, _ value: UInt32) -> Outcome {
    run(priv_outb_insn_address()) { priv_outb(port, value) }
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "msr")
    report.expect("install the trap table", Traps.install(guest: "msr"), equals: 0)
    let vendor = xg_cpuid_forced(0, 0)
    report.info("cpuid vendor ebx", hex: UInt64(vendor.ebx))

    report.group("rdmsr")
    expectEmulated(&report, "EFER", rdmsr(0xC000_0080), value: 0xD01)
    report.expect("set_segment_base FS", HYPERVISOR_set_segment_base(UInt32(SEGBASE_FS), 0x1234_5000), equals: 0)
    report.expect("set_segment_base GS kernel", HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_KERNEL), 0x1234_6000),
                  equals: 0)
    report.expect("set_segment_base GS user", HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_USER), 0x1234_7000),
                  equals: 0)
    expectEmulated(&report, "FS_BASE", rdmsr(0xC000_0100), value: 0x1234_5000)
    expectEmulated(&report, "GS_BASE (the kernel's)", rdmsr(0xC000_0101), value: 0x1234_6000)
    expectEmulated(&report, "SHADOW_GS_BASE (the user's)", rdmsr(0xC000_0102), value: 0x1234_7000)
    expectEmulated(&report, "TSC_AUX", rdmsr(0xC000_0103), value: 0)
    expectEmulated(&report, "APIC_BASE", rdmsr(0x1B), value: 0xFEE0_0900)
    let tsc = rdmsr(0x10)
    expectEmulated(&report, "TSC", tsc)
    report.info("  TSC", hex: tsc.value)
    expectEmulated(&report, "MCG_CAP (2 virtual banks)", rdmsr(0x179), value: 2)
    expectEmulated(&report, "MISC_ENABLE", rdmsr(0x1A0), value: 0x80_1801)
    expectEmulated(&report, "PAT (Xen's)", rdmsr(0x277), value: 0x0005_0100_0704_06)
    expectEmulated(&report, "0x40000000 (Xen's hypercall-page MSR)", rdmsr(0x4000_0000), value: 0)
    let hwcr = rdmsr(0xC001_0015)
    report.info("AMD HWCR: trapped", hwcr.trapped ? 1 : 0)
    report.info("  value", hex: hwcr.value)
    expectGP(&report, "STAR", rdmsr(0xC000_0081), at: rdmsrAt)
    expectGP(&report, "LSTAR", rdmsr(0xC000_0082), at: rdmsrAt)
    expectGP(&report, "PLATFORM_ID", rdmsr(0x17), at: rdmsrAt)
    expectGP(&report, "SPEC_CTRL", rdmsr(0x48), at: rdmsrAt)
    expectGP(&report, "MTRRcap", rdmsr(0xFE), at: rdmsrAt)
    expectGP(&report, "MTRRdefType", rdmsr(0x2FF), at: rdmsrAt)
    expectGP(&report, "SYSENTER_CS", rdmsr(0x174), at: rdmsrAt)
    expectGP(&report, "unknown 0xdead", rdmsr(0xDEAD), at: rdmsrAt)
    expectGP(&report, "unknown 0xc0001234", rdmsr(0xC000_1234), at: rdmsrAt)

    report.group("wrmsr")
    expectEmulated(&report, "FS_BASE", wrmsr(0xC000_0100, 0x5678_9000))
    expectEmulated(&report, "  reads back", rdmsr(0xC000_0100), value: 0x5678_9000)
    expectGP(&report, "FS_BASE non-canonical", wrmsr(0xC000_0100, 0x0000_8000_0000_0000), at: wrmsrAt)
    expectEmulated(&report, "  FS_BASE kept", rdmsr(0xC000_0100), value: 0x5678_9000)
    expectEmulated(&report, "GS_BASE", wrmsr(0xC000_0101, 0x5678_A000))
    expectEmulated(&report, "  reads back", rdmsr(0xC000_0101), value: 0x5678_A000)
    expectEmulated(&report, "SHADOW_GS_BASE", wrmsr(0xC000_0102, 0x5678_B000))
    expectEmulated(&report, "  reads back", rdmsr(0xC000_0102), value: 0x5678_B000)
    expectEmulated(&report, "EFER unchanged", wrmsr(0xC000_0080, 0xD01))
    expectGP(&report, "EFER without NX", wrmsr(0xC000_0080, 0x501), at: wrmsrAt)
    expectEmulated(&report, "MISC_ENABLE unchanged", wrmsr(0x1A0, 0x80_1801))
    expectGP(&report, "APIC_BASE unchanged", wrmsr(0x1B, 0xFEE0_0900), at: wrmsrAt)
    expectGP(&report, "PAT unchanged", wrmsr(0x277, 0x0005_0100_0704_06), at: wrmsrAt)
    expectGP(&report, "TSC", wrmsr(0x10, 0), at: wrmsrAt)
    expectGP(&report, "SPEC_CTRL 0", wrmsr(0x48, 0), at: wrmsrAt)
    expectGP(&report, "unknown 0xdead", wrmsr(0xDEAD, 0), at: wrmsrAt)
    _ = HYPERVISOR_set_segment_base(UInt32(SEGBASE_FS), 0)
    _ = HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_KERNEL), 0)
    _ = HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_USER), 0)

    report.group("ports, iopl 0")
    expectGP(&report, "inb 0x80", inb(0x80), at: priv_inb_insn_address())
    expectGP(&report, "in $0x80", run(priv_inb_0x80_insn_address()) { priv_inb_0x80() },
             at: priv_inb_0x80_insn_address())
    expectGP(&report, "outb 0x80", outb(0x80, 0x55), at: priv_outb_insn_address())
    report.expect("set_iopl 1", setIOPL(1), equals: 0)
    report.group("ports, iopl 1")
    expectEmulated(&report, "inb 0x80", inb(0x80), value: 0xFF)
    expectEmulated(&report, "in $0x80", run(priv_inb_0x80_insn_address()) { priv_inb_0x80() }, value: 0xFF)
    expectEmulated(&report, "outb 0x80", outb(0x80, 0x55))
    expectEmulated(&report, "out $0x80", run(priv_outb_0x80_insn_address()) { priv_outb_0x80(0xAA) })
    expectEmulated(&report, "inb 0x3fb (Xen's console UART, denied)", inb(0x3FB), value: 0xFF)
    expectEmulated(&report, "inb 0x21 (PIC, denied)", inb(0x21), value: 0xFF)
    expectEmulated(&report, "inb 0x40 (PIT, denied)", inb(0x40), value: 0xFF)
    let speaker = inb(0x61)
    expectEmulated(&report, "inb 0x61 (Xen's PIT channel 2 view)", speaker)
    report.info("  0x61", hex: speaker.value)
    let keyboard = inb(0x64)
    expectEmulated(&report, "inb 0x64 (keyboard status, the device's)", keyboard)
    report.info("  0x64", hex: keyboard.value)
    expectEmulated(&report, "outl 0xcf8 = 0x80000000", run(priv_outl_insn_address()) { priv_outl(0xCF8, 0x8000_0000) })
    expectEmulated(&report, "inl 0xcf8", run(priv_inl_insn_address()) { priv_inl(0xCF8) }, value: 0x8000_0000)
    expectEmulated(&report, "inl 0xcfc (00:00.0 vendor/device)", run(priv_inl_insn_address()) { priv_inl(0xCFC) },
                   value: 0x1237_8086)
    expectEmulated(&report, "outb 0x70 = 0x0a (RTC register A)", outb(0x70, 0x0A))
    expectEmulated(&report, "inb 0x71", inb(0x71), value: 0x26)
    report.expect("set_iopl 3", setIOPL(3), equals: 0)
    expectEmulated(&report, "inb 0x80 with iopl 3", inb(0x80), value: 0xFF)
    report.expect("set_iopl 0", setIOPL(0), equals: 0)
    expectGP(&report, "inb 0x80 with iopl 0 again", inb(0x80), at: priv_inb_insn_address())

    report.group("other")
    let tsc1 = run(priv_rdtsc_insn_address()) { priv_rdtsc() }
    let tsc2 = run(priv_rdtsc_insn_address()) { priv_rdtsc() }
    expectEmulated(&report, "rdtsc runs (no trap)", tsc1)
    report.check("  a second rdtsc reads more", !tsc2.trapped && tsc2.value > tsc1.value)
    expectGP(&report, "hlt", run(priv_hlt_insn_address()) { priv_hlt() }, at: priv_hlt_insn_address())
    expectEmulated(&report, "wbinvd", run(priv_wbinvd_insn_address()) { priv_wbinvd() })
    expectEmulated(&report, "mov %cr2 before any #PF", run(priv_read_cr2_insn_address()) { priv_read_cr2() },
                   value: 0)
    report.check("a #PF at 0xdead000", Traps.read(0xDEAD000) == nil)
    expectEmulated(&report, "mov %cr2 after it", run(priv_read_cr2_insn_address()) { priv_read_cr2() },
                   value: 0xDEAD000)
    expectEmulated(&report, "mov %cr3 (the L4's machine address)",
                   run(priv_read_cr3_insn_address()) { priv_read_cr3() },
                   value: Pages.machineFrame(ofVirtual: StartOfDay.startInfo.pointee.pt_base) << 12)
    expectEmulated(&report, "mov %cr4", run(priv_read_cr4_insn_address()) { priv_read_cr4() }, value: 0x660)
    expectEmulated(&report, "mov %dr7", run(priv_read_dr7_insn_address()) { priv_read_dr7() }, value: 0x400)
    report.group(nil)
    report.expect("no event upcalls", Int64(Traps.eventCount), equals: 0)
    report.finish()
}
