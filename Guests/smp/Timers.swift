// Timers.swift: the per-vCPU timer test, run by every vCPU at the same time on itself
// (vCPU 0 directly, the others as a command): VIRQ_TIMER bound on the vCPU, the default
// tick, a periodic timer counted over a window of the vCPU's own guest time, and a
// singleshot timer ending SCHEDOP_block. Results go to the vCPU's record (indices
// below); vCPU 0 judges them. Runs with port filtering on (several vCPUs take timer
// events at once). Starts and ends with the vCPU's events masked.
import XenGuest
import XenGuestC
import ApusPublic
import SMPProbes

enum TimerResult: Int {
    case bind = 0, port, defaultTicks, stopPeriodic, stopSingleshot, setPeriodic, periodicTicks, windowNs,
         stopAgain, ticksAfterStop, setSingleshot, block, wokeAfterDeadline, singleshotTicks, wrongVCPU, close,
         upcallAfterDeadline, timeValid
}

func runTimerTest(_ vcpu: Int, periodNs: UInt64, windowNs: UInt64) {
    let record = Record(vcpu: vcpu)
    func put(_ index: TimerResult, _ value: UInt64) { record.setResult(index.rawValue, value) }
    func put(_ index: TimerResult, _ value: Int64) { record.setResult(index.rawValue, value) }
    func put(_ index: TimerResult, _ value: Bool) { record.setResult(index.rawValue, value) }
    func unmaskedSpin(_ ns: UInt64) {
        unmaskEvents(vcpu)
        spin(vcpu, forNs: ns)
        maskEvents(vcpu, true)
    }

    var bind = evtchn_bind_virq(virq: UInt32(VIRQ_TIMER), vcpu: UInt32(vcpu), port: 0)
    let bound = HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &bind)
    put(.bind, bound)
    put(.port, UInt64(bind.port))
    guard bound == 0 else { return }
    let port = bind.port
    Ports.track(port, vcpu: vcpu)
    record.store(.timerPort, UInt64(port))
    setMasked(port, false)

    // Before the vCPU sets any timer.
    var hits = Ports.hits(port)
    unmaskedSpin(50 * msNs)
    put(.defaultTicks, Ports.hits(port) &- hits)
    put(.stopPeriodic, vcpuOp(VCPUOP_stop_periodic_timer, UInt32(vcpu)))
    put(.stopSingleshot, vcpuOp(VCPUOP_stop_singleshot_timer, UInt32(vcpu)))
    unmaskedSpin(10 * msNs)   // an event already on its way is taken here

    hits = Ports.hits(port)
    var periodic = vcpu_set_periodic_timer(period_ns: periodNs)
    put(.setPeriodic, vcpuOp(VCPUOP_set_periodic_timer, UInt32(vcpu), &periodic))
    let start = now(vcpu)
    unmaskEvents(vcpu)
    while now(vcpu) &- start < windowNs { smp_pause() }
    maskEvents(vcpu, true)
    let end = now(vcpu)
    put(.periodicTicks, Ports.hits(port) &- hits)
    put(.windowNs, end &- start)
    put(.stopAgain, vcpuOp(VCPUOP_stop_periodic_timer, UInt32(vcpu)))
    unmaskedSpin(10 * msNs)
    hits = Ports.hits(port)
    unmaskedSpin(50 * msNs)
    put(.ticksAfterStop, Ports.hits(port) &- hits)

    let deadline = now(vcpu) &+ 20 * msNs
    var single = vcpu_set_singleshot_timer(timeout_abs_ns: deadline, flags: 0, _pad: 0)
    put(.setSingleshot, vcpuOp(VCPUOP_set_singleshot_timer, UInt32(vcpu), &single))
    hits = Ports.hits(port)
    let blocked = block()
    let woke = now(vcpu)
    maskEvents(vcpu, true)
    put(.block, blocked)
    put(.wokeAfterDeadline, woke >= deadline)
    put(.singleshotTicks, Ports.hits(port) &- hits)
    put(.upcallAfterDeadline, record.load(.lastTimerNs) >= deadline)
    put(.wrongVCPU, Ports.load(.wrong, port))
    record.store(.timerPort, 0)
    put(.close, closePort(port))
    discardEvents(vcpu, port)
    let time = readTime(vcpu)
    put(.timeValid, time.version & 1 == 0 && time.mul != 0)
}
