// Hypercall continuations: how a long batch (mmu_update, mmuext_op) gives the CPU back
// instead of holding it, and Apus's lock, for as long as the guest asks. After a slice of
// work (at most `sliceMs` of TSC time, checked every `checkEvery` entries) the handler
// records where it stopped as new argument values; `Hypercalls.dispatch` then rewinds the
// guest over its `syscall` (2 bytes) with those arguments, so the guest re-issues the call
// for the rest after any pending interrupt, event or reschedule has been served. The guest
// sees one call; only the argument registers change, as on Xen (which also encodes
// "preempted" in a count argument, and accumulates `done` in the guest's own counter).
// Never inside a multicall: its entries run to completion.
import ApusCore
import ArchX86

enum Continuations {
    static let checkEvery: UInt64 = 64
    static let sliceMs: UInt64 = 1

    /// Set by a handler that stopped early: the arguments to re-issue the call with.
    nonisolated(unsafe) static var pending: HypercallArguments? = nil
    /// False while a multicall runs its entries.
    nonisolated(unsafe) static var allowed = true

    /// Whether a batch that started at TSC `start` and has done `done` entries should stop.
    @inline(__always) static func due(start: UInt64, done: UInt64) -> Bool {
        guard allowed, done % checkEvery == checkEvery - 1 else { return false }
        return CPU.readTimeStampCounter() &- start > sliceMs &* Platform.facts.tscPerMillisecond
    }

    /// Applies a pending continuation to the guest's frame; false when there is none.
    static func apply(to frame: TrapFrame, number: UInt64) -> Bool {
        guard let args = pending else { return false }
        pending = nil
        frame.rip = frame.rip &- 2   // back onto the hypercall stub's `syscall`
        frame.rax = number
        frame.setArgument(0, args.a0)
        frame.setArgument(1, args.a1)
        frame.setArgument(2, args.a2)
        frame.setArgument(3, args.a3)
        frame.setArgument(4, args.a4)
        return true
    }
}
