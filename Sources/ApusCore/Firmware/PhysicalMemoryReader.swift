// PhysicalMemoryReader: the only way firmware parsers see physical memory.
//
// Boot information and ACPI tables live at physical addresses that the firmware or the boot
// loader chose. The parsers never turn such an address into a pointer themselves: they ask a
// reader for a byte range and get nil when any part of it is not readable. The hypervisor's
// reader is its direct map, limited to what it has mapped; the tests' reader is an array with
// a base address.
//
// Invariants: a buffer returned by `bytes(at:count:)` holds exactly `count` bytes (the helpers
// below check this rather than trust it) and stays valid and unchanged at least until the
// parser call that asked for it returns. Every length or offset read out of firmware memory is
// checked against such a buffer before use.
// Imports nothing.

/// Read access to physical memory.
public protocol PhysicalMemoryReader {
    /// The `count` bytes at `physicalAddress`, or nil if any of them is not readable.
    func bytes(at physicalAddress: UInt64, count: Int) -> UnsafeRawBufferPointer?
}

extension PhysicalMemoryReader {
    /// A bounds-checked window on `count` bytes at `address`; nil when unreadable, when the
    /// range wraps around the address space, or when the reader returned the wrong size.
    public func window(at address: UInt64, count: Int) -> ByteWindow? {
        guard count >= 0 else { return nil }
        let (_, wraps) = address.addingReportingOverflow(UInt64(count))
        guard !wraps, let raw = bytes(at: address, count: count), raw.count == count else {
            return nil
        }
        if count > 0 && raw.baseAddress == nil { return nil }
        return ByteWindow(raw)
    }

    public func readUInt8(at address: UInt64) -> UInt8? { window(at: address, count: 1)?.uint8(at: 0) }
    public func readUInt16(at address: UInt64) -> UInt16? { window(at: address, count: 2)?.uint16(at: 0) }
    public func readUInt32(at address: UInt64) -> UInt32? { window(at: address, count: 4)?.uint32(at: 0) }
    public func readUInt64(at address: UInt64) -> UInt64? { window(at: address, count: 8)?.uint64(at: 0) }

    /// The length of the NUL-terminated string at `address`, reading at most `limit` bytes.
    /// Reads a page at a time, in smaller pieces where a page is not wholly readable, so that
    /// a short string near the end of readable memory is still found. nil if a byte before the
    /// NUL is unreadable or no NUL comes within `limit`.
    public func cStringLength(at address: UInt64, limit: Int) -> Int? {
        let pageSize = 4096
        var granule = pageSize
        var length = 0
        while length < limit {
            let (here, wraps) = address.addingReportingOverflow(UInt64(length))
            if wraps { return nil }
            let toBoundary = granule - Int(here % UInt64(granule))
            let chunk = Swift.min(toBoundary, limit - length)
            guard let window = window(at: here, count: chunk) else {
                if granule == 1 { return nil }
                granule /= 2
                continue
            }
            for index in 0..<chunk where window.uint8(at: index) == 0 { return length + index }
            length += chunk
        }
        return nil
    }
}

/// Text that lives in physical memory: where it is and how many bytes (without any NUL).
/// Parsers hand these out instead of pointers so the caller decides when to map and copy.
public struct PhysicalText: Equatable, Sendable {
    public var address: UInt64
    public var count: Int

    public init(address: UInt64, count: Int) {
        self.address = address
        self.count = count
    }

    /// The text as a ByteText, valid for as long as `reader`'s buffer is.
    public func read<Reader: PhysicalMemoryReader>(from reader: Reader) -> ByteText? {
        guard let window = reader.window(at: address, count: count) else { return nil }
        return window.text(at: 0, count: count)
    }
}

/// A range of physical memory (for example a copy of the RSDP inside the boot information).
public struct PhysicalRange: Equatable, Sendable {
    public var address: UInt64
    public var count: Int

    public init(address: UInt64, count: Int) {
        self.address = address
        self.count = count
    }
}
