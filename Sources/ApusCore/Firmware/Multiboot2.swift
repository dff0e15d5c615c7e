// Multiboot2: decodes the Multiboot2 boot information (eax = 0x36d76289) into a BootInfo.
//
// Layout (Multiboot2 specification, "Boot information"): a fixed part (u32 total_size,
// u32 reserved), then tags (u32 type, u32 size counting the 8-byte tag header, contents), each
// starting on an 8-byte boundary, ending with a type 0 tag of size 8.
//
// Invariants: total_size is checked against [16, maximumTotalSize] before the whole block is
// read once; a tag whose size is below 8 or runs past total_size stops the parse with an error
// (the walk cannot continue past it); a tag too short for its own fields is skipped and noted;
// unknown tags are skipped.
// Imports nothing.

public enum Multiboot2 {
    /// Bigger than any real boot information (GRUB's, with an EFI map, is a few KiB).
    public static let maximumTotalSize: UInt32 = 1 << 20

    public enum TagType {
        public static let end: UInt32 = 0
        public static let commandLine: UInt32 = 1
        public static let bootloaderName: UInt32 = 2
        public static let module: UInt32 = 3
        public static let basicMemoryInfo: UInt32 = 4
        public static let memoryMap: UInt32 = 6
        public static let framebuffer: UInt32 = 8
        public static let acpiOldRSDP: UInt32 = 14
        public static let acpiNewRSDP: UInt32 = 15
    }

    public static func parse<Reader: PhysicalMemoryReader>(
        infoAddress: UInt64, reader: Reader
    ) throws(BootInfoError) -> BootInfo {
        guard let fixed = reader.window(at: infoAddress, count: 8), let totalSize = fixed.uint32(at: 0) else {
            throw .unreadable(address: infoAddress)
        }
        guard totalSize >= 16, totalSize <= maximumTotalSize else { throw .totalSizeInvalid(totalSize) }
        guard let info = reader.window(at: infoAddress, count: Int(totalSize)) else {
            throw .unreadable(address: infoAddress)
        }

        var result = BootInfo(bootProtocol: .multiboot2, infoAddress: infoAddress)
        var offset = 8
        var sawEnd = false
        while info.contains(offset: offset, size: 8) {
            let type = info.uint32(at: offset) ?? 0
            let size = info.uint32(at: offset + 4) ?? 0
            guard size >= 8, info.contains(offset: offset, size: Int(size)) else {
                throw .tagSizeInvalid(offset: offset, size: size)
            }
            if type == TagType.end {
                sawEnd = true
                break
            }
            if let tag = info.slice(offset: offset, size: Int(size)) {
                decodeTag(type: type, tag: tag, tagAddress: infoAddress + UInt64(offset), into: &result, reader: reader)
            }
            offset += (Int(size) + 7) & ~7
        }
        if !sawEnd { result.anomalies.insert(.missingEndTag) }
        return result
    }

    private static func decodeTag<Reader: PhysicalMemoryReader>(
        type: UInt32, tag: ByteWindow, tagAddress: UInt64, into info: inout BootInfo, reader: Reader
    ) {
        switch type {
        case TagType.commandLine:
            info.commandLine = text(in: tag, at: 8, tagAddress: tagAddress)
        case TagType.bootloaderName:
            info.bootloaderName = text(in: tag, at: 8, tagAddress: tagAddress)
        case TagType.module:
            guard let start = tag.uint32(at: 8), let end = tag.uint32(at: 12) else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            guard end >= start else {
                info.anomalies.insert(.badModuleSkipped)
                return
            }
            info.appendModule(BootModule(start: UInt64(start), end: UInt64(end),
                                         commandLine: text(in: tag, at: 16, tagAddress: tagAddress)))
        case TagType.basicMemoryInfo:
            guard let lower = tag.uint32(at: 8), let upper = tag.uint32(at: 12) else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            info.memoryLowerKiB = lower
            info.memoryUpperKiB = upper
        case TagType.memoryMap:
            guard let entrySize = tag.uint32(at: 8), tag.uint32(at: 12) != nil else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            guard entrySize >= 24, entrySize <= 4096 else {
                info.anomalies.insert(.badMemoryMap)
                return
            }
            let location = MemoryMapLocation(address: tagAddress + 16, byteCount: tag.count - 16,
                                             layout: .fixedStride(entrySize: Int(entrySize)))
            info.loadMemoryMap(location, reader: reader)
        case TagType.framebuffer:
            guard let address = tag.uint64(at: 8), let kind = tag.uint8(at: 29) else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            info.framebufferAddress = address
            info.framebufferType = kind
        case TagType.acpiOldRSDP:
            guard tag.count >= 8 + 20 else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            info.acpiOldRSDPCopy = PhysicalRange(address: tagAddress + 8, count: tag.count - 8)
        case TagType.acpiNewRSDP:
            guard tag.count >= 8 + 36 else {
                info.anomalies.insert(.shortTagSkipped)
                return
            }
            info.acpiNewRSDPCopy = PhysicalRange(address: tagAddress + 8, count: tag.count - 8)
        default:
            break
        }
    }

    /// The NUL-terminated string at `offset` inside the tag (ending at the tag's end if the
    /// loader forgot the NUL) as a physical location.
    private static func text(in tag: ByteWindow, at offset: Int, tagAddress: UInt64) -> PhysicalText? {
        guard let text = tag.cText(at: offset) else { return nil }
        return PhysicalText(address: tagAddress + UInt64(offset), count: text.count)
    }
}
