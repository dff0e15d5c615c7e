// VCPUScheduler: the interface between the hypervisor and a vCPU scheduling policy.
//
// The hypervisor names vCPUs and domains by small slot numbers (0..<capacity) that it
// keeps in its own domain structures; the policy keeps its per-vCPU and per-domain state
// in storage the hypervisor hands in, so nothing here allocates. Time is the hypervisor's
// system time in nanoseconds, passed in on every call (tests pass a simulated clock).
//
// Calling protocol (the caller serialises all calls, e.g. under one scheduler lock):
//   - `tick(cpu:now:)` on every CPU every `tickPeriodNs`; when it answers true, or when a
//     `wake`/`block`/`yield` names a CPU, that CPU calls `pickNext(cpu:now:)` (by IPI when
//     it is another CPU) and runs what it answers for at most `runForNs`.
//   - `pickNext` is also called when the `runForNs` of the previous decision expires.
// Policies conform as `~Copyable` structs and are used through generics, never `any`.
// Imports nothing.

/// A set of physical CPUs (up to 64), e.g. a vCPU's hard affinity.
public struct CPUMask: Equatable {
    public var bits: UInt64
    public init(bits: UInt64) { self.bits = bits }
    public static var all: CPUMask { CPUMask(bits: ~0) }
    public static var none: CPUMask { CPUMask(bits: 0) }
    public static func only(_ cpu: Int) -> CPUMask { CPUMask(bits: 1 << UInt64(cpu)) }
    /// CPUs 0..<count.
    public static func first(_ count: Int) -> CPUMask {
        count >= 64 ? .all : CPUMask(bits: (1 << UInt64(count)) &- 1)
    }
    public func contains(_ cpu: Int) -> Bool { cpu >= 0 && cpu < 64 && bits & (1 << UInt64(cpu)) != 0 }
    public func intersection(_ other: CPUMask) -> CPUMask { CPUMask(bits: bits & other.bits) }
    public var isEmpty: Bool { bits == 0 }
    public var lowest: Int? { bits == 0 ? nil : bits.trailingZeroBitCount }
}

public enum SchedulerError: Error, Equatable {
    case vcpuOutOfRange
    case domainOutOfRange
    case vcpuInUse
    case vcpuUnknown
    case domainInUse
    case domainUnknown
    /// The domain still has vCPUs.
    case domainBusy
    /// Weight outside 1...65535.
    case invalidWeight
    /// Cap above 100 times the number of CPUs.
    case invalidCap
    /// The mask holds no CPU the scheduler runs.
    case emptyAffinity
}

/// What a CPU runs next: a vCPU for at most `runForNs`, or idle until something
/// wakes it (`vcpu == nil`, `runForNs == nil`).
public struct SchedulingDecision: Equatable {
    public var vcpu: Int?
    public var runForNs: UInt64?
    /// The vCPU last ran on (or was queued at) another CPU.
    public var migrated: Bool
    /// Another CPU that should `pickNext` (the previous vCPU moved there).
    public var tickle: Int?
    public init(vcpu: Int?, runForNs: UInt64?, migrated: Bool, tickle: Int? = nil) {
        self.vcpu = vcpu
        self.runForNs = runForNs
        self.migrated = migrated
        self.tickle = tickle
    }
    public static var idle: SchedulingDecision { SchedulingDecision(vcpu: nil, runForNs: nil, migrated: false) }
}

public protocol VCPUScheduler: ~Copyable {
    /// How often each CPU must call `tick`.
    var tickPeriodNs: UInt64 { get }
    var cpuCount: Int { get }

    /// `weight` 1...65535, `cap` percent of one CPU (0 = none).
    mutating func addDomain(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError)
    mutating func setDomainParameters(_ domain: Int, weight: Int, cap: Int) throws(SchedulerError)
    mutating func removeDomain(_ domain: Int) throws(SchedulerError)
    func domainParameters(_ domain: Int) -> (weight: Int, cap: Int)?

    /// A new vCPU starts blocked (down); `wake` makes it runnable.
    mutating func addVCPU(_ vcpu: Int, domain: Int, affinity: CPUMask, now: UInt64) throws(SchedulerError)
    /// Returns the CPU that was running it (it must `pickNext`), if any.
    mutating func removeVCPU(_ vcpu: Int, now: UInt64) throws(SchedulerError) -> Int?
    /// Returns a CPU that must `pickNext` (the vCPU runs where it may no longer run).
    mutating func setHardAffinity(_ vcpu: Int, _ affinity: CPUMask, now: UInt64) throws(SchedulerError) -> Int?

    /// Returns the CPU to tickle (it should `pickNext` now), if any.
    mutating func wake(_ vcpu: Int, now: UInt64) -> Int?
    /// Returns the CPU that was running it (it must `pickNext`), if any.
    mutating func block(_ vcpu: Int, now: UInt64) -> Int?
    /// Returns the CPU running it (it should `pickNext`), if any.
    mutating func yield(_ vcpu: Int, now: UInt64) -> Int?

    /// Returns true when the CPU should `pickNext` now.
    mutating func tick(cpu: Int, now: UInt64) -> Bool
    mutating func pickNext(cpu: Int, now: UInt64) -> SchedulingDecision

    /// Total nanoseconds the vCPU has run (accounted at ticks and decisions).
    func runtimeNs(of vcpu: Int) -> UInt64
    /// The vCPU a CPU is running, nil when idle.
    func current(onCPU cpu: Int) -> Int?
}
