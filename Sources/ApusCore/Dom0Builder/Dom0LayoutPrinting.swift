// Dom0LayoutPrinting: Xen 4.17's memory-arrangement lines for dom0, character for character:
//
//   PHYSICAL MEMORY ARRANGEMENT:
//    Dom0 alloc.:   0000000030000000->0000000038000000 (32511 pages to be allocated)
//    Init. ramdisk: 000000003f8ff000->000000003f9ff413
//   VIRTUAL MEMORY ARRANGEMENT:
//    Loaded kernel: ffffffff81000000->ffffffff84a00000
//    Init. ramdisk: ...                   (only when the initrd is mapped)
//    Phys-Mach map: 0000008000000000->0000008000080000
//    Start info:    ffffffff84a00000->ffffffff84a004b8
//    Page tables:   ffffffff84a01000->ffffffff84a2a000
//    Boot stack:    ffffffff84a2a000->ffffffff84a2b000
//    TOTAL:         ffffffff80000000->ffffffff84c00000
//    ENTRY ADDRESS: ffffffff830791c0
//
// Addresses are 16 hex digits. "Dom0 alloc." is the one-piece allocation (2^order pages
// from `allocationStart`); the pages count is what dom0 still lacks after it and the initrd.
// The physical ramdisk line appears whenever there is a second module.
// Lines end in a newline, without the console prefix. Imports nothing.

extension Dom0Layout {
    /// `allocationStart`: machine address of the 2^order-page block; `initrdStart`: machine
    /// address of the initrd module (nil when there is none).
    public func printArrangement<Sink: TextSink>(into sink: inout Sink, allocationStart: UInt64,
                                                 initrdStart: UInt64?, entry: UInt64) {
        sink.writeLine("PHYSICAL MEMORY ARRANGEMENT:")
        sink.write(" Dom0 alloc.:   ")
        pair(allocationStart, allocationStart &+ (allocationPages << 12), &sink)
        if initialPages < request.nrPages {
            sink.write(" (")
            sink.write(decimal: request.nrPages - initialPages)
            sink.write(" pages to be allocated)")
        }
        sink.newline()
        if let initrdStart {
            sink.write(" Init. ramdisk: ")
            pair(initrdStart, initrdStart &+ (request.initrdBytes ?? 0), &sink)
            sink.newline()
        }
        sink.writeLine("VIRTUAL MEMORY ARRANGEMENT:")
        line(" Loaded kernel: ", kernel, &sink)
        if !initrd.isEmpty { line(" Init. ramdisk: ", initrd, &sink) }
        line(" Phys-Mach map: ", p2m, &sink)
        line(" Start info:    ", startInfo, &sink)
        line(" Page tables:   ", pageTables, &sink)
        line(" Boot stack:    ", bootStack, &sink)
        line(" TOTAL:         ", total, &sink)
        sink.write(" ENTRY ADDRESS: ")
        sink.write(hex: entry, minimumDigits: 16)
        sink.newline()
    }

    private func line<Sink: TextSink>(_ label: StaticString, _ range: VirtualRange, _ sink: inout Sink) {
        sink.write(label)
        pair(range.start, range.end, &sink)
        sink.newline()
    }

    private func pair<Sink: TextSink>(_ start: UInt64, _ end: UInt64, _ sink: inout Sink) {
        sink.write(hex: start, minimumDigits: 16)
        sink.write("->")
        sink.write(hex: end, minimumDigits: 16)
    }
}
