// TextSink: the one way ApusCore produces human-readable text.
//
// ApusCore never allocates (the hypervisor build uses `-no-allocations`), so it cannot
// build `String`s. Anything that wants to print takes `inout some TextSink` and writes
// bytes, static strings and numbers into it. The hypervisor's console is a TextSink; the
// host tests use `ByteBufferSink`, which collects into an array they can compare.
//
// Owns: number formatting (decimal, hex, sizes). Imports nothing.

/// Something that accepts text one byte at a time.
public protocol TextSink {
    mutating func put(_ byte: UInt8)
}

extension TextSink {
    @inline(__always)
    public mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { for byte in $0 { put(byte) } }
    }

    public mutating func write(_ text: ByteText) {
        for index in 0..<text.count { put(text[index]) }
    }

    public mutating func write(bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes { put(byte) }
    }

    public mutating func writeLine(_ text: StaticString) {
        write(text)
        put(0x0A)
    }

    public mutating func newline() { put(0x0A) }

    /// Unsigned decimal, no padding.
    public mutating func write(decimal value: UInt64) {
        write(decimal: value, minimumWidth: 0, pad: 0x20)
    }

    public mutating func write(decimal value: Int) {
        if value < 0 {
            put(0x2D)  // '-'
            write(decimal: UInt64(bitPattern: Int64(value)).twosComplementMagnitude)
        } else {
            write(decimal: UInt64(value))
        }
    }

    /// Unsigned decimal, right-aligned in `minimumWidth` columns filled with `pad`.
    public mutating func write(decimal value: UInt64, minimumWidth: Int, pad: UInt8 = 0x20) {
        var digits = DigitBuffer()
        var remaining = value
        repeat {
            digits.push(UInt8(truncatingIfNeeded: remaining % 10) + 0x30)
            remaining /= 10
        } while remaining != 0
        var fill = minimumWidth - digits.count
        while fill > 0 { put(pad); fill -= 1 }
        digits.drain(into: &self)
    }

    /// Lower-case hex without a prefix, zero-padded to `minimumDigits`.
    public mutating func write(hex value: UInt64, minimumDigits: Int = 1) {
        var digits = DigitBuffer()
        var remaining = value
        repeat {
            let nibble = UInt8(truncatingIfNeeded: remaining & 0xF)
            digits.push(nibble < 10 ? nibble + 0x30 : nibble - 10 + 0x61)
            remaining >>= 4
        } while remaining != 0
        var fill = minimumDigits - digits.count
        while fill > 0 { put(0x30); fill -= 1 }
        digits.drain(into: &self)
    }

    /// `0x`-prefixed hex, the way Xen prints addresses and ids.
    public mutating func write(hex0x value: UInt64, minimumDigits: Int = 1) {
        put(0x30); put(0x78)
        write(hex: value, minimumDigits: minimumDigits)
    }

    /// A byte count in the largest unit that divides it exactly or, failing that, in
    /// whole KiB/MiB rounded down with the unit Xen users read ("512MB", "1023MB", "4kB").
    public mutating func write(size bytes: UInt64) {
        let kib: UInt64 = 1024, mib = kib * 1024, gib = mib * 1024
        if bytes >= gib && bytes % gib == 0 { write(decimal: bytes / gib); write("GB") }
        else if bytes >= mib { write(decimal: bytes / mib); write("MB") }
        else if bytes >= kib { write(decimal: bytes / kib); write("kB") }
        else { write(decimal: bytes); write("B") }
    }
}

extension UInt64 {
    /// The magnitude of this bit pattern read as a two's-complement signed number.
    @usableFromInline var twosComplementMagnitude: UInt64 { (~self) &+ 1 }
}

/// Up to 20 digits (enough for any UInt64 in decimal), produced least significant first.
@usableFromInline
struct DigitBuffer {
    @usableFromInline var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
    @usableFromInline var count = 0

    @usableFromInline mutating func push(_ digit: UInt8) {
        withUnsafeMutableBytes(of: &storage) { $0[count] = digit }
        count += 1
    }

    @usableFromInline mutating func drain<Sink: TextSink>(into sink: inout Sink) {
        while count > 0 {
            count -= 1
            let digit = withUnsafeBytes(of: &storage) { $0[count] }
            sink.put(digit)
        }
    }
}

/// A sink that counts bytes and drops them: measures how wide a field will print.
public struct CountingSink: TextSink {
    public private(set) var count = 0
    public init() {}
    public mutating func put(_ byte: UInt8) { count += 1 }
}
