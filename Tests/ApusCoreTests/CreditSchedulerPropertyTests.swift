// Randomised runs of the credit scheduler on a simulated machine: random CPU counts,
// weights, caps, hard affinities, blocking workloads and parameter changes mid-run,
// many seeds. Invariants checked throughout: records consistent, a vCPU runs on one
// CPU at a time and only where its affinity allows, never while blocked, no CPU idles
// at a tick while work it may run waits; and no vCPU starves.
import XCTest
@testable import ApusCore

final class CreditSchedulerPropertyTests: XCTestCase {
    struct Outcome {
        var worstWaitNs: UInt64 = 0
        var worstWaitCapped = false
        /// For capped vCPUs: how long parking may legitimately last in this run.
        var cappedWaitLimitNs: UInt64 = 0
        var worstWaiter = ""
        var minimumRanNs: UInt64 = .max
    }

    func runRandomMix(seed: UInt64, seconds: UInt64 = 5,
                      trace: ((borrowing CreditScheduler, UInt64, String) -> Void)? = nil) throws -> Outcome {
        var rng = SeededGenerator(seed: seed)
        let cpus = Int.random(in: 1...4, using: &rng)
        let bed = CreditTestBed(cpus: cpus, vcpuSlots: 16, domainSlots: 8)
        var sim = SimMachine(cpuCount: cpus, stepNs: 100_000)
        let domainCount = Int.random(in: 1...5, using: &rng)
        var caps: [Int] = []
        var smallestCap: [Int] = []
        for d in 0..<domainCount {
            let weight = Int.random(in: 1...65535, using: &rng)
            let cap = Bool.random(using: &rng) ? 0 : Int.random(in: 10...(100 * cpus), using: &rng)
            caps.append(cap)
            smallestCap.append(cap == 0 ? Int.max : cap)
            try bed.scheduler.addDomain(d, weight: weight, cap: cap)
        }
        let vcpuCount = Int.random(in: 1...12, using: &rng)
        var domainOf: [Int] = []
        for v in 0..<vcpuCount {
            let domain = Int.random(in: 0..<domainCount, using: &rng)
            domainOf.append(domain)
            let mask = Bool.random(using: &rng) ? CPUMask.all
                : CPUMask(bits: UInt64.random(in: 1...((1 << UInt64(cpus)) - 1), using: &rng))
            try bed.scheduler.addVCPU(v, domain: domain, affinity: mask, now: 0)
            sim.affinities[v] = mask.intersection(.first(cpus))
            let workload: SimWorkload = Int.random(in: 0..<3, using: &rng) == 0
                ? .io(runNs: UInt64.random(in: 100_000...20_000_000, using: &rng),
                      sleepNs: UInt64.random(in: 100_000...50_000_000, using: &rng))
                : .busy
            sim.start(&bed.scheduler, vcpu: v, workload: workload)
        }
        let idleCheck: (borrowing CreditScheduler, Int) -> String? = { s, cpu in
            s.queueLength(cpu: cpu) > 0 || s.hasStealableWork(for: cpu) ? "idle while work waits" : nil
        }
        let chunk: UInt64 = 250_000_000
        var end: UInt64 = 0
        while end < seconds * 1_000_000_000 {
            end += chunk
            sim.run(&bed.scheduler, until: end, idleCheck: idleCheck)
            if let broken = bed.scheduler.checkInvariants() {
                XCTFail("seed \(seed) t=\(end): \(broken)")
                break
            }
            trace?(bed.scheduler, end, "")
            // Now and then a person retunes a domain or re-pins a vCPU.
            switch Int.random(in: 0..<6, using: &rng) {
            case 0:
                let d = Int.random(in: 0..<domainCount, using: &rng)
                let cap = Bool.random(using: &rng) ? 0 : Int.random(in: 10...(100 * cpus), using: &rng)
                caps[d] = cap
                if cap != 0 { smallestCap[d] = min(smallestCap[d], cap) }
                let weight = Int.random(in: 1...65535, using: &rng)
                trace?(bed.scheduler, end, "domain \(d) weight \(weight) cap \(cap)")
                try bed.scheduler.setDomainParameters(d, weight: weight, cap: cap)
            case 1:
                let v = Int.random(in: 0..<vcpuCount, using: &rng)
                let mask = CPUMask(bits: UInt64.random(in: 1...((1 << UInt64(cpus)) - 1), using: &rng))
                sim.affinities[v] = mask
                trace?(bed.scheduler, end, "vCPU \(v) affinity \(mask.bits)")
                if let cpu = try bed.scheduler.setHardAffinity(v, mask, now: sim.now) {
                    sim.reschedule(&bed.scheduler, cpu: cpu)
                }
            default:
                break
            }
        }
        XCTAssertEqual(sim.violations.prefix(3), [], "seed \(seed)")
        var outcome = Outcome()
        // A parked vCPU waits until accounting pays off its debt (at most a timeslice below
        // zero plus the slice it overran) at its per-vCPU share of the cap: 300 credits per
        // CPU-timeslice, 30 ms per period; on top of the wait any light vCPU may see.
        for d in 0..<domainCount where smallestCap[d] != Int.max {
            let vcpus = max(1, domainOf.filter { $0 == d }.count)
            let perVCPU = ((smallestCap[d] * 300 + 99) / 100 + vcpus - 1) / vcpus
            let periods = UInt64((600 + perVCPU - 1) / perVCPU)
            outcome.cappedWaitLimitNs = max(outcome.cappedWaitLimitNs, 2_000_000_000 + periods * 30_000_000)
        }
        for v in 0..<vcpuCount {
            outcome.minimumRanNs = min(outcome.minimumRanNs, sim.ranNs[v] ?? 0)
            let wait = sim.longestWaitNs[v] ?? 0
            if wait > outcome.worstWaitNs {
                outcome.worstWaitNs = wait
                outcome.worstWaitCapped = caps[domainOf[v]] != 0
                outcome.worstWaiter = "vCPU \(v) of domain \(domainOf[v]) until \(sim.longestWaitEndNs[v] ?? 0)"
            }
        }
        return outcome
    }

    func testNoVCPUStarvesUnderRandomMixes() throws {
        var worstUncapped: UInt64 = 0
        var worstCapped: UInt64 = 0
        for seed in 1...100 as ClosedRange<UInt64> {
            let outcome = try runRandomMix(seed: seed)
            XCTAssertGreaterThan(outcome.minimumRanNs, 0, "seed \(seed): a vCPU never ran")
            if outcome.worstWaitCapped {
                worstCapped = max(worstCapped, outcome.worstWaitNs)
            } else {
                worstUncapped = max(worstUncapped, outcome.worstWaitNs)
            }
            // Weights up to 65535:1 make a light vCPU wait, but a bounded time: it takes its
            // turn among OVER vCPUs whenever the heavy ones exhaust their credit.
            let limitNs: UInt64 = outcome.worstWaitCapped ? outcome.cappedWaitLimitNs : 2_000_000_000
            XCTAssertLessThan(outcome.worstWaitNs, limitNs, "seed \(seed): \(outcome.worstWaiter)")
            if outcome.worstWaitNs > 400_000_000 { print("seed \(seed): longest wait \(outcome.worstWaitNs / 1_000_000) ms (capped: \(outcome.worstWaitCapped)), least run \(outcome.minimumRanNs / 1_000_000) ms") }
        }
        print("longest wait while runnable: uncapped \(worstUncapped / 1_000_000) ms, capped \(worstCapped / 1_000_000) ms")
    }
}
