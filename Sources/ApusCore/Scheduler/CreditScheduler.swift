// CreditScheduler: Xen's credit1 policy as pure logic (see CreditSchedulerConfig for the
// constants). Each domain earns credit every accounting period in proportion to its
// weight among domains with active vCPUs (capped by `cap` and by what its vCPUs could
// use); running vCPUs are charged 10 credits per ms. A vCPU with credit is UNDER, one
// without is OVER, one waking from block is BOOST until the next tick; a CPU runs the
// best of its own queue and, when that is only OVER work or nothing, steals better work
// a peer has queued (respecting hard affinity). A capped vCPU that overspends is parked
// until accounting gives it credit again.
//
// Where Apus departs from Xen's credit1, and why:
//   - a running vCPU becomes OVER at the tick its credit goes negative, not at the next
//     accounting: otherwise an UNDER vCPU with a sliver of credit holds a whole
//     timeslice against vCPUs with plenty, and 256:512:1024 drifts ~3% from 1:2:4;
//   - a waking vCPU with no idle CPU available goes to the least loaded CPU it may use
//     when its last CPU is busier by two or more (Xen leaves that to stealing);
//   - a CPU that puts its vCPU back in its queue names an idle CPU that may take it;
//   - credit is kept in thousandths (shown divided by 1000), so that short timeslices
//     and many domains do not round shares away (at 1 ms, 1:2:4 came out 2:3:5).
//
// Storage for vCPU and domain records comes from the caller (no allocation); up to 64
// CPUs and 65535 vCPU slots. `~Copyable`: a copy would share the caller's storage.
// Not thread-safe: the caller serialises calls. Imports nothing.
// Run queues: CreditRunQueue.swift; ticks and accounting: CreditAccounting.swift;
// CPU choice and stealing: CreditLoadBalance.swift.

public struct CreditScheduler: ~Copyable, VCPUScheduler {
    public static var maxCPUs: Int { 64 }
    static var minimumTimerNs: UInt64 { 100_000 }

    public let config: CreditSchedulerConfig
    public let cpuCount: Int
    let vcpus: UnsafeMutableBufferPointer<CreditVCPU>
    let domains: UnsafeMutableBufferPointer<CreditDomain>
    /// Caller-provided like the others: an InlineArray here was copied whole (2.5 KiB)
    /// by every non-mutating access in the Embedded build, ~10k instructions per yield.
    let cpus: UnsafeMutableBufferPointer<CreditCPU>
    var nextAccountingNs: UInt64
    /// Sum of the active vCPUs' milli-credit after the last accounting (Xen's credit_balance).
    var creditBalance: Int64 = 0
    /// Accounting periods run so far (for diagnostics and tests).
    public internal(set) var accountingRounds: UInt64 = 0

    /// `vcpus`, `domains` and `cpus` are initialised here; `cpuCount` is clamped to
    /// 1...64 and to the CPU records given (at least one is needed).
    public init(config: CreditSchedulerConfig, cpuCount: Int,
                vcpus: UnsafeMutableBufferPointer<CreditVCPU>,
                domains: UnsafeMutableBufferPointer<CreditDomain>,
                cpus: UnsafeMutableBufferPointer<CreditCPU>, now: UInt64) {
        self.config = config
        self.cpuCount = Swift.max(1, Swift.min(Swift.min(cpuCount, Self.maxCPUs), cpus.count))
        self.cpus = cpus
        let vcpuSlots = Swift.min(vcpus.count, Int(CreditVCPU.noLink))
        self.vcpus = UnsafeMutableBufferPointer(rebasing: vcpus[0..<vcpuSlots])
        self.domains = UnsafeMutableBufferPointer(rebasing: domains[0..<Swift.min(domains.count, 65535)])
        for i in 0..<self.vcpus.count { self.vcpus[i] = CreditVCPU() }
        for i in 0..<self.domains.count { self.domains[i] = CreditDomain() }
        for i in 0..<cpus.count { cpus[i] = CreditCPU() }
        nextAccountingNs = now + config.timesliceNs
    }

    public var tickPeriodNs: UInt64 { config.tickPeriodNs }
    var onlineMask: CPUMask { CPUMask.first(cpuCount) }

    // MARK: Domains

    public mutating func addDomain(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError) {
        guard domain >= 0 && domain < domains.count else { throw .domainOutOfRange }
        guard !domains[domain].inUse else { throw .domainInUse }
        try validate(weight: weight, cap: cap)
        var record = CreditDomain()
        record.inUse = true
        record.weight = UInt16(weight)
        record.cap = UInt16(cap)
        domains[domain] = record
    }

    public mutating func setDomainParameters(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError) {
        guard domain >= 0 && domain < domains.count else { throw .domainOutOfRange }
        guard domains[domain].inUse else { throw .domainUnknown }
        try validate(weight: weight, cap: cap)
        domains[domain].weight = UInt16(weight)
        domains[domain].cap = UInt16(cap)
        // Parked vCPUs of a domain whose cap went away run again now, not a period later.
        if cap == 0 {
            for v in 0..<vcpus.count where vcpus[v].inUse && Int(vcpus[v].domain) == domain && vcpus[v].parked {
                unpark(v)
            }
        }
    }

    public mutating func removeDomain(_ domain: Int) throws(SchedulerError) {
        guard domain >= 0 && domain < domains.count else { throw .domainOutOfRange }
        guard domains[domain].inUse else { throw .domainUnknown }
        guard domains[domain].vcpuCount == 0 else { throw .domainBusy }
        domains[domain] = CreditDomain()
    }

    public func domainParameters(_ domain: Int) -> (weight: Int, cap: Int)? {
        guard domain >= 0 && domain < domains.count && domains[domain].inUse else { return nil }
        return (Int(domains[domain].weight), Int(domains[domain].cap))
    }

    func validate(weight: Int, cap: Int) throws(SchedulerError) {
        guard CreditSchedulerConfig.weightRange.contains(weight) else { throw .invalidWeight }
        guard cap >= 0 && cap <= 100 * cpuCount else { throw .invalidCap }
    }

    // MARK: vCPUs

    public mutating func addVCPU(_ vcpu: Int, domain: Int, affinity: CPUMask, now: UInt64) throws(SchedulerError) {
        guard vcpu >= 0 && vcpu < vcpus.count else { throw .vcpuOutOfRange }
        guard !vcpus[vcpu].inUse else { throw .vcpuInUse }
        guard domain >= 0 && domain < domains.count else { throw .domainOutOfRange }
        guard domains[domain].inUse else { throw .domainUnknown }
        let usable = affinity.intersection(onlineMask)
        guard let first = usable.lowest else { throw .emptyAffinity }
        var record = CreditVCPU()
        record.inUse = true
        record.domain = UInt16(domain)
        record.affinity = usable
        record.cpu = UInt8(first)
        vcpus[vcpu] = record
        domains[domain].vcpuCount += 1
    }

    public mutating func removeVCPU(_ vcpu: Int, now: UInt64) throws(SchedulerError) -> Int? {
        guard vcpu >= 0 && vcpu < vcpus.count else { throw .vcpuOutOfRange }
        guard vcpus[vcpu].inUse else { throw .vcpuUnknown }
        var reschedule: Int? = nil
        if vcpus[vcpu].running {
            let cpu = Int(vcpus[vcpu].cpu)
            charge(cpu: cpu, now: now)
            cpus[cpu].current = CreditVCPU.noLink
            reschedule = cpu
        }
        if vcpus[vcpu].queued { dequeue(vcpu) }
        deactivate(vcpu)
        domains[Int(vcpus[vcpu].domain)].vcpuCount -= 1
        vcpus[vcpu] = CreditVCPU()
        return reschedule
    }

    public mutating func setHardAffinity(_ vcpu: Int, _ affinity: CPUMask, now: UInt64) throws(SchedulerError) -> Int? {
        guard vcpu >= 0 && vcpu < vcpus.count else { throw .vcpuOutOfRange }
        guard vcpus[vcpu].inUse else { throw .vcpuUnknown }
        let usable = affinity.intersection(onlineMask)
        guard !usable.isEmpty else { throw .emptyAffinity }
        vcpus[vcpu].affinity = usable
        let cpu = Int(vcpus[vcpu].cpu)
        if usable.contains(cpu) { return nil }
        if vcpus[vcpu].running { return cpu }
        if vcpus[vcpu].queued {
            dequeue(vcpu)
            return place(vcpu)
        }
        return nil
    }

    public func runtimeNs(of vcpu: Int) -> UInt64 {
        guard vcpu >= 0 && vcpu < vcpus.count else { return 0 }
        return vcpus[vcpu].runtimeNs
    }

    public func current(onCPU cpu: Int) -> Int? {
        guard cpu >= 0 && cpu < cpuCount else { return nil }
        let v = cpus[cpu].current
        return v == CreditVCPU.noLink ? nil : Int(v)
    }

    /// Inspection for the `r` debug key and tests.
    /// In Xen's credits.
    public func credit(of vcpu: Int) -> Int { Int(vcpus[vcpu].milliCredit / 1000) }
    public func priority(of vcpu: Int) -> CreditPriority { vcpus[vcpu].priority }
    public func isParked(_ vcpu: Int) -> Bool { vcpus[vcpu].parked }
    public func queueLength(cpu: Int) -> Int { Int(cpus[cpu].queuedCount) }

    // MARK: Wake, block, yield

    public mutating func wake(_ vcpu: Int, now: UInt64) -> Int? {
        guard vcpu >= 0 && vcpu < vcpus.count && vcpus[vcpu].inUse && vcpus[vcpu].blocked else { return nil }
        vcpus[vcpu].blocked = false
        // Woken before its CPU switched away from it: it simply goes on running.
        if vcpus[vcpu].running || vcpus[vcpu].parked { return nil }
        // Credit left: jump the queue so an I/O-bound guest answers quickly.
        if vcpus[vcpu].priority == .under { vcpus[vcpu].priority = .boost }
        return place(vcpu)
    }

    public mutating func block(_ vcpu: Int, now: UInt64) -> Int? {
        guard vcpu >= 0 && vcpu < vcpus.count && vcpus[vcpu].inUse && !vcpus[vcpu].blocked else { return nil }
        vcpus[vcpu].blocked = true
        if vcpus[vcpu].queued { dequeue(vcpu) }
        return vcpus[vcpu].running ? Int(vcpus[vcpu].cpu) : nil
    }

    public mutating func yield(_ vcpu: Int, now: UInt64) -> Int? {
        guard vcpu >= 0 && vcpu < vcpus.count && vcpus[vcpu].inUse && vcpus[vcpu].running else { return nil }
        vcpus[vcpu].yielding = true
        return Int(vcpus[vcpu].cpu)
    }

    // MARK: Decisions

    public mutating func pickNext(cpu: Int, now: UInt64) -> SchedulingDecision {
        guard cpu >= 0 && cpu < cpuCount else { return .idle }
        let previous = cpus[cpu].current
        var tickle: Int? = nil
        if previous != CreditVCPU.noLink {
            let v = Int(previous)
            charge(cpu: cpu, now: now)
            let runnable = !vcpus[v].blocked && !vcpus[v].parked
            let allowedHere = vcpus[v].affinity.contains(cpu)
            let ran = now &- cpus[cpu].pickedAtNs
            if runnable && allowedHere && !vcpus[v].yielding && config.ratelimitNs > 0 && ran < config.ratelimitNs {
                // Never arm a timer shorter than Xen's minimum (100 us).
                let left = Swift.max(config.ratelimitNs - ran, Self.minimumTimerNs)
                return SchedulingDecision(vcpu: v, runForNs: left, migrated: false)
            }
            vcpus[v].running = false
            cpus[cpu].current = CreditVCPU.noLink
            if runnable && allowedHere {
                enqueue(v, cpu: cpu)
            } else if runnable {
                // Its affinity changed while it ran: it goes to a CPU it may use.
                tickle = place(v)
            }
        }
        var next = bestQueued(cpu: cpu)
        let localPriority = next == nil ? CreditPriority.idle : vcpus[next!].priority
        if localPriority <= .over, let stolen = steal(cpu: cpu, betterThan: localPriority) {
            next = stolen
        }
        if previous != CreditVCPU.noLink { vcpus[Int(previous)].yielding = false }
        // Work-conserving: the vCPU this CPU put back in its queue may run now on an idle
        // CPU its affinity allows, rather than wait for that CPU's next tick.
        if tickle == nil && previous != CreditVCPU.noLink && vcpus[Int(previous)].queued
            && next != Int(previous) {
            tickle = idleCPU(for: Int(previous), except: cpu)
        }
        guard let chosen = next else {
            return SchedulingDecision(vcpu: nil, runForNs: nil, migrated: false, tickle: tickle)
        }
        let migrated = Int(vcpus[chosen].cpu) != cpu
        dequeue(chosen)
        vcpus[chosen].running = true
        vcpus[chosen].yielding = false
        vcpus[chosen].cpu = UInt8(cpu)
        cpus[cpu].current = UInt16(chosen)
        cpus[cpu].pickedAtNs = now
        cpus[cpu].chargedAtNs = now
        return SchedulingDecision(vcpu: chosen, runForNs: config.timesliceNs, migrated: migrated, tickle: tickle)
    }

    /// Charges the vCPU running on `cpu` for the time since it was last charged.
    mutating func charge(cpu: Int, now: UInt64) {
        let v = cpus[cpu].current
        guard v != CreditVCPU.noLink else { return }
        let elapsed = now &- cpus[cpu].chargedAtNs
        guard now > cpus[cpu].chargedAtNs else { return }
        cpus[cpu].chargedAtNs = now
        let i = Int(v)
        vcpus[i].runtimeNs &+= elapsed
        // 10 credits per ms is one milli-credit per 100 ns.
        let scaled = elapsed + UInt64(vcpus[i].residualNs)
        vcpus[i].residualNs = UInt32(scaled % 100)
        vcpus[i].milliCredit -= Int64(Swift.min(scaled / 100, UInt64(Int64.max / 2)))
        vcpus[i].milliCredit = Swift.max(vcpus[i].milliCredit, Int64.min / 2)
    }
}
