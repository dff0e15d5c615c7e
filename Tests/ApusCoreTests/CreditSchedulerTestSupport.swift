// Test support for the credit scheduler: storage the tests hand in (as the hypervisor
// would), and a simulated machine that drives any VCPUScheduler with a simulated clock
// in fixed steps, measuring for itself what each vCPU ran.
import ApusCore

final class CreditTestBed {
    let vcpuStorage: UnsafeMutableBufferPointer<CreditVCPU>
    let domainStorage: UnsafeMutableBufferPointer<CreditDomain>
    let cpuStorage: UnsafeMutableBufferPointer<CreditCPU>
    var scheduler: CreditScheduler

    init(cpus: Int, vcpuSlots: Int = 64, domainSlots: Int = 64, config: CreditSchedulerConfig = CreditSchedulerConfig()) {
        vcpuStorage = .allocate(capacity: vcpuSlots)
        vcpuStorage.initialize(repeating: CreditVCPU())
        domainStorage = .allocate(capacity: domainSlots)
        domainStorage.initialize(repeating: CreditDomain())
        cpuStorage = .allocate(capacity: 64)
        cpuStorage.initialize(repeating: CreditCPU())
        scheduler = CreditScheduler(config: config, cpuCount: cpus, vcpus: vcpuStorage, domains: domainStorage,
                                    cpus: cpuStorage, now: 0)
    }

    deinit {
        vcpuStorage.deallocate()
        domainStorage.deallocate()
        cpuStorage.deallocate()
    }
}

/// What a simulated vCPU does: always runnable (`runNs == nil`), or run `runNs` of CPU
/// then block for `sleepNs`, forever.
struct SimWorkload {
    var runNs: UInt64?
    var sleepNs: UInt64 = 0
    static var busy: SimWorkload { SimWorkload(runNs: nil) }
    static func io(runNs: UInt64, sleepNs: UInt64) -> SimWorkload { SimWorkload(runNs: runNs, sleepNs: sleepNs) }
}

struct SimMachine {
    let cpuCount: Int
    let stepNs: UInt64
    var now: UInt64 = 0
    var workloads: [Int: SimWorkload] = [:]
    /// Per vCPU: CPU time the machine gave it (measured here, not by the scheduler).
    var ranNs: [Int: UInt64] = [:]
    var remainingRunNs: [Int: UInt64] = [:]
    var wakeAt: [Int: UInt64] = [:]
    var blocked: Set<Int> = []
    /// When a vCPU last became runnable or was last descheduled while runnable.
    var waitingSince: [Int: UInt64] = [:]
    /// Longest time each vCPU waited while runnable (parked time included).
    var longestWaitNs: [Int: UInt64] = [:]
    var longestWaitEndNs: [Int: UInt64] = [:]
    /// Wake-to-run latencies of vCPUs that block.
    var wakeLatenciesNs: [UInt64] = []
    var wokenAt: [Int: UInt64] = [:]
    var current: [Int?]
    var sliceEnd: [UInt64]
    var nextTick: UInt64 = 0
    var decisions = 0
    var violations: [String] = []
    /// Hard affinities the test set, checked at every decision.
    var affinities: [Int: CPUMask] = [:]

    init(cpuCount: Int, stepNs: UInt64 = 50_000) {
        self.cpuCount = cpuCount
        self.stepNs = stepNs
        current = Array(repeating: nil, count: cpuCount)
        sliceEnd = Array(repeating: 0, count: cpuCount)
    }

    /// Registers a vCPU already added to the scheduler and wakes it.
    mutating func start<S: VCPUScheduler & ~Copyable>(_ s: inout S, vcpu: Int, workload: SimWorkload) {
        workloads[vcpu] = workload
        ranNs[vcpu] = 0
        remainingRunNs[vcpu] = workload.runNs ?? .max
        waitingSince[vcpu] = now
        longestWaitNs[vcpu] = 0
        if let cpu = s.wake(vcpu, now: now) { reschedule(&s, cpu: cpu) }
    }

    mutating func reschedule<S: VCPUScheduler & ~Copyable>(_ s: inout S, cpu: Int) {
        let previous = current[cpu]
        let decision = s.pickNext(cpu: cpu, now: now)
        decisions += 1
        if let p = previous, p != decision.vcpu, !blocked.contains(p) { waitingSince[p] = now }
        current[cpu] = decision.vcpu
        sliceEnd[cpu] = decision.runForNs.map { now + $0 } ?? .max
        if let other = decision.tickle { reschedule(&s, cpu: other) }
        guard let v = decision.vcpu else { return }
        if let mask = affinities[v], !mask.contains(cpu) { violations.append("vCPU \(v) on CPU \(cpu) outside its affinity") }
        for other in 0..<cpuCount where other != cpu && current[other] == v {
            violations.append("vCPU \(v) on CPUs \(other) and \(cpu) at \(now)")
        }
        if blocked.contains(v) { violations.append("blocked vCPU \(v) picked at \(now)") }
        if v != previous {
            if let since = waitingSince[v], now - since > longestWaitNs[v] ?? 0 {
                longestWaitNs[v] = now - since
                longestWaitEndNs[v] = now
            }
            if let woke = wokenAt.removeValue(forKey: v) { wakeLatenciesNs.append(now - woke) }
        }
    }

    /// Runs until `until` ns of simulated time. `idleCheck(cpu)` is asked after every tick
    /// for each idle CPU and returns a complaint when it should not be idle.
    mutating func run<S: VCPUScheduler & ~Copyable>(_ s: inout S, until: UInt64,
                                                     idleCheck: ((borrowing S, Int) -> String?)? = nil) {
        while now < until {
            var pending = Set<Int>()
            // Wakes due now.
            for (v, at) in wakeAt where at <= now {
                wakeAt[v] = nil
                blocked.remove(v)
                remainingRunNs[v] = workloads[v]?.runNs ?? .max
                waitingSince[v] = now
                wokenAt[v] = now
                if let cpu = s.wake(v, now: now) { pending.insert(cpu) }
            }
            if now >= nextTick {
                for cpu in 0..<cpuCount where s.tick(cpu: cpu, now: now) { pending.insert(cpu) }
                nextTick += s.tickPeriodNs
            }
            for cpu in 0..<cpuCount where now >= sliceEnd[cpu] { pending.insert(cpu) }
            for cpu in pending.sorted() { reschedule(&s, cpu: cpu) }
            if let check = idleCheck, now % s.tickPeriodNs == 0 {
                for cpu in 0..<cpuCount where current[cpu] == nil {
                    if let complaint = check(s, cpu) { violations.append("t=\(now) cpu \(cpu): \(complaint)") }
                }
            }
            // Run one step.
            now += stepNs
            var blockedCPUs: [Int] = []
            for cpu in 0..<cpuCount {
                guard let v = current[cpu] else { continue }
                ranNs[v, default: 0] += stepNs
                guard let workload = workloads[v], workload.runNs != nil else { continue }
                let left = (remainingRunNs[v] ?? 0) - min(remainingRunNs[v] ?? 0, stepNs)
                remainingRunNs[v] = left
                if left == 0 {
                    blocked.insert(v)
                    wakeAt[v] = now + workload.sleepNs
                    if let c = s.block(v, now: now) { blockedCPUs.append(c) }
                }
            }
            for cpu in blockedCPUs { reschedule(&s, cpu: cpu) }
        }
    }

    func share(_ v: Int) -> Double { Double(ranNs[v] ?? 0) / Double(now) }
}
