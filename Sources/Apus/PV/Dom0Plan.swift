// Where dom0's bootstrap pieces go (the PV ABI's start-of-day order): kernel image, initrd,
// p2m list, start_info, bootstrap page tables, boot stack, then at least 512 KiB of padding,
// the whole region rounded up to 4 MiB. The number of page-table frames depends on the
// region's size, which depends on that number: iterate until it is stable.
// TEMPORARY: to be replaced by ApusCore's Dom0Layout, which reproduces Xen's arrangement
// byte for byte (a helper is writing it); this one follows the same rules.
import ApusCore

enum Dom0Planner {
    static let pageSize: UInt64 = 4096
    static let regionAlign: UInt64 = 4 << 20
    static let padding: UInt64 = 512 << 10

    static func pageUp(_ value: UInt64) -> UInt64 { (value + pageSize - 1) & ~(pageSize - 1) }

    static func make(image: XenKernelImage, initrdBytes: UInt64, pages: UInt64) -> Dom0Plan {
        var plan = Dom0Plan()
        plan.virtualBase = image.virtBase
        plan.kernelStart = image.virtualStart
        plan.kernelEnd = pageUp(image.virtualEnd)
        plan.entry = image.entry
        plan.hypercallPage = image.hypercallPage ?? 0
        plan.pages = pages
        var cursor = plan.kernelEnd
        if initrdBytes > 0 {
            plan.initrdStart = cursor
            plan.initrdEnd = cursor + initrdBytes
            cursor = pageUp(plan.initrdEnd)
        }
        plan.p2mStart = cursor
        plan.p2mEnd = cursor + pages * 8
        cursor = pageUp(plan.p2mEnd)
        plan.startInfo = cursor
        cursor += pageSize
        plan.pageTablesStart = cursor
        var tables: UInt64 = 1
        while true {
            let stack = cursor + tables * pageSize
            let end = ((stack + pageSize + padding) + regionAlign - 1) & ~(regionAlign - 1)
            let needed = tablesNeeded(from: plan.virtualBase, to: end)
            if needed <= tables {
                plan.pageTablesEnd = cursor + tables * pageSize
                plan.stackStart = plan.pageTablesEnd
                plan.regionEnd = end
                break
            }
            tables = needed
        }
        return plan
    }

    /// One L4, plus one table per distinct 512 GiB (L3), 1 GiB (L2) and 2 MiB (L1) the
    /// range [start, end) touches.
    static func tablesNeeded(from start: UInt64, to end: UInt64) -> UInt64 {
        func distinct(_ shift: UInt64) -> UInt64 { ((end - 1) >> shift) - (start >> shift) + 1 }
        return 1 + distinct(39) + distinct(30) + distinct(21)
    }
}
