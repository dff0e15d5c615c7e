// SchedulerBench: the host cost of one credit-scheduler decision as the number of
// runnable vCPUs grows (issue 4's benchmark). Host-only (Foundation-free, uses the
// monotonic clock); never part of the hypervisor image.
//
// For each size N in 1, 10, 100, 1000: N busy vCPUs in domains of up to 4 vCPUs (weights
// 128..1024 from a fixed seed) on 4 CPUs, the scheduler's own clock advancing 1.1 ms per
// decision (past the rate limit, so every decision is a real one), ticks every 10 ms of
// simulated time. Measured, over at least 200 000 decisions after a warm-up:
//   pick-next        one pickNext on the next CPU in turn (charge, requeue, choose)
//   wake-block-pick  block the vCPU a CPU runs, pickNext there, wake the blocked one
// Output: `APUS-BENCH scheduler <metric> vcpus=<N> <ns per operation>` lines, nanoseconds
// with one decimal. The figures are host time: they vary with the machine and its load.
import ApusCore
#if canImport(Glibc)
import Glibc
#endif

func monotonicNs() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

struct Generator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
}

let cpus = 4
let iterations = 200_000

func makeScheduler(vcpus: Int, vcpuStore: UnsafeMutableBufferPointer<CreditVCPU>,
                   domainStore: UnsafeMutableBufferPointer<CreditDomain>,
                   cpuStore: UnsafeMutableBufferPointer<CreditCPU>) -> CreditScheduler {
    var scheduler = CreditScheduler(config: CreditSchedulerConfig(), cpuCount: cpus, vcpus: vcpuStore,
                                    domains: domainStore, cpus: cpuStore, now: 0)
    var random = Generator(state: 42)
    do throws(SchedulerError) {
        for domain in 0..<(vcpus + 3) / 4 {
            try scheduler.addDomain(domain, weight: 128 + Int(random.next() % 897), cap: 0)
        }
        for v in 0..<vcpus {
            try scheduler.addVCPU(v, domain: v / 4, affinity: CPUMask.first(cpus), now: 0)
            _ = scheduler.wake(v, now: 0)
        }
    } catch {
        fatalError("scheduler set-up failed: \(error)")
    }
    return scheduler
}

func measure(vcpus: Int, churn: Bool) -> Double {
    let vcpuStore = UnsafeMutableBufferPointer<CreditVCPU>.allocate(capacity: vcpus)
    let domainStore = UnsafeMutableBufferPointer<CreditDomain>.allocate(capacity: (vcpus + 3) / 4)
    let cpuStore = UnsafeMutableBufferPointer<CreditCPU>.allocate(capacity: cpus)
    defer { vcpuStore.deallocate(); domainStore.deallocate(); cpuStore.deallocate() }
    var scheduler = makeScheduler(vcpus: vcpus, vcpuStore: vcpuStore, domainStore: domainStore, cpuStore: cpuStore)
    var now: UInt64 = 0
    var nextTick: UInt64 = 10_000_000
    var blocked: Int? = nil
    func step(_ i: Int) {
        now += 1_100_000
        let cpu = i % cpus
        if now >= nextTick {
            for c in 0..<cpus { _ = scheduler.tick(cpu: c, now: now) }
            nextTick += 10_000_000
        }
        if churn, let running = scheduler.current(onCPU: cpu) {
            _ = scheduler.block(running, now: now)
            _ = scheduler.pickNext(cpu: cpu, now: now)
            if let previous = blocked { _ = scheduler.wake(previous, now: now) }
            blocked = running
        } else {
            _ = scheduler.pickNext(cpu: cpu, now: now)
        }
    }
    for i in 0..<20_000 { step(i) }  // warm-up: queues and credit reach a steady state
    let start = monotonicNs()
    for i in 0..<iterations { step(i) }
    let elapsed = monotonicNs() - start
    if let problem = scheduler.checkInvariants() { fatalError("scheduler invariant broken: \(problem)") }
    return Double(elapsed) / Double(iterations)
}

for vcpus in [1, 10, 100, 1000] {
    for (name, churn) in [("pick-next", false), ("wake-block-pick", true)] {
        let ns = measure(vcpus: vcpus, churn: churn)
        let tenths = Int((ns * 10).rounded())
        print("APUS-BENCH scheduler \(name) vcpus=\(vcpus) \(tenths / 10).\(tenths % 10)")
    }
}
