// The hypervisor console: every line Apus prints goes through here.
//
// Owns: the output devices (up to two 16550 ports, each optionally in Xen's high-bit
// sharing mode, and the VGA text screen), the console ring that keeps the log for later
// readers (dom0's `xl dmesg`), the "(XEN) " line prefix and the log-level filter.
//
// Invariants: output is synchronous (polled UART), so a line is out before the next
// statement runs; a line is filtered as a whole by the level it was opened with.
// Locking: none yet (one CPU, interrupts off while printing). The SMP issue adds a lock.
import ApusCore
import ArchX86

/// Severity of a console line, Xen's scale (`loglvl=`): lower is more severe.
enum ConsoleLevel: Int {
    case error = 1, warning = 2, info = 3, debug = 4
    /// A line with no explicit level counts as a warning, as an untagged printk does in Xen.
    static let `default` = ConsoleLevel.warning
}

struct SerialOutput {
    var port: Serial16550
    /// Xen's com<n>H / com<n>L: characters go out with bit 7 set / cleared.
    var highBit: UInt8?
}

struct Console: TextSink {
    nonisolated(unsafe) static var shared = Console()

    var serial0: SerialOutput? = SerialOutput(port: Serial16550(ioBase: 0x3F8), highBit: nil)
    var serial1: SerialOutput? = nil
    var vga: VGAText? = nil
    var ring = ConsoleRing()
    var atLineStart = true
    /// Lines up to this level are shown (loglvl=); guest lines use guestThreshold.
    var threshold = ConsoleLevel.warning.rawValue
    var guestThreshold = 0
    /// While false, the current line is being dropped by the level filter.
    var lineVisible = true

    mutating func put(_ byte: UInt8) {
        guard lineVisible else { return }
        if atLineStart && byte != 0x0A {
            atLineStart = false
            emitRaw("(XEN) ")
        }
        emit(byte)
        if byte == 0x0A { atLineStart = true }
    }

    mutating func emitRaw(_ text: StaticString) {
        text.withUTF8Buffer { for byte in $0 { emit(byte) } }
    }

    mutating func emit(_ byte: UInt8) {
        ring.append(byte)
        if byte == 0x0A { emitToDevices(0x0D) }
        emitToDevices(byte)
    }

    @inline(__always) mutating func emitToDevices(_ byte: UInt8) {
        if let s = serial0 { s.port.put(s.highBit.map { $0 == 1 ? byte | 0x80 : byte & 0x7F } ?? byte) }
        if let s = serial1 { s.port.put(s.highBit.map { $0 == 1 ? byte | 0x80 : byte & 0x7F } ?? byte) }
        if vga != nil, byte != 0x0D { vga!.put(byte) }
    }
}

/// What Xen keeps as its console ring: the last `capacity` bytes of the log.
struct ConsoleRing {
    static let capacity = 16 * 1024
    /// The storage lives in .bss (boot/reservations.S) so the console needs no allocator.
    var written: UInt64 = 0

    mutating func append(_ byte: UInt8) {
        let storage = UnsafeMutablePointer<UInt8>(bitPattern: UInt(ImageLayout.consoleRing)).unsafelyUnwrapped
        storage[Int(written % UInt64(ConsoleRing.capacity))] = byte
        written &+= 1
    }
}

/// Prints one console line at `level`: `Log.line { $0.write("...") }`.
enum Log {
    static func line(_ level: ConsoleLevel = .default, _ body: (inout Console) -> Void) {
        Console.shared.lineVisible = level.rawValue <= Console.shared.threshold
        body(&Console.shared)
        Console.shared.put(0x0A)
        Console.shared.lineVisible = true
    }

    static func line(_ text: StaticString, level: ConsoleLevel = .default) {
        line(level) { $0.write(text) }
    }
}
