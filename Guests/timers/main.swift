// timers: guest time (vcpu_time_info) and the timers a PV guest can set: set_timer_op,
// the VCPUOP singleshot and periodic timers, VIRQ_TIMER delivery, and the wake-ups of
// SCHEDOP_block and SCHEDOP_poll.
//
// Every check compares against system time the guest computes from vcpu_time_info and
// the TSC, with generous windows: under emulation a 10 ms timer may arrive much later,
// so no check asserts a duration, only an order (never before the deadline) and an
// upper bound of seconds.
//
// Facts Xen 4.17 showed (the spec Apus must meet; "info" lines in the log give the
// measured numbers):
// vcpu_time_info: version even (2 at start, one update per ~1 s calibration, no odd
//   version seen by a reader); tsc_shift -1, tsc_to_system_mul 0xc537xxxx (a 2.6 GHz
//   TSC under QEMU); system time ~1 s at guest start; time from the TSC never went
//   backwards over 1.2 s of reads around xen_version and SCHEDOP_yield.
// EVTCHNOP_bind_virq(VIRQ_TIMER, vCPU 0): 0, port 1 (the first free port); binding it
//   again: -EEXIST (-17).
// A default periodic tick runs before the guest sets any timer: the VIRQ_TIMER port is
//   pending 50 ms after binding. VCPUOP_stop_periodic_timer and
//   VCPUOP_stop_singleshot_timer (0 both) silence it.
// set_timer_op(deadline): 0; the port becomes pending after the deadline (seen 20-200 us
//   after it), never before, once; a second call replaces the deadline; 0 cancels; a
//   deadline in the past makes the port pending before the hypercall returns. With
//   events unmasked the event callback runs once, after the deadline.
// SCHEDOP_block with a timer armed: 0, returns after the deadline (1-3 ms later under
//   QEMU) with evtchn_upcall_mask cleared (block unmasks events) and the timer upcall
//   delivered.
// VCPUOP_set_singleshot_timer: the same timer as set_timer_op (stop_singleshot_timer
//   cancels a set_timer_op deadline); fires after the deadline. VCPU_SSHOTTMR_future
//   with a past deadline: 0 and the timer fires at once (Xen 4.17 ignores the flag; the
//   public header's -ETIME is not returned). vCPU 1 (dom0 has one): -ENOENT (-2).
// VCPUOP_set_periodic_timer: 10 ms gave 10 upcalls in 100 ms; stop_periodic_timer: 0,
//   then silence. A period below 1 ms (0.5 ms) or 0: -EINVAL (-22), no clamp; 1 ms: 0.
// SCHEDOP_poll(one port, timeout): 0 in every case; returns when the port becomes
//   pending (before the timeout), at once when it already is, and at the timeout
//   (after it, port not pending) when nothing fires; events stay masked, no upcall.
import XenGuest
import XenGuestC
import ApusPublic
import TimerProbes

private func errno(_ value: Int32) -> Int64 { -Int64(value) }
private let msNs: UInt64 = 1_000_000
private let pendingOffset: UInt64 = 2048
private let maskOffset: UInt64 = 2560
/// The event callback goes to this vector's stub, so the hook sees every upcall.
private let upcallVector: UInt8 = 0xF0

// --- Guest time ---

private var timeInfoAddress: UInt64 {
    xg_shared_info_address() &+ UInt64(MemoryLayout<vcpu_info>.offset(of: \.time)!)
}

/// One consistent reading of vcpu_time_info and the system time it gives now.
private struct TimeReading {
    var version: UInt32
    var systemTimeNs: UInt64
    var mul: UInt32
    var shift: Int8
}

nonisolated(unsafe) private var oddVersionsSeen = 0

private func readTime() -> TimeReading {
    let base = timeInfoAddress
    while true {
        let version = UInt32(truncatingIfNeeded: xg_read64(base))
        if version & 1 != 0 { oddVersionsSeen += 1; continue }
        let stampTSC = xg_read64(base &+ 8)
        let stampNs = xg_read64(base &+ 16)
        let scale = xg_read64(base &+ 24)
        let tsc = tm_rdtsc()
        if UInt32(truncatingIfNeeded: xg_read64(base)) != version { continue }
        let mul = UInt32(truncatingIfNeeded: scale)
        let shift = Int8(truncatingIfNeeded: scale >> 32)
        var delta = tsc &- stampTSC
        if shift < 0 { delta >>= UInt64(-Int(shift)) } else { delta <<= UInt64(shift) }
        let product = delta.multipliedFullWidth(by: UInt64(mul))
        let ns = (product.high << 32) | (product.low >> 32)
        return TimeReading(version: version, systemTimeNs: stampNs &+ ns, mul: mul, shift: shift)
    }
}

private func now() -> UInt64 { readTime().systemTimeNs }

// --- Event ports ---

private func portBit(_ offset: UInt64, _ port: UInt32) -> Bool {
    xg_read64(xg_shared_info_address() &+ offset &+ UInt64(port / 64) &* 8) & (1 << UInt64(port % 64)) != 0
}

private func setPortBit(_ offset: UInt64, _ port: UInt32, _ value: Bool) {
    let word = xg_shared_info_address() &+ offset &+ UInt64(port / 64) &* 8
    let bit: UInt64 = 1 << UInt64(port % 64)
    let old = xg_read64(word)
    xg_write64(word, value ? old | bit : old & ~bit)
}

nonisolated(unsafe) private var timerPort: UInt32 = 0
nonisolated(unsafe) private var upcalls = 0
nonisolated(unsafe) private var timerUpcalls = 0
nonisolated(unsafe) private var lastUpcallNs: UInt64 = 0

/// Forgets a timer event: the port's pending bit and the vCPU's pending flags.
private func clearTimerEvent() {
    setPortBit(pendingOffset, timerPort, false)
    SharedInfo.vcpu0.pointee.evtchn_pending_sel = 0
    SharedInfo.vcpu0.pointee.evtchn_upcall_pending = 0
}

private var timerPending: Bool { portBit(pendingOffset, timerPort) }

private let hook: TrapHook = { _ in
    guard Traps.last.vector == UInt32(upcallVector) else { return false }
    upcalls += 1
    if portBit(pendingOffset, timerPort) {
        timerUpcalls += 1
        lastUpcallNs = now()
    }
    clearTimerEvent()
    return true
}

private func maskEvents(_ masked: Bool) {
    SharedInfo.vcpu0.pointee.evtchn_upcall_mask = masked ? 1 : 0
}

/// Spins (events masked) until the timer port is pending or `limit` passes; returns
/// the system time at which it was first seen pending, or nil.
private func waitForTimerPort(until limit: UInt64) -> UInt64? {
    while true {
        let t = now()
        if timerPending { return t }
        if t > limit { return nil }
    }
}

private func spin(until limit: UInt64) {
    while now() < limit {}
}

private func setTimerOp(_ deadline: UInt64) -> Int64 {
    xen_hypercall_raw(UInt64(__HYPERVISOR_set_timer_op), deadline, 0, 0, 0, 0)
}

private func singleshot(_ deadline: UInt64, flags: UInt32) -> Int64 {
    var request = vcpu_set_singleshot_timer(timeout_abs_ns: deadline, flags: flags, _pad: 0)
    return HYPERVISOR_vcpu_op(UInt32(VCPUOP_set_singleshot_timer), 0, &request)
}

private func periodic(_ periodNs: UInt64) -> Int64 {
    var request = vcpu_set_periodic_timer(period_ns: periodNs)
    return HYPERVISOR_vcpu_op(UInt32(VCPUOP_set_periodic_timer), 0, &request)
}

private func stopPeriodic() -> Int64 {
    HYPERVISOR_vcpu_op(UInt32(VCPUOP_stop_periodic_timer), 0, nil)
}

/// A one-shot deadline fires: never before it, and within 5 s of it.
private func expectFires(_ report: inout TestReport, _ name: StaticString, deadline: UInt64) {
    let seen = waitForTimerPort(until: deadline &+ 5_000 * msNs)
    if report.check(name, seen != nil), let seen {
        report.check("  not before the deadline", seen >= deadline)
        report.info("  seen after the deadline (us)", Int64(bitPattern: seen &- deadline) / 1000)
    }
    clearTimerEvent()
}

private func expectSilent(_ report: inout TestReport, _ name: StaticString, forMs: UInt64) {
    spin(until: now() &+ forMs &* msNs)
    report.check(name, !timerPending)
    clearTimerEvent()
}

private func pollTimerPort(timeout: UInt64) -> Int64 {
    var port = timerPort
    return withUnsafeMutablePointer(to: &port) { ports in
        var request = sched_poll(ports: xen_guest_handle_t(p: UInt64(UInt(bitPattern: ports))), nr_ports: 1, _pad: 0, timeout: timeout)
        return HYPERVISOR_sched_op(UInt32(SCHEDOP_poll), &request)
    }
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "timers")
    report.expect("install the trap table and callbacks", Traps.install(guest: "timers"), equals: 0)
    Traps.hook = hook
    report.expect("event callback at the 0xf0 stub",
                  Traps.registerCallback(type: UInt16(CALLBACKTYPE_event),
                                         address: Traps.entryAddress(vector: upcallVector), maskEvents: true),
                  equals: 0)
    maskEvents(true)

    // --- vcpu_time_info ---
    report.group("vcpu_time_info")
    let first = readTime()
    report.check("version even", first.version & 1 == 0)
    report.info("version", Int64(first.version))
    report.info("tsc_to_system_mul", hex: UInt64(first.mul))
    report.info("tsc_shift", Int64(first.shift))
    report.check("tsc_to_system_mul non-zero", first.mul != 0)
    report.check("tsc_shift in -31...31", first.shift > -32 && first.shift < 32)
    // ns per TSC tick = mul / 2^32 * 2^shift: a TSC between 1 MHz and 100 GHz.
    let ticksPerMs = (UInt64(1) << 32) &* msNs / UInt64(max(first.mul, 1))
    let khz = first.shift >= 0 ? ticksPerMs >> UInt64(first.shift) : ticksPerMs << UInt64(-Int(first.shift))
    report.info("TSC kHz (from the scale)", Int64(khz))
    report.check("TSC between 1 MHz and 100 GHz", khz >= 1_000 && khz <= 100_000_000)
    report.check("system time non-zero", first.systemTimeNs != 0)
    report.info("system time (ms)", Int64(first.systemTimeNs / msNs))
    var previous = first.systemTimeNs
    var backwards = 0
    var versions = 0
    var lastVersion = first.version
    // Long enough (1.2 s) to span one of Xen's once-a-second time calibrations.
    var round = 0
    while previous &- first.systemTimeNs < 1_200 * msNs && round < 50_000_000 {
        round += 1
        let reading = readTime()
        if reading.systemTimeNs < previous { backwards += 1 }
        if reading.version != lastVersion { versions += 1; lastVersion = reading.version }
        previous = reading.systemTimeNs
        switch round % 3 {
        case 0: _ = HYPERVISOR_xen_version(UInt32(XENVER_version), nil)
        case 1: _ = HYPERVISOR_sched_op(UInt32(SCHEDOP_yield), nil)
        default: break
        }
    }
    report.expect("reads going backwards (1.2 s of reads around hypercalls)", Int64(backwards), equals: 0)
    report.check("time advanced", previous > first.systemTimeNs)
    report.info("elapsed (ms)", Int64((previous &- first.systemTimeNs) / msNs))
    report.info("version changes seen", Int64(versions))
    report.info("odd versions seen", Int64(oddVersionsSeen))

    // --- VIRQ_TIMER ---
    report.group("VIRQ_TIMER")
    var bind = evtchn_bind_virq(virq: UInt32(VIRQ_TIMER), vcpu: 0, port: 0)
    report.expect("bind_virq(VIRQ_TIMER, vCPU 0)", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &bind),
                  equals: 0)
    timerPort = bind.port
    report.check("a port number > 0", timerPort > 0 && timerPort < 4096)
    report.info("port", Int64(timerPort))
    var again = evtchn_bind_virq(virq: UInt32(VIRQ_TIMER), vcpu: 0, port: 0)
    report.expect("binding it again", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &again),
                  equals: errno(XEN_EEXIST))
    setPortBit(maskOffset, timerPort, false)
    // Whether a timer runs before the guest sets one (a default periodic tick).
    spin(until: now() &+ 50 * msNs)
    report.check("pending 50 ms after binding, before any timer was set (the default tick)", timerPending)
    report.expect("stop_periodic_timer", stopPeriodic(), equals: 0)
    report.expect("stop_singleshot_timer", HYPERVISOR_vcpu_op(UInt32(VCPUOP_stop_singleshot_timer), 0, nil),
                  equals: 0)
    clearTimerEvent()
    expectSilent(&report, "then nothing fires for 50 ms", forMs: 50)

    // --- set_timer_op ---
    report.group("set_timer_op")
    var deadline = now() &+ 10 * msNs
    report.expect("now + 10 ms", setTimerOp(deadline), equals: 0)
    expectFires(&report, "the port becomes pending", deadline: deadline)
    expectSilent(&report, "fires once", forMs: 30)

    report.expect("now + 10 ms", setTimerOp(now() &+ 10 * msNs), equals: 0)
    report.expect("then 0 (cancel)", setTimerOp(0), equals: 0)
    expectSilent(&report, "nothing fires within 50 ms", forMs: 50)

    report.expect("now + 10 ms", setTimerOp(now() &+ 10 * msNs), equals: 0)
    deadline = now() &+ 30 * msNs
    report.expect("then now + 30 ms (replaces it)", setTimerOp(deadline), equals: 0)
    expectFires(&report, "the port becomes pending", deadline: deadline)

    let pastStart = now()
    report.expect("a deadline 1 ms in the past", setTimerOp(pastStart &- msNs), equals: 0)
    report.check("  pending when the call returns", timerPending)
    let pastSeen = waitForTimerPort(until: pastStart &+ 5_000 * msNs)
    report.check("  fires", pastSeen != nil)
    if let pastSeen { report.info("  after (us)", Int64((pastSeen &- pastStart) / 1000)) }
    clearTimerEvent()

    // Delivery through the event callback (events unmasked while spinning).
    upcalls = 0
    timerUpcalls = 0
    deadline = now() &+ 10 * msNs
    report.expect("now + 10 ms, events unmasked", setTimerOp(deadline), equals: 0)
    maskEvents(false)
    let limit = deadline &+ 5_000 * msNs
    while timerUpcalls == 0 && now() < limit {}
    maskEvents(true)
    report.expect("  one upcall for the timer port", Int64(timerUpcalls), equals: 1)
    report.check("  upcall after the deadline", lastUpcallNs >= deadline)
    report.info("  upcall after the deadline (us)", Int64(bitPattern: lastUpcallNs &- deadline) / 1000)
    clearTimerEvent()

    // --- SCHEDOP_block ---
    report.group("SCHEDOP_block")
    timerUpcalls = 0
    deadline = now() &+ 10 * msNs
    report.expect("set_timer_op(now + 10 ms)", setTimerOp(deadline), equals: 0)
    report.expect("block", HYPERVISOR_sched_op(UInt32(SCHEDOP_block), nil), equals: 0)
    let woke = now()
    report.expect("  event mask after block (block unmasked events)", Int64(SharedInfo.vcpu0.pointee.evtchn_upcall_mask),
                  equals: 0)
    maskEvents(true)
    report.check("  returns after the deadline", woke >= deadline)
    report.info("  woke after the deadline (us)", Int64(bitPattern: woke &- deadline) / 1000)
    report.expect("  the timer upcall ran", Int64(timerUpcalls), equals: 1)
    report.check("  upcall after the deadline", lastUpcallNs >= deadline)
    clearTimerEvent()

    // --- VCPUOP singleshot ---
    report.group("singleshot")
    deadline = now() &+ 10 * msNs
    report.expect("set_singleshot_timer(now + 10 ms)", singleshot(deadline, flags: 0), equals: 0)
    expectFires(&report, "the port becomes pending", deadline: deadline)
    deadline = now() &+ 10 * msNs
    report.expect("set_singleshot_timer(now + 10 ms, future)", singleshot(deadline, flags: UInt32(VCPU_SSHOTTMR_future)),
                  equals: 0)
    expectFires(&report, "the port becomes pending", deadline: deadline)
    report.expect("set_singleshot_timer(now + 10 ms)", singleshot(now() &+ 10 * msNs, flags: 0), equals: 0)
    report.expect("stop_singleshot_timer", HYPERVISOR_vcpu_op(UInt32(VCPUOP_stop_singleshot_timer), 0, nil),
                  equals: 0)
    expectSilent(&report, "nothing fires within 50 ms", forMs: 50)
    report.expect("set_timer_op(now + 10 ms)", setTimerOp(now() &+ 10 * msNs), equals: 0)
    report.expect("stop_singleshot_timer (the same timer)",
                  HYPERVISOR_vcpu_op(UInt32(VCPUOP_stop_singleshot_timer), 0, nil), equals: 0)
    expectSilent(&report, "nothing fires within 50 ms", forMs: 50)
    // The public header promises -ETIME here; Xen 4.17 ignores the flag and fires.
    let pastFutureStart = now()
    let pastFuture = singleshot(pastFutureStart &- msNs, flags: UInt32(VCPU_SSHOTTMR_future))
    report.expect("a past deadline with VCPU_SSHOTTMR_future (flag ignored)", pastFuture, equals: 0)
    report.check("  fires", waitForTimerPort(until: pastFutureStart &+ 5_000 * msNs) != nil)
    clearTimerEvent()
    let pastPlain = now()
    report.expect("a past deadline without flags", singleshot(pastPlain &- msNs, flags: 0), equals: 0)
    report.check("  fires", waitForTimerPort(until: pastPlain &+ 5_000 * msNs) != nil)
    clearTimerEvent()
    var shortRequest = vcpu_set_singleshot_timer(timeout_abs_ns: now() &+ msNs, flags: 0, _pad: 0)
    report.expect("for another vCPU (1)", HYPERVISOR_vcpu_op(UInt32(VCPUOP_set_singleshot_timer), 1, &shortRequest),
                  equals: errno(XEN_ENOENT))
    _ = HYPERVISOR_vcpu_op(UInt32(VCPUOP_stop_singleshot_timer), 0, nil)
    clearTimerEvent()

    // --- VCPUOP periodic ---
    report.group("periodic")
    upcalls = 0
    timerUpcalls = 0
    let periodicStart = now()
    report.expect("set_periodic_timer(10 ms)", periodic(10 * msNs), equals: 0)
    maskEvents(false)
    spin(until: periodicStart &+ 100 * msNs)
    maskEvents(true)
    report.expect("stop_periodic_timer", stopPeriodic(), equals: 0)
    report.info("  upcalls in 100 ms", Int64(timerUpcalls))
    report.check("  several (3 to 15) in 100 ms", timerUpcalls >= 3 && timerUpcalls <= 15)
    clearTimerEvent()
    expectSilent(&report, "  stopped: nothing within 50 ms", forMs: 50)
    let belowMinimum = periodic(500_000)
    report.expect("a 0.5 ms period (below the minimum)", belowMinimum, equals: errno(XEN_EINVAL))
    report.expect("a 0 period", periodic(0), equals: errno(XEN_EINVAL))
    report.expect("a 1 ms period", periodic(msNs), equals: 0)
    report.expect("stop_periodic_timer", stopPeriodic(), equals: 0)
    clearTimerEvent()
    expectSilent(&report, "  stopped: nothing within 50 ms", forMs: 50)

    // --- SCHEDOP_poll ---
    report.group("SCHEDOP_poll")
    upcalls = 0
    deadline = now() &+ 10 * msNs
    var timeout = now() &+ 2_000 * msNs
    report.expect("set_timer_op(now + 10 ms)", setTimerOp(deadline), equals: 0)
    report.expect("poll(timer port, timeout now + 2 s)", pollTimerPort(timeout: timeout), equals: 0)
    var returned = now()
    report.check("  the port is pending", timerPending)
    report.check("  returns after the timer deadline", returned >= deadline)
    report.check("  and before the timeout", returned < timeout)
    report.info("  after the deadline (us)", Int64(bitPattern: returned &- deadline) / 1000)
    report.expect("poll with the port pending (returns at once)", pollTimerPort(timeout: now() &+ 2_000 * msNs),
                  equals: 0)
    report.check("  before the timeout", now() < timeout)
    clearTimerEvent()

    timeout = now() &+ 20 * msNs
    report.expect("poll(timer port, timeout now + 20 ms), no timer", pollTimerPort(timeout: timeout), equals: 0)
    returned = now()
    report.check("  returns at the timeout", returned >= timeout)
    report.check("  the port is not pending", !timerPending)
    report.info("  after the timeout (us)", Int64(bitPattern: returned &- timeout) / 1000)
    report.expect("  event mask still set", Int64(SharedInfo.vcpu0.pointee.evtchn_upcall_mask), equals: 1)
    report.expect("  no upcalls during the polls", Int64(upcalls), equals: 0)

    report.group(nil)
    report.finish()
}
