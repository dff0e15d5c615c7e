// A host-side ELF64 writer for the dom0 builder tests: program headers, note segments,
// note sections, a `__xen_guest` section and a symbol table, laid out like a linker would.
import XCTest
@testable import ApusCore

struct TestNote {
    var name: [UInt8] = Array("Xen".utf8) + [0]
    var type: UInt32
    var descriptor: [UInt8]

    static func number(_ type: UInt32, _ value: UInt64, size: Int = 8) -> TestNote {
        TestNote(type: type, descriptor: (0..<size).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) })
    }

    static func string(_ type: UInt32, _ text: String, nul: Bool = true) -> TestNote {
        TestNote(type: type, descriptor: Array(text.utf8) + (nul ? [0] : []))
    }

    var encoded: [UInt8] {
        var bytes = le32(UInt32(name.count)) + le32(UInt32(descriptor.count)) + le32(type)
        bytes += name + [UInt8](repeating: 0, count: (4 - name.count % 4) % 4)
        bytes += descriptor + [UInt8](repeating: 0, count: (4 - descriptor.count % 4) % 4)
        return bytes
    }
}

struct TestSegment {
    var type: UInt32 = 1
    var flags: UInt32 = 5
    var virtualAddress: UInt64
    var physicalAddress: UInt64
    var data: [UInt8]
    var memorySize: UInt64? = nil
    /// Replaces the computed file offset (for out-of-file tests).
    var offsetOverride: UInt64? = nil
    var fileSizeOverride: UInt64? = nil
}

struct TestELF {
    var elfClass: UInt8 = 2
    var encoding: UInt8 = 1
    var type: UInt16 = 2
    var machine: UInt16 = 62
    var entry: UInt64 = 0
    var segments: [TestSegment] = []
    var noteSegments: [[TestNote]] = []
    var noteSections: [[TestNote]] = []
    var guestInfo: String? = nil
    var symbolTable = false

    func build() -> [UInt8] {
        let phnum = segments.count + noteSegments.count
        var file = [UInt8](repeating: 0, count: 64 + 56 * phnum)
        func append(_ bytes: [UInt8]) -> UInt64 {
            while file.count % 16 != 0 { file.append(0) }
            let offset = UInt64(file.count)
            file += bytes
            return offset
        }
        var programHeaders: [[UInt8]] = []
        for segment in segments {
            let offset = segment.offsetOverride ?? append(segment.data)
            programHeaders.append(le32(segment.type) + le32(segment.flags) + le64(offset) + le64(segment.virtualAddress)
                + le64(segment.physicalAddress) + le64(segment.fileSizeOverride ?? UInt64(segment.data.count))
                + le64(segment.memorySize ?? UInt64(segment.data.count)) + le64(0x1000))
        }
        for notes in noteSegments {
            let bytes = notes.flatMap(\.encoded)
            let offset = append(bytes)
            programHeaders.append(le32(4) + le32(4) + le64(offset) + le64(0) + le64(0) + le64(UInt64(bytes.count))
                + le64(UInt64(bytes.count)) + le64(4))
        }

        // Sections: [0] null, notes..., __xen_guest, .symtab, .strtab, .shstrtab.
        var names: [UInt8] = [0]
        func name(_ text: String) -> UInt32 {
            let offset = UInt32(names.count)
            names += Array(text.utf8) + [0]
            return offset
        }
        var sectionHeaders: [[UInt8]] = [[UInt8](repeating: 0, count: 64)]
        func section(_ nameOffset: UInt32, type: UInt32, offset: UInt64, size: Int, link: UInt32 = 0) {
            sectionHeaders.append(le32(nameOffset) + le32(type) + le64(0) + le64(0) + le64(offset) + le64(UInt64(size))
                + le32(link) + le32(0) + le64(1) + le64(0))
        }
        for notes in noteSections {
            let bytes = notes.flatMap(\.encoded)
            section(name(".note.Xen"), type: 7, offset: append(bytes), size: bytes.count)
        }
        if let guestInfo {
            let bytes = Array(guestInfo.utf8) + [0]
            section(name("__xen_guest"), type: 1, offset: append(bytes), size: bytes.count)
        }
        if symbolTable {
            let strings = Array("\0start\0".utf8)
            let symbols = [UInt8](repeating: 0, count: 48)
            let symtabIndex = UInt32(sectionHeaders.count)
            section(name(".symtab"), type: 2, offset: append(symbols), size: symbols.count, link: symtabIndex + 1)
            section(name(".strtab"), type: 3, offset: append(strings), size: strings.count)
        }
        let shstrtabName = name(".shstrtab")
        let shstrndx = UInt16(sectionHeaders.count)
        section(shstrtabName, type: 3, offset: append(names), size: names.count)
        let shoff = append(sectionHeaders.flatMap { $0 })

        var header: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, elfClass, encoding, 1, 0] + [UInt8](repeating: 0, count: 8)
        header += le16(type) + le16(machine) + le32(1) + le64(entry) + le64(phnum > 0 ? 64 : 0) + le64(shoff) + le32(0)
        header += le16(64) + le16(56) + le16(UInt16(phnum)) + le16(64) + le16(UInt16(sectionHeaders.count)) + le16(shstrndx)
        file.replaceSubrange(0..<64, with: header)
        for (index, programHeader) in programHeaders.enumerated() {
            file.replaceSubrange((64 + 56 * index)..<(64 + 56 * (index + 1)), with: programHeader)
        }
        return file
    }

    /// The notes Linux 6.1's xen-head.S emits for a PV kernel.
    static func linuxNotes(entry: UInt64, hypercallPage: UInt64) -> [TestNote] {
        [
            .string(XenElfNote.guestOS, "linux"),
            .string(XenElfNote.guestVersion, "2.6"),
            .string(XenElfNote.xenVersion, "xen-3.0"),
            .number(XenElfNote.virtBase, 0xFFFF_FFFF_8000_0000),
            .number(XenElfNote.initP2M, 0x80_0000_0000),
            .number(XenElfNote.entry, entry),
            .number(XenElfNote.hypercallPage, hypercallPage),
            .string(XenElfNote.features, "!writable_page_tables", nul: false),
            .string(XenElfNote.paeMode, "yes"),
            TestNote(type: XenElfNote.l1MFNValid, descriptor: le64(1) + le64(1)),
            .number(XenElfNote.modStartPFN, 1, size: 4),
            .number(XenElfNote.paddrOffset, 0),
            .number(XenElfNote.supportedFeatures, 1 << 0 | 1 << 11 | 1 << 15, size: 4),
            .string(XenElfNote.loader, "generic"),
            .number(XenElfNote.suspendCancel, 1, size: 4),
            .number(XenElfNote.hvStartLow, 0xFFFF_8000_0000_0000),
        ]
    }

    /// A kernel laid out like the Debian 6.1 kernel of the reference Xen boot log:
    /// paddr 0x1000000 -> 0x4a00000, entry 0xffffffff830791c0.
    static func linuxLike(notes: [TestNote]? = nil) -> TestELF {
        let base: UInt64 = 0xFFFF_FFFF_8000_0000
        var elf = TestELF(entry: 0xFFFF_FFFF_8100_0000)
        elf.segments = [
            TestSegment(flags: 5, virtualAddress: base + 0x100_0000, physicalAddress: 0x100_0000,
                        data: Array(repeating: 0xCC, count: 0x3000), memorySize: 0x160_0000),
            TestSegment(flags: 4, virtualAddress: base + 0x280_0000, physicalAddress: 0x280_0000,
                        data: Array(repeating: 0x52, count: 0x800), memorySize: 0x60_0000),
            TestSegment(flags: 6, virtualAddress: base + 0x300_0000, physicalAddress: 0x300_0000,
                        data: Array(repeating: 0x44, count: 0x100), memorySize: 0x2_0000),
            // Linux's per-CPU segment: linked at virtual 0.
            TestSegment(flags: 6, virtualAddress: 0, physicalAddress: 0x302_0000,
                        data: Array(repeating: 0x50, count: 0x40), memorySize: 0x3_0000),
            TestSegment(flags: 7, virtualAddress: base + 0x305_0000, physicalAddress: 0x305_0000,
                        data: Array(repeating: 0x49, count: 0x200), memorySize: 0x19B_0000),
        ]
        elf.noteSegments = [notes ?? linuxNotes(entry: 0xFFFF_FFFF_8307_91C0, hypercallPage: 0xFFFF_FFFF_8100_1000)]
        elf.symbolTable = true
        return elf
    }
}

extension TestELF {
    /// A small kernel (a few pages of memory) for tests that load it many times.
    static func small() -> TestELF {
        var elf = TestELF(entry: 0xFFFF_FFFF_8000_2000)
        elf.segments = [
            TestSegment(flags: 5, virtualAddress: 0xFFFF_FFFF_8000_2000, physicalAddress: 0x2000,
                        data: Array(repeating: 0x90, count: 0x300), memorySize: 0x2000),
            TestSegment(flags: 6, virtualAddress: 0xFFFF_FFFF_8000_4000, physicalAddress: 0x4000,
                        data: Array(repeating: 0x11, count: 0x80), memorySize: 0x3000),
        ]
        elf.noteSegments = [linuxNotes(entry: 0xFFFF_FFFF_8000_2000, hypercallPage: 0xFFFF_FFFF_8000_3000)]
        return elf
    }
}

func le16(_ value: UInt16) -> [UInt8] { [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)] }
func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(8 * $0)) } }
func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) } }

enum KernelParse {
    static func run(_ bytes: [UInt8], features: XenFeatureSet = .acceptedByXen417PVDom0, asDom0: Bool = true,
                    _ body: (XenKernelImage) throws -> Void = { _ in }) -> KernelImageError? {
        bytes.withUnsafeBytes { raw in
            do {
                let image = try XenKernelImage.parse(ByteWindow(raw), hypervisorFeatures: features, asDom0: asDom0)
                try body(image)
                return nil
            } catch let error as KernelImageError {
                return error
            } catch {
                XCTFail("unexpected \(error)")
                return nil
            }
        }
    }

    static func sentence(_ error: KernelImageError) -> String {
        var sink = ByteBufferSink()
        error.write(to: &sink)
        return sink.text
    }
}
