// callbacks: registering the event, failsafe, syscall and other callbacks
// (set_callbacks and callback_op), what is refused, the event callback's use (an
// event the guest sends itself is delivered where the event callback points), and
// what a return frame the CPU refuses does (the failsafe question).
//
// Facts Xen 4.17 showed (the spec Apus must meet):
// callback_op(CALLBACKOP_register): 0 for event, failsafe, syscall, syscall32 (7),
//   sysenter (5) and nmi (4), with or without CALLBACKF_mask_events, at any canonical
//   address (0, the lower half, even Xen's range); -ENOSYS (-38) for types 3
//   (sysenter_deprecated), 6, 8, 0xffff; -EINVAL (-22) for a non-canonical address,
//   checked before the type (type 99 non-canonical is -EINVAL); -EFAULT (-14) for an
//   unmapped argument.
// callback_op(CALLBACKOP_unregister): -EINVAL for event, failsafe, syscall, syscall32,
//   sysenter; 0 for nmi (also when none is registered); -ENOSYS for 3 and 99;
//   -EFAULT for an unmapped argument. Command 2: -ENOSYS.
// set_callbacks(event, failsafe, syscall): 0; a non-canonical address is ignored
//   (still 0, the callback keeps its old address).
// Events: EVTCHNOP_bind_ipi(vCPU 0) gave port 1; EVTCHNOP_send with events masked
//   sets the port's pending bit, evtchn_upcall_pending = 1 and pending_sel bit 0, and
//   makes no upcall; after clearing evtchn_upcall_mask, the next return from a
//   hypercall enters the event callback (the one registered last, by either
//   hypercall) with a frame whose rip is after the `syscall` of that hypercall's stub
//   (offset 0x22a of the page for xen_version), CS 0xe030 with saved mask 0,
//   RFLAGS.IF set, and events masked in the handler.
// Failsafe: not reachable here. An iret frame the CPU refuses is not a failsafe case
//   for a 64-bit PV guest: Xen forces RPL 3 on SS, its iretq faults, and the #GP is
//   bounced to the guest's #GP handler (error code = the refused selector: 0 for cs
//   0, 0xe028 for a data selector as cs, 0xe010 for Xen's ring-0 data as ss) with
//   the frame the guest gave (rip = the target, cs with RPL 0, ss | 3). Xen 4.17
//   enters the failsafe callback only from load_segments() on a real vCPU context
//   switch, when reloading the saved %ds/%es/%fs/%gs faults; with one pCPU and dom0
//   limited to one vCPU ("Dom0 has maximum 1 VCPUs"), the only switches are to the
//   idle vCPU and back, which Xen does lazily without reloading segments, so no
//   guest action makes it happen reliably. (An iret with an RPL-3 CS, e.g. 0xe033,
//   switches to user mode: with no user page table, Xen crashes the domain: "Guest
//   switching to user mode with no user page tables".)
import XenGuest
import XenGuestC
import ApusPublic
import CallbackProbes

private func errno(_ value: Int32) -> Int64 { -Int64(value) }
private let nonCanonical: UInt64 = 0x0000_8000_0000_0000
private let alternateVector: UInt8 = 0xF0

private func register(_ type: Int32, _ address: UInt64, maskEvents: Bool = true) -> Int64 {
    Traps.registerCallback(type: UInt16(type), address: address, maskEvents: maskEvents)
}

private func unregister(_ type: Int32) -> Int64 {
    var request = callback_unregister(type: UInt16(type), _unused: 0)
    return HYPERVISOR_callback_op(UInt32(CALLBACKOP_unregister), &request)
}

// --- Events sent to ourselves (an IPI channel bound to vCPU 0) ---

private let pendingOffset: UInt64 = 2048
private let maskOffset: UInt64 = 2560

private func setPortBit(_ offset: UInt64, _ port: UInt32, _ value: Bool) {
    let word = xg_shared_info_address() &+ offset &+ UInt64(port / 64) &* 8
    let bit: UInt64 = 1 << UInt64(port % 64)
    let old = xg_read64(word)
    xg_write64(word, value ? old | bit : old & ~bit)
}

private func portBit(_ offset: UInt64, _ port: UInt32) -> Bool {
    xg_read64(xg_shared_info_address() &+ offset &+ UInt64(port / 64) &* 8) & (1 << UInt64(port % 64)) != 0
}

nonisolated(unsafe) private var ipiPort: UInt32 = 0
nonisolated(unsafe) private var alternateRecord = TrapRecord.empty
nonisolated(unsafe) private var alternateCount = 0
nonisolated(unsafe) private var iretRecord = TrapRecord.empty
nonisolated(unsafe) private var iretTraps = 0
nonisolated(unsafe) private var failsafeCount = 0

/// Clears what the delivery of our port left pending, as a guest's upcall handler does.
private func acknowledge() {
    SharedInfo.vcpu0.pointee.evtchn_upcall_pending = 0
    SharedInfo.vcpu0.pointee.evtchn_pending_sel = 0
    setPortBit(pendingOffset, ipiPort, false)
}

private let hook: TrapHook = { frame in
    let record = Traps.last
    if record.vector == UInt32(XG_VECTOR_FAILSAFE) {
        failsafeCount += 1
        frame.pointee.rip = cb_iret_fixup_address()
        return true
    }
    if record.vector == UInt32(alternateVector) {
        alternateRecord = record
        alternateCount += 1
        acknowledge()
        return true
    }
    if record.rip == cb_iret_target_address() || record.rip == cb_iret_fixup_address() {
        iretRecord = record
        iretTraps += 1
        frame.pointee.rip = cb_iret_fixup_address()
        frame.pointee.cs = Traps.kernelCS
        frame.pointee.ss = Traps.flatSS
        return true
    }
    return false
}

/// Sends on the IPI port with events masked, then unmasks them around one hypercall
/// (Xen delivers pending events on the way back to the guest) and masks them again.
/// Returns the send result.
private func sendAndDeliver() -> Int64 {
    var send = evtchn_send(port: ipiPort)
    let result = HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_send), &send)
    SharedInfo.vcpu0.pointee.evtchn_upcall_mask = 0
    _ = HYPERVISOR_xen_version(UInt32(XENVER_version), nil)
    SharedInfo.vcpu0.pointee.evtchn_upcall_mask = 1
    return result
}

/// An iret whose frame the CPU refuses: Xen bounces the #GP of its own iretq to the
/// guest's #GP handler with the frame the guest gave (rip = the target).
private func expectIretFault(_ report: inout TestReport, _ name: StaticString, cs: UInt64, ss: UInt64,
                             errorCode: UInt64) {
    let before = iretTraps
    report.expect(name, Int64(cb_iret_to(cs, ss)), equals: 1)
    report.expect("  traps", Int64(iretTraps - before), equals: 1)
    report.expect("  vector", Int64(iretRecord.vector), equals: 13)
    report.expect("  error code", hex: iretRecord.errorCode, equals: errorCode)
    report.expect("  rip = the frame's target", hex: iretRecord.rip, equals: cb_iret_target_address())
    report.expect("  cs = the frame's (RPL 0)", hex: iretRecord.cs, equals: cs & ~3)
    report.expect("  ss = the frame's with RPL 3", hex: iretRecord.ss, equals: ss | 3)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "callbacks")
    report.expect("install the trap table and callbacks", Traps.install(guest: "callbacks"), equals: 0)
    Traps.hook = hook
    let event = xg_event_entry_address()
    let failsafe = xg_failsafe_entry_address()
    let syscall = xg_syscall_entry_address()
    let alternate = Traps.entryAddress(vector: alternateVector)

    // --- callback_op register ---
    report.group("register")
    report.expect("event", register(CALLBACKTYPE_event, event), equals: 0)
    report.expect("event without mask_events", register(CALLBACKTYPE_event, event, maskEvents: false), equals: 0)
    report.expect("failsafe", register(CALLBACKTYPE_failsafe, failsafe), equals: 0)
    report.expect("failsafe without mask_events", register(CALLBACKTYPE_failsafe, failsafe, maskEvents: false),
                  equals: 0)
    report.expect("syscall", register(CALLBACKTYPE_syscall, syscall), equals: 0)
    report.expect("syscall32 (7)", register(CALLBACKTYPE_syscall32, syscall), equals: 0)
    report.expect("sysenter (5)", register(CALLBACKTYPE_sysenter, syscall), equals: 0)
    report.expect("nmi (4)", register(CALLBACKTYPE_nmi, event), equals: 0)
    report.expect("sysenter_deprecated (3)", register(CALLBACKTYPE_sysenter_deprecated, syscall),
                  equals: errno(XEN_ENOSYS))
    report.expect("type 6", register(6, syscall), equals: errno(XEN_ENOSYS))
    report.expect("type 8", register(8, syscall), equals: errno(XEN_ENOSYS))
    report.expect("type 0xffff", register(0xFFFF, syscall), equals: errno(XEN_ENOSYS))
    report.expect("event at address 0", register(CALLBACKTYPE_event, 0), equals: 0)
    report.expect("event at a lower-half address", register(CALLBACKTYPE_event, 0x1000), equals: 0)
    report.expect("event at Xen's range", register(CALLBACKTYPE_event, 0xFFFF_8300_0000_0000), equals: 0)
    report.expect("event non-canonical", register(CALLBACKTYPE_event, nonCanonical), equals: errno(XEN_EINVAL))
    report.expect("syscall non-canonical", register(CALLBACKTYPE_syscall, nonCanonical), equals: errno(XEN_EINVAL))
    report.expect("nmi non-canonical", register(CALLBACKTYPE_nmi, nonCanonical), equals: errno(XEN_EINVAL))
    report.expect("type 99 non-canonical (address checked first)", register(99, nonCanonical),
                  equals: errno(XEN_EINVAL))
    report.expect("register from an unmapped pointer",
                  HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), UnsafeMutableRawPointer(bitPattern: 0xDEAD000)),
                  equals: errno(XEN_EFAULT))
    report.expect("event back to the runtime's entry", register(CALLBACKTYPE_event, event), equals: 0)

    // --- callback_op unregister ---
    report.group("unregister")
    report.expect("event", unregister(CALLBACKTYPE_event), equals: errno(XEN_EINVAL))
    report.expect("failsafe", unregister(CALLBACKTYPE_failsafe), equals: errno(XEN_EINVAL))
    report.expect("syscall", unregister(CALLBACKTYPE_syscall), equals: errno(XEN_EINVAL))
    report.expect("syscall32", unregister(CALLBACKTYPE_syscall32), equals: errno(XEN_EINVAL))
    report.expect("sysenter", unregister(CALLBACKTYPE_sysenter), equals: errno(XEN_EINVAL))
    report.expect("nmi", unregister(CALLBACKTYPE_nmi), equals: 0)
    report.expect("nmi again (not registered)", unregister(CALLBACKTYPE_nmi), equals: 0)
    report.expect("sysenter_deprecated (3)", unregister(CALLBACKTYPE_sysenter_deprecated), equals: errno(XEN_ENOSYS))
    report.expect("type 99", unregister(99), equals: errno(XEN_ENOSYS))
    report.expect("unregister from an unmapped pointer",
                  HYPERVISOR_callback_op(UInt32(CALLBACKOP_unregister), UnsafeMutableRawPointer(bitPattern: 0xDEAD000)),
                  equals: errno(XEN_EFAULT))
    var dummy = callback_register()
    report.expect("callback_op command 2", HYPERVISOR_callback_op(2, &dummy), equals: errno(XEN_ENOSYS))

    // --- set_callbacks ---
    report.group("set_callbacks")
    report.expect("event, failsafe, syscall", HYPERVISOR_set_callbacks(event, failsafe, syscall), equals: 0)
    report.expect("all non-canonical (ignored, still 0)",
                  HYPERVISOR_set_callbacks(nonCanonical, nonCanonical, nonCanonical), equals: 0)

    // --- Event delivery ---
    report.group("event delivery")
    var bind = evtchn_bind_ipi(vcpu: 0, port: 0)
    report.expect("bind an IPI port to vCPU 0", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_ipi), &bind),
                  equals: 0)
    ipiPort = bind.port
    report.info("port", Int64(ipiPort))
    setPortBit(maskOffset, ipiPort, false)
    var send = evtchn_send(port: ipiPort)
    report.expect("send with events masked", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_send), &send), equals: 0)
    report.check("  the port is pending", portBit(pendingOffset, ipiPort))
    report.expect("  upcall pending", Int64(SharedInfo.vcpu0.pointee.evtchn_upcall_pending), equals: 1)
    report.expect("  pending_sel", hex: SharedInfo.vcpu0.pointee.evtchn_pending_sel,
                  equals: 1 << UInt64(ipiPort / 64))
    report.expect("  no upcall yet", Int64(Traps.eventCount), equals: 0)
    SharedInfo.vcpu0.pointee.evtchn_upcall_mask = 0
    _ = HYPERVISOR_xen_version(UInt32(XENVER_version), nil)
    SharedInfo.vcpu0.pointee.evtchn_upcall_mask = 1
    report.expect("unmask + a hypercall: one upcall at the runtime's entry", Int64(Traps.eventCount), equals: 1)
    acknowledge()

    report.expect("event callback at the 0xf0 stub", register(CALLBACKTYPE_event, alternate), equals: 0)
    report.expect("send", sendAndDeliver(), equals: 0)
    report.expect("  upcalls at the new address", Int64(alternateCount), equals: 1)
    report.expect("  none at the old", Int64(Traps.eventCount), equals: 1)
    report.expect("  frame cs (kernel)", hex: alternateRecord.cs, equals: Traps.kernelCS)
    report.expect("  saved event mask (events were unmasked)", hex: alternateRecord.savedUpcallMask, equals: 0)
    report.expect("  rflags.IF", hex: alternateRecord.rflags & Traps.rflagsIF, equals: Traps.rflagsIF)
    report.expect("  handler runs with events masked", Int64(alternateRecord.upcallMask), equals: 1)
    let xenVersionStub = StartOfDay.hypercallPage + UInt64(__HYPERVISOR_xen_version) * UInt64(HYPERCALL_STUB_BYTES)
    report.check("  rip in the xen_version stub (after its syscall)",
                 alternateRecord.rip > xenVersionStub && alternateRecord.rip < xenVersionStub + 32)
    report.info("  rip offset in the hypercall page", hex: alternateRecord.rip &- StartOfDay.hypercallPage)
    report.expect("set_callbacks with a non-canonical event address", HYPERVISOR_set_callbacks(nonCanonical,
                  failsafe, syscall), equals: 0)
    report.expect("send", sendAndDeliver(), equals: 0)
    report.expect("  still delivered at the 0xf0 stub", Int64(alternateCount), equals: 2)
    report.expect("set_callbacks(runtime entry, ...)", HYPERVISOR_set_callbacks(event, failsafe, syscall), equals: 0)
    report.expect("send", sendAndDeliver(), equals: 0)
    report.expect("  delivered at the runtime's entry", Int64(Traps.eventCount), equals: 2)
    acknowledge()
    report.expect("  not at the 0xf0 stub", Int64(alternateCount), equals: 2)

    // --- What a bad return frame does ---
    report.group("iret")
    report.expect("iret to 0xe030 (kernel CS, RPL 0: stay in kernel mode)",
                  Int64(cb_iret_to(Traps.kernelCS, UInt64(FLAT_KERNEL_SS))), equals: 0)
    expectIretFault(&report, "iret to cs 0", cs: 0, ss: UInt64(FLAT_KERNEL_SS), errorCode: 0)
    expectIretFault(&report, "iret to cs 0xe028 (a data selector)", cs: 0xE028, ss: UInt64(FLAT_KERNEL_SS),
                    errorCode: 0xE028)
    expectIretFault(&report, "iret to ss 0xe010 (Xen's ring-0 data)", cs: Traps.kernelCS, ss: 0xE010,
                    errorCode: 0xE010)
    report.expect("failsafe callbacks", Int64(failsafeCount), equals: 0)

    report.group(nil)
    report.finish()
}
