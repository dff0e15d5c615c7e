// ByteText: a read-only window on ASCII bytes that live somewhere else.
//
// Boot-time text (the hypervisor command line, module strings, bootloader name, ACPI
// signatures) is bytes in memory that Apus does not own and cannot copy into `String`s.
// ByteText is a pointer and a length with the few operations parsers need: compare with
// a literal, split at a separator, strip a prefix, read a number.
//
// Invariant: the bytes stay valid and unchanged for as long as the ByteText is used. The
// hypervisor copies the command line into a static buffer first for this reason.
// Owns: tokenising and number syntax. Imports nothing.

public struct ByteText {
    public let base: UnsafePointer<UInt8>?
    public let count: Int

    public init(base: UnsafePointer<UInt8>?, count: Int) {
        self.base = base
        self.count = base == nil ? 0 : count
    }

    public init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.init(base: buffer.baseAddress, count: buffer.count)
    }

    /// The bytes of a NUL-terminated string, without the NUL, at most `limit` long.
    public init(cString: UnsafePointer<UInt8>, limit: Int) {
        var length = 0
        while length < limit && cString[length] != 0 { length += 1 }
        self.init(base: cString, count: length)
    }

    public static var empty: ByteText { ByteText(base: nil, count: 0) }

    public var isEmpty: Bool { count == 0 }

    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count)
        return base.unsafelyUnwrapped[index]
    }

    public var first: UInt8? { count > 0 ? self[0] : nil }
    public var last: UInt8? { count > 0 ? self[count - 1] : nil }

    /// Bytes `start..<end`, clamped to this text.
    public func slice(_ start: Int, _ end: Int) -> ByteText {
        let lower = Swift.max(0, Swift.min(start, count))
        let upper = Swift.max(lower, Swift.min(end, count))
        guard let base else { return .empty }
        return ByteText(base: base + lower, count: upper - lower)
    }

    public func dropFirst(_ n: Int) -> ByteText { slice(n, count) }
    public func dropLast(_ n: Int) -> ByteText { slice(0, count - n) }
    public func prefix(_ n: Int) -> ByteText { slice(0, n) }

    public func firstIndex(of byte: UInt8) -> Int? {
        for index in 0..<count where self[index] == byte { return index }
        return nil
    }

    /// Splits at the first `separator`: the part before it and, if it was found, after it.
    public func split(at separator: UInt8) -> (head: ByteText, tail: ByteText?) {
        guard let index = firstIndex(of: separator) else { return (self, nil) }
        return (prefix(index), dropFirst(index + 1))
    }

    public func equals(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { other in
            guard other.count == count else { return false }
            for index in 0..<count where other[index] != self[index] { return false }
            return true
        }
    }

    public func equals(_ other: ByteText) -> Bool {
        guard other.count == count else { return false }
        for index in 0..<count where other[index] != self[index] { return false }
        return true
    }

    public func hasPrefix(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { other in
            guard other.count <= count else { return false }
            for index in 0..<other.count where other[index] != self[index] { return false }
            return true
        }
    }

    /// Without leading and trailing spaces and tabs.
    public var trimmed: ByteText {
        var start = 0, end = count
        while start < end && ByteText.isBlank(self[start]) { start += 1 }
        while end > start && ByteText.isBlank(self[end - 1]) { end -= 1 }
        return slice(start, end)
    }

    public static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// An unsigned integer in C syntax: decimal, `0x` hex, or `0` octal, with nothing
    /// after it. nil on an empty text, a stray character or overflow.
    public func parseUnsigned() -> UInt64? {
        let (value, rest) = parseUnsignedPrefix()
        guard let value, rest.isEmpty else { return nil }
        return value
    }

    /// Reads the longest C-syntax unsigned number at the start; returns it (nil if there
    /// are no digits or it overflows) and the text that follows it.
    public func parseUnsignedPrefix() -> (value: UInt64?, rest: ByteText) {
        var radix: UInt64 = 10
        var index = 0
        if count >= 2 && self[0] == 0x30 && (self[1] == 0x78 || self[1] == 0x58) {
            radix = 16; index = 2
        } else if count >= 2 && self[0] == 0x30 && ByteText.digitValue(self[1]) ?? 99 < 8 {
            radix = 8; index = 1
        }
        let digitsStart = index
        var value: UInt64 = 0
        var overflow = false
        while index < count, let digit = ByteText.digitValue(self[index]), UInt64(digit) < radix {
            let (times, o1) = value.multipliedReportingOverflow(by: radix)
            let (plus, o2) = times.addingReportingOverflow(UInt64(digit))
            overflow = overflow || o1 || o2
            value = plus
            index += 1
        }
        if index == digitsStart {
            // "0x" with no hex digits: the number is the 0, the rest starts at 'x'.
            if radix == 16 { return (0, dropFirst(1)) }
            return (nil, self)
        }
        return (overflow ? nil : value, dropFirst(index))
    }

    public static func digitValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        default: return nil
        }
    }
}

#if !hasFeature(Embedded)
extension ByteText: CustomStringConvertible {
    /// Host-only, for test failure messages.
    public var description: String {
        var bytes: [UInt8] = []
        for index in 0..<count { bytes.append(self[index]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
#endif
