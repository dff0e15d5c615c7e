// Building dom0 from a planned layout: its memory, the kernel and initrd copied in, the
// p2m list, start_info, shared_info, the hypercall page and the bootstrap page tables,
// exactly as the PV ABI's start-of-day contract describes (ApusPublic/start_info.h).
//
// The plan (where each piece goes) comes from the pure layout computation; this file only
// carries it out on real frames. Invariant: every frame dom0 can map is owned by it, and
// every bootstrap page-table frame is typed and mapped read-only in the initial mapping.
import ApusCore
import ApusPublic
import ArchX86

/// Where everything goes, in dom0's virtual addresses (the bootstrap region maps
/// pseudo-physical frame n at virtualBase + n * 4096).
struct Dom0Plan {
    var virtualBase: UInt64 = 0
    var initrdStart: UInt64 = 0
    var p2mStart: UInt64 = 0, p2mEnd: UInt64 = 0
    var startInfo: UInt64 = 0
    var pageTablesStart: UInt64 = 0, pageTablesEnd: UInt64 = 0
    var stackStart: UInt64 = 0
    var regionEnd: UInt64 = 0
    var entry: UInt64 = 0
    var hypercallPage: UInt64 = 0
    var pages: UInt64 = 0
    /// An initrd outside the initial mapping (XEN_ELFNOTE_MOD_START_PFN) starts at this pfn.
    var initrdPFN: UInt64? = nil
    var moduleStart: UInt64 = 0
    var moduleStartIsPFN = false
    var firstP2MPFN: UInt64 = 0

    func pfn(_ virtual: UInt64) -> UInt64 { (virtual - virtualBase) >> 12 }
    var pageTableFrames: UInt64 { (pageTablesEnd - pageTablesStart) >> 12 }
    var stackTop: UInt64 { stackStart + 4096 }
}

/// Hands out the planned page-table frames in order, the L4 first.
struct PlannedTableMemory: PageTableMemory {
    let frames: Dom0Frames
    var nextPFN: UInt64
    let endPFN: UInt64

    func table(_ frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)
    }

    mutating func allocateTableFrame() -> UInt64? {
        guard nextPFN < endPFN else { return nil }
        let frame = frames.machineFrame(nextPFN)
        nextPFN += 1
        table(frame).update(repeating: 0, count: 512)
        return frame
    }
}

enum Dom0Construct {
    struct Built {
        var frames: Dom0Frames
        var l4Frame: UInt64
        var sharedInfoFrame: UInt64
    }

    /// Copies and builds everything; panics with the reason if a step cannot be done.
    static func build(plan: Dom0Plan, image: XenKernelImage, initrd: UnsafeRawBufferPointer?,
                      commandLine: ByteText, pae: Bool) -> Built {
        guard let frames = Dom0Frames.allocate(pages: plan.pages, owner: 0) else {
            panic("Not enough memory for dom0's pages (dom0_mem too large for this machine?)")
        }
        // The bootstrap region must start zeroed: bss, page tables, start_info, stack.
        for pfn in 0..<plan.pfn(plan.regionEnd) { frames.page(pfn).update(repeating: 0, count: 4096) }

        loadSegments(image, plan: plan, frames: frames)
        if let initrd {
            if let pfn = plan.initrdPFN {
                copy(initrd, toFrame: pfn, frames: frames)
            } else {
                copy(initrd, to: plan.initrdStart, plan: plan, frames: frames)
            }
        }
        writeP2M(plan: plan, frames: frames)

        guard let sharedFrame = Memory.allocator.allocate(order: 0) else { panic("No frame for shared_info") }
        let shared = DirectMap.pointer(to: sharedFrame << 12, as: UInt8.self)
        shared.update(repeating: 0, count: 4096)
        shared[1] = 1  // vcpu_info[0].evtchn_upcall_mask: dom0 starts with events masked
        GuestTime.update(vcpuInfoMachineAddress: sharedFrame << 12)

        writeStartInfo(plan: plan, frames: frames, sharedInfoFrame: sharedFrame, commandLine: commandLine, pae: pae,
                       initrdLength: UInt64(initrd?.count ?? 0))
        if plan.hypercallPage != 0 {
            HypercallPage.fill(frames.page(plan.pfn(plan.hypercallPage)))
        }
        let l4 = buildPageTables(plan: plan, frames: frames)
        return Built(frames: frames, l4Frame: l4, sharedInfoFrame: sharedFrame)
    }

    /// Segment bytes go to virtualStart + (paddr - physicalStart), as Xen's loader places
    /// them; the rest (bss) was zeroed with the region.
    static func loadSegments(_ image: XenKernelImage, plan: Dom0Plan, frames: Dom0Frames) {
        let kernel = image.elf
        for index in 0..<kernel.programHeaderCount {
            let segment = kernel.programHeader(index)
            guard segment.isLoadable, segment.fileSize > 0 else { continue }
            guard let bytes = kernel.bytes(offset: segment.offset, size: segment.fileSize) else {
                panic("dom0 kernel: a segment lies outside the file")
            }
            let destination = image.virtualStart + (segment.physicalAddress - image.physicalStart)
            copy(bytes.raw, to: destination, plan: plan, frames: frames)
        }
    }

    /// Copies `source` to dom0 virtual address `virtual` inside the bootstrap region.
    static func copy(_ source: UnsafeRawBufferPointer, to virtual: UInt64, plan: Dom0Plan, frames: Dom0Frames) {
        var done = 0
        while done < source.count {
            let address = virtual + UInt64(done)
            let offset = Int(address & 0xFFF)
            let piece = min(4096 - offset, source.count - done)
            let page = frames.page(plan.pfn(address))
            UnsafeMutableRawPointer(page + offset).copyMemory(from: source.baseAddress! + done, byteCount: piece)
            done += piece
        }
    }

    /// Copies `source` into consecutive pseudo-physical frames from `pfn` (an initrd the
    /// kernel takes by frame number, outside its initial mapping).
    static func copy(_ source: UnsafeRawBufferPointer, toFrame pfn: UInt64, frames: Dom0Frames) {
        var done = 0, frame = pfn
        while done < source.count {
            let piece = min(4096, source.count - done)
            UnsafeMutableRawPointer(frames.page(frame)).copyMemory(from: source.baseAddress! + done, byteCount: piece)
            done += piece
            frame += 1
        }
    }

    static func writeP2M(plan: Dom0Plan, frames: Dom0Frames) {
        frames.forEachFrame { pfn, mfn in
            let address = plan.p2mStart + pfn * 8
            let page = frames.page(plan.pfn(address))
            UnsafeMutableRawPointer(page + Int(address & 0xFFF)).storeBytes(of: mfn, as: UInt64.self)
        }
    }

    static func writeStartInfo(plan: Dom0Plan, frames: Dom0Frames, sharedInfoFrame: UInt64,
                               commandLine: ByteText, pae: Bool, initrdLength: UInt64) {
        var fields = StartInfoFields()
        fields.pages = plan.pages
        fields.sharedInfoMachineAddress = sharedInfoFrame << 12
        fields.flags = StartInfoFields.dom0Flags | (plan.moduleStartIsPFN ? UInt32(SIF_MOD_START_PFN) : 0)
        fields.pageTableBase = plan.pageTablesStart
        fields.pageTableFrames = plan.pageTableFrames
        fields.p2mList = plan.p2mStart
        fields.moduleStart = plan.moduleStart
        fields.moduleLength = initrdLength
        fields.firstP2MFrame = plan.firstP2MPFN  // the first pfn after the initial allocation, as Xen
        fields.paeMagic = pae
        fields.commandLine = commandLine
        fields.vgaTextConsole = Firmware.facts.vgaPresent
        StartInfoWriter.write(fields, into: UnsafeMutableRawPointer(frames.page(plan.pfn(plan.startInfo))))
    }

    /// Maps the bootstrap region 1:1 onto pseudo-physical frames: writable, user (a PV
    /// kernel runs in ring 3), except the page-table frames, which are read-only.
    static func buildPageTables(plan: Dom0Plan, frames: Dom0Frames) -> UInt64 {
        let tables = PlannedTableMemory(frames: frames, nextPFN: plan.pfn(plan.pageTablesStart),
                                        endPFN: plan.pfn(plan.pageTablesEnd))
        var memory = tables
        guard let l4 = memory.allocateTableFrame() else { panic("dom0 layout has no page-table frames") }
        var mapper = PageTableMapper(memory: memory, rootFrame: l4)
        let firstTable = plan.pfn(plan.pageTablesStart), endTable = plan.pfn(plan.pageTablesEnd)
        var virtual = plan.virtualBase
        do throws(PagingError) {
            while virtual < plan.regionEnd {
                let pfn = plan.pfn(virtual)
                let isTable = pfn >= firstTable && pfn < endTable
                let flags = PageTableEntry.user | (isTable ? 0 : PageTableEntry.writable)
                try mapper.map(virtual: virtual, physical: frames.machineFrame(pfn) << 12, size: .size4K, flags: flags)
                virtual += 4096
            }
        } catch {
            panic { c in
                c.write("dom0 bootstrap page tables do not fit the planned ")
                c.write(decimal: plan.pageTableFrames); c.write(" frames")
            }
        }
        // The tables take their types through the same rules as any guest's (which also
        // count the writable mappings): one reference for vCPU 0's base pointer, one for
        // the pin Xen gives dom0's initial L4 (Linux unpins it once it has its own).
        guard PageTypes.getType(l4, level: 4) == 0, PageTypes.getType(l4, level: 4) == 0 else {
            panic("dom0's bootstrap page tables do not pass Apus's own page-type rules")
        }
        PageTypes.setPinned(true, l4)
        return l4
    }
}
