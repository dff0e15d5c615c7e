// BootInfo: what the boot loader told us, whichever Multiboot protocol it spoke.
//
// Multiboot1.swift and Multiboot2.swift decode their own layouts into this one neutral record;
// the rest of start of day (command line, memory map, dom0 modules, ACPI) reads only this.
// Text stays in physical memory as PhysicalText: the caller copies what it keeps before it
// reuses the memory the boot loader used.
//
// Invariants: `moduleCount <= moduleCapacity`, `memoryMapCount <= memoryMapCapacity`; entries
// beyond capacity are counted in `modulesDropped` / `memoryMapDropped`, never written. Module
// `end` is exclusive (GRUB stores start + size).
// Imports nothing.

/// The magic numbers a Multiboot loader leaves in eax.
public enum MultibootMagic {
    public static let multiboot1: UInt32 = 0x2BAD_B002
    public static let multiboot2: UInt32 = 0x36D7_6289
}

public enum BootProtocol: Equatable, Sendable {
    case multiboot1
    case multiboot2
}

/// One memory-map range, with the E820 type numbers both protocols use.
public struct MemoryMapEntry: Equatable, Sendable {
    public static let usable: UInt32 = 1
    public static let reserved: UInt32 = 2
    public static let acpiReclaimable: UInt32 = 3
    public static let acpiNVS: UInt32 = 4
    public static let badMemory: UInt32 = 5

    public var base: UInt64
    public var length: UInt64
    public var type: UInt32

    public init(base: UInt64, length: UInt64, type: UInt32) {
        self.base = base
        self.length = length
        self.type = type
    }
}

/// A module (dom0 kernel, initrd, ...) the loader put in memory, with its command line.
public struct BootModule: Equatable, Sendable {
    public var start: UInt64
    public var end: UInt64
    public var commandLine: PhysicalText?

    public init(start: UInt64, end: UInt64, commandLine: PhysicalText?) {
        self.start = start
        self.end = end
        self.commandLine = commandLine
    }

    public var size: UInt64 { end - start }
}

/// Things that were wrong in the boot information but did not stop the parse.
/// (A plain bit set: OptionSet pulls in allocating SetAlgebra code under Embedded.)
public struct BootInfoAnomalies: Equatable, Sendable {
    public var rawValue: UInt32

    public init(rawValue: UInt32 = 0) { self.rawValue = rawValue }

    public static let missingEndTag = BootInfoAnomalies(rawValue: 1 << 0)
    public static let badModuleSkipped = BootInfoAnomalies(rawValue: 1 << 1)
    public static let unreadableString = BootInfoAnomalies(rawValue: 1 << 2)
    public static let badMemoryMap = BootInfoAnomalies(rawValue: 1 << 3)
    public static let shortTagSkipped = BootInfoAnomalies(rawValue: 1 << 4)

    public func contains(_ other: BootInfoAnomalies) -> Bool { rawValue & other.rawValue == other.rawValue }
    public mutating func insert(_ other: BootInfoAnomalies) { rawValue |= other.rawValue }
    public var isEmpty: Bool { rawValue == 0 }
}

/// Where the loader's memory map is, in either protocol's layout, for walking it again.
public struct MemoryMapLocation: Equatable, Sendable {
    public enum Layout: Equatable, Sendable {
        /// Multiboot 1: each entry is preceded by a 32-bit size that does not count itself.
        case sizePrefixed
        /// Multiboot 2: entries of `entrySize` bytes back to back.
        case fixedStride(entrySize: Int)
    }

    /// No real map is this big; a larger claimed length is treated as corrupt.
    public static let maximumByteCount = 1 << 20

    public var address: UInt64
    public var byteCount: Int
    public var layout: Layout

    public init(address: UInt64, byteCount: Int, layout: Layout) {
        self.address = address
        self.byteCount = byteCount
        self.layout = layout
    }

    /// Calls `body` for each well-formed entry in order. Returns false when the map was
    /// unreadable or stopped at a malformed entry (the entries before it were delivered).
    @discardableResult
    public func forEach<Reader: PhysicalMemoryReader>(
        reader: Reader, _ body: (MemoryMapEntry) -> Void
    ) -> Bool {
        guard byteCount >= 0, byteCount <= MemoryMapLocation.maximumByteCount,
              let window = reader.window(at: address, count: byteCount) else { return false }
        switch layout {
        case .fixedStride(let entrySize):
            guard entrySize >= 24 else { return false }
            var offset = 0
            while window.contains(offset: offset, size: entrySize) {
                guard let entry = MemoryMapLocation.entry(in: window, at: offset) else { return false }
                body(entry)
                offset += entrySize
            }
            return offset == byteCount
        case .sizePrefixed:
            var offset = 0
            while offset < byteCount {
                guard let size = window.uint32(at: offset), size >= 20, size <= UInt32(byteCount),
                      window.contains(offset: offset + 4, size: Int(size)),
                      let entry = MemoryMapLocation.entry(in: window, at: offset + 4) else { return false }
                body(entry)
                offset += 4 + Int(size)
            }
            return true
        }
    }

    static func entry(in window: ByteWindow, at offset: Int) -> MemoryMapEntry? {
        guard let base = window.uint64(at: offset), let length = window.uint64(at: offset + 8),
              let type = window.uint32(at: offset + 16) else { return nil }
        return MemoryMapEntry(base: base, length: length, type: type)
    }
}

public enum BootInfoError: Error, Equatable {
    case wrongMagic(UInt32)
    case unreadable(address: UInt64)
    case totalSizeInvalid(UInt32)
    case tagSizeInvalid(offset: Int, size: UInt32)
    case modulesUnreadable(address: UInt64)

    public func describe<Sink: TextSink>(into sink: inout Sink) {
        switch self {
        case .wrongMagic(let magic):
            sink.write("Multiboot: wrong magic ")
            sink.write(hex0x: UInt64(magic))
            sink.write(" (expected 0x2badb002 or 0x36d76289)")
        case .unreadable(let address):
            sink.write("Multiboot: boot information at ")
            sink.write(hex0x: address)
            sink.write(" is not readable")
        case .totalSizeInvalid(let size):
            sink.write("Multiboot2: implausible total_size ")
            sink.write(decimal: UInt64(size))
        case .tagSizeInvalid(let offset, let size):
            sink.write("Multiboot2: tag at offset ")
            sink.write(decimal: offset)
            sink.write(" has bad size ")
            sink.write(decimal: UInt64(size))
        case .modulesUnreadable(let address):
            sink.write("Multiboot: module list at ")
            sink.write(hex0x: address)
            sink.write(" is not readable")
        }
    }
}

public struct BootInfo {
    public static let moduleCapacity = 16
    public static let memoryMapCapacity = 128
    /// Longest command line or loader name we look for a NUL in.
    public static let stringLimit = 4096

    public var bootProtocol: BootProtocol
    public var infoAddress: UInt64
    public var commandLine: PhysicalText?
    public var bootloaderName: PhysicalText?
    public var memoryLowerKiB: UInt32?
    public var memoryUpperKiB: UInt32?

    public var modules = InlineArray<16, BootModule>(repeating: BootModule(start: 0, end: 0, commandLine: nil))
    public var moduleCount = 0
    public var modulesDropped = 0

    public var memoryMapLocation: MemoryMapLocation?
    public var memoryMap = InlineArray<128, MemoryMapEntry>(repeating: MemoryMapEntry(base: 0, length: 0, type: 0))
    public var memoryMapCount = 0
    public var memoryMapDropped = 0

    /// Multiboot2 tags 14 and 15: the loader's copies of the ACPI 1.0 and 2.0+ RSDP.
    public var acpiOldRSDPCopy: PhysicalRange?
    public var acpiNewRSDPCopy: PhysicalRange?

    /// Multiboot2 tag 8 (recorded, not used yet): 0 indexed, 1 RGB, 2 EGA text.
    public var framebufferType: UInt8?
    public var framebufferAddress: UInt64?

    public var anomalies = BootInfoAnomalies()

    public init(bootProtocol: BootProtocol, infoAddress: UInt64) {
        self.bootProtocol = bootProtocol
        self.infoAddress = infoAddress
    }

    /// Decodes the boot information left by a Multiboot 1 or 2 loader: `magic` is the loader's
    /// eax, `infoAddress` its ebx.
    public static func parse<Reader: PhysicalMemoryReader>(
        magic: UInt32, infoAddress: UInt64, reader: Reader
    ) throws(BootInfoError) -> BootInfo {
        switch magic {
        case MultibootMagic.multiboot1: return try Multiboot1.parse(infoAddress: infoAddress, reader: reader)
        case MultibootMagic.multiboot2: return try Multiboot2.parse(infoAddress: infoAddress, reader: reader)
        default: throw .wrongMagic(magic)
        }
    }

    public func module(_ index: Int) -> BootModule? {
        guard index >= 0 && index < moduleCount else { return nil }
        return modules[index]
    }

    public func memoryMapEntry(_ index: Int) -> MemoryMapEntry? {
        guard index >= 0 && index < memoryMapCount else { return nil }
        return memoryMap[index]
    }

    /// The RSDP copy to prefer: the 2.0+ one when the loader gave both.
    public var acpiRSDPCopy: PhysicalRange? { acpiNewRSDPCopy ?? acpiOldRSDPCopy }

    mutating func appendModule(_ module: BootModule) {
        if moduleCount < BootInfo.moduleCapacity {
            modules[moduleCount] = module
            moduleCount += 1
        } else {
            modulesDropped += 1
        }
    }

    /// Walks `location` and keeps the first `memoryMapCapacity` entries.
    mutating func loadMemoryMap<Reader: PhysicalMemoryReader>(_ location: MemoryMapLocation, reader: Reader) {
        memoryMapLocation = location
        memoryMapCount = 0
        memoryMapDropped = 0
        let complete = location.forEach(reader: reader) { entry in
            if memoryMapCount < BootInfo.memoryMapCapacity {
                memoryMap[memoryMapCount] = entry
                memoryMapCount += 1
            } else {
                memoryMapDropped += 1
            }
        }
        if !complete { anomalies.insert(.badMemoryMap) }
    }
}
