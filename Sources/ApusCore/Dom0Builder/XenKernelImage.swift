// XenKernelImage: what a PV kernel tells its loader, checked the way Xen 4.17 checks it:
// entry point, hypercall page, virtual base, where the image lands in virtual memory, the
// features it requires and supports, and the strings it identifies itself with.
//
// Address rules (libelf's elf_xen_addr_calc_check):
//   virt_base    = VIRT_BASE, or 0 when absent (PADDR_OFFSET without VIRT_BASE is an error)
//   paddr_offset = PADDR_OFFSET, or when absent 0 for ELF notes and VIRT_BASE for the legacy
//                  `__xen_guest` string (old kernels set paddr = vaddr)
//   virt_offset  = virt_base - paddr_offset (modulo 2^64)
//   [virt_kstart, virt_kend) = [pstart, pend) + virt_offset, pstart/pend from the loadable
//                  segments' paddr and memsz; BSD_SYMTAB=yes extends the end by the symbol
//                  table space (elf_parse_bsdsyms)
//   entry        = ENTRY, or e_entry when absent
// and then: kstart <= kend, kstart <= entry <= kend, virt_base <= kstart, INIT_P2M not
// inside [kstart, kend). Notes must say LOADER "generic*" or GUEST_OS "linux*", and
// XEN_VERSION "xen-3.0*".
// Invariants: the ByteText fields point into the kernel image and live as long as it does.
// Imports nothing.

/// XEN_ELFNOTE_PAE_MODE as Xen reads it (`yes` is extended-cr3 for notes).
public enum XenPAEMode: Equatable, Sendable {
    case none
    case yes
    case extendedCR3
    case bimodal
}

public struct XenKernelImage {
    public var elf: ELF64Image
    public var noteSource: XenNoteSource
    /// Where execution starts (XEN_ELFNOTE_ENTRY or e_entry).
    public var entry: UInt64
    /// XEN_ELFNOTE_HYPERCALL_PAGE: the virtual address Apus fills with hypercall stubs.
    public var hypercallPage: UInt64?
    public var virtBase: UInt64
    public var paddrOffset: UInt64
    /// virt_base - paddr_offset: added to a segment's paddr gives its virtual address.
    public var virtOffset: UInt64
    /// [virt_kstart, virt_kend): where the image is mapped.
    public var virtualStart: UInt64
    public var virtualEnd: UInt64
    /// [pstart, pend): the loadable segments' physical addresses.
    public var physicalStart: UInt64
    public var physicalEnd: UInt64
    public var loadSegmentCount: Int
    /// XEN_ELFNOTE_INIT_P2M: the kernel wants the p2m list mapped there, not in the image.
    public var p2mBase: UInt64?
    public var hvStartLow: UInt64?
    /// XEN_ELFNOTE_MOD_START_PFN != 0: the initrd is passed as a pfn, not mapped.
    public var unmappedInitrd: Bool
    public var suspendCancel: Bool
    public var paeMode: XenPAEMode
    public var requiredFeatures: XenFeatureSet
    /// Every feature the kernel names or lists in SUPPORTED_FEATURES (required ones too).
    public var supportedFeatures: XenFeatureSet
    public var hasSupportedFeaturesNote: Bool
    /// BSD_SYMTAB=yes: the symbol tables are loaded after the image, in [start, end) physical.
    public var bsdSymbolTable: (start: UInt64, end: UInt64)?
    public var guestOS: ByteText
    public var guestVersion: ByteText
    public var xenVersion: ByteText
    public var loader: ByteText
    public var notes: XenNoteValues

    /// Reads and checks the ELF kernel in `file`. `hypervisorFeatures`: the features Apus can
    /// give; a kernel requiring any other is refused. `asDom0`: also refuse a kernel whose
    /// SUPPORTED_FEATURES note leaves out XENFEAT_dom0, as Xen does.
    public static func parse(_ file: ByteWindow, hypervisorFeatures: XenFeatureSet,
                             asDom0: Bool = true) throws(KernelImageError) -> XenKernelImage {
        let elf = try ELF64Image.parse(file)
        let extent = try ELF64LoadExtent.check(elf)
        let notes = try readXenNotes(elf)
        guard notes.xenNoteCount > 0 else { throw .noXenNotes }

        let loader = notes.loader ?? .empty
        let guestOS = notes.guestOS ?? .empty
        guard loader.hasPrefix("generic") || guestOS.hasPrefix("linux") else {
            throw .notForGenericLoaderOrLinux(loader: ErrorText(loader), guestOS: ErrorText(guestOS))
        }
        let xenVersion = notes.xenVersion ?? .empty
        guard xenVersion.hasPrefix("xen-3.0") else { throw .notForXen3(xenVersion: ErrorText(xenVersion)) }

        var features = XenFeatureRequest()
        if let text = notes.features {
            let (request, unknown) = XenFeatureRequest.parse(text)
            if let unknown { throw .unknownRequiredFeature(ErrorText(unknown)) }
            features = request
        }
        if let map = notes.supportedFeatures { features.supported = features.supported.union(XenFeatureSet(rawValue: map)) }

        // Addresses.
        guard notes.paddrOffset == nil || notes.virtBase != nil else { throw .paddrOffsetWithoutVirtBase }
        let virtBase = notes.virtBase ?? 0
        let paddrOffset = notes.paddrOffset ?? (notes.source == .legacyGuestInfo ? virtBase : 0)
        let virtOffset = virtBase &- paddrOffset
        let virtualStart = extent.physicalStart &+ virtOffset
        var virtualEnd = extent.physicalEnd &+ virtOffset
        var bsdSymbolTable: (start: UInt64, end: UInt64)? = nil
        if let symtab = notes.bsdSymtab, notes.source == .legacyGuestInfo || symtab.equals("yes") {
            if let range = try bsdSymbolTableRange(elf, after: extent.physicalEnd) {
                bsdSymbolTable = range
                virtualEnd = range.end &+ virtOffset
            }
        }
        let entry = notes.entry ?? elf.entry
        guard virtualStart <= virtualEnd else { throw .kernelStartAfterEnd(start: virtualStart, end: virtualEnd) }
        guard entry >= virtualStart && entry <= virtualEnd else {
            throw .entryOutsideKernel(entry: entry, start: virtualStart, end: virtualEnd)
        }
        guard virtBase <= virtualStart else { throw .virtBaseAboveKernel(virtBase: virtBase, start: virtualStart) }
        if let p2m = notes.initP2M, p2m >= virtualStart && p2m < virtualEnd {
            throw .p2mBaseInsideKernel(p2mBase: p2m, start: virtualStart, end: virtualEnd)
        }

        // What this hypervisor can run.
        if asDom0 && notes.supportedFeatures != nil && !features.supported.contains(XenFeatureSet.dom0) {
            throw .notDom0Capable
        }
        let missing = features.required.subtracting(hypervisorFeatures)
        guard missing.isEmpty else { throw .unsupportedRequiredFeatures(missing) }

        return XenKernelImage(
            elf: elf, noteSource: notes.source, entry: entry, hypercallPage: notes.hypercallPage,
            virtBase: virtBase, paddrOffset: paddrOffset, virtOffset: virtOffset,
            virtualStart: virtualStart, virtualEnd: virtualEnd,
            physicalStart: extent.physicalStart, physicalEnd: extent.physicalEnd,
            loadSegmentCount: extent.segmentCount, p2mBase: notes.initP2M, hvStartLow: notes.hvStartLow,
            unmappedInitrd: (notes.modStartPFN ?? 0) != 0, suspendCancel: (notes.suspendCancel ?? 0) != 0,
            paeMode: paeMode(notes), requiredFeatures: features.required, supportedFeatures: features.supported,
            hasSupportedFeaturesNote: notes.supportedFeatures != nil, bsdSymbolTable: bsdSymbolTable,
            guestOS: guestOS, guestVersion: notes.guestVersion ?? .empty, xenVersion: xenVersion,
            loader: loader, notes: notes)
    }

    /// Notes from PT_NOTE segments, else SHT_NOTE sections, else `__xen_guest`.
    static func readXenNotes(_ elf: ELF64Image) throws(KernelImageError) -> XenNoteValues {
        var notes = XenNoteValues()
        for index in 0..<elf.programHeaderCount {
            let segment = elf.programHeader(index)
            guard segment.type == ELF64ProgramHeader.note, segment.offset != 0 else { continue }
            guard let area = elf.bytes(offset: segment.offset, size: segment.fileSize) else {
                throw .noteAreaOutsideFile(offset: segment.offset, size: segment.fileSize)
            }
            try notes.readNotes(area, areaOffset: Int(segment.offset))
        }
        if notes.xenNoteCount > 0 { return notes }
        notes.source = .noteSections
        for index in 1..<Swift.max(elf.sectionCount, 1) {
            let section = elf.sectionHeader(index)
            guard section.type == ELF64SectionHeader.note else { continue }
            guard let area = elf.bytes(offset: section.offset, size: section.size) else {
                throw .noteAreaOutsideFile(offset: section.offset, size: section.size)
            }
            try notes.readNotes(area, areaOffset: Int(section.offset))
        }
        if notes.xenNoteCount > 0 { return notes }
        if let section = elf.section(named: "__xen_guest") {
            guard let area = elf.bytes(offset: section.offset, size: section.size) else {
                throw .noteAreaOutsideFile(offset: section.offset, size: section.size)
            }
            try notes.readGuestInfo(area.text(at: 0, count: area.count) ?? .empty)
        }
        return notes
    }

    static func paeMode(_ notes: XenNoteValues) -> XenPAEMode {
        guard let text = notes.paeMode else { return .none }
        if notes.source == .legacyGuestInfo {
            if text.equals("yes[extended-cr3]") { return .extendedCR3 }
            return text.hasPrefix("yes") ? .yes : .none
        }
        if contains(text, "bimodal") { return .bimodal }
        return text.equals("yes") ? .extendedCR3 : .none
    }

    private static func contains(_ text: ByteText, _ word: StaticString) -> Bool {
        var index = 0
        while index < text.count {
            if text.dropFirst(index).hasPrefix(word) { return true }
            index += 1
        }
        return false
    }

    /// Where BSD_SYMTAB=yes puts the ELF header, section headers and symbol/string tables
    /// after the image (physical addresses, 8-byte aligned pieces). nil without a symbol table.
    /// Sizes that do not fit 64 bits are refused: a wrapped end would make the image's
    /// load area smaller than its segments (found by the fuzz harness).
    static func bsdSymbolTableRange(_ elf: ELF64Image, after end: UInt64) throws(KernelImageError)
        -> (start: UInt64, end: UInt64)? {
        var symbolTable = false
        for index in 0..<elf.sectionCount {
            let section = elf.sectionHeader(index)
            if section.type == ELF64SectionHeader.symbolTable && Int(section.link) < elf.sectionCount {
                symbolTable = true
                break
            }
        }
        guard symbolTable else { return nil }
        func roundUp(_ value: UInt64) throws(KernelImageError) -> UInt64 {
            guard value <= UInt64.max - 7 else { throw .bsdSymbolTableTooLarge }
            return (value + 7) & ~7
        }
        func add(_ a: UInt64, _ b: UInt64) throws(KernelImageError) -> UInt64 {
            let (sum, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw .bsdSymbolTableTooLarge }
            return sum
        }
        let start = try roundUp(end)
        let headerSize = UInt64(elf.file.uint16(at: 52) ?? UInt16(ELF64Image.headerSize))
        var size = try roundUp(4 + headerSize + UInt64(elf.sectionCount * ELF64Image.sectionHeaderSize))
        for index in 0..<elf.sectionCount {
            let section = elf.sectionHeader(index)
            if section.type == ELF64SectionHeader.symbolTable || section.type == ELF64SectionHeader.stringTable {
                size = try roundUp(add(size, section.size))
            }
        }
        return (start, try add(start, size))
    }
}
