// traps: exceptions and software interrupts raised by a PV guest kernel, as the
// hypervisor bounces them to the guest's virtual IDT.
//
// Each case runs one probe (probes.S): every general register holds a known pattern,
// one instruction faults, the runtime's trap stub records the bounce and the guest's
// hook resumes at the instruction after it. For each case the guest checks the
// vector, the error code, the rip the frame reports (the faulting instruction for a
// fault, the next one for a trap or a software interrupt), the frame's CS, RFLAGS,
// RSP and SS, where on the stack the hypervisor put the frame, cr2 for #PF, and that
// every register reached the handler and came back unchanged.
//
// Facts Xen 4.17 showed (the spec Apus must meet) are recorded next to each case.
// The bounce frame of a trap taken in kernel mode, lowest address first:
//   RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS
// at (rsp & ~15) - 7*8 (8*8 with an error code), rsp being the kernel's at the trap;
// CS is FLAT_KERNEL_CS with its RPL cleared (0xe030) and bits 32-39 of that slot hold
// the event mask before the bounce (1: the kernel runs with events masked); RFLAGS.IF
// is the inverse of that mask (0); SS is FLAT_KERNEL_SS (0xe02b); RSP is the rsp at
// the trap. The handler still runs with events masked. RCX and R11 hold the
// interrupted code's values; no other register is changed on the way in or out.
// RFLAGS is otherwise the hardware's: on QEMU 10 faults show RF (bit 16) set and traps
// (int3, int $0x80) clear; a software interrupt Xen emulates from a #GP (int $0x81
// with DPL 1) keeps the #GP's RF=1. (Printed as info, not checked: it is the CPU's.)
// Per case:
//   ud2                #UD  vector 6,  no error code, rip = the ud2
//   div by zero        #DE  vector 0,  no error code, rip = the div
//   int3 (DPL 3)       #BP  vector 3,  no error code, rip = after the int3
//   hlt / cli / sti    #GP  vector 13, error code 0,  rip = the instruction
//   cli / sti after PHYSDEVOP_set_iopl 1: no trap at all (Xen skips them as no-ops);
//   int $0x80, DPL 0 or 3: vector 0x80, no error code, rip = after the int
//   int $0x81, DPL 0   #GP  error code 0x40a, rip = the int
//   int $0x81, DPL 1   vector 0x81, no error code, rip = after the int
//   int $0x90, no entry #GP error code 0x482, rip = the int
//   read 0xdead000 (nothing mapped)        #PF error code 0 (not present, read), cr2
//   write the M2P at 0xFFFF800000000000    #PF error code 3 (present, write), cr2
//   read Xen's range at 0xFFFF830000000000 #PF error code 1 (present, read), cr2
// (the user bit is clear in every #PF error code: the kernel-mode view).
import XenGuest
import XenGuestC
import ApusPublic
import TrapsProbes

nonisolated(unsafe) private var currentProbe: UInt32 = 0

/// Resumes at the probe's resume label when the trap reports its fault or resume rip.
private let probeHook: TrapHook = { frame in
    let rip = frame.pointee.rip
    guard rip == probe_fault(currentProbe) || rip == probe_resume(currentProbe) else { return false }
    frame.pointee.rip = probe_resume(currentProbe)
    return true
}

private func pattern(_ index: UInt64) -> UInt64 { 0x7E57_0000_0000_0000 &+ index &* 0x0001_0001_0001_0001 }

/// Whether the frame's registers are the probe's patterns (rax..r15).
private func frameHoldsPatterns(_ frame: xg_trap_frame) -> Bool {
    let values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                 UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (frame.rax, frame.rbx, frame.rcx, frame.rdx, frame.rsi, frame.rdi, frame.rbp, frame.r8,
         frame.r9, frame.r10, frame.r11, frame.r12, frame.r13, frame.r14, frame.r15)
    return withUnsafeBytes(of: values) { raw in
        var index = 0
        while index < 15 {
            if raw.load(fromByteOffset: index * 8, as: UInt64.self) != pattern(UInt64(index)) { return false }
            index += 1
        }
        return true
    }
}

private func registersAfterProbeHoldPatterns() -> Bool {
    var index: UInt32 = 0
    while index < 15 {
        if probe_after_value(index) != pattern(UInt64(index)) { return false }
        index += 1
    }
    return true
}

/// Runs a probe; returns how many traps it raised.
private func run(_ probe: UInt32) -> Int {
    currentProbe = probe
    let before = Traps.count
    probe_run(probe)
    return Traps.count - before
}

/// Where the reported rip must be: the faulting instruction or the one after it.
private enum ReportedRIP { case fault, next }

/// Runs a probe expected to trap once in kernel mode and checks everything about it.
private func expectTrap(_ report: inout TestReport, _ probe: UInt32, _ name: StaticString,
                        vector: UInt32, errorCode: UInt64?, rip: ReportedRIP, cr2: UInt64? = nil) {
    report.group(name)
    let traps = run(probe)
    let record = Traps.last
    report.expect("one trap", Int64(traps), equals: 1)
    guard traps == 1 else { report.group(nil); return }
    report.expect("vector", hex: UInt64(record.vector), equals: UInt64(vector))
    report.expect("error code in the frame (1 yes, 0 no)", record.hasErrorCode ? 1 : 0,
                  equals: errorCode != nil ? 1 : 0)
    if let errorCode { report.expect("error code", hex: record.errorCode, equals: errorCode) }
    report.expect("rip", hex: record.rip,
                  equals: rip == .fault ? probe_fault(probe) : probe_resume(probe))
    report.expect("cs (kernel, RPL 0)", hex: record.cs, equals: Traps.kernelCS)
    report.expect("saved event mask in cs[32:39]", hex: record.savedUpcallMask, equals: 1)
    report.expect("rflags.IF", hex: record.rflags & Traps.rflagsIF, equals: 0)
    report.expect("rsp", hex: record.rsp, equals: probe_rsp_value())
    report.expect("ss", hex: record.ss, equals: Traps.flatSS)
    report.expect("frame address", hex: record.bounceFrameAddress,
                  equals: (probe_rsp_value() & ~15) &- (record.hasErrorCode ? 64 : 56))
    report.expect("handler runs with events masked", Int64(record.upcallMask), equals: 1)
    if let cr2 { report.expect("cr2", hex: record.cr2, equals: cr2) }
    report.check("registers reach the handler", frameHoldsPatterns(record.frame))
    report.check("registers preserved", registersAfterProbeHoldPatterns())
    report.info("rflags", hex: record.rflags)
    report.group(nil)
}

private func setIOPL(_ level: UInt32) -> Int64 {
    var request = physdev_set_iopl(iopl: level)
    return HYPERVISOR_physdev_op(UInt32(PHYSDEVOP_set_iopl), &request)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "traps")
    report.expect("install the trap table and callbacks", Traps.install(guest: "traps"), equals: 0)
    Traps.hook = probeHook

    // Faults: rip is the faulting instruction.
    expectTrap(&report, UInt32(PROBE_UD2), "ud2", vector: 6, errorCode: nil, rip: .fault)
    expectTrap(&report, UInt32(PROBE_DIVIDE), "div by zero", vector: 0, errorCode: nil, rip: .fault)
    // #BP is a trap: rip is the instruction after int3. Its trap-table DPL is 3.
    expectTrap(&report, UInt32(PROBE_INT3), "int3", vector: 3, errorCode: nil, rip: .next)

    // Privileged instructions: a PV kernel runs in ring 3, so they raise #GP(0).
    expectTrap(&report, UInt32(PROBE_HLT), "hlt", vector: 13, errorCode: 0, rip: .fault)
    expectTrap(&report, UInt32(PROBE_CLI), "cli (iopl 0)", vector: 13, errorCode: 0, rip: .fault)
    expectTrap(&report, UInt32(PROBE_STI), "sti (iopl 0)", vector: 13, errorCode: 0, rip: .fault)
    report.expect("physdev set_iopl 1", setIOPL(1), equals: 0)
    report.expect("cli with virtual iopl 1: traps", Int64(run(UInt32(PROBE_CLI))), equals: 0)
    report.check("cli with virtual iopl 1: registers preserved", registersAfterProbeHoldPatterns())
    report.expect("sti with virtual iopl 1: traps", Int64(run(UInt32(PROBE_STI))), equals: 0)
    report.expect("physdev set_iopl 0", setIOPL(0), equals: 0)

    // Software interrupts: allowed from kernel mode when the trap-table DPL is >= 1,
    // else #GP with error code vector << 3 | 2 (IDT), the rip at the int instruction;
    // a vector with no entry is the same #GP. The exception is int $0x80: Xen 4.17
    // bounces it straight to the 0x80 entry whatever that entry's DPL (its int80 fast
    // path only asks for a non-null address), as a trap (rip after the int).
    report.expect("gate 0x80 DPL 0", Traps.setGate(vector: 0x80, dpl: 0), equals: 0)
    expectTrap(&report, UInt32(PROBE_INT80), "int 0x80 (DPL 0)", vector: 0x80, errorCode: nil, rip: .next)
    report.expect("gate 0x80 DPL 3", Traps.setGate(vector: 0x80, dpl: 3), equals: 0)
    expectTrap(&report, UInt32(PROBE_INT80), "int 0x80 (DPL 3)", vector: 0x80, errorCode: nil, rip: .next)
    report.expect("gate 0x81 DPL 0", Traps.setGate(vector: 0x81, dpl: 0), equals: 0)
    expectTrap(&report, UInt32(PROBE_INT81), "int 0x81 (DPL 0)", vector: 13, errorCode: 0x40a, rip: .fault)
    report.expect("gate 0x81 DPL 1", Traps.setGate(vector: 0x81, dpl: 1), equals: 0)
    expectTrap(&report, UInt32(PROBE_INT81), "int 0x81 (DPL 1)", vector: 0x81, errorCode: nil, rip: .next)
    expectTrap(&report, UInt32(PROBE_INT90), "int 0x90 (no gate)", vector: 13, errorCode: 0x482, rip: .fault)

    // Page faults: the error code as the kernel sees it (U clear in kernel mode) and
    // the address in vcpu_info.arch.cr2.
    expectTrap(&report, UInt32(PROBE_READ_LOW), "read unmapped", vector: 14, errorCode: 0, rip: .fault,
               cr2: UInt64(PROBE_LOW_ADDRESS))
    expectTrap(&report, UInt32(PROBE_WRITE_M2P), "write read-only M2P", vector: 14, errorCode: 3, rip: .fault,
               cr2: UInt64(PROBE_M2P_ADDRESS))
    expectTrap(&report, UInt32(PROBE_READ_XEN), "read hypervisor range", vector: 14, errorCode: 1,
               rip: .fault, cr2: UInt64(PROBE_XEN_ADDRESS))

    // The same with rsp 16-byte aligned at the trap (the cases above had rsp = 8 mod 16):
    // the frame still starts at rsp rounded down to 16, minus the frame.
    expectTrap(&report, UInt32(PROBE_UD2_PADDED), "ud2 (rsp 0 mod 16)", vector: 6, errorCode: nil, rip: .fault)
    expectTrap(&report, UInt32(PROBE_READ_LOW_PADDED), "read unmapped (rsp 0 mod 16)", vector: 14, errorCode: 0,
               rip: .fault, cr2: UInt64(PROBE_LOW_ADDRESS))

    report.expect("no event upcalls", Int64(Traps.eventCount), equals: 0)
    report.finish()
}
