// fpu: the virtual CR0.TS of a PV kernel: fpu_taskswitch, the #NM it causes, clts and
// mov to/from %cr0 as Xen emulates them, and FPU/SSE state kept across all of it.
//
// The guest keeps values in %xmm1 and the x87 stack, sets TS, touches the FPU again
// and checks the #NM bounce (vector, frame), that returning from the handler re-runs
// the instruction successfully, and that the values survived.
//
// Facts Xen 4.17 showed (the spec Apus must meet):
//  - fpu_taskswitch(1) (and any non-zero argument, e.g. 2) returns 0 and sets the
//    virtual CR0.TS; fpu_taskswitch(0) returns 0 and clears it;
//  - with TS set, an SSE or x87 instruction raises #NM, bounced to the guest's vector
//    7: no error code, rip = that instruction, kernel CS, events masked as for every
//    trap. Xen clears the virtual TS as it bounces the #NM, so the handler need not
//    call fpu_taskswitch(0): returning re-runs the instruction, which completes, with
//    one #NM in all (fpu_taskswitch(0) in the handler is harmless). Setting TS twice
//    still gives one #NM;
//  - %xmm1 and the x87 stack keep their values across TS, #NM and hypercalls;
//  - mov %cr0, %rax from the kernel is emulated (no trap reaches the guest): it reads
//    0x80050033 (PG|AM|WP|NE|ET|MP|PE) with TS (bit 3) as the virtual TS; TS is clear
//    when the guest starts;
//  - clts is emulated: no trap, TS clear afterwards, the FPU runs without #NM;
//  - mov to %cr0 that changes only TS is emulated (sets or clears it); one that also
//    changes another bit (AM) is #GP(0) at the mov.
import XenGuest
import XenGuestC
import ApusPublic
import FPUProbes

private let cr0TS: UInt64 = 1 << 3
private let cr0AM: UInt64 = 1 << 18

nonisolated(unsafe) private var deviceNotAvailable = 0
nonisolated(unsafe) private var deviceNotAvailableInProbe = 0
nonisolated(unsafe) private var lastNM = TrapRecord.empty
nonisolated(unsafe) private var handlerClearsTS = false

/// #NM: count it and return (the instruction runs again). A TS that never clears would
/// loop: after four in a row the probe gives up through its fixup.
private let fpuHook: TrapHook = { frame in
    guard Traps.last.vector == 7 else { return false }
    deviceNotAvailable += 1
    deviceNotAvailableInProbe += 1
    lastNM = Traps.last
    if handlerClearsTS { _ = HYPERVISOR_fpu_taskswitch(0) }
    if deviceNotAvailableInProbe > 4 { frame.pointee.rip = fpu_fixup_address() }
    return true
}

/// Runs a probe with its instruction armed to resume at the fixup (for a #GP or #UD);
/// returns its result and how many #NM and other traps it took.
private func probe(_ instruction: UInt64, _ body: () -> UInt64) -> (value: UInt64, nm: Int, other: Int) {
    let trapsBefore = Traps.count
    let nmBefore = deviceNotAvailable
    deviceNotAvailableInProbe = 0
    Traps.arm(faultAt: instruction, resumeAt: fpu_fixup_address())
    let value = body()
    Traps.disarm()
    let nm = deviceNotAvailable - nmBefore
    return (value, nm, Traps.count - trapsBefore - nm)
}

private func readCR0() -> UInt64 { probe(fpu_read_cr0_insn_address()) { fpu_read_cr0() }.value }

nonisolated(unsafe) private var x87Slot: UInt64 = 0

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "fpu")
    report.expect("install the trap table", Traps.install(guest: "fpu"), equals: 0)
    Traps.hook = fpuHook

    report.group("cr0")
    let start = probe(fpu_read_cr0_insn_address()) { fpu_read_cr0() }
    report.expect("mov %cr0 traps to the guest", Int64(start.other), equals: 0)
    report.expect("cr0 at start", hex: start.value, equals: 0x8005_0033)

    report.group("no TS")
    let plainWrite = probe(fpu_sse_write_insn_address()) { fpu_sse_write(0x1111_2222_3333_4444) }
    report.expect("movq to %xmm1: #NM", Int64(plainWrite.nm), equals: 0)
    let plainRead = probe(fpu_sse_read_insn_address()) { fpu_sse_read() }
    report.expect("movq from %xmm1: #NM", Int64(plainRead.nm), equals: 0)
    report.expect("  value", hex: plainRead.value, equals: 0x1111_2222_3333_4444)

    report.group("fpu_taskswitch(1), SSE")
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: cr0TS)
    let sseRead = probe(fpu_sse_read_insn_address()) { fpu_sse_read() }
    report.expect("movq from %xmm1: #NM", Int64(sseRead.nm), equals: 1)
    report.expect("  other traps", Int64(sseRead.other), equals: 0)
    report.expect("  the instruction completed with the value", hex: sseRead.value, equals: 0x1111_2222_3333_4444)
    report.expect("  vector", Int64(lastNM.vector), equals: 7)
    report.expect("  error code in the frame (1 yes, 0 no)", lastNM.hasErrorCode ? 1 : 0, equals: 0)
    report.expect("  rip = the instruction", hex: lastNM.rip, equals: fpu_sse_read_insn_address())
    report.expect("  cs", hex: lastNM.cs, equals: Traps.kernelCS)
    report.expect("  saved event mask", hex: lastNM.savedUpcallMask, equals: 1)
    report.expect("  handler's event mask", Int64(lastNM.upcallMask), equals: 1)
    report.expect("  cr0.TS after (cleared by the #NM)", hex: readCR0() & cr0TS, equals: 0)
    let again = probe(fpu_sse_read_insn_address()) { fpu_sse_read() }
    report.expect("  a second access: #NM", Int64(again.nm), equals: 0)

    report.group("fpu_taskswitch(1), x87")
    report.expect("fninit: #NM", Int64(probe(fpu_fninit_insn_address()) { fpu_fninit() }.nm), equals: 0)
    x87Slot = 0x0123_4567_89AB_CDEF
    report.expect("fildq: #NM", Int64(probe(fpu_x87_push_insn_address()) { fpu_x87_push(&x87Slot) }.nm), equals: 0)
    x87Slot = 0
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    let pop = probe(fpu_x87_pop_insn_address()) { fpu_x87_pop(&x87Slot) }
    report.expect("fistpq: #NM", Int64(pop.nm), equals: 1)
    report.expect("  rip = the instruction", hex: lastNM.rip, equals: fpu_x87_pop_insn_address())
    report.expect("  st(0) survived", hex: x87Slot, equals: 0x0123_4567_89AB_CDEF)

    report.group("handler calls fpu_taskswitch(0)")
    handlerClearsTS = true
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    let write = probe(fpu_sse_write_insn_address()) { fpu_sse_write(0x5555_6666_7777_8888) }
    report.expect("movq to %xmm1: #NM", Int64(write.nm), equals: 1)
    report.expect("  rip = the instruction", hex: lastNM.rip, equals: fpu_sse_write_insn_address())
    handlerClearsTS = false
    report.expect("  cr0.TS after", hex: readCR0() & cr0TS, equals: 0)
    report.expect("  %xmm1 holds the write", hex: fpu_sse_read(), equals: 0x5555_6666_7777_8888)

    report.group("TS set twice")
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    report.expect("fpu_taskswitch(1) again", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    let twice = probe(fpu_sse_read_insn_address()) { fpu_sse_read() }
    report.expect("#NM", Int64(twice.nm), equals: 1)
    report.expect("  value", hex: twice.value, equals: 0x5555_6666_7777_8888)

    report.group("fpu_taskswitch(0)")
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    report.expect("fpu_taskswitch(0)", HYPERVISOR_fpu_taskswitch(0), equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: 0)
    report.expect("  #NM", Int64(probe(fpu_sse_read_insn_address()) { fpu_sse_read() }.nm), equals: 0)
    report.expect("fpu_taskswitch(2)", HYPERVISOR_fpu_taskswitch(2), equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: cr0TS)
    report.expect("  #NM", Int64(probe(fpu_sse_read_insn_address()) { fpu_sse_read() }.nm), equals: 1)

    report.group("clts")
    report.expect("fpu_taskswitch(1)", HYPERVISOR_fpu_taskswitch(1), equals: 0)
    let clts = probe(fpu_clts_insn_address()) { fpu_clts() }
    report.expect("clts: traps reaching the guest", Int64(clts.other + clts.nm), equals: 0)
    report.expect("  result (not the fixup)", hex: clts.value, equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: 0)
    report.expect("  #NM after", Int64(probe(fpu_sse_read_insn_address()) { fpu_sse_read() }.nm), equals: 0)

    report.group("mov to cr0")
    let cr0 = readCR0()
    let setTS = probe(fpu_write_cr0_insn_address()) { fpu_write_cr0(cr0 | cr0TS) }
    report.expect("cr0 | TS: traps reaching the guest", Int64(setTS.other + setTS.nm), equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: cr0TS)
    let afterSet = probe(fpu_sse_read_insn_address()) { fpu_sse_read() }
    report.expect("  #NM", Int64(afterSet.nm), equals: 1)
    report.expect("  value", hex: afterSet.value, equals: 0x5555_6666_7777_8888)
    report.expect("cr0 | TS again", Int64(probe(fpu_write_cr0_insn_address()) { fpu_write_cr0(cr0 | cr0TS) }.other),
                  equals: 0)
    let clearTS = probe(fpu_write_cr0_insn_address()) { fpu_write_cr0(cr0 & ~cr0TS) }
    report.expect("cr0 & ~TS: traps reaching the guest", Int64(clearTS.other + clearTS.nm), equals: 0)
    report.expect("  cr0.TS", hex: readCR0() & cr0TS, equals: 0)
    let flipAM = probe(fpu_write_cr0_insn_address()) { fpu_write_cr0(cr0 ^ cr0AM) }
    report.expect("cr0 ^ AM: traps", Int64(flipAM.other), equals: 1)
    report.expect("  resumed at the fixup", hex: flipAM.value, equals: FPU_FAULTED)
    report.expect("  vector", Int64(Traps.last.vector), equals: 13)
    report.expect("  error code", hex: Traps.last.errorCode, equals: 0)
    report.expect("  rip", hex: Traps.last.rip, equals: fpu_write_cr0_insn_address())
    report.expect("  cr0 unchanged", hex: readCR0(), equals: cr0)

    report.group("state across hypercalls")
    _ = fpu_sse_write(0x9999_AAAA_BBBB_CCCC)
    var version = 0
    for _ in 0..<8 { version = Int(HYPERVISOR_xen_version(UInt32(XENVER_version), nil)) }
    report.check("xen_version answered", version > 0)
    report.expect("%xmm1", hex: fpu_sse_read(), equals: 0x9999_AAAA_BBBB_CCCC)

    report.group(nil)
    report.expect("#NM in all", Int64(deviceNotAvailable), equals: 6)
    report.expect("no event upcalls", Int64(Traps.eventCount), equals: 0)
    report.finish()
}
