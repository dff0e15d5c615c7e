// A vCPU's timers (set_timer_op, the singleshot and periodic timers of vcpu_op), raised as
// VIRQ_TIMER, and the waits that end on events (SCHEDOP_block, SCHEDOP_poll).
//
// System time is nanoseconds since Apus booted, read from the TSC with the same scale the
// guest has in vcpu_time_info, so a deadline the guest computes means the same instant to
// both. Deadlines are checked at every local APIC tick (10 ms), when a timer is set (a
// past deadline fires before the call returns) and while blocking or polling, so a timer
// fires at or after its deadline, never before; not on every guest exit, which would put a
// TSC read and a 128-bit multiply on every hypercall's path. One vCPU for now: the
// scheduler issue moves these into per-vCPU state and makes blocking deschedule.
import ApusCore
import ApusPublic
import ArchX86

enum GuestTimers {
    nonisolated(unsafe) static var singleShotDeadline: UInt64 = 0   // 0: none
    nonisolated(unsafe) static var periodNs: UInt64 = 0              // 0: no periodic timer
    nonisolated(unsafe) static var nextPeriodic: UInt64 = 0

    static var now: UInt64 { GuestTime.now }

    /// Raises VIRQ_TIMER for every deadline that has passed.
    static func check() {
        guard PV.current.started, Events.tableStorage != 0 else { return }
        let time = now
        var fire = false
        if singleShotDeadline != 0 && singleShotDeadline <= time {
            singleShotDeadline = 0
            fire = true
        }
        if periodNs != 0 && nextPeriodic <= time {
            while nextPeriodic <= time { nextPeriodic &+= periodNs }
            fire = true
        }
        if fire {
            _ = EventChannelOperations.sendVCPUVIRQ(VIRQ.timer, vcpu: 0, domain: PV.current.id,
                                                    directory: CurrentDomainEvents())
        }
    }

    /// set_timer_op(deadline): 0 cancels; a deadline already past fires at once.
    static func setTimerOp(_ args: HypercallArguments) -> Int64 {
        singleShotDeadline = args.a0
        check()
        return 0
    }

    /// The same timer as set_timer_op. Xen 4.17 ignores VCPU_SSHOTTMR_future (a past
    /// deadline fires at once; the -ETIME the header describes never comes back), and so
    /// does Apus.
    static func setSingleShot(_ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(vcpu_set_singleshot_timer.self, at: address) else { return Errno.EFAULT }
        singleShotDeadline = max(1, request.timeout_abs_ns)
        check()
        return 0
    }

    static func stopSingleShot() -> Int64 {
        singleShotDeadline = 0
        return 0
    }

    /// Periods under 1 ms are refused (-EINVAL), as Xen does.
    static func setPeriodic(_ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(vcpu_set_periodic_timer.self, at: address) else { return Errno.EFAULT }
        guard request.period_ns >= 1_000_000 else { return Errno.EINVAL }
        periodNs = request.period_ns
        nextPeriodic = now &+ request.period_ns
        return 0
    }

    /// Every vCPU starts with a 10 ms periodic timer, as on Xen (guests stop it if they
    /// keep time themselves).
    static func startDefaultPeriodic() {
        periodNs = 10_000_000
        nextPeriodic = now &+ periodNs
    }

    static func stopPeriodic() -> Int64 {
        periodNs = 0
        return 0
    }

    /// Waits with interrupts on (the APIC tick wakes the CPU) until `done` says so.
    static func wait(until done: () -> Bool) {
        while true {
            check()
            if done() { return }
            CPU.enableInterrupts()
            CPU.halt()
            CPU.disableInterrupts()
        }
    }

    /// SCHEDOP_block: unmask events and wait for one.
    static func block() -> Int64 {
        PV.upcallMask = 0
        wait { EventDelivery.isUpcallDue(vcpu: 0, bitmaps: Events.bitmaps) }
        return 0
    }

    /// SCHEDOP_poll: wait until one of the ports is pending, or the timeout (absolute
    /// system time; 0 = none) has passed. Events stay masked as they are.
    static func poll(_ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(sched_poll.self, at: address) else { return Errno.EFAULT }
        guard request.nr_ports <= 128 else { return Errno.EINVAL }
        var ports = InlineArray<128, UInt32>(repeating: 0)
        let count = Int(request.nr_ports)
        if count > 0 {
            let ok = withUnsafeMutableBytes(of: &ports) {
                GuestMemory.read($0.baseAddress!, from: request.ports.p, count: count * 4)
            }
            guard ok else { return Errno.EFAULT }
        }
        for index in 0..<count where ports[index] >= UInt32(EventChannelLimits.twoLevelPorts) { return Errno.EINVAL }
        let bitmaps = Events.bitmaps
        let timeout = request.timeout
        wait {
            for index in 0..<count where bitmaps.isPending(ports[index]) { return true }
            return timeout != 0 && now >= timeout
        }
        return 0
    }
}
