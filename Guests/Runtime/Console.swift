// Console.swift: text output for test guests, through console_io(CONSOLEIO_write).
//
// Output is line-buffered in xg_console_buffer (start.S) so that each line reaches the
// hypervisor console in one hypercall and is not split by the hypervisor's own
// messages. Single vCPU, no events: no locking. No heap: numbers are formatted in place.
import XenGuestC

public enum Console {
    private static let capacity = 256
    nonisolated(unsafe) private static var length = 0

    /// Appends one byte; a newline or a full buffer sends the line.
    public static func put(_ byte: UInt8) {
        let buffer = xg_console_buffer_address()!
        buffer[length] = byte
        length += 1
        if byte == 0x0A || length == capacity { flush() }
    }

    /// Sends whatever is buffered.
    public static func flush() {
        guard length > 0 else { return }
        _ = HYPERVISOR_console_io(UInt32(CONSOLEIO_write), UInt32(length), xg_console_buffer_address())
        length = 0
    }

    public static func write(_ text: StaticString) {
        text.withUTF8Buffer { bytes in
            for byte in bytes { put(byte) }
        }
    }

    /// Writes at most maxLength bytes of a NUL-terminated string found in memory.
    public static func write(cString address: UnsafePointer<UInt8>, maxLength: Int) {
        var index = 0
        while index < maxLength && address[index] != 0 {
            put(address[index])
            index += 1
        }
    }

    public static func write(decimal value: Int64) {
        if value < 0 {
            put(0x2D)
            write(unsigned: UInt64(bitPattern: 0 &- value))
        } else {
            write(unsigned: UInt64(value))
        }
    }

    public static func write(unsigned value: UInt64) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            put(UInt8(truncatingIfNeeded: rest / divisor) + 0x30)
            rest %= divisor
            divisor /= 10
        }
    }

    /// "0x" followed by the value in lower-case hexadecimal, without leading zeros.
    public static func write(hex value: UInt64) {
        put(0x30); put(0x78)
        var shift = 60
        while shift > 0 && (value >> UInt64(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            put(digit < 10 ? digit + 0x30 : digit + 0x57)
            shift -= 4
        }
    }

    public static func newline() { put(0x0A) }
}
