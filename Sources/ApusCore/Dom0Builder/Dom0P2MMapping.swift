// Dom0P2MMapping: the frames Xen adds to dom0 to map the p2m list at INIT_P2M, outside the
// initial mapping (setup_pv_physmap), so start_info's first_p2m_pfn and nr_p2m_frames
// come out as Xen's.
//
// Xen walks the list's range: a missing L4 entry takes an L3 table; a missing L3 entry takes
// a 1 GiB page when the walk is 1 GiB-aligned with at least 1 GiB left and 1 GiB pages are
// usable, else an L2 table; a missing L2 entry likewise takes a 2 MiB page or an L1 table;
// then a 4 KiB page. Entries the initial mapping already has (a shared L4, L3 or L2 slot)
// are not taken again. Before each step it refuses if the pages so far, the pages still to
// map and 3 spare tables exceed nr_pages. The frames get pfns from first_p2m_pfn on.
// Imports nothing.

public struct Dom0P2MMapping: Equatable, Sendable {
    public var l3Tables: UInt64 = 0
    public var l2Tables: UInt64 = 0
    public var l1Tables: UInt64 = 0
    public var pages4K: UInt64 = 0
    public var pages2M: UInt64 = 0
    public var pages1G: UInt64 = 0
    /// start_info.first_p2m_pfn: the frames follow dom0's initial pages.
    public var firstPFN: UInt64 = 0

    /// start_info.nr_p2m_frames.
    public var frameCount: UInt64 {
        l3Tables + l2Tables + l1Tables + pages4K + pages2M * 512 + pages1G * 512 * 512
    }
}

extension Dom0Layout {
    /// nil when the p2m list is inside the initial mapping (no INIT_P2M).
    public func p2mMapping(allow1GiBPages: Bool) throws(Dom0LayoutError) -> Dom0P2MMapping? {
        guard !p2mInInitialMapping else { return nil }
        var plan = Dom0P2MMapping()
        plan.firstPFN = initialPages
        var totalPages = initialPages
        let gib: UInt64 = 1 << 30, mib2: UInt64 = 1 << 21, page = Dom0Layout.pageSize
        // Highest slot index populated so far at each level, from the initial mapping first.
        let mappingLast = total.end - 1
        func shared(_ address: UInt64, _ shift: UInt64) -> Bool {
            address >> shift >= total.start >> shift && address >> shift <= mappingLast >> shift
        }
        var lastL4: UInt64? = nil, lastL3: UInt64? = nil, lastL2: UInt64? = nil
        var start = p2m.start
        let end = p2m.end
        let endPage = (end &+ page &- 1) & ~(page - 1)
        while start < end {
            let (needed, overflow) = totalPages.addingReportingOverflow(((endPage - start) >> 12) + 3)
            if overflow || needed > request.nrPages { throw .tooSmallForP2M(neededPages: needed, nrPages: request.nrPages) }
            if !shared(start, 39) && lastL4 != start >> 39 {
                plan.l3Tables += 1
                totalPages += 1
                lastL4 = start >> 39
            }
            if !shared(start, 30) && lastL3 != start >> 30 {
                if allow1GiBPages && start & (gib - 1) == 0 && end >= start &+ gib && start &+ gib > start {
                    plan.pages1G += 1
                    totalPages += gib >> 12
                    start += gib
                    continue
                }
                plan.l2Tables += 1
                totalPages += 1
                lastL3 = start >> 30
            }
            if !shared(start, 21) && lastL2 != start >> 21 {
                if start & (mib2 - 1) == 0 && end >= start &+ mib2 && start &+ mib2 > start {
                    plan.pages2M += 1
                    totalPages += mib2 >> 12
                    start += mib2
                    continue
                }
                plan.l1Tables += 1
                totalPages += 1
                lastL2 = start >> 21
            }
            plan.pages4K += 1
            totalPages += 1
            let (next, wrapped) = start.addingReportingOverflow(page)
            if wrapped { break }
            start = next & ~(page - 1)
        }
        return plan
    }
}
