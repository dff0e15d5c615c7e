// ELF64: the container of a 64-bit PV kernel: file header, program headers (the segments Xen
// loads) and section headers (where notes may also live), read in place from the module.
//
// Layouts (System V gABI, little-endian):
//   file header (64): ident[16] (magic 7f 'E' 'L' 'F', class 4, data 5, version 6),
//     type 16 (u16), machine 18 (u16), version 20, entry 24, phoff 32, shoff 40, flags 48,
//     ehsize 52, phentsize 54, phnum 56, shentsize 58, shnum 60, shstrndx 62 (u16 each)
//   program header (56): type 0, flags 4 (u32), offset 8, vaddr 16, paddr 24, filesz 32,
//     memsz 40, align 48 (u64)
//   section header (64): name 0, type 4 (u32), flags 8, addr 16, offset 24, size 32 (u64),
//     link 40, info 44 (u32), addralign 48, entsize 56 (u64)
// Invariants: `parse` checks that the program and section header tables lie inside the file,
// so the accessors index only inside it; segment and section contents are checked when used.
// Like Xen's libelf, a PT_LOAD segment is loaded only if it has one of the R, W, X flags, and
// loading goes by physical address (paddr).
// Imports nothing.

public struct ELF64ProgramHeader: Equatable {
    public var type: UInt32
    public var flags: UInt32
    public var offset: UInt64
    public var virtualAddress: UInt64
    public var physicalAddress: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64
    public var alignment: UInt64

    public static let load: UInt32 = 1
    public static let note: UInt32 = 4

    /// What Xen's loader copies: PT_LOAD with at least one of PF_X, PF_W, PF_R.
    public var isLoadable: Bool { type == ELF64ProgramHeader.load && flags & 7 != 0 }
}

public struct ELF64SectionHeader: Equatable {
    public var name: UInt32
    public var type: UInt32
    public var flags: UInt64
    public var address: UInt64
    public var offset: UInt64
    public var size: UInt64
    public var link: UInt32

    public static let symbolTable: UInt32 = 2
    public static let stringTable: UInt32 = 3
    public static let note: UInt32 = 7
    public static let noBits: UInt32 = 8
}

public struct ELF64Image {
    public static let headerSize = 64
    public static let programHeaderSize = 56
    public static let sectionHeaderSize = 64
    /// Real kernels have fewer than 16 program headers and a few hundred sections.
    public static let programHeaderLimit = 128
    public static let sectionLimit = 8192
    public static let machineX86_64: UInt16 = 62

    public let file: ByteWindow
    public let type: UInt16
    public let entry: UInt64
    public let programHeaderCount: Int
    public let sectionCount: Int
    let programHeaderOffset: Int
    let sectionHeaderOffset: Int
    let sectionNameTableIndex: Int

    public static func parse(_ file: ByteWindow) throws(KernelImageError) -> ELF64Image {
        guard file.matches("\u{7F}ELF", at: 0) else {
            throw .unsupportedFormat(KernelImageFormat.detect(file))
        }
        guard file.count >= headerSize else { throw .truncatedELFHeader(size: file.count) }
        let elfClass = file.uint8(at: 4) ?? 0
        guard elfClass == 2 else { throw .notELF64(elfClass: elfClass) }
        let encoding = file.uint8(at: 5) ?? 0
        guard encoding == 1 else { throw .notLittleEndian(encoding: encoding) }
        let version = file.uint8(at: 6) ?? 0
        guard version == 1 else { throw .badELFVersion(version) }
        let type = file.uint16(at: 16) ?? 0
        guard type == 2 || type == 3 else { throw .notExecutable(type: type) }
        let machine = file.uint16(at: 18) ?? 0
        guard machine == machineX86_64 else { throw .notX86_64(machine: machine) }

        let phoff = file.uint64(at: 32) ?? 0
        let phentsize = file.uint16(at: 54) ?? 0
        let phnum = Int(file.uint16(at: 56) ?? 0)
        if phnum > 0 {
            guard Int(phentsize) == programHeaderSize else { throw .badProgramHeaderSize(phentsize) }
            guard phnum <= programHeaderLimit else { throw .tooManyProgramHeaders(count: phnum, limit: programHeaderLimit) }
            guard fits(file, offset: phoff, count: phnum, size: programHeaderSize) else {
                throw .programHeadersOutsideFile(offset: phoff, count: phnum)
            }
        }
        let shoff = file.uint64(at: 40) ?? 0
        let shentsize = file.uint16(at: 58) ?? 0
        let shnum = Int(file.uint16(at: 60) ?? 0)
        if shnum > 0 {
            guard Int(shentsize) == sectionHeaderSize else { throw .badSectionHeaderSize(shentsize) }
            guard shnum <= sectionLimit else { throw .tooManySections(count: shnum, limit: sectionLimit) }
            guard fits(file, offset: shoff, count: shnum, size: sectionHeaderSize) else {
                throw .sectionHeadersOutsideFile(offset: shoff, count: shnum)
            }
        }
        return ELF64Image(file: file, type: type, entry: file.uint64(at: 24) ?? 0,
                          programHeaderCount: phnum, sectionCount: shnum,
                          programHeaderOffset: phnum > 0 ? Int(phoff) : 0,
                          sectionHeaderOffset: shnum > 0 ? Int(shoff) : 0,
                          sectionNameTableIndex: Int(file.uint16(at: 62) ?? 0))
    }

    private static func fits(_ file: ByteWindow, offset: UInt64, count: Int, size: Int) -> Bool {
        guard offset <= UInt64(Int.max) else { return false }
        return file.contains(offset: Int(offset), size: count * size)
    }

    /// Program header `index`, which must be below `programHeaderCount`.
    public func programHeader(_ index: Int) -> ELF64ProgramHeader {
        precondition(index >= 0 && index < programHeaderCount)
        let base = programHeaderOffset + index * ELF64Image.programHeaderSize
        return ELF64ProgramHeader(type: file.uint32(at: base) ?? 0, flags: file.uint32(at: base + 4) ?? 0,
                                  offset: file.uint64(at: base + 8) ?? 0,
                                  virtualAddress: file.uint64(at: base + 16) ?? 0,
                                  physicalAddress: file.uint64(at: base + 24) ?? 0,
                                  fileSize: file.uint64(at: base + 32) ?? 0,
                                  memorySize: file.uint64(at: base + 40) ?? 0,
                                  alignment: file.uint64(at: base + 48) ?? 0)
    }

    /// Section header `index`, which must be below `sectionCount`.
    public func sectionHeader(_ index: Int) -> ELF64SectionHeader {
        precondition(index >= 0 && index < sectionCount)
        let base = sectionHeaderOffset + index * ELF64Image.sectionHeaderSize
        return ELF64SectionHeader(name: file.uint32(at: base) ?? 0, type: file.uint32(at: base + 4) ?? 0,
                                  flags: file.uint64(at: base + 8) ?? 0, address: file.uint64(at: base + 16) ?? 0,
                                  offset: file.uint64(at: base + 24) ?? 0, size: file.uint64(at: base + 32) ?? 0,
                                  link: file.uint32(at: base + 40) ?? 0)
    }

    /// The bytes `offset..<offset+size` of the file, nil if any lies outside it.
    public func bytes(offset: UInt64, size: UInt64) -> ByteWindow? {
        guard offset <= UInt64(Int.max), size <= UInt64(Int.max) else { return nil }
        return file.slice(offset: Int(offset), size: Int(size))
    }

    /// A section's name from the section name table; nil without a usable table.
    public func sectionName(_ section: ELF64SectionHeader) -> ByteText? {
        guard sectionNameTableIndex > 0 && sectionNameTableIndex < sectionCount else { return nil }
        let table = sectionHeader(sectionNameTableIndex)
        guard let strings = bytes(offset: table.offset, size: table.size), section.name < UInt32(strings.count) else {
            return nil
        }
        return strings.cText(at: Int(section.name))
    }

    /// The first section called `name`.
    public func section(named name: StaticString) -> ELF64SectionHeader? {
        for index in 0..<sectionCount {
            let section = sectionHeader(index)
            if let found = sectionName(section), found.equals(name) { return section }
        }
        return nil
    }
}

/// The physical and virtual extent of the loadable segments, after checking each of them.
public struct ELF64LoadExtent: Equatable {
    /// Lowest paddr and highest paddr + memsz of the loadable segments (Xen's pstart, pend).
    public var physicalStart: UInt64
    public var physicalEnd: UInt64
    public var segmentCount: Int

    public static let segmentLimit = 32

    /// Checks every loadable segment (inside the file, filesz <= memsz, no wrap-around, no
    /// two overlapping) and returns their extent.
    public static func check(_ image: ELF64Image) throws(KernelImageError) -> ELF64LoadExtent {
        var low = UInt64.max
        var high: UInt64 = 0
        var count = 0
        for index in 0..<image.programHeaderCount {
            let segment = image.programHeader(index)
            guard segment.isLoadable else { continue }
            count += 1
            guard count <= segmentLimit else {
                throw .tooManyLoadSegments(count: loadableCount(image), limit: segmentLimit)
            }
            guard segment.fileSize <= segment.memorySize else {
                throw .segmentFileSizeExceedsMemorySize(index: index, fileSize: segment.fileSize,
                                                        memorySize: segment.memorySize)
            }
            guard image.bytes(offset: segment.offset, size: segment.fileSize) != nil else {
                throw .segmentOutsideFile(index: index, offset: segment.offset, fileSize: segment.fileSize)
            }
            let (physicalEnd, physicalWraps) = segment.physicalAddress.addingReportingOverflow(segment.memorySize)
            guard !physicalWraps else {
                throw .segmentWrapsAround(index: index, address: segment.physicalAddress, memorySize: segment.memorySize)
            }
            guard !segment.virtualAddress.addingReportingOverflow(segment.memorySize).overflow else {
                throw .segmentWrapsAround(index: index, address: segment.virtualAddress, memorySize: segment.memorySize)
            }
            for earlier in 0..<index {
                let other = image.programHeader(earlier)
                guard other.isLoadable, other.memorySize > 0, segment.memorySize > 0 else { continue }
                if segment.physicalAddress < other.physicalAddress + other.memorySize
                    && other.physicalAddress < physicalEnd {
                    throw .segmentsOverlap(first: earlier, second: index)
                }
            }
            low = Swift.min(low, segment.physicalAddress)
            high = Swift.max(high, physicalEnd)
        }
        guard count > 0 else { throw .noLoadableSegments }
        return ELF64LoadExtent(physicalStart: low, physicalEnd: high, segmentCount: count)
    }

    private static func loadableCount(_ image: ELF64Image) -> Int {
        var count = 0
        for index in 0..<image.programHeaderCount where image.programHeader(index).isLoadable { count += 1 }
        return count
    }
}
