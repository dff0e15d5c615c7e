// DebugKeyTable: the debug keys Apus answers in its console's input mode, with Xen 4.17's
// descriptions (what `h` lists) and Xen's two flags per key:
//   irqContext  Xen runs it at once in the interrupt; the others from a tasklet later;
//   diagnostic  `*` runs it: first the irqContext ones, then the rest, each in key order
//               and each announced as "[k: description]".
// Only keys Apus really handles are listed, so `h` never promises a dump that is not
// there. A key not in the table is ignored, as in Xen.
// Owns: the table, `h`'s list and `*`'s order. The dumps themselves are the hypervisor's.
// Imports nothing.

public struct DebugKey: Equatable {
    public let key: UInt8
    public let description: StaticString
    public let irqContext: Bool
    public let diagnostic: Bool

    public static func == (a: DebugKey, b: DebugKey) -> Bool { a.key == b.key }
}

public enum DebugKeyTable {
    /// In ASCII order, as Xen walks its table.
    public static func forEach(_ body: (DebugKey) -> Void) {
        body(DebugKey(key: 0x2A, description: "print all diagnostics", irqContext: true, diagnostic: false))       // *
        body(DebugKey(key: 0x30, description: "dump Dom0 registers", irqContext: false, diagnostic: true))         // 0
        body(DebugKey(key: 0x52, description: "reboot machine", irqContext: true, diagnostic: false))              // R
        body(DebugKey(key: 0x64, description: "dump registers", irqContext: true, diagnostic: true))               // d
        body(DebugKey(key: 0x65, description: "dump evtchn info", irqContext: false, diagnostic: true))            // e
        body(DebugKey(key: 0x68, description: "show this message", irqContext: false, diagnostic: false))          // h
        body(DebugKey(key: 0x6D, description: "memory info", irqContext: false, diagnostic: true))                 // m
        body(DebugKey(key: 0x71, description: "dump domain (and guest debug) info", irqContext: false, diagnostic: true)) // q
        body(DebugKey(key: 0x72, description: "dump run queues", irqContext: false, diagnostic: true))             // r
        body(DebugKey(key: 0x74, description: "display multi-cpu clock info", irqContext: false, diagnostic: true)) // t
    }

    public static func lookup(_ key: UInt8) -> DebugKey? {
        var found: DebugKey? = nil
        forEach { if $0.key == key { found = $0 } }
        return found
    }

    /// `h`: "'h' pressed -> showing installed handlers" and one line per key.
    public static func writeHandlers<Sink: TextSink>(pressed key: UInt8, into sink: inout Sink) {
        sink.put(0x27); sink.put(key); sink.writeLine("' pressed -> showing installed handlers")
        forEach { entry in
            sink.write(" key '")
            sink.put(entry.key >= 0x20 && entry.key < 0x7F ? entry.key : 0x20)
            sink.write("' (ascii '")
            sink.write(hex: UInt64(entry.key), minimumDigits: 2)
            sink.write("') => ")
            sink.write(entry.description)
            sink.newline()
        }
    }

    /// `*`'s order: the interrupt-context diagnostics, then the others, each in key order.
    public static func forEachDiagnostic(_ body: (DebugKey) -> Void) {
        forEach { if $0.diagnostic && $0.irqContext { body($0) } }
        forEach { if $0.diagnostic && !$0.irqContext { body($0) } }
    }

    /// "[k: description]" before each key `*` runs.
    public static func writeAnnouncement<Sink: TextSink>(_ entry: DebugKey, into sink: inout Sink) {
        sink.put(0x5B); sink.put(entry.key); sink.write(": "); sink.write(entry.description); sink.put(0x5D)
        sink.newline()
    }
}
