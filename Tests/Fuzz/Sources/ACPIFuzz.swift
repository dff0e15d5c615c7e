// Target "acpi": the ACPI parsers (Firmware/): RSDP search, the RSDT/XSDT directory, MADT,
// FADT, HPET, the DSDT's \_S5_ package, and the printers, run the way FirmwareSetup does.
//
// Input: a mode byte, then either physical memory regions (mode 0: discovery as at boot,
// with the RSDP's checksums optionally repaired so mutations reach the tables) or one
// table's bytes (modes 1-4: MADT, FADT, HPET, AML) with a checksum-fix flag.
// Invariants: no read outside any window the reader handed out (ASan on exact copies);
// the directory keeps at most its capacity and every table it lists has a readable header
// and the signature `first` looked for; the XSDT is used only with a valid extended RSDP;
// MADT lists within their capacities, accessors answer exactly below the counts, overrides
// found for an IRQ are that IRQ's; FADT lengths within the table; printers always write.

enum ACPIFuzz {
    static func run(_ input: inout FuzzInput) {
        let mode = input.byte() % 5
        if mode == 0 { discovery(&input); return }
        let fix = input.bool()
        var bytes = Array(input.rest())
        if fix && bytes.count >= 36 {
            bytes[9] = 0
            bytes[9] = 0 &- bytes.reduce(UInt8(0), &+)
        }
        let table = ExactBuffer(bytes)
        var sink = ByteBufferSink()
        switch mode {
        case 1:
            if let madt = try? MADT.parse(table.window) { checkMADT(madt, &sink) }
        case 2:
            if let fadt = try? FADT.parse(table.window) { checkFADT(fadt, length: table.count, facs: nil, &sink) }
        case 3:
            if let hpet = try? HPETTable.parse(table.window) {
                ACPIPrinter.printHPET(hpet, into: &sink)
                invariant(!sink.bytes.isEmpty, "printHPET wrote nothing")
            }
        default:
            for state in -1...6 { _ = ACPISleepType.find(state: state, in: table.window) }
        }
    }

    static func discovery(_ input: inout FuzzInput) {
        let memory = FuzzPhysicalMemory()
        let flags = input.byte()
        memory.addRegions(from: &input, count: 1 + Int(input.byte() % 6), maximumSize: 0x4_0000)
        if flags & 1 != 0 { memory.fixRSDPChecksums() }
        if flags & 2 != 0 {
            // Tables at 16-byte steps in the first region that look like headers get fixed sums.
            if !memory.regions.isEmpty {
                var offset = 0
                while offset + 36 <= memory.regions[0].bytes.count && offset < 0x1_0000 {
                    memory.fixTableChecksum(region: 0, offset: offset)
                    offset += 16
                }
            }
        }
        defer { memory.release() }
        let copy: PhysicalRange? = flags & 4 != 0 ? PhysicalRange(address: input.pick(FuzzPhysicalMemory.bases) &+ UInt64(input.u16()), count: 36) : nil
        let rsdp: RSDP?
        if flags & 8 != 0 {
            rsdp = RSDP.parse(at: copy?.address ?? 0xF_59D0, reader: memory)
        } else {
            rsdp = RSDP.locate(reader: memory, multibootCopy: copy, preferFirmwareCopy: flags & 16 != 0)
        }
        guard let rsdp else { trace("acpi: no RSDP"); return }
        var sink = ByteBufferSink()
        ACPIPrinter.printRSDP(rsdp, into: &sink)
        invariant(rsdp.length >= 20 && rsdp.length <= RSDP.maximumExtendedLength, "RSDP length \(rsdp.length)")
        if rsdp.xsdtAddress != nil { invariant(rsdp.revision >= 2 && rsdp.extendedChecksumValid, "XSDT without a valid extended RSDP") }

        let directory: ACPITableDirectory
        do { directory = try ACPITableDirectory.load(rsdp: rsdp, reader: memory) }
        catch { error.describe(into: &sink); trace("acpi: \(error)"); return }
        trace("acpi: RSDP at \(hex(rsdp.address)), \(directory.count) tables via \(directory.usesXSDT ? "XSDT" : "RSDT")")
        if directory.usesXSDT { invariant(rsdp.xsdtAddress != nil, "XSDT used but the RSDP names none") }
        invariant(directory.count >= 0 && directory.count <= ACPITableDirectory.capacity, "directory count \(directory.count)")
        for index in 0..<directory.count {
            guard let table = directory.table(index) else { violation("table \(index) of \(directory.count) missing") }
            ACPIPrinter.printTable(table, into: &sink)
            ACPIPrinter.printProblem(table, into: &sink)
            if table.isUsable, !table.isFACS, table.length <= 0x10_0000 {
                _ = table.bytes(reader: memory)
            }
        }
        invariant(directory.table(directory.count) == nil && directory.table(-1) == nil, "table beyond the count")
        ACPIPrinter.printDirectory(directory, into: &sink)
        invariant(!sink.bytes.isEmpty, "printing the directory wrote nothing")

        for signature in [ACPISignature.fadt, .madt, .hpet, .facs, .dsdt] {
            if let table = directory.first(signature) {
                invariant(table.signature == signature, "first(\(signature)) gave \(table.signature)")
            }
        }
        if let table = directory.first(.fadt), let window = table.bytes(reader: memory) {
            if let fadt = try? FADT.parse(window) {
                checkFADT(fadt, length: window.count, facs: directory.first(.facs), &sink)
                if let dsdt = ACPITable.load(at: fadt.dsdtAddress, reader: memory), dsdt.length <= 0x10_0000,
                   let body = dsdt.bytes(reader: memory) {
                    _ = ACPISleepType.find(state: 5, in: body)
                }
            }
        }
        if let table = directory.first(.madt), let window = table.bytes(reader: memory),
           let madt = try? MADT.parse(window) {
            checkMADT(madt, &sink)
        }
        if let table = directory.first(.hpet), let window = table.bytes(reader: memory),
           let hpet = try? HPETTable.parse(window) {
            ACPIPrinter.printHPET(hpet, into: &sink)
        }
    }

    static func checkFADT(_ fadt: FADT, length: Int, facs: ACPITable?, _ sink: inout ByteBufferSink) {
        invariant(fadt.length >= FADT.minimumLength && fadt.length <= length, "FADT length \(fadt.length) of \(length)")
        ACPIPrinter.printPMTimer(fadt, into: &sink)
        ACPIPrinter.printSleepInfo(fadt, facs: facs, into: &sink)
        _ = fadt.dsdtAddress
    }

    static func checkMADT(_ madt: MADT, _ sink: inout ByteBufferSink) {
        invariant(madt.cpuCount <= MADT.cpuCapacity && madt.ioAPICCount <= MADT.ioAPICCapacity
                  && madt.overrideCount <= MADT.overrideCapacity && madt.localNMICount <= MADT.nmiCapacity
                  && madt.nmiSourceCount <= MADT.nmiCapacity,
                  "MADT counts \(madt.cpuCount) \(madt.ioAPICCount) \(madt.overrideCount) \(madt.localNMICount) \(madt.nmiSourceCount)")
        invariant(madt.cpu(madt.cpuCount) == nil && madt.cpu(-1) == nil && (madt.cpuCount == 0 || madt.cpu(madt.cpuCount - 1) != nil),
                  "cpu() around the count")
        invariant(madt.ioAPIC(madt.ioAPICCount) == nil && (madt.ioAPICCount == 0 || madt.ioAPIC(madt.ioAPICCount - 1) != nil),
                  "ioAPIC() around the count")
        invariant(madt.override(madt.overrideCount) == nil && madt.localNMI(madt.localNMICount) == nil
                  && madt.nmiSource(madt.nmiSourceCount) == nil, "accessors beyond the counts")
        for irq in UInt8(0)..<16 {
            if let found = madt.overrideForLegacyIRQ(irq) {
                invariant(found.sourceIRQ == irq,
                          "override for IRQ \(irq) is IRQ \(found.sourceIRQ)'s")
            }
        }
        for verbose in [false, true] { ACPIPrinter.printMADT(madt, verbose: verbose, into: &sink) }
        ACPIPrinter.printLocalAPICAddress(madt, into: &sink)
        ACPIPrinter.printLocalAPICs(madt, into: &sink)
        ACPIPrinter.printLocalNMIs(madt, into: &sink)
        ACPIPrinter.printIOAPICs(madt, into: &sink)
        ACPIPrinter.printOverrides(madt, into: &sink)
        ACPIPrinter.printLegacyIRQsUsedByOverrides(madt, into: &sink)
        ACPIPrinter.printNMISources(madt, into: &sink)
    }
}
