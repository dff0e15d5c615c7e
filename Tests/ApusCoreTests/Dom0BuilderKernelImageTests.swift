import Foundation
import XCTest
@testable import ApusCore

final class Dom0BuilderKernelImageTests: XCTestCase {
    func testLinuxLikeKernel() {
        let bytes = TestELF.linuxLike().build()
        let error = KernelParse.run(bytes) { image in
            XCTAssertEqual(image.noteSource, .noteSegments)
            XCTAssertEqual(image.entry, 0xFFFF_FFFF_8307_91C0)
            XCTAssertEqual(image.hypercallPage, 0xFFFF_FFFF_8100_1000)
            XCTAssertEqual(image.virtBase, 0xFFFF_FFFF_8000_0000)
            XCTAssertEqual(image.paddrOffset, 0)
            XCTAssertEqual(image.virtualStart, 0xFFFF_FFFF_8100_0000)
            XCTAssertEqual(image.virtualEnd, 0xFFFF_FFFF_84A0_0000)
            XCTAssertEqual(image.physicalStart, 0x100_0000)
            XCTAssertEqual(image.physicalEnd, 0x4A0_0000)
            XCTAssertEqual(image.loadSegmentCount, 5)
            XCTAssertEqual(image.p2mBase, 0x80_0000_0000)
            XCTAssertEqual(image.hvStartLow, 0xFFFF_8000_0000_0000)
            XCTAssertTrue(image.unmappedInitrd)
            XCTAssertTrue(image.suspendCancel)
            XCTAssertEqual(image.paeMode, .extendedCR3)
            XCTAssertEqual(image.requiredFeatures, XenFeatureSet(rawValue: 1))
            XCTAssertEqual(image.supportedFeatures, XenFeatureSet(rawValue: 1 | 1 << 11 | 1 << 15))
            XCTAssertTrue(image.hasSupportedFeaturesNote)
            XCTAssertEqual(image.guestOS.description, "linux")
            XCTAssertEqual(image.guestVersion.description, "2.6")
            XCTAssertEqual(image.xenVersion.description, "xen-3.0")
            XCTAssertEqual(image.loader.description, "generic")
            XCTAssertEqual(image.notes.features?.description, "!writable_page_tables")
            XCTAssertEqual(image.notes.xenNoteCount, 16)
            XCTAssertEqual(image.notes.l1MFNValid?.count, 16)
            XCTAssertNil(image.bsdSymbolTable)

            var sink = ByteBufferSink()
            image.printKernelLines(into: &sink)
            XCTAssertEqual(sink.text, " Xen  kernel: 64-bit, lsb\n Dom0 kernel: 64-bit, PAE, lsb, paddr 0x1000000 -> 0x4a00000\n")
            sink = ByteBufferSink()
            image.printNotes(into: &sink)
            XCTAssertTrue(sink.text.hasPrefix("ELF: note: ENTRY = 0xffffffff830791c0\nELF: note: HYPERCALL_PAGE = 0xffffffff81001000\n"), sink.text)
            XCTAssertTrue(sink.text.contains("ELF: note: FEATURES = \"!writable_page_tables\"\n"))
            XCTAssertTrue(sink.text.contains("ELF: note: PADDR_OFFSET = 0\n"))
            XCTAssertTrue(sink.text.contains("ELF: note: L1_MFN_VALID = 0\n"))
            XCTAssertTrue(sink.text.hasSuffix("ELF: note: SUPPORTED_FEATURES = 0x8801\n"))
            sink = ByteBufferSink()
            image.printAddresses(into: &sink)
            XCTAssertEqual(sink.text, """
                ELF: addresses:
                    virt_base        = 0xffffffff80000000
                    elf_paddr_offset = 0x0
                    virt_offset      = 0xffffffff80000000
                    virt_kstart      = 0xffffffff81000000
                    virt_kend        = 0xffffffff84a00000
                    virt_entry       = 0xffffffff830791c0
                    p2m_base         = 0x8000000000

                """)
        }
        XCTAssertNil(error)
    }

    func testLoadCopiesSegmentsAndZeroesTheRest() throws {
        let bytes = TestELF.linuxLike().build()
        _ = KernelParse.run(bytes) { image in
            XCTAssertEqual(image.loadSize, 0x3A0_0000)
            var memory = [UInt8](repeating: 0xEE, count: Int(image.loadSize) + 16)
            try memory.withUnsafeMutableBytes { try image.load(into: $0) }
            XCTAssertEqual(memory[0], 0xCC)
            XCTAssertEqual(memory[0x2FFF], 0xCC)
            XCTAssertEqual(memory[0x3000], 0)                // text bss
            XCTAssertEqual(memory[0x180_0000], 0x52)
            XCTAssertEqual(memory[0x180_0800], 0)
            XCTAssertEqual(memory[0x202_0000], 0x50)          // per-CPU, by paddr
            XCTAssertEqual(memory[0x205_01FF], 0x49)
            XCTAssertEqual(memory[0x205_0200], 0)
            XCTAssertEqual(memory[0x39F_FFFF], 0)
            XCTAssertEqual(memory[0x3A0_0000], 0xEE)           // past loadSize: untouched
            var small = [UInt8](repeating: 0, count: 100)
            XCTAssertThrowsError(try small.withUnsafeMutableBytes { try image.load(into: $0) }) { error in
                XCTAssertEqual(error as? KernelImageError, .loadAreaTooSmall(needed: 0x3A0_0000, given: 100))
            }
        }
    }

    func testNoteSectionsAndLegacyGuestInfo() {
        // Notes in an SHT_NOTE section only (no PT_NOTE).
        var elf = TestELF.linuxLike()
        elf.noteSections = [elf.noteSegments[0]]
        elf.noteSegments = []
        XCTAssertNil(KernelParse.run(elf.build()) { image in
            XCTAssertEqual(image.noteSource, .noteSections)
            XCTAssertEqual(image.entry, 0xFFFF_FFFF_8307_91C0)
        })

        // A PT_NOTE with only non-Xen notes falls back to the sections too.
        elf.noteSegments = [[TestNote(name: Array("GNU\0".utf8), type: 3, descriptor: [1, 2, 3, 4])]]
        XCTAssertNil(KernelParse.run(elf.build()) { image in
            XCTAssertEqual(image.noteSource, .noteSections)
            XCTAssertEqual(image.notes.totalNoteCount, 17)
        })

        // The legacy string: paddr = vaddr, so PADDR_OFFSET defaults to VIRT_BASE.
        var legacy = TestELF(entry: 0xC010_0000)
        legacy.segments = [TestSegment(virtualAddress: 0xC010_0000, physicalAddress: 0xC010_0000,
                                       data: Array(repeating: 1, count: 64), memorySize: 0x20_0000)]
        legacy.guestInfo = "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,HYPERCALL_PAGE=0x104,PAE=yes[extended-cr3],LOADER=generic,FEATURES=writable_page_tables|!pae_pgdir_above_4gb"
        XCTAssertNil(KernelParse.run(legacy.build()) { image in
            XCTAssertEqual(image.noteSource, .legacyGuestInfo)
            XCTAssertEqual(image.virtBase, 0xC000_0000)
            XCTAssertEqual(image.paddrOffset, 0xC000_0000)
            XCTAssertEqual(image.virtualStart, 0xC010_0000)
            XCTAssertEqual(image.virtualEnd, 0xC030_0000)
            XCTAssertEqual(image.hypercallPage, 0xC010_4000)
            XCTAssertEqual(image.entry, 0xC010_0000)
            XCTAssertEqual(image.paeMode, .extendedCR3)
            XCTAssertEqual(image.requiredFeatures, XenFeatureSet(rawValue: 1 << 4))
            XCTAssertEqual(image.supportedFeatures, XenFeatureSet(rawValue: 1 << 4 | 1))
            var sink = ByteBufferSink()
            image.printNotes(into: &sink)
            XCTAssertTrue(sink.text.hasPrefix("ELF: notes from the __xen_guest section\nELF: note: HYPERCALL_PAGE = 0xc0104000\nELF: note: VIRT_BASE = 0xc0000000\n"), sink.text)
        })
        legacy.guestInfo = "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=zero"
        XCTAssertEqual(KernelParse.run(legacy.build()), .badGuestInfoNumber(key: ErrorText("VIRT_BASE")))
    }

    func testBSDSymbolTableExtendsTheImage() {
        var elf = TestELF.linuxLike()
        elf.noteSegments[0].append(.string(XenElfNote.bsdSymtab, "yes"))
        XCTAssertNil(KernelParse.run(elf.build()) { image in
            // 4 + 64 + 4 sections * 64 = 324 -> 328; + 48 (.symtab) = 376; + 7 (.strtab) -> 384;
            // + 27 (.shstrtab, a string table too) -> 416.
            let symbols = try XCTUnwrap(image.bsdSymbolTable)
            XCTAssertEqual(symbols.start, 0x4A0_0000)
            XCTAssertEqual(symbols.end, 0x4A0_0000 + 416)
            XCTAssertEqual(image.virtualEnd, 0xFFFF_FFFF_84A0_0000 + 416)
            var sink = ByteBufferSink()
            image.printKernelLines(into: &sink)
            XCTAssertTrue(sink.text.hasSuffix(" Dom0 symbol map 0x4a00000 -> 0x4a001a0\n"), sink.text)
        })
    }

    // MARK: Refusals

    func testHeaderRefusals() {
        let good = TestELF.linuxLike()
        var elf = good; elf.elfClass = 1
        XCTAssertEqual(KernelParse.run(elf.build()), .notELF64(elfClass: 1))
        elf = good; elf.encoding = 2
        XCTAssertEqual(KernelParse.run(elf.build()), .notLittleEndian(encoding: 2))
        elf = good; elf.type = 1
        XCTAssertEqual(KernelParse.run(elf.build()), .notExecutable(type: 1))
        elf = good; elf.machine = 3
        XCTAssertEqual(KernelParse.run(elf.build()), .notX86_64(machine: 3))
        XCTAssertEqual(KernelParse.run(Array(good.build().prefix(40))), .truncatedELFHeader(size: 40))
        XCTAssertEqual(KernelParse.run([0x1F, 0x8B, 8, 0, 0, 0]), .unsupportedFormat(.gzip))
        XCTAssertEqual(KernelParse.run([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), .unsupportedFormat(.xz))
        XCTAssertEqual(KernelParse.run(Array("hello".utf8)), .unsupportedFormat(.unknown))

        var bytes = good.build()
        bytes[6] = 0
        XCTAssertEqual(KernelParse.run(bytes), .badELFVersion(0))
        bytes = good.build()
        bytes[54] = 32
        XCTAssertEqual(KernelParse.run(bytes), .badProgramHeaderSize(32))
        bytes = good.build()
        bytes[32] = 0xF0  // phoff near the end
        bytes[33] = 0xFF
        XCTAssertEqual(KernelParse.run(bytes), .programHeadersOutsideFile(offset: 0xFFF0, count: 6))
        bytes = good.build()
        bytes[56] = 200
        XCTAssertEqual(KernelParse.run(bytes), .tooManyProgramHeaders(count: 200, limit: 128))
        bytes = good.build()
        bytes[58] = 40
        XCTAssertEqual(KernelParse.run(bytes), .badSectionHeaderSize(40))
        bytes = good.build()
        for index in 40..<48 { bytes[index] = 0xFF }
        XCTAssertEqual(KernelParse.run(bytes), .sectionHeadersOutsideFile(offset: UInt64.max, count: 4))
    }

    func testSegmentRefusals() {
        let good = TestELF.linuxLike()
        var elf = good
        elf.segments[1].memorySize = 0x100
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentFileSizeExceedsMemorySize(index: 1, fileSize: 0x800, memorySize: 0x100))
        elf = good
        elf.segments[2].offsetOverride = 0x10_0000
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentOutsideFile(index: 2, offset: 0x10_0000, fileSize: 0x100))
        elf = good
        elf.segments[2].offsetOverride = UInt64.max - 10
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentOutsideFile(index: 2, offset: UInt64.max - 10, fileSize: 0x100))
        elf = good
        elf.segments[3].physicalAddress = UInt64.max - 0x1000
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentWrapsAround(index: 3, address: UInt64.max - 0x1000, memorySize: 0x3_0000))
        elf = good
        elf.segments[3].virtualAddress = UInt64.max - 0x1000
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentWrapsAround(index: 3, address: UInt64.max - 0x1000, memorySize: 0x3_0000))
        elf = good
        elf.segments[4].physicalAddress = 0x301_0000
        XCTAssertEqual(KernelParse.run(elf.build()), .segmentsOverlap(first: 2, second: 4))
        elf = good
        elf.segments = []
        XCTAssertEqual(KernelParse.run(elf.build()), .noLoadableSegments)
        elf = good
        for index in elf.segments.indices { elf.segments[index].flags = 0 }  // not loadable, like Xen
        XCTAssertEqual(KernelParse.run(elf.build()), .noLoadableSegments)
        elf = good
        elf.segments = (0..<40).map {
            TestSegment(virtualAddress: 0xFFFF_FFFF_8100_0000 + UInt64($0) * 0x1000, physicalAddress: 0x100_0000 + UInt64($0) * 0x1000, data: [1])
        }
        XCTAssertEqual(KernelParse.run(elf.build()), .tooManyLoadSegments(count: 40, limit: 32))
        // Zero-size segments do not overlap anything; a flagless PT_LOAD is ignored entirely.
        elf = good
        elf.segments.append(TestSegment(virtualAddress: 0xFFFF_FFFF_8100_0000, physicalAddress: 0x100_0000, data: []))
        elf.segments.append(TestSegment(flags: 0, virtualAddress: 0, physicalAddress: 0x100_0000, data: [1, 2]))
        XCTAssertNil(KernelParse.run(elf.build()))
    }

    func testNoteRefusals() {
        let notes = TestELF.linuxNotes(entry: 0xFFFF_FFFF_8307_91C0, hypercallPage: 0xFFFF_FFFF_8100_1000)
        func kernel(_ edit: (inout [TestNote]) -> Void) -> [UInt8] {
            var edited = notes
            edit(&edited)
            return TestELF.linuxLike(notes: edited).build()
        }
        XCTAssertEqual(KernelParse.run(kernel { $0 = [] }), .noXenNotes)
        XCTAssertEqual(KernelParse.run(kernel { $0 = $0.map { var note = $0; note.name = Array("Xen2\0".utf8); return note } }), .noXenNotes)
        XCTAssertEqual(KernelParse.run(kernel { $0.removeAll { $0.type == XenElfNote.loader || $0.type == XenElfNote.guestOS }
                                                 $0.append(.string(XenElfNote.guestOS, "Plan9")) }),
                       .notForGenericLoaderOrLinux(loader: ErrorText(), guestOS: ErrorText("Plan9")))
        XCTAssertEqual(KernelParse.run(kernel { $0.append(.string(XenElfNote.xenVersion, "xen-2.0")) }),
                       .notForXen3(xenVersion: ErrorText("xen-2.0")))
        XCTAssertEqual(KernelParse.run(kernel { $0.append(TestNote(type: XenElfNote.entry, descriptor: [1, 2, 3])) }),
                       .badNoteSize(type: XenElfNote.entry, size: 3))
        XCTAssertEqual(KernelParse.run(kernel { $0.append(TestNote(type: XenElfNote.supportedFeatures, descriptor: [1, 2])) }),
                       .badNoteSize(type: XenElfNote.supportedFeatures, size: 2))
        XCTAssertEqual(KernelParse.run(kernel { $0.removeAll { $0.type == XenElfNote.virtBase } }), .paddrOffsetWithoutVirtBase)
        XCTAssertEqual(KernelParse.run(kernel { $0.append(.number(XenElfNote.entry, 0xFFFF_FFFF_84A0_0001)) }),
                       .entryOutsideKernel(entry: 0xFFFF_FFFF_84A0_0001, start: 0xFFFF_FFFF_8100_0000, end: 0xFFFF_FFFF_84A0_0000))
        XCTAssertNil(KernelParse.run(kernel { $0.append(.number(XenElfNote.entry, 0xFFFF_FFFF_84A0_0000)) }))
        XCTAssertEqual(KernelParse.run(kernel { $0.append(.number(XenElfNote.paddrOffset, 0x200_0000))
                                                 $0.append(.number(XenElfNote.entry, 0xFFFF_FFFF_7F00_0000)) }),
                       .virtBaseAboveKernel(virtBase: 0xFFFF_FFFF_8000_0000, start: 0xFFFF_FFFF_7F00_0000))
        XCTAssertEqual(KernelParse.run(kernel { $0.append(.number(XenElfNote.initP2M, 0xFFFF_FFFF_8200_0000)) }),
                       .p2mBaseInsideKernel(p2mBase: 0xFFFF_FFFF_8200_0000, start: 0xFFFF_FFFF_8100_0000, end: 0xFFFF_FFFF_84A0_0000))
        // PADDR_OFFSET so large that the end wraps while the start does not.
        XCTAssertEqual(KernelParse.run(kernel { $0.append(.number(XenElfNote.virtBase, 0))
                                                 $0.append(.number(XenElfNote.paddrOffset, 0x300_0000))
                                                 $0.append(.number(XenElfNote.entry, 0)) }),
                       .kernelStartAfterEnd(start: 0xFFFF_FFFF_FE00_0000, end: 0x1A0_0000))
    }

    func testFeatureRefusals() {
        let notes = TestELF.linuxNotes(entry: 0xFFFF_FFFF_8307_91C0, hypercallPage: 0xFFFF_FFFF_8100_1000)
        func kernel(features: String, supported: UInt64? = nil) -> [UInt8] {
            var edited = notes.filter { $0.type != XenElfNote.features && (supported == nil || $0.type != XenElfNote.supportedFeatures) }
            edited.append(.string(XenElfNote.features, features))
            if let supported { edited.append(.number(XenElfNote.supportedFeatures, supported, size: 4)) }
            return TestELF.linuxLike(notes: edited).build()
        }
        XCTAssertEqual(KernelParse.run(kernel(features: "!writable_page_tables|!no_such_thing")),
                       .unknownRequiredFeature(ErrorText("no_such_thing")))
        XCTAssertNil(KernelParse.run(kernel(features: "writable_page_tables|no_such_thing||")))
        XCTAssertEqual(KernelParse.run(kernel(features: "!supervisor_mode_kernel")),
                       .unsupportedRequiredFeatures(XenFeatureSet(rawValue: 1 << 3)))
        let onlyPageTables = XenFeatureSet(rawValue: 1)
        XCTAssertEqual(KernelParse.run(kernel(features: "!writable_page_tables|!dom0|!auto_translated_physmap"), features: onlyPageTables),
                       .unsupportedRequiredFeatures(XenFeatureSet(rawValue: 1 << 2 | 1 << 11)))
        XCTAssertEqual(KernelParse.run(kernel(features: "!writable_page_tables", supported: 1)), .notDom0Capable)
        XCTAssertNil(KernelParse.run(kernel(features: "!writable_page_tables", supported: 1), asDom0: false))
        XCTAssertNil(KernelParse.run(kernel(features: "!writable_page_tables|dom0", supported: 1)))
        // No SUPPORTED_FEATURES note at all: Xen assumes dom0 is fine.
        XCTAssertNil(KernelParse.run(TestELF.linuxLike(notes: notes.filter { $0.type != XenElfNote.supportedFeatures }).build()))
    }

    func testFeatureStrings() {
        withByteText("!writable_page_tables|pae_pgdir_above_4gb|!dom0|hvm_callback_vector|bogus") { text in
            let (request, unknown) = XenFeatureRequest.parse(text)
            XCTAssertNil(unknown)
            XCTAssertEqual(request.required, XenFeatureSet(rawValue: 1 | 1 << 11))
            XCTAssertEqual(request.supported, XenFeatureSet(rawValue: 1 | 1 << 4 | 1 << 8 | 1 << 11))
        }
        withByteText("!Dom0") { text in
            XCTAssertEqual(XenFeatureRequest.parse(text).unknownRequired?.description, "Dom0")
        }
        withByteText("") { text in XCTAssertEqual(XenFeatureRequest.parse(text).request, XenFeatureRequest()) }
        for bit in UInt32(0)..<XenFeatureSet.knownCount {
            var sink = ByteBufferSink()
            sink.write(XenFeatureSet.name(of: bit))
            withByteText(sink.text) { XCTAssertEqual(XenFeatureSet.bit(named: $0), bit) }
        }
        var sink = ByteBufferSink()
        XenFeatureSet(rawValue: 1 | 1 << 11 | 1 << 20).write(to: &sink)
        XCTAssertEqual(sink.text, "writable_page_tables|dom0|bit20")
        XCTAssertFalse(XenFeatureSet.acceptedByXen417PVDom0.contains(XenFeatureSet.supervisorModeKernel))
        XCTAssertTrue(XenFeatureSet.acceptedByXen417PVDom0.contains(XenFeatureSet.directMapped))
    }

    func testErrorSentences() {
        XCTAssertEqual(KernelParse.sentence(.noXenNotes), "Not a Xen-ELF image: No ELF notes or '__xen_guest' section found")
        XCTAssertEqual(KernelParse.sentence(.unsupportedFormat(.xz)),
                       "the dom0 kernel is xz-compressed: Apus unpacks gzip only (use the uncompressed vmlinux or gzip it)")
        XCTAssertEqual(KernelParse.sentence(.notELF64(elfClass: 1)),
                       "Mismatch between Xen and DOM0 kernel: a 32-bit ELF image, Apus runs 64-bit PV kernels only")
        XCTAssertEqual(KernelParse.sentence(.notForGenericLoaderOrLinux(loader: ErrorText(), guestOS: ErrorText("Plan9"))),
                       "Will only load images built for the generic loader or Linux images (Not '' and 'Plan9')")
        XCTAssertEqual(KernelParse.sentence(.unsupportedRequiredFeatures(XenFeatureSet(rawValue: 1 << 3))),
                       "the kernel requires features Apus does not provide: supervisor_mode_kernel")
        XCTAssertEqual(KernelParse.sentence(.segmentsOverlap(first: 2, second: 4)),
                       "loadable segments 2 and 4 overlap in physical (load) addresses")
        XCTAssertEqual(KernelParse.sentence(.entryOutsideKernel(entry: 0x10, start: 0x1000, end: 0x2000)),
                       "ELF start or entries are out of bounds: entry 0x10 is outside the image 0x1000->0x2000")
        XCTAssertEqual(KernelParse.sentence(.decompressionFailed(.truncatedInput)),
                       "the dom0 kernel's gzip data is damaged: compressed data ends in the middle of a block (truncated file?)")
        let long = String(repeating: "x", count: 60)
        withByteText(long) { text in
            XCTAssertEqual(KernelParse.sentence(.unknownRequiredFeature(ErrorText(text))),
                           "the kernel requires feature '\(String(repeating: "x", count: 48))...', which Xen's feature list does not have")
        }
        // Every case writes something.
        let all: [KernelImageError] = [
            .unsupportedFormat(.unknown), .truncatedELFHeader(size: 3), .notELF64(elfClass: 7), .notLittleEndian(encoding: 2),
            .badELFVersion(2), .notExecutable(type: 4), .notX86_64(machine: 183), .badProgramHeaderSize(1),
            .programHeadersOutsideFile(offset: 1, count: 2), .tooManyProgramHeaders(count: 1, limit: 2), .badSectionHeaderSize(1),
            .sectionHeadersOutsideFile(offset: 1, count: 1), .tooManySections(count: 1, limit: 1), .noLoadableSegments,
            .tooManyLoadSegments(count: 1, limit: 1), .segmentOutsideFile(index: 1, offset: 1, fileSize: 1),
            .segmentFileSizeExceedsMemorySize(index: 1, fileSize: 2, memorySize: 1),
            .segmentWrapsAround(index: 1, address: 1, memorySize: 1), .noteAreaOutsideFile(offset: 1, size: 1),
            .malformedNote(offset: 1), .tooManyNotes(limit: 1), .badNoteSize(type: 99, size: 3),
            .badGuestInfoNumber(key: ErrorText("K")), .notForXen3(xenVersion: ErrorText()), .paddrOffsetWithoutVirtBase,
            .kernelStartAfterEnd(start: 2, end: 1), .bsdSymbolTableTooLarge, .virtBaseAboveKernel(virtBase: 2, start: 1),
            .p2mBaseInsideKernel(p2mBase: 1, start: 0, end: 2), .notDom0Capable, .loadAreaTooSmall(needed: 2, given: 1),
        ]
        for error in all { XCTAssertFalse(KernelParse.sentence(error).isEmpty, "\(error)") }
    }

    func testMalformedNotes() {
        var elf = TestELF.linuxLike()
        // A note whose descriptor size runs past the segment.
        elf.noteSegments[0].append(TestNote(type: 99, descriptor: []))
        var bytes = elf.build()
        // Find the last note (type 99) header and give it a huge descsz.
        let marker = le32(4) + le32(0) + le32(99)
        let position = try! XCTUnwrap((0...(bytes.count - marker.count)).last { Array(bytes[$0..<($0 + marker.count)]) == marker })
        bytes.replaceSubrange((position + 4)..<(position + 8), with: le32(0xFFFF_FFF0))
        XCTAssertEqual(KernelParse.run(bytes), .malformedNote(offset: position))

        // A PT_NOTE pointing outside the file.
        elf = TestELF.linuxLike()
        bytes = elf.build()
        let noteHeader = 64 + 56 * 5
        bytes.replaceSubrange((noteHeader + 8)..<(noteHeader + 16), with: le64(0x7000_0000))
        XCTAssertEqual(KernelParse.run(bytes), .noteAreaOutsideFile(offset: 0x7000_0000, size: UInt64(elf.noteSegments[0].flatMap(\.encoded).count)))
        // At file offset 0 it is skipped (old binutils), leaving no notes.
        bytes.replaceSubrange((noteHeader + 8)..<(noteHeader + 16), with: le64(0))
        XCTAssertEqual(KernelParse.run(bytes), .noXenNotes)
    }

    /// Random damage to a valid kernel: parsing must return or throw, never trap, and a
    /// successful parse must describe a loadable image.
    func testMutatedKernelsNeverTrap() {
        var random = Dom0BuilderRandom(seed: 0xE1F)
        let pristine = TestELF.small().build()
        var accepted = 0
        for round in 0..<4000 {
            var bytes = pristine
            let flips = 1 + random.below(6)
            for _ in 0..<flips {
                // Mostly headers and notes, where the interesting fields are.
                let limit = round % 3 == 0 ? bytes.count : min(bytes.count, 64 + 56 * 3 + 600)
                let index = random.below(limit)
                switch random.below(3) {
                case 0: bytes[index] ^= UInt8(1) << UInt8(random.below(8))
                case 1: bytes[index] = UInt8(truncatingIfNeeded: random.next())
                default: bytes[index] = [0, 0xFF, 0x7F, 0x80][random.below(4)]
                }
            }
            if round % 10 == 0 { bytes = Array(bytes.prefix(random.below(bytes.count + 1))) }
            let error = KernelParse.run(bytes) { image in
                XCTAssertLessThanOrEqual(image.virtualStart, image.virtualEnd)
                XCTAssertGreaterThanOrEqual(image.entry, image.virtualStart)
                XCTAssertLessThanOrEqual(image.entry, image.virtualEnd)
                if image.loadSize <= 0x10_0000 {
                    var memory = [UInt8](repeating: 0, count: Int(image.loadSize))
                    try memory.withUnsafeMutableBytes { try image.load(into: $0) }
                }
            }
            if error == nil { accepted += 1 }
        }
        print("mutated kernels accepted: \(accepted) of 4000")
        XCTAssertGreaterThan(accepted, 100)
        XCTAssertLessThan(accepted, 3900)
    }

    /// Random layouts of segments: non-overlapping ones are accepted with the right extent.
    func testRandomSegmentLayouts() {
        var random = Dom0BuilderRandom(seed: 0x5E6)
        for _ in 0..<300 {
            var elf = TestELF.linuxLike()
            var segments: [TestSegment] = []
            var cursor: UInt64 = 0x100_0000 + UInt64(random.below(16)) * 0x1000
            let start = cursor
            for _ in 0..<(1 + random.below(10)) {
                let size = UInt64(1 + random.below(0x4000))
                let memory = size + UInt64(random.below(0x10000))
                segments.append(TestSegment(virtualAddress: 0xFFFF_FFFF_8000_0000 + cursor, physicalAddress: cursor,
                                            data: [UInt8](repeating: 7, count: Int(size)), memorySize: memory))
                cursor += memory + UInt64(random.below(3)) * 0x1000
            }
            let end = segments.map { $0.physicalAddress + $0.memorySize! }.max()!
            segments.shuffle(using: &random)
            elf.segments = segments
            elf.entry = 0xFFFF_FFFF_8000_0000 + start
            elf.noteSegments = [TestELF.linuxNotes(entry: 0xFFFF_FFFF_8000_0000 + start, hypercallPage: 0xFFFF_FFFF_8000_0000 + start)]
            XCTAssertNil(KernelParse.run(elf.build()) { image in
                XCTAssertEqual(image.physicalStart, start)
                XCTAssertEqual(image.physicalEnd, end)
                XCTAssertEqual(image.virtualEnd - image.virtualStart, end - start)
            })
            // Move one segment onto another: refused.
            if segments.count >= 2 {
                var overlapping = elf
                overlapping.segments[1].physicalAddress = overlapping.segments[0].physicalAddress + overlapping.segments[0].memorySize! / 2
                XCTAssertEqual(KernelParse.run(overlapping.build()), .segmentsOverlap(first: 0, second: 1))
            }
        }
    }

    // MARK: Real images

    /// Xen's own hypervisor image (a gzip-compressed 32-bit ELF) from the reference cache.
    func testReferenceXenImage() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("reference-cache/xen/boot/xen-4.17-amd64.gz")
        guard let compressed = try? [UInt8](Data(contentsOf: url)) else {
            throw XCTSkip("reference-cache/xen/boot/xen-4.17-amd64.gz is absent (scripts/xen-reference.sh fetches it)")
        }
        XCTAssertEqual(compressed.withUnsafeBytes { KernelImageFormat.detect(ByteWindow($0)) }, .gzip)
        let expected = try XCTUnwrap(HostTool.run("/usr/bin/gzip", ["-dc"], input: compressed))
        let size = Int(try XCTUnwrap(compressed.withUnsafeBytes { GzipHeader.sizeHint(ByteWindow($0)) }))
        XCTAssertEqual(size, expected.count)
        guard case .success(let (output, _)) = InflateRun.gunzip(compressed, capacity: size) else {
            return XCTFail("xen.gz did not decompress")
        }
        XCTAssertTrue(output == expected)
        XCTAssertEqual(KernelParse.run(output), .notELF64(elfClass: 1))
    }

    /// The guest images the guest runtime builds, when they exist.
    func testBuiltGuestImages() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("build/guests")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".elf") }
        if files.isEmpty { throw XCTSkip("no build/guests/*.elf yet") }
        for name in files.sorted() {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(name)))
            let error = KernelParse.run(bytes) { image in
                XCTAssertNotNil(image.hypercallPage, name)
                XCTAssertGreaterThan(image.virtualEnd, image.virtualStart, name)
                var sink = ByteBufferSink()
                image.printKernelLines(into: &sink)
                image.printNotes(into: &sink)
                // And the layout a 256 MiB dom0 with a 4 KiB initrd would get.
                let layout = try Dom0Layout.compute(Dom0LayoutRequest(kernel: image, initrdBytes: 4096, nrPages: 65536))
                layout.printArrangement(into: &sink, allocationStart: 0x1000_0000, initrdStart: 0x2000_0000, entry: image.entry)
                print("\(name):\n\(sink.text)")
            }
            XCTAssertNil(error, "\(name): \(error.map(KernelParse.sentence) ?? "")")
        }
    }
}
