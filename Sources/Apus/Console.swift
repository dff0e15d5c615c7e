// The hypervisor console: every line Apus prints goes through here.
//
// Owns: the output devices (a 16550 port, optionally in Xen's high-bit sharing mode, and
// the VGA text screen), the console ring that keeps the log for later readers (dom0's
// `xl dmesg`), the "(XEN) " line prefix, and the `loglvl=` filter with Xen's rate limit
// (a burst of 10 rate-limited lines per 5 s, then a count of what was suppressed).
//
// Invariants: output is synchronous (polled UART), so a line is out before the next
// statement runs; a line is filtered as a whole by the level it was opened with.
// Locking: none yet (one CPU, interrupts off while printing). The SMP issue adds a lock.
import ApusCore
import ArchX86

struct SerialOutput {
    var port: Serial16550
    var highBit: SerialHighBit
}

struct Console: TextSink {
    nonisolated(unsafe) static var shared = Console()

    /// COM1 at 115200 8n1 until the command line says otherwise.
    var serial: SerialOutput? = SerialOutput(port: Serial16550(ioBase: 0x3F8), highBit: .unused)
    var vga: VGAText? = nil
    var ring = ConsoleRing()
    var atLineStart = true
    var thresholds = LogThresholds.hypervisorDefault
    var guestThresholds = LogThresholds.guestDefault
    var rateLimit = RateLimiter()
    /// While false, the current line is being dropped by the level filter.
    var lineVisible = true

    mutating func put(_ byte: UInt8) {
        guard lineVisible else { return }
        if atLineStart {
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
        if let s = serial {
            switch s.highBit {
            case .unused: s.port.put(byte)
            case .set: s.port.put(byte | 0x80)
            case .clear: s.port.put(byte & 0x7F)
            }
        }
        if vga != nil, byte != 0x0D { vga!.put(byte) }
    }

    /// dom0's own console output (console_io write): raw, without the "(XEN) " prefix,
    /// exactly as Xen passes the hardware domain's output through.
    mutating func writeGuestBytes(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == 0 { continue }
            emit(byte)
            atLineStart = byte == 0x0A
        }
    }

    /// Should a line of `level` be printed now? Counts it against the rate limit if needed.
    mutating func admits(_ level: LogLevel, guest: Bool) -> Bool {
        switch (guest ? guestThresholds : thresholds).disposition(of: level) {
        case .print: return true
        case .discard: return false
        case .printRateLimited: return rateLimit.admit(now: CPU.readTimeStampCounter(), ticksPerMs: Platform.facts.tscPerMillisecond)
        }
    }
}

/// Xen's printk rate limit: `burst` lines per `intervalMs`, the rest counted and reported.
struct RateLimiter {
    static let burst = 10
    static let intervalMs: UInt64 = 5000
    var windowStart: UInt64 = 0
    var admitted = 0
    var suppressed = 0

    mutating func admit(now: UInt64, ticksPerMs: UInt64) -> Bool {
        if now &- windowStart >= RateLimiter.intervalMs &* ticksPerMs {
            windowStart = now
            admitted = 0
            if suppressed > 0 {
                let count = suppressed
                suppressed = 0
                Log.line(.error) { c in c.write("printk: "); c.write(decimal: count); c.write(" messages suppressed.") }
            }
        }
        guard admitted < RateLimiter.burst else { suppressed += 1; return false }
        admitted += 1
        return true
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

/// Prints one console line at `level` (Xen's default for an untagged printk is warning):
/// `Log.line { $0.write("...") }`, `Log.line(.info) { ... }`.
enum Log {
    static func line(_ level: LogLevel = .warning, guest: Bool = false, _ body: (inout Console) -> Void) {
        let visible = Console.shared.admits(level, guest: guest)
        Console.shared.lineVisible = visible
        body(&Console.shared)
        Console.shared.put(0x0A)
        Console.shared.lineVisible = true
    }

    /// Several lines written by a printer that ends each line itself (the ApusCore
    /// printers), all filtered at `level`.
    static func lines(_ level: LogLevel = .warning, _ body: (inout Console) -> Void) {
        let visible = Console.shared.admits(level, guest: false)
        Console.shared.lineVisible = visible
        body(&Console.shared)
        if !Console.shared.atLineStart { Console.shared.put(0x0A) }
        Console.shared.lineVisible = true
    }

    /// A line no filter may drop: panics and fatal-trap reports.
    static func always(_ body: (inout Console) -> Void) {
        Console.shared.lineVisible = true
        body(&Console.shared)
        Console.shared.put(0x0A)
    }

    static func line(_ text: StaticString, level: LogLevel = .warning) {
        line(level) { $0.write(text) }
    }
}
