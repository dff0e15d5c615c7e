// Multiboot1: decodes the Multiboot (0.6.96) information structure (eax = 0x2BADB002).
//
// Layout (Multiboot specification, "Boot information format"): u32 flags at offset 0, then
// fields that are valid only when their flag bit is set: bit 0 mem_lower/mem_upper (4, 8),
// bit 2 cmdline (16), bit 3 mods_count/mods_addr (20, 24; 16-byte entries: start, end,
// string, reserved), bit 6 mmap_length/mmap_addr (44, 48; entries prefixed by their size),
// bit 9 boot_loader_name (64). Strings are NUL-terminated and live anywhere in memory.
//
// Invariants: only the prefix of the structure that the set flags need is read; module and
// map counts are bounded before anything is read; an unreadable string is noted and left out
// rather than failing the boot.
// Imports nothing.

public enum Multiboot1 {
    public enum Flag {
        public static let memory: UInt32 = 1 << 0
        public static let commandLine: UInt32 = 1 << 2
        public static let modules: UInt32 = 1 << 3
        public static let memoryMap: UInt32 = 1 << 6
        public static let bootloaderName: UInt32 = 1 << 9
    }

    /// More modules than any boot needs; a larger count is treated as corrupt, not read.
    public static let maximumModuleCount: UInt32 = 1024

    public static func parse<Reader: PhysicalMemoryReader>(
        infoAddress: UInt64, reader: Reader
    ) throws(BootInfoError) -> BootInfo {
        guard let flags = reader.readUInt32(at: infoAddress) else { throw .unreadable(address: infoAddress) }
        let needed: Int
        if flags & Flag.bootloaderName != 0 { needed = 68 }
        else if flags & Flag.memoryMap != 0 { needed = 52 }
        else if flags & Flag.modules != 0 { needed = 28 }
        else if flags & Flag.commandLine != 0 { needed = 20 }
        else { needed = 12 }
        guard let info = reader.window(at: infoAddress, count: needed) else {
            throw .unreadable(address: infoAddress)
        }

        var result = BootInfo(bootProtocol: .multiboot1, infoAddress: infoAddress)
        if flags & Flag.memory != 0 {
            result.memoryLowerKiB = info.uint32(at: 4)
            result.memoryUpperKiB = info.uint32(at: 8)
        }
        if flags & Flag.commandLine != 0, let address = info.uint32(at: 16) {
            result.commandLine = cString(at: UInt64(address), reader: reader, anomalies: &result.anomalies)
        }
        if flags & Flag.modules != 0, let count = info.uint32(at: 20), let address = info.uint32(at: 24) {
            try decodeModules(count: count, address: UInt64(address), into: &result, reader: reader)
        }
        if flags & Flag.memoryMap != 0, let length = info.uint32(at: 44), let address = info.uint32(at: 48) {
            if length > UInt32(MemoryMapLocation.maximumByteCount) {
                result.anomalies.insert(.badMemoryMap)
            } else {
                result.loadMemoryMap(MemoryMapLocation(address: UInt64(address), byteCount: Int(length),
                                                       layout: .sizePrefixed), reader: reader)
            }
        }
        if flags & Flag.bootloaderName != 0, let address = info.uint32(at: 64) {
            result.bootloaderName = cString(at: UInt64(address), reader: reader, anomalies: &result.anomalies)
        }
        return result
    }

    private static func decodeModules<Reader: PhysicalMemoryReader>(
        count: UInt32, address: UInt64, into info: inout BootInfo, reader: Reader
    ) throws(BootInfoError) {
        guard count <= maximumModuleCount else { throw .modulesUnreadable(address: address) }
        guard let list = reader.window(at: address, count: Int(count) * 16) else {
            throw .modulesUnreadable(address: address)
        }
        for index in 0..<Int(count) {
            let offset = index * 16
            guard let start = list.uint32(at: offset), let end = list.uint32(at: offset + 4),
                  let string = list.uint32(at: offset + 8) else { break }
            guard end >= start else {
                info.anomalies.insert(.badModuleSkipped)
                continue
            }
            let commandLine = string == 0
                ? nil : cString(at: UInt64(string), reader: reader, anomalies: &info.anomalies)
            info.appendModule(BootModule(start: UInt64(start), end: UInt64(end), commandLine: commandLine))
        }
    }

    private static func cString<Reader: PhysicalMemoryReader>(
        at address: UInt64, reader: Reader, anomalies: inout BootInfoAnomalies
    ) -> PhysicalText? {
        guard let length = reader.cStringLength(at: address, limit: BootInfo.stringLimit) else {
            anomalies.insert(.unreadableString)
            return nil
        }
        return PhysicalText(address: address, count: length)
    }
}
