// Target "kernel": the dom0 kernel parsers (Dom0Builder/): the module's format and the ELF
// inside it (KernelModuleContents, KernelImageFormat), gzip unpacking, ELF64Image and its
// load extent, the Xen notes and `__xen_guest`, XenKernelImage with its address rules, the
// loader, and the printers of all of these.
//
// Input: a mode byte, a features word, then the module's bytes (mode 0: the whole path as
// the dom0 builder runs it; 1: ELF only; 2: a notes area; 3: a `__xen_guest` string).
// Invariants: nothing read or written outside the module, the unpack buffer or the load area
// (ASan; each is an exact-size heap block); what was located lies in the module; an accepted
// image satisfies libelf's address rules (start <= entry <= end, virt_base <= start, the P2M
// outside the image), asks for no feature the hypervisor lacks, names a generic loader or
// Linux and xen-3.0, and every text it reports points into the file; loading puts each
// segment's bytes at paddr - pstart and zeroes the rest.

enum KernelImageFuzz {
    static let unpackLimit = 1 << 20
    static let loadLimit: UInt64 = 1 << 20

    static func run(_ input: inout FuzzInput) {
        let mode = input.byte() % 4
        let features = input.bool() ? XenFeatureSet.acceptedByXen417PVDom0 : XenFeatureSet(rawValue: input.u32())
        let asDom0 = input.bool()
        let module = ExactBuffer(copying: input.rest())
        switch mode {
        case 0: wholeModule(module, features: features, asDom0: asDom0)
        case 1: elfOnly(module)
        case 2:
            var notes = XenNoteValues()
            do { try notes.readNotes(module.window, areaOffset: 0) } catch { describe(error); return }
            checkNotes(notes, in: module)
            invariant(notes.xenNoteCount <= notes.totalNoteCount, "more Xen notes than notes")
        default:
            var notes = XenNoteValues()
            let text = module.window.text(at: 0, count: module.count) ?? .empty
            do { try notes.readGuestInfo(text) } catch { describe(error); return }
            checkNotes(notes, in: module)
        }
    }

    static func describe(_ error: KernelImageError) {
        trace("kernel: refused: \(error)")
        var sink = ByteBufferSink()
        error.write(to: &sink)
        invariant(!sink.bytes.isEmpty, "an error without words: \(error)")
    }

    static func wholeModule(_ module: ExactBuffer, features: XenFeatureSet, asDom0: Bool) {
        var name = CountingSink()
        KernelImageFormat.detect(module.window).writeName(to: &name)
        let contents: KernelModuleContents
        do { contents = try KernelModuleContents.locate(module.window) } catch { describe(error); return }
        guard let located = contents.bytes(in: module.window) else {
            violation("located \(contents.count) bytes at \(contents.offset) outside a \(module.count)-byte module")
        }
        invariant(located.count == contents.count, "located window size")
        let elfBytes: ExactBuffer
        switch contents.encoding {
        case .elf:
            elfBytes = ExactBuffer(copying: located.raw)
        case .gzip:
            let size = min(Int(contents.uncompressedSizeHint ?? 0), unpackLimit)
            let output = ExactBuffer(count: size)
            var inflater = Inflater()
            let produced: Int
            do { produced = try contents.unpack(module.window, into: output.mutableRaw, using: &inflater) }
            catch { describe(error); return }
            invariant(produced >= 0 && produced <= output.count, "unpacked \(produced) bytes into \(output.count)")
            elfBytes = ExactBuffer(copying: UnsafeRawBufferPointer(rebasing: output.raw[0..<produced]))
        }
        parseAndLoad(elfBytes, features: features, asDom0: asDom0)
    }

    static func parseAndLoad(_ file: ExactBuffer, features: XenFeatureSet, asDom0: Bool) {
        let image: XenKernelImage
        do { image = try XenKernelImage.parse(file.window, hypervisorFeatures: features, asDom0: asDom0) }
        catch { describe(error); return }
        trace("kernel: accepted, [\(hex(image.virtualStart)), \(hex(image.virtualEnd))) entry \(hex(image.entry)), \(image.loadSegmentCount) segments")

        invariant(image.virtualStart <= image.virtualEnd, "kernel start \(hex(image.virtualStart)) after end")
        invariant(image.entry >= image.virtualStart && image.entry <= image.virtualEnd,
                  "entry \(hex(image.entry)) outside [\(hex(image.virtualStart)), \(hex(image.virtualEnd))]")
        invariant(image.virtBase <= image.virtualStart, "virt_base above the kernel")
        if let p2m = image.p2mBase {
            invariant(p2m < image.virtualStart || p2m >= image.virtualEnd, "P2M base \(hex(p2m)) inside the kernel")
        }
        invariant(image.physicalStart <= image.physicalEnd, "pstart after pend")
        invariant(image.loadSegmentCount >= 1 && image.loadSegmentCount <= ELF64LoadExtent.segmentLimit,
                  "\(image.loadSegmentCount) load segments")
        invariant(image.requiredFeatures.subtracting(features).rawValue == 0,
                  "kernel requires \(hex(image.requiredFeatures.rawValue)), hypervisor offers \(hex(features.rawValue))")
        invariant(image.loader.hasPrefix("generic") || image.guestOS.hasPrefix("linux"), "neither generic loader nor Linux")
        invariant(image.xenVersion.hasPrefix("xen-3.0"), "not for xen-3.0")
        if asDom0 && image.hasSupportedFeaturesNote {
            invariant(image.supportedFeatures.contains(XenFeatureSet.dom0), "a dom0 kernel without XENFEAT_dom0")
        }
        for text in [image.guestOS, image.guestVersion, image.xenVersion, image.loader] {
            invariant(file.holds(text), "a kernel string points outside the file")
        }
        checkNotes(image.notes, in: file)

        var sink = CountingSink()
        image.printKernelLines(into: &sink)
        image.printNotes(into: &sink)
        image.printAddresses(into: &sink)

        guard image.loadSize <= loadLimit else { return }
        let area = ExactBuffer(count: Int(image.loadSize))
        area.pointer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: max(area.count, 1))
        do { try image.load(into: area.mutableRaw) } catch { violation("loading into loadSize bytes failed: \(error)") }
        // Each segment's bytes at paddr - pstart, its bss zeroed, the gaps zeroed.
        var covered = [Bool](repeating: false, count: area.count)
        let loaded = area.raw
        for index in 0..<image.elf.programHeaderCount {
            let segment = image.elf.programHeader(index)
            guard segment.isLoadable else { continue }
            let start = Int(segment.physicalAddress - image.physicalStart)
            invariant(UInt64(start) + segment.memorySize <= image.loadSize, "segment \(index) beyond the load area")
            guard let bytes = image.elf.bytes(offset: segment.offset, size: segment.fileSize) else {
                violation("segment \(index) outside the file after parsing")
            }
            for i in 0..<Int(segment.memorySize) {
                let expected: UInt8 = i < bytes.count ? bytes.raw[i] : 0
                invariant(loaded[start + i] == expected, "segment \(index) byte \(i) loaded as \(loaded[start + i])")
                covered[start + i] = true
            }
        }
        for i in 0..<area.count where !covered[i] {
            invariant(loaded[i] == 0, "load-area byte \(i) between segments left as \(loaded[i])")
        }
    }

    static func checkNotes(_ notes: XenNoteValues, in file: ExactBuffer) {
        for text in [notes.xenVersion, notes.guestOS, notes.guestVersion, notes.loader, notes.paeMode,
                     notes.features] {
            if let text { invariant(file.holds(text), "a note's text points outside the file") }
        }
        // `__xen_guest`'s bare BSD_SYMTAB reads as the literal "yes", not as file bytes.
        if let text = notes.bsdSymtab, !(notes.source == .legacyGuestInfo && text.equals("yes")) {
            invariant(file.holds(text), "BSD_SYMTAB's text points outside the file")
        }
        if let window = notes.l1MFNValid, window.count > 0 {
            let text = window.text(at: 0, count: window.count)!
            invariant(file.holds(text), "L1_MFN_VALID points outside the file")
        }
        if let features = notes.features { _ = XenFeatureRequest.parse(features) }
    }

    static func elfOnly(_ file: ExactBuffer) {
        let elf: ELF64Image
        do { elf = try ELF64Image.parse(file.window) } catch { describe(error); return }
        invariant(elf.programHeaderCount <= ELF64Image.programHeaderLimit && elf.sectionCount <= ELF64Image.sectionLimit,
                  "header counts \(elf.programHeaderCount)/\(elf.sectionCount)")
        for index in 0..<elf.programHeaderCount {
            let segment = elf.programHeader(index)
            if let bytes = elf.bytes(offset: segment.offset, size: segment.fileSize), bytes.count > 0 {
                invariant(file.holds(bytes.text(at: 0, count: bytes.count)!), "segment bytes outside the file")
            }
        }
        for index in 0..<elf.sectionCount {
            let section = elf.sectionHeader(index)
            if let name = elf.sectionName(section) { invariant(file.holds(name), "section name outside the file") }
        }
        _ = elf.section(named: "__xen_guest")
        _ = elf.section(named: ".note.Xen")
        if let extent = try? ELF64LoadExtent.check(elf) {
            invariant(extent.physicalStart <= extent.physicalEnd && extent.segmentCount >= 1, "extent \(extent)")
        }
        do {
            let notes = try XenKernelImage.readXenNotes(elf)
            checkNotes(notes, in: file)
        } catch {
            describe(error)
        }
        _ = try? XenKernelImage.bsdSymbolTableRange(elf, after: UInt64(file.count))
    }
}
