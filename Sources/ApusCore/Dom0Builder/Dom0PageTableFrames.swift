// Dom0PageTableFrames: the bootstrap page-table frames of dom0's initial mapping, one by
// one, in the order Xen takes them from the frames after start_info.
//
// Xen takes the L4 first, then walks [v_start, v_end) in 2 MiB steps: each step takes an L1,
// and, when the step starts a new 1 GiB (or is the first step), an L2 after it, and when it
// starts a new 512 GiB (or is the first), an L3 after that. So for a kernel at
// 0xffffffff80000000 the frames are L4, L1, L2, L3, L1, L1, ... The frames are the
// consecutive pages of `pageTables`, pfn `pfn(of: pageTables.start)` onwards; the guest sees
// them mapped read-only there. Imports nothing.

public struct Dom0PageTableFrame: Equatable, Sendable {
    /// Position in `pageTables`, 0 for the L4.
    public var index: Int
    /// 4, 3, 2 or 1.
    public var level: Int
    public var pfn: UInt64
    /// Where the frame itself is mapped (read-only) in the initial mapping.
    public var virtualAddress: UInt64
    /// The first address the table translates: aligned to 256 TiB, 512 GiB, 1 GiB or 2 MiB.
    public var coveredStart: UInt64
}

extension Dom0Layout {
    public func forEachPageTableFrame(_ body: (Dom0PageTableFrame) -> Void) {
        let firstPFN = (pageTables.start - total.start) >> 12
        var index = 0
        func take(_ level: Int, _ covered: UInt64) {
            body(Dom0PageTableFrame(index: index, level: level, pfn: firstPFN + UInt64(index),
                                    virtualAddress: pageTables.start + UInt64(index) * Dom0Layout.pageSize,
                                    coveredStart: covered))
            index += 1
        }
        take(4, total.start & 0xFFFF_0000_0000_0000)
        var region = total.start & ~((UInt64(1) << 21) - 1)
        var first = true
        while region < total.end {
            take(1, region)
            if first || region & ((UInt64(1) << 30) - 1) == 0 { take(2, region & ~((UInt64(1) << 30) - 1)) }
            if first || region & ((UInt64(1) << 39) - 1) == 0 { take(3, region & ~((UInt64(1) << 39) - 1)) }
            first = false
            let (next, overflow) = region.addingReportingOverflow(1 << 21)
            if overflow { break }
            region = next
        }
    }
}
