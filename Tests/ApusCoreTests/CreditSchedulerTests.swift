// Unit tests of the credit scheduler's rules, driven call by call with a simulated
// clock: configuration limits, refused arguments, BOOST, rate limit, yield, hard
// affinity, stealing, parking, block and removal.
import XCTest
@testable import ApusCore

final class CreditSchedulerTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func testConfigDefaultsAndLimitsAsXen() {
        let c = CreditSchedulerConfig()
        XCTAssertEqual(c.timesliceMs, 30)
        XCTAssertEqual(c.ratelimitUs, 1000)
        XCTAssertEqual(c.tickPeriodNs, 10 * ms)
        XCTAssertEqual(c.creditsPerTimeslice, 300)
        XCTAssertFalse(c.adjusted)
        XCTAssertEqual(CreditSchedulerConfig(timesliceMs: 0).timesliceMs, 30)
        XCTAssertTrue(CreditSchedulerConfig(timesliceMs: 0).adjusted)
        XCTAssertEqual(CreditSchedulerConfig(timesliceMs: 1001).timesliceMs, 30)
        XCTAssertEqual(CreditSchedulerConfig(timesliceMs: 1000, ratelimitUs: 500_000).ratelimitUs, 500_000)
        XCTAssertEqual(CreditSchedulerConfig(timesliceMs: 1000, ratelimitUs: 500_001).ratelimitUs, 1000)
        XCTAssertEqual(CreditSchedulerConfig(ratelimitUs: 99).ratelimitUs, 1000)
        XCTAssertEqual(CreditSchedulerConfig(ratelimitUs: 0).ratelimitUs, 0)
        XCTAssertFalse(CreditSchedulerConfig(ratelimitUs: 0).adjusted)
        // A rate limit above the timeslice becomes the timeslice.
        let clipped = CreditSchedulerConfig(timesliceMs: 5, ratelimitUs: 10_000)
        XCTAssertEqual(clipped.ratelimitUs, 5000)
        XCTAssertTrue(clipped.adjusted)
        XCTAssertEqual(CreditSchedulerConfig(timesliceMs: 1).tickPeriodNs, 333_333)
    }

    func testRefusedArguments() throws {
        let bed = CreditTestBed(cpus: 2, vcpuSlots: 4, domainSlots: 2)
        XCTAssertThrowsError(try bed.scheduler.addDomain(0, weight: 0, cap: 0)) { XCTAssertEqual($0 as? SchedulerError, .invalidWeight) }
        XCTAssertThrowsError(try bed.scheduler.addDomain(0, weight: 65536, cap: 0)) { XCTAssertEqual($0 as? SchedulerError, .invalidWeight) }
        XCTAssertThrowsError(try bed.scheduler.addDomain(0, weight: 256, cap: 201)) { XCTAssertEqual($0 as? SchedulerError, .invalidCap) }
        XCTAssertThrowsError(try bed.scheduler.addDomain(0, weight: 256, cap: -1)) { XCTAssertEqual($0 as? SchedulerError, .invalidCap) }
        XCTAssertThrowsError(try bed.scheduler.addDomain(2, weight: 256, cap: 0)) { XCTAssertEqual($0 as? SchedulerError, .domainOutOfRange) }
        try bed.scheduler.addDomain(0, weight: 65535, cap: 200)
        XCTAssertEqual(bed.scheduler.domainParameters(0)?.weight, 65535)
        XCTAssertEqual(bed.scheduler.domainParameters(0)?.cap, 200)
        XCTAssertNil(bed.scheduler.domainParameters(1))
        XCTAssertThrowsError(try bed.scheduler.addDomain(0, weight: 1, cap: 0)) { XCTAssertEqual($0 as? SchedulerError, .domainInUse) }
        XCTAssertThrowsError(try bed.scheduler.setDomainParameters(1, weight: 1, cap: 0)) { XCTAssertEqual($0 as? SchedulerError, .domainUnknown) }
        XCTAssertThrowsError(try bed.scheduler.addVCPU(0, domain: 1, affinity: .all, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .domainUnknown) }
        XCTAssertThrowsError(try bed.scheduler.addVCPU(4, domain: 0, affinity: .all, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .vcpuOutOfRange) }
        XCTAssertThrowsError(try bed.scheduler.addVCPU(-1, domain: 0, affinity: .all, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .vcpuOutOfRange) }
        // CPU 5 does not exist on a 2-CPU machine.
        XCTAssertThrowsError(try bed.scheduler.addVCPU(0, domain: 0, affinity: .only(5), now: 0)) { XCTAssertEqual($0 as? SchedulerError, .emptyAffinity) }
        try bed.scheduler.addVCPU(0, domain: 0, affinity: .all, now: 0)
        XCTAssertThrowsError(try bed.scheduler.addVCPU(0, domain: 0, affinity: .all, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .vcpuInUse) }
        XCTAssertThrowsError(try bed.scheduler.removeDomain(0)) { XCTAssertEqual($0 as? SchedulerError, .domainBusy) }
        XCTAssertThrowsError(try bed.scheduler.setHardAffinity(0, .none, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .emptyAffinity) }
        XCTAssertThrowsError(try bed.scheduler.removeVCPU(1, now: 0)) { XCTAssertEqual($0 as? SchedulerError, .vcpuUnknown) }
        XCTAssertNil(try bed.scheduler.removeVCPU(0, now: 0))
        try bed.scheduler.removeDomain(0)
        XCTAssertNil(bed.scheduler.domainParameters(0))
        XCTAssertNil(bed.scheduler.checkInvariants())
        // Calls about unknown vCPUs and CPUs do nothing.
        XCTAssertNil(bed.scheduler.wake(3, now: 0))
        XCTAssertNil(bed.scheduler.block(3, now: 0))
        XCTAssertNil(bed.scheduler.yield(99, now: 0))
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 7, now: 0), .idle)
        XCTAssertFalse(bed.scheduler.tick(cpu: -1, now: 0))
    }

    /// One domain per vCPU, all of weight 256, woken at time 0.
    func bed(cpus: Int, vcpus: Int, affinity: CPUMask = .all, wake: Bool = true) throws -> CreditTestBed {
        let bed = CreditTestBed(cpus: cpus, vcpuSlots: 16, domainSlots: 16)
        for i in 0..<vcpus {
            try bed.scheduler.addDomain(i, weight: 256, cap: 0)
            try bed.scheduler.addVCPU(i, domain: i, affinity: affinity, now: 0)
            if wake { _ = bed.scheduler.wake(i, now: 0) }
        }
        return bed
    }

    func testWakeBoostsAndTicklesAnIdleCPUThenTheTickDropsTheBoost() throws {
        let bed = try bed(cpus: 2, vcpus: 1, wake: false)
        XCTAssertEqual(bed.scheduler.wake(0, now: 0), 0)
        XCTAssertEqual(bed.scheduler.priority(of: 0), .boost)
        XCTAssertNil(bed.scheduler.wake(0, now: 0), "waking a runnable vCPU changes nothing")
        let d = bed.scheduler.pickNext(cpu: 0, now: 0)
        XCTAssertEqual(d.vcpu, 0)
        XCTAssertEqual(d.runForNs, 30 * ms)
        XCTAssertEqual(bed.scheduler.current(onCPU: 0), 0)
        _ = bed.scheduler.tick(cpu: 0, now: 10 * ms)
        // The boost is gone, and a new vCPU starts with no credit, so it is now in debt.
        XCTAssertEqual(bed.scheduler.credit(of: 0), -100, "10 ms cost 100 credits")
        XCTAssertEqual(bed.scheduler.priority(of: 0), .over)
        XCTAssertEqual(bed.scheduler.runtimeNs(of: 0), 10 * ms)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testABoostedWakerPreemptsOnlyAfterTheRateLimit() throws {
        let bed = try bed(cpus: 1, vcpus: 2, wake: false)
        _ = bed.scheduler.wake(0, now: 0)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        _ = bed.scheduler.tick(cpu: 0, now: 10 * ms)   // vCPU 0 spent 100 credits: OVER
        XCTAssertEqual(bed.scheduler.wake(1, now: 10 * ms + 100_000), 0, "a BOOST waker tickles the busy CPU")
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 10 * ms + 200_000).vcpu, 1)
        // Now vCPU 1 has run 0.3 ms of its rate limit when vCPU 0 would take over.
        let held = bed.scheduler.pickNext(cpu: 0, now: 10 * ms + 500_000)
        XCTAssertEqual(held.vcpu, 1)
        XCTAssertEqual(held.runForNs, 700_000)
        // Near the end of the rate limit the timer is never shorter than 100 us.
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 10 * ms + 1_150_000).runForNs, 100_000)
        let after = bed.scheduler.pickNext(cpu: 0, now: 10 * ms + 1_300_000)
        XCTAssertEqual(after.vcpu, 1, "BOOST still beats OVER after the rate limit")
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testWithoutRateLimitEqualVCPUsTakeTurnsEachSlice() throws {
        let bed = CreditTestBed(cpus: 1, vcpuSlots: 4, domainSlots: 4, config: CreditSchedulerConfig(ratelimitUs: 0))
        for i in 0..<3 {
            try bed.scheduler.addDomain(i, weight: 256, cap: 0)
            try bed.scheduler.addVCPU(i, domain: i, affinity: .all, now: 0)
            _ = bed.scheduler.wake(i, now: 0)
        }
        var order: [Int?] = []
        for step in 0..<6 { order.append(bed.scheduler.pickNext(cpu: 0, now: UInt64(step) * 30 * ms).vcpu) }
        XCTAssertEqual(order, [0, 1, 2, 0, 1, 2])
    }

    func testYieldGivesTheCPUAwayEvenWithinTheRateLimit() throws {
        let bed = try bed(cpus: 1, vcpus: 2)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        XCTAssertEqual(bed.scheduler.yield(0, now: 100_000), 0)
        XCTAssertNil(bed.scheduler.yield(1, now: 100_000), "only a running vCPU yields")
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 200_000).vcpu, 1)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testYieldPassesToALowerPriorityVCPU() throws {
        let bed = CreditTestBed(cpus: 1, vcpuSlots: 4, domainSlots: 4, config: CreditSchedulerConfig(ratelimitUs: 0))
        for i in 0..<2 {
            try bed.scheduler.addDomain(i, weight: 256, cap: 0)
            try bed.scheduler.addVCPU(i, domain: i, affinity: .all, now: 0)
            _ = bed.scheduler.wake(i, now: 0)
        }
        // vCPU 0 runs 10 ms and goes OVER; vCPU 1 (BOOST, then UNDER) runs and yields with
        // vCPU 0 the only other, lower-priority, vCPU queued.
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        _ = bed.scheduler.tick(cpu: 0, now: 10 * ms)
        XCTAssertEqual(bed.scheduler.priority(of: 0), .over)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 10 * ms).vcpu, 1)
        _ = bed.scheduler.tick(cpu: 0, now: 10 * ms + 1)
        XCTAssertEqual(bed.scheduler.priority(of: 1), .under)
        _ = bed.scheduler.yield(1, now: 11 * ms)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 11 * ms).vcpu, 0, "the yielder lets the OVER vCPU run")
        // Without a yield, UNDER beats OVER.
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 12 * ms).vcpu, 1)
    }

    func testAnIdleCPUStealsQueuedWorkItsAffinityAllows() throws {
        let bed = try bed(cpus: 2, vcpus: 0)
        for i in 0..<3 {
            try bed.scheduler.addDomain(i, weight: 256, cap: 0)
            try bed.scheduler.addVCPU(i, domain: i, affinity: i == 1 ? .only(0) : .all, now: 0)
        }
        // All three queue at CPU 0 while it is busy (vCPU 0 running).
        _ = bed.scheduler.wake(0, now: 0)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        _ = bed.scheduler.wake(1, now: 0)       // pinned to CPU 0
        XCTAssertEqual(bed.scheduler.queueLength(cpu: 0), 1)
        XCTAssertFalse(bed.scheduler.hasStealableWork(for: 1), "the pinned vCPU may not move")
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 1, now: 0), .idle)
        XCTAssertFalse(bed.scheduler.tick(cpu: 1, now: 10 * ms))
        _ = bed.scheduler.wake(2, now: 10 * ms)   // goes to the idle CPU 1 directly
        XCTAssertEqual(bed.scheduler.queueLength(cpu: 1), 1)
        // Make CPU 1 busy, then queue vCPU 2 behind vCPU 1 at CPU 0 and let CPU 1 go idle.
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 1, now: 10 * ms).vcpu, 2)
        _ = bed.scheduler.block(2, now: 11 * ms)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 1, now: 11 * ms), .idle)
        XCTAssertEqual(try bed.scheduler.setHardAffinity(2, .only(0), now: 11 * ms), nil)
        _ = bed.scheduler.wake(2, now: 12 * ms)
        XCTAssertEqual(try bed.scheduler.setHardAffinity(2, .all, now: 12 * ms), nil)
        XCTAssertEqual(bed.scheduler.queueLength(cpu: 0), 2)
        XCTAssertTrue(bed.scheduler.tick(cpu: 1, now: 20 * ms), "an idle CPU with stealable work reschedules")
        let stolen = bed.scheduler.pickNext(cpu: 1, now: 20 * ms)
        XCTAssertEqual(stolen.vcpu, 2)
        XCTAssertTrue(stolen.migrated)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testChangingTheAffinityOfARunningVCPUMovesIt() throws {
        let bed = try bed(cpus: 2, vcpus: 1)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        XCTAssertEqual(try bed.scheduler.setHardAffinity(0, .only(1), now: ms), 0)
        let d = bed.scheduler.pickNext(cpu: 0, now: ms)
        XCTAssertNil(d.vcpu, "it may not run here any more, even within the rate limit")
        XCTAssertEqual(d.tickle, 1)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 1, now: ms).vcpu, 0)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testBlockAndRemoveARunningVCPU() throws {
        let bed = try bed(cpus: 1, vcpus: 2)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        XCTAssertNil(bed.scheduler.block(1, now: 0), "a queued vCPU blocks without a reschedule")
        XCTAssertEqual(bed.scheduler.queueLength(cpu: 0), 0)
        XCTAssertEqual(bed.scheduler.block(0, now: 100_000), 0)
        XCTAssertNil(bed.scheduler.block(0, now: 100_000), "already blocked")
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 100_000), .idle, "no rate limit for a blocked vCPU")
        _ = bed.scheduler.wake(0, now: ms)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: ms).vcpu, 0)
        XCTAssertEqual(try bed.scheduler.removeVCPU(0, now: 2 * ms), 0)
        XCTAssertNil(bed.scheduler.current(onCPU: 0))
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 2 * ms), .idle)
        XCTAssertNil(bed.scheduler.checkInvariants())
        // The slot is free again.
        try bed.scheduler.addVCPU(0, domain: 0, affinity: .all, now: 3 * ms)
        XCTAssertEqual(bed.scheduler.wake(0, now: 3 * ms), 0)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testACappedVCPUIsParkedAndUnparkedWhenTheCapIsLifted() throws {
        let bed = CreditTestBed(cpus: 1, vcpuSlots: 2, domainSlots: 2)
        try bed.scheduler.addDomain(0, weight: 256, cap: 10)
        try bed.scheduler.addVCPU(0, domain: 0, affinity: .all, now: 0)
        _ = bed.scheduler.wake(0, now: 0)
        var now: UInt64 = 0
        var parkedSeen = false
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        while now < 300 * ms && !parkedSeen {
            now += 10 * ms
            if bed.scheduler.tick(cpu: 0, now: now) { _ = bed.scheduler.pickNext(cpu: 0, now: now) }
            parkedSeen = bed.scheduler.isParked(0)
        }
        XCTAssertTrue(parkedSeen)
        XCTAssertNil(bed.scheduler.current(onCPU: 0))
        XCTAssertNil(bed.scheduler.wake(0, now: now), "a parked vCPU is not blocked")
        XCTAssertNil(bed.scheduler.checkInvariants())
        try bed.scheduler.setDomainParameters(0, weight: 256, cap: 0)
        XCTAssertFalse(bed.scheduler.isParked(0))
        XCTAssertEqual(bed.scheduler.queueLength(cpu: 0), 1)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: now).vcpu, 0)
        XCTAssertNil(bed.scheduler.checkInvariants())
    }

    func testCreditIsBoundedBothWays() throws {
        // A busy vCPU never holds more than one timeslice of debt; an idle one that
        // gathers more than a timeslice of credit stops earning and keeps half.
        let bed = try bed(cpus: 1, vcpus: 2)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        var now: UInt64 = 0
        for _ in 0..<300 {
            now += 10 * ms
            _ = bed.scheduler.tick(cpu: 0, now: now)
            XCTAssertGreaterThanOrEqual(bed.scheduler.credit(of: 0), -300 - 100)
            XCTAssertLessThanOrEqual(bed.scheduler.credit(of: 0), 300)
        }
        // vCPU 0 ran alone (vCPU 1 never ran, so it never became active and earned nothing).
        XCTAssertEqual(bed.scheduler.credit(of: 1), 0)
        XCTAssertGreaterThan(bed.scheduler.accountingRounds, 90)
    }

    func testTheInvariantCheckerNoticesCorruption() throws {
        let bed = try bed(cpus: 2, vcpus: 3)
        XCTAssertNil(bed.scheduler.checkInvariants())
        bed.scheduler.vcpus[2].priority = .over     // queued in the boost list
        XCTAssertEqual(bed.scheduler.checkInvariants(), .wrongList(vcpu: 2))
        bed.scheduler.vcpus[2].priority = .boost
        bed.scheduler.domains[1].activeVCPUs = 1
        XCTAssertEqual(bed.scheduler.checkInvariants(), .domainCounts(domain: 1))
        bed.scheduler.domains[1].activeVCPUs = 0
        bed.scheduler.vcpus[2].blocked = true
        XCTAssertNotNil(bed.scheduler.checkInvariants())
    }
}
