// MemoryMap printing: the boot-log views of the map.
//
//   printE820       the firmware's view in Xen's format, one line per range:
//                   ` [0000000000000000, 000000000009fbff] (usable)` (inclusive end).
//                   Apus reservations show as the usable RAM they were; RAM hidden by
//                   `mem=` shows as unusable, as Xen prints it.
//   printSystemRAM  `System RAM: 1023MB (1048060kB)`: whole pages of each usable
//                   range of that view, summed, as Xen counts them.
//   printReservations  Apus's own reservations with their reasons, then a warning line
//                   if the map ran out of capacity or had to cut entries.
// The heading (Xen prints `Xen-e820 RAM map:`) and the console prefix are the caller's.
// Owns: formats only. Imports nothing.

extension MemoryMap {
    /// Calls `body` with each range of the firmware view, touching same-type ranges merged.
    public func forEachFirmwareRange(_ body: (MemoryRange) -> Void) {
        var pending: MemoryRange? = nil
        for index in 0..<count {
            var range = storage[index]
            range.type = range.type.firmwareView
            if var open = pending, open.end == range.base, open.type == range.type {
                open.end = range.end
                pending = open
            } else {
                if let open = pending { body(open) }
                pending = range
            }
        }
        if let open = pending { body(open) }
    }

    public func printE820<Sink: TextSink>(into sink: inout Sink) {
        forEachFirmwareRange { range in
            MemoryMapFormat.writeSpan(range, into: &sink)
            sink.put(0x20)
            MemoryMapFormat.writeTypeName(range.type, into: &sink)
            sink.newline()
        }
    }

    /// Pages Xen would report as System RAM: whole pages per usable firmware-view range.
    public var systemRAMPages: UInt64 {
        var pages: UInt64 = 0
        forEachFirmwareRange { range in
            if range.type.isUsable { pages += range.length >> 12 }
        }
        return pages
    }

    public func printSystemRAM<Sink: TextSink>(into sink: inout Sink) {
        let pages = systemRAMPages
        sink.write("System RAM: ")
        sink.write(decimal: pages >> 8)
        sink.write("MB (")
        sink.write(decimal: pages << 2)
        sink.writeLine("kB)")
    }

    public func printReservations<Sink: TextSink>(into sink: inout Sink) {
        for index in 0..<count {
            let range = storage[index]
            guard case .apus(let reason) = range.type else { continue }
            MemoryMapFormat.writeSpan(range, into: &sink)
            sink.put(0x20)
            MemoryMapFormat.writeReason(reason, into: &sink)
            sink.write(" (")
            sink.write(size: range.length)
            sink.writeLine(")")
        }
        if truncatedEntries != 0 {
            sink.write(" WARNING: ")
            sink.write(decimal: truncatedEntries)
            sink.writeLine(" memory map entries cut at the 52-bit physical address limit")
        }
        if overflowed {
            sink.write(" WARNING: memory map full (")
            sink.write(decimal: capacity)
            sink.write(" entries): merged ")
            sink.write(decimal: capacityMerges)
            sink.write(" non-RAM ranges, widened ")
            sink.write(decimal: widenedEdits)
            sink.write(" reservations, lost ")
            sink.write(size: lostUsableBytes)
            sink.write(" of RAM, rejected ")
            sink.write(decimal: rejectedEdits)
            sink.writeLine(" entries")
        }
    }
}

/// Shared text pieces of the memory map views.
enum MemoryMapFormat {
    static func writeSpan<Sink: TextSink>(_ range: MemoryRange, into sink: inout Sink) {
        sink.write(" [")
        sink.write(hex: range.base, minimumDigits: 16)
        sink.write(", ")
        sink.write(hex: range.last, minimumDigits: 16)
        sink.put(0x5D)  // ']'
    }

    /// Xen's names; an unknown raw type prints as `type N` without parentheses, as Xen does.
    static func writeTypeName<Sink: TextSink>(_ type: MemoryRangeType, into sink: inout Sink) {
        switch type {
        case .usable: sink.write("(usable)")
        case .reserved: sink.write("(reserved)")
        case .acpiReclaimable: sink.write("(ACPI data)")
        case .acpiNVS: sink.write("(ACPI NVS)")
        case .unusable: sink.write("(unusable)")
        case .other(let raw): sink.write("type "); sink.write(decimal: UInt64(raw))
        case .apus(let reason): sink.write("(Apus: "); writeReason(reason, into: &sink); sink.put(0x29)
        }
    }

    static func writeReason<Sink: TextSink>(_ reason: MemoryReservationReason, into sink: inout Sink) {
        switch reason {
        case .image: sink.write("Apus image")
        case .module: sink.write("boot module")
        case .firmware: sink.write("firmware data")
        case .lowMemory: sink.write("low memory")
        case .badPage: sink.write("bad page")
        case .memLimit: sink.write("above mem= limit")
        case .allocatorMetadata: sink.write("allocator metadata")
        case .pageTables: sink.write("page tables")
        case .other: sink.write("other")
        }
    }
}
