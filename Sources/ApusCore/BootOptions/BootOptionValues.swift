// BootOptionValues: the value syntaxes that Xen's boot options share.
//
// These are booleans, integers and sizes, plus the way a size is written back. Each parser
// reads the whole value text and gives back a value or nothing. None of them allocates or
// traps, whatever bytes it is given. Numbers use C syntax (decimal, `0x` hex, octal with a
// leading `0`), which is how Xen's simple_strtoul reads them. Unlike Xen, overflow and
// trailing junk are errors here and never wrap or get cut off.
// Owns: value syntax only; what each option means lives with the option's type.
// Imports nothing.

/// The outcome of parsing one option value.
public enum ParsedValue<Value> {
    /// Accepted, and Apus does everything the value asks for.
    case value(Value)
    /// Accepted and recorded. Part of what it asks for is not implemented yet (the note says what).
    case unsupported(Value, note: StaticString)
    /// Rejected. The option keeps the value it had.
    case malformed(reason: StaticString)
}

/// Reading Xen's value syntaxes.
public enum BootValueSyntax {
    public static let pageShift = 12

    /// Xen's boolean words: `1 yes on true enable` and `0 no off false disable`.
    public static func boolean(_ text: ByteText) -> Bool? {
        if text.equals("1") || text.equals("yes") || text.equals("on") || text.equals("true")
            || text.equals("enable") {
            return true
        }
        if text.equals("0") || text.equals("no") || text.equals("off") || text.equals("false")
            || text.equals("disable") {
            return false
        }
        return nil
    }

    /// A whole unsigned integer within `range`, or nil.
    public static func unsigned(_ text: ByteText, in range: ClosedRange<UInt64>) -> UInt64? {
        guard let value = text.parseUnsigned(), range.contains(value) else { return nil }
        return value
    }

    /// Reads a size at the start of `text`: a number and an optional unit suffix `B K M G T`
    /// (either case). Without a suffix the number counts units of `1 << defaultShift` bytes.
    /// Xen's boot options use KiB (`defaultShift` 10) for that.
    /// Returns nil for the bytes when there is no number or the result does not fit in 64 bits.
    public static func sizePrefix(_ text: ByteText, defaultShift: Int = 10)
        -> (bytes: UInt64?, rest: ByteText)
    {
        let (number, afterNumber) = text.parseUnsignedPrefix()
        guard let number else { return (nil, afterNumber) }
        var shift = defaultShift
        var rest = afterNumber
        if let suffix = afterNumber.first, let suffixShift = unitShift(suffix) {
            shift = suffixShift
            rest = afterNumber.dropFirst(1)
        }
        guard shift == 0 || number <= (UInt64.max >> UInt64(shift)) else { return (nil, rest) }
        return (number << UInt64(shift), rest)
    }

    /// A whole size (see `sizePrefix`) with nothing after it.
    public static func size(_ text: ByteText, defaultShift: Int = 10) -> UInt64? {
        let (bytes, rest) = sizePrefix(text, defaultShift: defaultShift)
        guard let bytes, rest.isEmpty else { return nil }
        return bytes
    }

    static func unitShift(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x42, 0x62: return 0  // B b
        case 0x4B, 0x6B: return 10  // K k
        case 0x4D, 0x6D: return 20  // M m
        case 0x47, 0x67: return 30  // G g
        case 0x54, 0x74: return 40  // T t
        default: return nil
        }
    }
}

extension TextSink {
    /// A byte count the way a Xen size option takes it back: the largest exact unit among
    /// T, G, M and K, else a plain number with `B`.
    public mutating func write(bootOptionSize bytes: UInt64) {
        let units: (UInt64, UInt8) = bytes == 0 ? (0, 0x42) : Self.largestExactUnit(bytes)
        write(decimal: units.0)
        put(units.1)
    }

    static func largestExactUnit(_ bytes: UInt64) -> (UInt64, UInt8) {
        if bytes & ((1 << 40) - 1) == 0 { return (bytes >> 40, 0x54) }
        if bytes & ((1 << 30) - 1) == 0 { return (bytes >> 30, 0x47) }
        if bytes & ((1 << 20) - 1) == 0 { return (bytes >> 20, 0x4D) }
        if bytes & ((1 << 10) - 1) == 0 { return (bytes >> 10, 0x4B) }
        return (bytes, 0x42)
    }
}

extension ByteText {
    /// Whether `literal` occurs anywhere in this text.
    func contains(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { needle in
            guard needle.count <= count else { return false }
            if needle.isEmpty { return true }
            var start = 0
            while start + needle.count <= count {
                var index = 0
                while index < needle.count && self[start + index] == needle[index] { index += 1 }
                if index == needle.count { return true }
                start += 1
            }
            return false
        }
    }

    /// The entries of a list separated by `separator` (a comma by default), empty ones included.
    func listEntries(separator: UInt8 = 0x2C) -> ByteTextList {
        ByteTextList(rest: self, separator: separator)
    }
}

/// Entries of a separated list, read lazily from the text. Deliberately not a Sequence:
/// Sequence's default methods build arrays, which the no-allocation build rejects.
struct ByteTextList {
    var rest: ByteText?
    let separator: UInt8

    mutating func next() -> ByteText? {
        guard let remaining = rest else { return nil }
        let (entry, tail) = remaining.split(at: separator)
        rest = tail
        return entry
    }
}
