// ByteWindow: bounds-checked little-endian reads over bytes handed out by a reader.
//
// Firmware structures are packed and unaligned, and their lengths come from the data itself.
// Every read here checks `offset` and `size` against the window (without overflowing) and
// returns nil instead of trapping, so a parser that threads the optionals through cannot read
// outside what the reader returned.
// Invariant: `raw.count` bytes starting at `raw.baseAddress` are readable.
// Imports nothing.

public struct ByteWindow {
    public let raw: UnsafeRawBufferPointer

    public init(_ raw: UnsafeRawBufferPointer) { self.raw = raw }

    public var count: Int { raw.count }

    /// True when `size` bytes at `offset` lie inside the window.
    @inline(__always)
    public func contains(offset: Int, size: Int) -> Bool {
        offset >= 0 && size >= 0 && offset <= raw.count && size <= raw.count - offset
    }

    public func uint8(at offset: Int) -> UInt8? {
        guard contains(offset: offset, size: 1) else { return nil }
        return raw[offset]
    }

    public func uint16(at offset: Int) -> UInt16? {
        guard contains(offset: offset, size: 2) else { return nil }
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    public func uint32(at offset: Int) -> UInt32? {
        guard contains(offset: offset, size: 4) else { return nil }
        return UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    public func uint64(at offset: Int) -> UInt64? {
        guard contains(offset: offset, size: 8) else { return nil }
        return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// The bytes `offset..<offset+size` as a window of their own.
    public func slice(offset: Int, size: Int) -> ByteWindow? {
        guard contains(offset: offset, size: size) else { return nil }
        return ByteWindow(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)]))
    }

    /// `count` bytes at `offset` as text (nil when out of range).
    public func text(at offset: Int, count: Int) -> ByteText? {
        guard contains(offset: offset, size: count) else { return nil }
        guard count > 0, let base = raw.baseAddress else { return .empty }
        return ByteText(base: (base + offset).assumingMemoryBound(to: UInt8.self), count: count)
    }

    /// The NUL-terminated text starting at `offset`, ending at the NUL or at the window's end.
    public func cText(at offset: Int) -> ByteText? {
        guard contains(offset: offset, size: 0) else { return nil }
        var end = offset
        while end < raw.count && raw[end] != 0 { end += 1 }
        return text(at: offset, count: end - offset)
    }

    /// The 8-bit wrapping sum of `size` bytes at `offset` (ACPI checksums sum to zero).
    public func byteSum(offset: Int, size: Int) -> UInt8? {
        guard contains(offset: offset, size: size) else { return nil }
        var sum: UInt8 = 0
        for index in offset..<(offset + size) { sum &+= raw[index] }
        return sum
    }

    /// Whether the bytes at `offset` are exactly `literal`.
    public func matches(_ literal: StaticString, at offset: Int) -> Bool {
        literal.withUTF8Buffer { bytes in
            guard contains(offset: offset, size: bytes.count) else { return false }
            for index in 0..<bytes.count where raw[offset + index] != bytes[index] { return false }
            return true
        }
    }
}
