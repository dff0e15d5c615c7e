// The VCPUScheduler interface is not the credit scheduler's alone: a trivial second
// policy (round robin over one global queue, weights and caps recorded but ignored)
// implemented here runs on the same simulated machine through the same generic code.
import XCTest
import ApusCore

struct RoundRobinTestScheduler: ~Copyable, VCPUScheduler {
    let cpuCount: Int
    var tickPeriodNs: UInt64 { 10_000_000 }
    var domains: [Int: (weight: Int, cap: Int)] = [:]
    var affinity: [Int: CPUMask] = [:]
    var blocked: Set<Int> = []
    var queue: [Int] = []
    var running: [Int?]
    var runtime: [Int: UInt64] = [:]
    var startedAt: [UInt64]

    init(cpuCount: Int) {
        self.cpuCount = cpuCount
        running = Array(repeating: nil, count: cpuCount)
        startedAt = Array(repeating: 0, count: cpuCount)
    }

    mutating func addDomain(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError) { domains[domain] = (weight, cap) }
    mutating func setDomainParameters(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError) { domains[domain] = (weight, cap) }
    mutating func removeDomain(_ domain: Int) throws(SchedulerError) { domains[domain] = nil }
    func domainParameters(_ domain: Int) -> (weight: Int, cap: Int)? { domains[domain] }
    mutating func addVCPU(_ vcpu: Int, domain: Int, affinity: CPUMask, now: UInt64) throws(SchedulerError) {
        self.affinity[vcpu] = affinity
        blocked.insert(vcpu)
    }
    mutating func removeVCPU(_ vcpu: Int, now: UInt64) throws(SchedulerError) -> Int? {
        queue.removeAll { $0 == vcpu }
        affinity[vcpu] = nil
        return running.firstIndex(of: vcpu)
    }
    mutating func setHardAffinity(_ vcpu: Int, _ mask: CPUMask, now: UInt64) throws(SchedulerError) -> Int? {
        affinity[vcpu] = mask
        return nil
    }
    mutating func wake(_ vcpu: Int, now: UInt64) -> Int? {
        guard blocked.remove(vcpu) != nil else { return nil }
        if running.contains(vcpu) { return nil }
        queue.append(vcpu)
        return running.firstIndex { $0 == nil }
    }
    mutating func block(_ vcpu: Int, now: UInt64) -> Int? {
        blocked.insert(vcpu)
        queue.removeAll { $0 == vcpu }
        return running.firstIndex(of: vcpu)
    }
    mutating func yield(_ vcpu: Int, now: UInt64) -> Int? { running.firstIndex(of: vcpu) }
    mutating func tick(cpu: Int, now: UInt64) -> Bool { running[cpu] == nil && !queue.isEmpty }
    mutating func pickNext(cpu: Int, now: UInt64) -> SchedulingDecision {
        if let v = running[cpu] {
            runtime[v, default: 0] += now - startedAt[cpu]
            if !blocked.contains(v) { queue.append(v) }
            running[cpu] = nil
        }
        guard let i = queue.firstIndex(where: { affinity[$0]?.contains(cpu) ?? false }) else { return .idle }
        let v = queue.remove(at: i)
        running[cpu] = v
        startedAt[cpu] = now
        return SchedulingDecision(vcpu: v, runForNs: 20_000_000, migrated: false)
    }
    func runtimeNs(of vcpu: Int) -> UInt64 { runtime[vcpu] ?? 0 }
    func current(onCPU cpu: Int) -> Int? { running[cpu] }
}

final class CreditSchedulerInterfaceTests: XCTestCase {
    /// The same generic set-up for any policy.
    func fourBusyVCPUsOnTwoCPUs<S: VCPUScheduler & ~Copyable>(_ s: inout S) throws -> [Double] {
        var sim = SimMachine(cpuCount: 2)
        for i in 0..<4 {
            try s.addDomain(i, weight: 256, cap: 0)
            try s.addVCPU(i, domain: i, affinity: .all, now: 0)
            sim.start(&s, vcpu: i, workload: .busy)
        }
        sim.run(&s, until: 2_000_000_000)
        XCTAssertEqual(sim.violations, [])
        return (0..<4).map { sim.share($0) }
    }

    func testASecondPolicyRunsThroughTheSameInterface() throws {
        var roundRobin = RoundRobinTestScheduler(cpuCount: 2)
        for share in try fourBusyVCPUsOnTwoCPUs(&roundRobin) { XCTAssertEqual(share, 0.5, accuracy: 0.03) }
        let bed = CreditTestBed(cpus: 2)
        for share in try fourBusyVCPUsOnTwoCPUs(&bed.scheduler) { XCTAssertEqual(share, 0.5, accuracy: 0.03) }
    }
}
