// CreditSchedulerConfig: the credit scheduler's tunables and fixed constants, as Xen's
// credit1 documents them: 10 credits per millisecond of CPU, a timeslice of
// `sched_credit_tslice_ms` (default 30, valid 1...1000) that is also the accounting
// period, three ticks per timeslice (10 ms by default), and a rate limit of
// `sched_ratelimit_us` (default 1000, valid 100...500000, 0 = off, never above the
// timeslice). Out-of-range values fall back to the defaults, as Xen does at boot.
// Imports nothing.

public struct CreditSchedulerConfig: Equatable {
    public static var defaultTimesliceMs: Int { 30 }
    public static var defaultRatelimitUs: Int { 1000 }
    public static var timesliceMsRange: ClosedRange<Int> { 1...1000 }
    public static var ratelimitUsRange: ClosedRange<Int> { 100...500_000 }
    public static var creditsPerMs: Int { 10 }
    public static var ticksPerTimeslice: Int { 3 }
    public static var defaultWeight: Int { 256 }
    public static var weightRange: ClosedRange<Int> { 1...65535 }

    public let timesliceMs: Int
    /// 0 when rate limiting is off.
    public let ratelimitUs: Int
    /// True when a requested value was out of range and replaced (the boot log says so).
    public let adjusted: Bool

    public init(timesliceMs: Int = CreditSchedulerConfig.defaultTimesliceMs,
                ratelimitUs: Int = CreditSchedulerConfig.defaultRatelimitUs) {
        var adjusted = false
        var tslice = timesliceMs
        if !Self.timesliceMsRange.contains(tslice) {
            tslice = Self.defaultTimesliceMs
            adjusted = true
        }
        var ratelimit = ratelimitUs
        if ratelimit != 0 && !Self.ratelimitUsRange.contains(ratelimit) {
            ratelimit = Self.defaultRatelimitUs
            adjusted = true
        }
        // A rate limit longer than the timeslice would make the timeslice meaningless.
        if ratelimit > tslice * 1000 {
            ratelimit = tslice * 1000
            adjusted = true
        }
        self.timesliceMs = tslice
        self.ratelimitUs = ratelimit
        self.adjusted = adjusted
    }

    public var timesliceNs: UInt64 { UInt64(timesliceMs) * 1_000_000 }
    public var ratelimitNs: UInt64 { UInt64(ratelimitUs) * 1_000 }
    /// Tick period: a third of the timeslice (10 ms by default).
    public var tickPeriodNs: UInt64 { timesliceNs / UInt64(Self.ticksPerTimeslice) }
    /// Credits one CPU is worth per accounting period, and the most a vCPU may hold.
    public var creditsPerTimeslice: Int { Self.creditsPerMs * timesliceMs }
}

/// Credit1's priorities; a larger raw value runs first.
public enum CreditPriority: Int8, Comparable {
    case idle = -64
    /// Out of credit for this period.
    case over = -2
    /// Has credit left.
    case under = -1
    /// Just woke from blocking; dropped at the next tick.
    case boost = 0

    public static func < (a: CreditPriority, b: CreditPriority) -> Bool { a.rawValue < b.rawValue }

    /// Index of the run-queue list for this priority (boost first).
    var queueClass: Int {
        switch self {
        case .boost: return 0
        case .under: return 1
        case .over, .idle: return 2
        }
    }
}
