// The credit scheduler's records: one CreditVCPU per vCPU slot and one CreditDomain per
// domain slot (in storage the hypervisor hands in), one CreditCPU per physical CPU.
// Run queues are intrusive doubly linked lists threaded through CreditVCPU by slot
// number, three per CPU (boost, under, over), so queueing and picking are O(1).
// Invariants: a vCPU is on at most one queue, and on one exactly when it is in use,
// not blocked, not parked and not running; `CreditDomain.activeVCPUs` counts its
// vCPUs with `active` set. Imports nothing.

public struct CreditVCPU {
    static var noLink: UInt16 { 0xFFFF }

    var inUse = false
    var blocked = true
    var parked = false
    var yielding = false
    /// Receives credit at accounting (Xen's active list).
    var active = false
    var queued = false
    var running = false
    var priority = CreditPriority.under
    /// The CPU it runs on, is queued at, or last ran on.
    var cpu: UInt8 = 0
    var domain: UInt16 = 0
    var next = CreditVCPU.noLink
    var prev = CreditVCPU.noLink
    /// In thousandths of Xen's credit, so that shares of small accounting totals (short
    /// timeslices, many domains) do not round away; Xen's figure is `credit / 1000`.
    var milliCredit: Int64 = 0
    /// Nanoseconds run but not yet worth a thousandth of a credit (100 ns each).
    var residualNs: UInt32 = 0
    var affinity = CPUMask.all
    var runtimeNs: UInt64 = 0

    public init() {}
}

public struct CreditDomain {
    var inUse = false
    var weight: UInt16 = 256
    /// Percent of one CPU; 0 = uncapped.
    var cap: UInt16 = 0
    var vcpuCount: UInt16 = 0
    var activeVCPUs: UInt16 = 0
    /// This accounting period's milli-credit per active vCPU, and the debt that parks one.
    var creditPerVCPU: Int64 = 0
    var capPerVCPU: Int64 = 0
    /// Its share last period reached what it could use (it is accounted first).
    var reachedPeak = false
    var accountedRound: UInt64 = 0

    public init() {}
}

/// One CPU's scheduler record (current vCPU, run-queue heads); storage is the caller's.
public struct CreditCPU {
    var current = CreditVCPU.noLink
    /// When `current` was picked (for the rate limit).
    var pickedAtNs: UInt64 = 0
    /// When `current` was last charged.
    var chargedAtNs: UInt64 = 0
    var heads: InlineArray<3, UInt16> = InlineArray(repeating: CreditVCPU.noLink)
    var tails: InlineArray<3, UInt16> = InlineArray(repeating: CreditVCPU.noLink)
    var queuedCount: UInt16 = 0

    public init() {}
}
