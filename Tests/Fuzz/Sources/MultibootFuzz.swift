// Target "multiboot": the boot information parsers (Firmware/BootInfo, Multiboot1,
// Multiboot2, PhysicalMemoryReader's string search) and the hypervisor's symbol table blob
// (Firmware/SymbolTable), both read from memory Apus did not write.
//
// Input: a mode byte; mode 0: physical memory regions, the loader's magic (Multiboot 1, 2 or
// anything) and the info address; mode 1: a symbol-table blob and addresses to look up.
// Invariants: no read outside any window handed out (ASan); module and memory-map lists
// within their capacities, modules with end >= start, the memory map re-walked gives the
// kept entries first; every string found is readable and holds no NUL, and is at most the
// search limit; an RSDP copy lies inside the boot information; a symbol lookup returns the
// last symbol at or below the address, with its distance, and every name lies in the blob.

enum MultibootFuzz {
    static func run(_ input: inout FuzzInput) {
        if input.byte() % 2 == 0 { bootInfo(&input) } else { symbols(&input) }
    }

    static func bootInfo(_ input: inout FuzzInput) {
        let memory = FuzzPhysicalMemory()
        let magic: UInt32
        switch input.byte() % 5 {
        case 0, 1: magic = MultibootMagic.multiboot1
        case 2, 3: magic = MultibootMagic.multiboot2
        default: magic = input.u32()
        }
        let infoAddress = input.byte() < 240 ? input.pick(FuzzPhysicalMemory.bases) &+ UInt64(input.u16() & ~7) : input.u64()
        memory.addRegions(from: &input, count: 1 + Int(input.byte() % 4), maximumSize: 0x1_0000)
        defer { memory.release() }
        let info: BootInfo
        do { info = try BootInfo.parse(magic: magic, infoAddress: infoAddress, reader: memory) } catch {
            var sink = ByteBufferSink()
            error.describe(into: &sink)
            invariant(!sink.bytes.isEmpty, "an error without words")
            trace("multiboot: \(error)")
            return
        }
        trace("multiboot: \(info.moduleCount) modules, \(info.memoryMapCount) map entries, anomalies \(info.anomalies.rawValue)")
        invariant(info.infoAddress == infoAddress, "info address")
        invariant(info.moduleCount >= 0 && info.moduleCount <= BootInfo.moduleCapacity, "\(info.moduleCount) modules")
        invariant(info.memoryMapCount >= 0 && info.memoryMapCount <= BootInfo.memoryMapCapacity, "\(info.memoryMapCount) map entries")
        invariant(info.module(info.moduleCount) == nil && info.memoryMapEntry(info.memoryMapCount) == nil
                  && info.module(-1) == nil, "accessors beyond the counts")
        var texts: [PhysicalText] = []
        if let text = info.commandLine { texts.append(text) }
        if let text = info.bootloaderName { texts.append(text) }
        for index in 0..<info.moduleCount {
            guard let module = info.module(index) else { violation("module \(index) of \(info.moduleCount) missing") }
            invariant(module.end >= module.start, "module \(index) ends before it starts")
            if let text = module.commandLine { texts.append(text) }
        }
        for text in texts {
            invariant(text.count >= 0 && text.count <= BootInfo.stringLimit, "string of \(text.count) bytes")
            guard let bytes = text.read(from: memory) else {
                violation("a string the parser found at \(hex(text.address)) is not readable")
            }
            for i in 0..<bytes.count { invariant(bytes[i] != 0, "a NUL inside a string at \(hex(text.address))") }
        }
        if let location = info.memoryMapLocation {
            var walked: [MemoryMapEntry] = []
            location.forEach(reader: memory) { walked.append($0) }
            invariant(walked.count == info.memoryMapCount + info.memoryMapDropped, "map walked \(walked.count) entries, kept \(info.memoryMapCount) + dropped \(info.memoryMapDropped)")
            for index in 0..<info.memoryMapCount {
                invariant(info.memoryMapEntry(index) == walked[index], "map entry \(index) differs on a second walk")
            }
        } else {
            invariant(info.memoryMapCount == 0, "map entries without a map")
        }
        for copy in [info.acpiOldRSDPCopy, info.acpiNewRSDPCopy] {
            guard let copy else { continue }
            invariant(info.bootProtocol == .multiboot2, "an RSDP copy from Multiboot 1")
            invariant(memory.window(at: copy.address, count: copy.count) != nil, "RSDP copy not readable")
            invariant(copy.address >= infoAddress, "RSDP copy before the boot information")
        }
        _ = RSDP.locate(reader: memory, multibootCopy: info.acpiRSDPCopy)
    }

    static func symbols(_ input: inout FuzzInput) {
        let lookups = (0..<Int(input.byte() % 8)).map { _ in input.u64() }
        let blob = ExactBuffer(copying: input.rest())
        guard let table = try? SymbolTable(blob: blob.raw) else { trace("symbols: refused"); return }
        trace("symbols: \(table.count)")
        var addresses: [UInt64] = []
        for index in 0..<table.count {
            guard let symbol = table.symbol(index) else { violation("symbol \(index) of \(table.count) missing") }
            invariant(blob.holds(symbol.name), "symbol \(index)'s name outside the blob")
            invariant(symbol.name.count <= SymbolTable.maximumNameLength, "name of \(symbol.name.count) bytes")
            invariant(addresses.last.map { $0 <= symbol.address } ?? true, "symbols out of order")
            addresses.append(symbol.address)
        }
        invariant(table.symbol(table.count) == nil && table.symbol(-1) == nil, "symbol() beyond the count")
        var queries = lookups
        for a in addresses.prefix(4) { queries += [a, a &- 1, a &+ 1] }
        for address in queries {
            let found = table.nearestSymbol(to: address)
            let last = addresses.lastIndex { $0 <= address }
            let inRange = table.endAddress == 0 || address < table.endAddress
            guard let found else {
                invariant(last == nil || !inRange, "no symbol for \(hex(address)) though symbol \(last!) is below it")
                continue
            }
            guard let last, inRange else { violation("a symbol for \(hex(address)), below every symbol or past the end") }
            invariant(found.offset == address - addresses[last], "offset \(found.offset) for \(hex(address))")
            invariant(blob.holds(found.name), "found name outside the blob")
            var sink = ByteBufferSink()
            sink.write(symbolFor: address, in: table)
        }
    }
}
