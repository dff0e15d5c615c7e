// Dom0Layout: dom0's initial virtual address space, arranged as Xen's dom0_construct_pv
// arranges it for a 64-bit PV kernel (the start-of-day layout of public/xen.h):
//
//   v_start = VIRT_BASE                       (TOTAL starts here, not at the kernel)
//   kernel        [virt_kstart, virt_kend)
//   initrd        page-aligned after the kernel, unless MOD_START_PFN asks for it unmapped
//   p2m list      page-aligned next, nr_pages * 8 bytes, unless INIT_P2M moves it elsewhere
//   start_info    next page: struct start_info (0x490 bytes) + dom0_vga_console_info (0x28)
//   page tables   the page after start_info's 0x490 bytes: nr_pt_frames frames
//   boot stack    one page
//   v_end         the stack's end rounded up to 4 MiB, plus 4 MiB if that leaves less than
//                 512 KiB of padding
// nr_pt_frames is found as Xen finds it: the smallest n >= 2 for which 1 L4 + the L3s, L2s
// and L1s needed to map [v_start, v_end) fit in n frames, v_end depending on n.
// The mapping [v_start, v_end) is pseudo-physical pages 0, 1, 2...: pfn = (va - v_start) / 4K.
// Xen allocates 2^order pages for it in one piece (order = log2 of the mapping's size less
// a mapped initrd, rounded up), then hands dom0 the initrd's own pages, then the rest of
// nr_pages later.
// Invariants: `compute` does all arithmetic with overflow checks and refuses what Xen would
// (or what would wrap, leave the canonical halves, or touch the hypervisor's range).
// Imports nothing.

public struct VirtualRange: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64

    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }

    public var isEmpty: Bool { end <= start }
    public var byteCount: UInt64 { isEmpty ? 0 : end - start }
    /// Pages touched, counting partial ones.
    public var pageCount: UInt64 { isEmpty ? 0 : ((end - 1) >> 12) - (start >> 12) + 1 }
    public func contains(_ address: UInt64) -> Bool { address >= start && address < end }
}

/// What the layout depends on. Build it from a parsed kernel with `init(kernel:...)`.
public struct Dom0LayoutRequest: Equatable, Sendable {
    public var virtBase: UInt64
    public var kernelStart: UInt64
    public var kernelEnd: UInt64
    /// XEN_ELFNOTE_INIT_P2M.
    public var p2mBase: UInt64?
    /// XEN_ELFNOTE_MOD_START_PFN set: the initrd is passed by pfn and not mapped.
    public var unmappedInitrd: Bool
    /// Size of the second module; nil when there is none.
    public var initrdBytes: UInt64?
    /// dom0's memory in 4 KiB pages (from dom0_mem).
    public var nrPages: UInt64
    /// XEN_ELFNOTE_HYPERCALL_PAGE, which must lie inside the initial mapping.
    public var hypercallPage: UInt64?

    public init(virtBase: UInt64, kernelStart: UInt64, kernelEnd: UInt64, p2mBase: UInt64? = nil,
                unmappedInitrd: Bool = false, initrdBytes: UInt64? = nil, nrPages: UInt64,
                hypercallPage: UInt64? = nil) {
        self.virtBase = virtBase
        self.kernelStart = kernelStart
        self.kernelEnd = kernelEnd
        self.p2mBase = p2mBase
        self.unmappedInitrd = unmappedInitrd
        self.initrdBytes = initrdBytes
        self.nrPages = nrPages
        self.hypercallPage = hypercallPage
    }

    public init(kernel: XenKernelImage, initrdBytes: UInt64?, nrPages: UInt64) {
        self.init(virtBase: kernel.virtBase, kernelStart: kernel.virtualStart, kernelEnd: kernel.virtualEnd,
                  p2mBase: kernel.p2mBase, unmappedInitrd: kernel.unmappedInitrd, initrdBytes: initrdBytes,
                  nrPages: nrPages, hypercallPage: kernel.hypercallPage)
    }
}

public struct Dom0Layout: Equatable, Sendable {
    public static let pageSize: UInt64 = 4096
    /// sizeof(struct start_info) for a 64-bit guest, and of the dom0_vga_console_info after it.
    public static let startInfoBytes: UInt64 = 0x490
    public static let vgaConsoleInfoBytes: UInt64 = 0x28
    /// The range every 64-bit PV address space reserves for the hypervisor.
    public static let hypervisorVirtStart: UInt64 = 0xFFFF_8000_0000_0000
    public static let hypervisorVirtEnd: UInt64 = 0xFFFF_8800_0000_0000
    public static let minimumPadding: UInt64 = 512 << 10
    public static let alignment: UInt64 = 4 << 20

    public var request: Dom0LayoutRequest
    /// [v_start, v_end): everything the initial page tables map.
    public var total: VirtualRange
    public var kernel: VirtualRange
    /// Empty when the initrd is absent or not mapped.
    public var initrd: VirtualRange
    /// Where the p2m list is: inside the mapping, or at INIT_P2M (mapped separately).
    public var p2m: VirtualRange
    public var p2mInInitialMapping: Bool
    /// start_info and the VGA console info after it.
    public var startInfo: VirtualRange
    public var pageTables: VirtualRange
    public var bootStack: VirtualRange
    /// nr_pt_frames, and how they split by level (l4 + l3 + l2 + l1 == pageTableFrames).
    public var pageTableFrames: Int
    public var l4Frames: Int
    public var l3Frames: Int
    public var l2Frames: Int
    public var l1Frames: Int
    /// Xen's first allocation: 2^allocationOrder pages for the mapping (less a mapped initrd).
    public var allocationOrder: Int
    /// PFN_UP(initrd size); the initrd's own pages join dom0.
    public var initrdPages: UInt64
    /// dom0's pages once the first allocation and the initrd are in (Xen's tot_pages then).
    public var initialPages: UInt64
    /// Where the initrd's pages sit in dom0's pseudo-physical space (nil without initrd).
    public var initrdPFN: UInt64?

    public var allocationPages: UInt64 { 1 << UInt64(allocationOrder) }
    /// Pages dom0 still needs after the initial ones ("pages to be allocated").
    public var remainingPages: UInt64 { request.nrPages > initialPages ? request.nrPages - initialPages : 0 }
    /// Start-of-day registers: rsp, rsi.
    public var initialStackPointer: UInt64 { bootStack.end }
    public var startInfoAddress: UInt64 { startInfo.start }
    /// start_info.mod_start: the initrd's virtual address, or its pfn when unmapped.
    public var moduleStart: UInt64 { initrd.isEmpty ? initrdPFN ?? 0 : initrd.start }
    /// SIF_MOD_START_PFN belongs in start_info.flags.
    public var moduleStartIsPFN: Bool { initrd.isEmpty && (request.initrdBytes ?? 0) > 0 }

    /// The pfn of an address inside the initial mapping.
    public func pfn(of address: UInt64) -> UInt64? {
        total.contains(address) ? (address - total.start) >> 12 : nil
    }

    public static func compute(_ request: Dom0LayoutRequest) throws(Dom0LayoutError) -> Dom0Layout {
        let initrdBytes = request.initrdBytes ?? 0
        let vStart = request.virtBase
        let kernel = VirtualRange(start: request.kernelStart, end: request.kernelEnd)
        guard kernel.start <= kernel.end, vStart <= kernel.start else {
            throw .kernelOutsideMapping(virtBase: vStart, kernelStart: kernel.start, kernelEnd: kernel.end)
        }

        var initrd = VirtualRange(start: 0, end: 0)
        var p2mStart: UInt64
        if request.unmappedInitrd {
            p2mStart = try pageUp(kernel.end)
        } else {
            initrd.start = try pageUp(kernel.end)
            initrd.end = try add(initrd.start, initrdBytes)
            p2mStart = try pageUp(initrd.end)
        }
        var p2mEnd = p2mStart
        let (p2mBytes, p2mOverflow) = request.nrPages.multipliedReportingOverflow(by: 8)
        guard !p2mOverflow else { throw .addressOverflow }
        if request.p2mBase == nil { p2mEnd = try add(p2mStart, p2mBytes) }

        let startInfoStart = try pageUp(p2mEnd)
        let pageTablesStart = try pageUp(try add(startInfoStart, startInfoBytes))
        let startInfo = VirtualRange(start: startInfoStart, end: startInfoStart + startInfoBytes + vgaConsoleInfoBytes)

        // nr_pt_frames and v_end depend on each other; try n = 2, 3, ... as Xen does. The
        // count grows by at most a few frames per 4 MiB, so this ends quickly.
        var frames: UInt64 = 2
        var stackStart: UInt64 = 0
        var vEnd: UInt64 = 0
        var levels = (l3: UInt64(0), l2: UInt64(0), l1: UInt64(0))
        while true {
            stackStart = try add(pageTablesStart, frames * pageSize)
            let stackEnd = try add(stackStart, pageSize)
            vEnd = try roundUp(stackEnd, alignment)
            if vEnd - stackEnd < minimumPadding { vEnd = try add(vEnd, alignment) }
            levels = (tablesSpanning(vStart, vEnd, shift: 39), tablesSpanning(vStart, vEnd, shift: 30),
                      tablesSpanning(vStart, vEnd, shift: 21))
            if 1 + levels.l3 + levels.l2 + levels.l1 <= frames { break }
            frames += 1
        }
        let total = VirtualRange(start: vStart, end: vEnd)
        try checkPlacement(total)

        // Xen's one-piece allocation and the "too small for kernel image" check.
        var mappedBytes = vEnd - vStart
        if !request.unmappedInitrd { mappedBytes -= roundUp4K(initrdBytes) }
        let order = orderForBytes(mappedBytes)
        let initrdPages = roundUp4K(initrdBytes) >> 12
        let (needed, neededOverflow) = (UInt64(1) << UInt64(order)).addingReportingOverflow(initrdPages)
        guard !neededOverflow, needed <= request.nrPages else {
            throw .tooSmallForKernel(neededPages: needed, nrPages: request.nrPages)
        }

        var p2m = VirtualRange(start: p2mStart, end: p2mEnd)
        if let base = request.p2mBase {
            p2m = VirtualRange(start: base, end: try add(base, p2mBytes))
            if vStart <= p2m.end && p2m.start <= vEnd { throw .p2mOverlapsMapping(p2m: p2m, mapping: total) }
            try checkPlacement(p2m)
        }
        if let hypercallPage = request.hypercallPage, !total.contains(hypercallPage) {
            throw .hypercallPageOutsideMapping(address: hypercallPage, mapping: total)
        }

        let initialPages = needed
        var initrdPFN: UInt64? = nil
        if initrdBytes > 0 {
            initrdPFN = request.unmappedInitrd ? (1 << UInt64(order)) : (initrd.start - vStart) >> 12
        }
        return Dom0Layout(
            request: request, total: total, kernel: kernel, initrd: initrd, p2m: p2m,
            p2mInInitialMapping: request.p2mBase == nil, startInfo: startInfo,
            pageTables: VirtualRange(start: pageTablesStart, end: stackStart),
            bootStack: VirtualRange(start: stackStart, end: stackStart + pageSize),
            pageTableFrames: Int(frames), l4Frames: 1, l3Frames: Int(levels.l3), l2Frames: Int(levels.l2),
            l1Frames: Int(levels.l1), allocationOrder: order, initrdPages: initrdPages,
            initialPages: initialPages, initrdPFN: initrdPFN)
    }

    /// Tables of one level needed to map [start, end) when each covers 2^shift bytes (Xen's NR()).
    static func tablesSpanning(_ start: UInt64, _ end: UInt64, shift: UInt64) -> UInt64 {
        // In units of 2^shift so that an end at the top of the address space cannot overflow.
        end > start ? ((end - 1) >> shift) - (start >> shift) + 1 : 0
    }

    /// get_order_from_bytes: the smallest order with 2^order pages >= bytes.
    static func orderForBytes(_ bytes: UInt64) -> Int {
        var pages = (bytes &- 1) >> 12
        if bytes == 0 { pages = 0 }
        var order = 0
        while pages != 0 {
            pages >>= 1
            order += 1
        }
        return order
    }

    /// The range must be canonical (all in one half) and clear of the hypervisor's range.
    static func checkPlacement(_ range: VirtualRange) throws(Dom0LayoutError) {
        let lowerHalfEnd: UInt64 = 0x0000_8000_0000_0000
        let upperHalfStart: UInt64 = 0xFFFF_8000_0000_0000
        let canonical = range.end <= lowerHalfEnd || range.start >= upperHalfStart
        guard canonical else { throw .notCanonical(range) }
        if range.start < hypervisorVirtEnd && range.end > hypervisorVirtStart { throw .overlapsHypervisor(range) }
    }

    static func add(_ a: UInt64, _ b: UInt64) throws(Dom0LayoutError) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw .addressOverflow }
        return sum
    }

    static func roundUp(_ value: UInt64, _ alignment: UInt64) throws(Dom0LayoutError) -> UInt64 {
        try add(value, alignment - 1) & ~(alignment - 1)
    }

    static func pageUp(_ value: UInt64) throws(Dom0LayoutError) -> UInt64 { try roundUp(value, pageSize) }

    static func roundUp4K(_ value: UInt64) -> UInt64 {
        value > UInt64.max - 0xFFF ? UInt64.max & ~0xFFF : (value + 0xFFF) & ~0xFFF
    }
}
