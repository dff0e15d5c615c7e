// Ring0.swift: attempts to run in ring 0 (or anywhere but the guest's own ring 3):
// descriptors that would reach it (DPL-0 code, gates to the hypervisor's code, gates of
// kinds a PV guest may not have, a TSS) through set_gdt and update_descriptor, then
// far returns and far calls into what was accepted, and a trap-table entry naming the
// hypervisor's code selector.
import XenGuest
import XenGuestC
import ApusPublic
import IsolationProbes

private let code64: UInt64 = 0x00AF_FB00_0000_FFFF
private let code64DPL0: UInt64 = 0x00AF_9B00_0000_FFFF
private let tss64: UInt64 = 0x0000_8900_0000_0067
private let ldtDescriptor: UInt64 = 0x0000_8200_0000_0FFF

/// A 64-bit call gate's low half (type 0xC) to selector:offset with this DPL.
private func callGate(selector: UInt64, offset: UInt64, dpl: UInt64) -> UInt64 {
    ((offset >> 16) & 0xFFFF) << 48 | (0x8C | dpl << 5) << 40 | selector << 16 | (offset & 0xFFFF)
}
/// An interrupt (0xE) or trap (0xF) gate's low half, DPL 3, to Xen's ring-0 code.
private func gate(type: UInt64) -> UInt64 { (0xE0 | type) << 40 | 0xE008 << 16 | 0x1000 }

private struct Outcome {
    var faulted: Bool
    var value: UInt64
    var vector: UInt64
    var errorCode: UInt64
}

private func farCall(_ selector: UInt64) -> Outcome {
    let before = Traps.count
    Traps.arm(faultAt: iso_far_call_fault_address(), resumeAt: iso_far_call_fixup_address())
    let value = iso_far_call(selector)
    Traps.disarm()
    let faulted = Traps.count != before
    return Outcome(faulted: faulted, value: value, vector: faulted ? UInt64(Traps.last.vector) : ~0,
                   errorCode: faulted ? Traps.last.errorCode : ~0)
}

private func farReturn(_ selector: UInt64) -> Outcome {
    let before = Traps.count
    Traps.arm(faultAt: iso_far_return_fault_address(), resumeAt: iso_far_return_fixup_address())
    let value = iso_far_return(selector)
    Traps.disarm()
    let faulted = Traps.count != before
    return Outcome(faulted: faulted, value: value, vector: faulted ? UInt64(Traps.last.vector) : ~0,
                   errorCode: faulted ? Traps.last.errorCode : ~0)
}

/// A far transfer that must end in #GP with this error code.
private func expectGP(_ report: inout TestReport, _ name: StaticString, _ outcome: Outcome, errorCode: UInt64) {
    report.check(name, outcome.faulted)
    report.expect("  vector", hex: outcome.vector, equals: 13)
    report.expect("  error code", hex: outcome.errorCode, equals: errorCode)
    report.check("  still answers, nothing changed", Own.intact())
}

func ringZero(_ report: inout TestReport) {
    report.group("set_gdt")
    guard let gdt = Pages.allocate(), let bad = Pages.allocate() else {
        report.check("page pool has 2 pages", false)
        return
    }
    let gdtFrame = Pages.machineFrame(ofVirtual: gdt)
    let badFrame = Pages.machineFrame(ofVirtual: bad)
    let landing = iso_gate_landing_address()
    let frames = (Scratch.raw + 4096).bindMemory(to: UInt64.self, capacity: 2)
    // One refused descriptor per try, in entry 3 of an otherwise valid page.
    func tryPage(_ name: StaticString, low: UInt64, high: UInt64) {
        _ = Pages.protect(bad, writable: true)
        xg_write64(bad + 24, low)
        xg_write64(bad + 32, high)
        _ = Pages.protect(bad, writable: false)
        frames[0] = badFrame
        attempt(&report, name, HYPERVISOR_set_gdt(frames, 16), equals: errno(XEN_EINVAL))
    }
    tryPage("a page with a call gate to Xen's ring-0 code 0xe008", low: callGate(selector: 0xE008, offset: 0x1000, dpl: 3),
            high: 0)
    tryPage("a page with a call gate to 0xe030 (RPL 0)", low: callGate(selector: 0xE030, offset: 0x1000, dpl: 3), high: 0)
    tryPage("a page with an interrupt gate", low: gate(type: 0xE), high: 0)
    tryPage("a page with a trap gate", low: gate(type: 0xF), high: 0)
    tryPage("a page with a 64-bit TSS", low: tss64, high: 0)
    tryPage("a page with an LDT descriptor", low: ldtDescriptor, high: 0)
    _ = Pages.protect(bad, writable: true)

    xg_write64(gdt + 8, code64)
    xg_write64(gdt + 16, code64DPL0)
    xg_write64(gdt + 24, callGate(selector: UInt64(FLAT_KERNEL_CS), offset: landing, dpl: 3))
    xg_write64(gdt + 32, landing >> 32)
    report.expect("make the GDT page read-only", Pages.protect(gdt, writable: false), equals: 0)
    frames[0] = gdtFrame
    attempt(&report, "set_gdt with DPL-0 code and a DPL-3 gate to FLAT_KERNEL_CS", HYPERVISOR_set_gdt(frames, 16),
            equals: 0)
    report.expect("  the DPL-0 code now has DPL 3", hex: xg_read64(gdt + 16), equals: code64)
    report.expect("  the gate now has DPL 0", hex: xg_read64(gdt + 24) >> 45 & 3, equals: 0)

    report.group("update_descriptor")
    func descriptor(_ name: StaticString, _ value: UInt64, _ expected: Int64) {
        attempt(&report, name, HYPERVISOR_update_descriptor(gdtFrame << 12 | 5 << 3, value), equals: expected)
    }
    descriptor("a call gate to 0xe008", callGate(selector: 0xE008, offset: 0x1000, dpl: 3), errno(XEN_EINVAL))
    descriptor("a call gate to 0xe030", callGate(selector: 0xE030, offset: 0x1000, dpl: 3), errno(XEN_EINVAL))
    descriptor("a call gate to 0xe010 (Xen's data)", callGate(selector: 0xE010, offset: 0x1000, dpl: 3),
               errno(XEN_EINVAL))
    descriptor("an interrupt gate", gate(type: 0xE), errno(XEN_EINVAL))
    descriptor("a trap gate", gate(type: 0xF), errno(XEN_EINVAL))
    descriptor("a 64-bit TSS", tss64, errno(XEN_EINVAL))
    descriptor("an LDT descriptor", ldtDescriptor, errno(XEN_EINVAL))
    report.expect("  entry 5 stayed empty", hex: xg_read64(gdt + 40), equals: 0)
    descriptor("64-bit code with DPL 0", code64DPL0, 0)
    report.expect("  stored with DPL 3", hex: xg_read64(gdt + 40), equals: code64)

    report.group("far transfers")
    let codeSelector: UInt64 = 1 << 3 | 3
    let codeDPL0Selector: UInt64 = 2 << 3
    let gateSelector: UInt64 = 3 << 3 | 3
    let toCode = farReturn(codeSelector)
    report.check("lretq to the guest's code selector 0x0b", !toCode.faulted)
    report.expect("  %cs there (ring 3)", hex: toCode.value, equals: codeSelector)
    let toFormerDPL0 = farReturn(codeDPL0Selector | 3)
    report.check("lretq to the former DPL-0 code, RPL 3", !toFormerDPL0.faulted)
    report.expect("  %cs there (ring 3)", hex: toFormerDPL0.value, equals: codeDPL0Selector | 3)
    expectGP(&report, "lretq to it with RPL 0", farReturn(codeDPL0Selector), errorCode: codeDPL0Selector)
    expectGP(&report, "lretq to Xen's ring-0 code 0xe008", farReturn(0xE008), errorCode: 0xE008)
    expectGP(&report, "lretq to 0xe030 (FLAT_KERNEL_CS with RPL 0)", farReturn(0xE030), errorCode: 0xE030)
    let throughGate = farCall(gateSelector)
    expectGP(&report, "lcall through the gate (now DPL 0)", throughGate, errorCode: gateSelector & ~3)
    report.expect("  the gate was not taken", hex: throughGate.value, equals: 1)
    expectGP(&report, "lcall to 0xe008 directly", farCall(0xE008), errorCode: 0xE008)
    report.expect("%cs is still FLAT_KERNEL_CS", hex: iso_read_cs(), equals: UInt64(FLAT_KERNEL_CS))

    report.group("trap table")
    let table = Scratch.cleared(64).bindMemory(to: trap_info.self, capacity: 2)
    table[0] = trap_info(vector: 0x20, flags: 3, cs: 0xE008, _pad: 0, address: Traps.entryAddress(vector: 0x20))
    table[1] = trap_info(vector: 0, flags: 0, cs: 0, _pad: 0, address: 0)
    attempt(&report, "set_trap_table: int 0x20 to selector 0xe008", HYPERVISOR_set_trap_table(table), equals: 0)
    let before = Traps.count
    Traps.arm(faultAt: iso_int20_after_address(), resumeAt: iso_int20_after_address())
    _ = iso_int20()
    Traps.disarm()
    report.expect("  int $0x20 reached the guest's handler", Int64(Traps.count - before), equals: 1)
    report.expect("  which ran with the guest kernel's %cs", hex: Traps.last.cs, equals: Traps.kernelCS)
    report.check("  still answers, nothing changed", Own.intact())

    report.expect("set_gdt with 0 entries", HYPERVISOR_set_gdt(frames, 0), equals: 0)
    report.expect("  the GDT page maps writable again", Pages.protect(gdt, writable: true), equals: 0)
}
