// Each vCPU's timers (set_timer_op, the singleshot and periodic timers of vcpu_op), raised
// as VIRQ_TIMER to that vCPU, and the waits that end on events (SCHEDOP_block,
// SCHEDOP_poll) and their timeouts.
//
// System time is nanoseconds since Apus booted, read from the TSC with the same scale the
// guest has in vcpu_time_info, so a deadline the guest computes means the same instant to
// both. Deadlines are checked at every CPU's local APIC tick (10 ms), when a timer is set
// (a past deadline fires before the call returns) and when an idle CPU wakes, so a timer
// fires at or after its deadline, never before; not on every guest exit, which would put a
// TSC read and a 128-bit multiply on every hypercall's path.
// A waiting vCPU does not hold its CPU: it is taken off the run queue (Scheduling) and put
// back when its event arrives or its poll times out.
import ApusCore
import ApusPublic
import ArchX86

enum GuestTimers {
    static var now: UInt64 { GuestTime.now }

    /// Raises VIRQ_TIMER for every vCPU deadline that has passed and ends polls that timed out.
    static func check() {
        guard PV.current.started, Events.tableStorage != 0 else { return }
        let time = now
        for v in 0..<PV.current.vcpuCount {
            let record = PV.vcpu(v)
            var fire = false
            if record.pointee.singleShotDeadline != 0 && record.pointee.singleShotDeadline <= time {
                record.pointee.singleShotDeadline = 0
                fire = true
            }
            if record.pointee.periodNs != 0 && record.pointee.nextPeriodic <= time {
                let period = record.pointee.periodNs
                var next = record.pointee.nextPeriodic
                while next <= time { next &+= period }
                record.pointee.nextPeriodic = next
                fire = true
            }
            if fire {
                let kick = EventChannelOperations.sendVCPUVIRQ(VIRQ.timer, vcpu: UInt16(v), domain: PV.current.id,
                                                               directory: CurrentDomainEvents())
                Scheduling.eventsChanged(kicked: kick)
            }
            if case .poll(let deadline) = record.pointee.wait, deadline != 0, deadline <= time {
                Scheduling.recheckWait(v)
            }
        }
    }

    /// set_timer_op(deadline): 0 cancels; a deadline already past fires at once.
    static func setTimerOp(_ args: HypercallArguments) -> Int64 {
        PV.vcpu.pointee.singleShotDeadline = args.a0
        check()
        return 0
    }

    /// The same timer as set_timer_op. Xen 4.17 ignores VCPU_SSHOTTMR_future (a past
    /// deadline fires at once; the -ETIME the header describes never comes back), and so
    /// does Apus.
    static func setSingleShot(_ v: Int, _ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(vcpu_set_singleshot_timer.self, at: address) else { return Errno.EFAULT }
        PV.vcpu(v).pointee.singleShotDeadline = max(1, request.timeout_abs_ns)
        check()
        return 0
    }

    static func stopSingleShot(_ v: Int) -> Int64 {
        PV.vcpu(v).pointee.singleShotDeadline = 0
        return 0
    }

    /// Periods under 1 ms are refused (-EINVAL), as Xen does.
    static func setPeriodic(_ v: Int, _ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(vcpu_set_periodic_timer.self, at: address) else { return Errno.EFAULT }
        guard request.period_ns >= 1_000_000 else { return Errno.EINVAL }
        PV.vcpu(v).pointee.periodNs = request.period_ns
        PV.vcpu(v).pointee.nextPeriodic = now &+ request.period_ns
        return 0
    }

    /// Every vCPU starts with a 10 ms periodic timer, as on Xen (guests stop it if they
    /// keep time themselves).
    static func startDefaultPeriodic(_ v: Int) {
        PV.vcpu(v).pointee.periodNs = 10_000_000
        PV.vcpu(v).pointee.nextPeriodic = now &+ 10_000_000
    }

    static func stopPeriodic(_ v: Int) -> Int64 {
        PV.vcpu(v).pointee.periodNs = 0
        return 0
    }

    /// SCHEDOP_block: unmask events; unless an upcall is already pending, wait for one.
    static func block() -> Int64 {
        PV.upcallMask = 0
        let v = PerCPU.cpus[PerCPU.index].loadedVCPU
        guard !EventDelivery.isUpcallDue(vcpu: UInt16(v), bitmaps: Events.bitmaps) else { return 0 }
        Scheduling.wait(.event)
        return 0
    }

    /// SCHEDOP_poll: until one of the ports is pending, the timeout (absolute system time;
    /// 0 = none) has passed, or a new upcall arrives. Events stay masked as they are.
    static func poll(_ address: UInt64) -> Int64 {
        guard let request = GuestMemory.read(sched_poll.self, at: address) else { return Errno.EFAULT }
        guard request.nr_ports <= 128 else { return Errno.EINVAL }
        let vcpu = PV.vcpu
        let count = Int(request.nr_ports)
        if count > 0 {
            let ok = withUnsafeMutableBytes(of: &vcpu.pointee.pollPorts) {
                GuestMemory.read($0.baseAddress!, from: request.ports.p, count: count * 4)
            }
            guard ok else { return Errno.EFAULT }
        }
        for index in 0..<count where vcpu.pointee.pollPorts[index] >= UInt32(EventChannelLimits.twoLevelPorts) {
            return Errno.EINVAL
        }
        vcpu.pointee.pollCount = count
        let bitmaps = Events.bitmaps
        for index in 0..<count where bitmaps.isPending(vcpu.pointee.pollPorts[index]) { return 0 }
        if request.timeout != 0 && now >= request.timeout { return 0 }
        vcpu.pointee.pollUpcallWasPending =
            DirectMap.pointer(to: vcpu.pointee.vcpuInfoMachineAddress, as: UInt8.self).pointee != 0
        Scheduling.wait(.poll(deadline: request.timeout))
        return 0
    }
}
