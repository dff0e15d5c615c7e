// ACPIPrinting: the boot-log lines Xen prints about ACPI, in Xen's exact wording and widths.
//
// Users and the reference tests compare Apus's log with Xen's line by line, so the formats
// follow Xen 4.17's printk formats (facts, not code): table lines "%4.4s %08lX, %04X (r%d %6.6s
// %8.8s %8X %4.4s %8X)", MADT entry lines with polarity/trigger names dfl/high/res/low and
// dfl/edge/res/level, LAPIC/X2APIC/LAPIC_NMI lines only when verbose (Xen's acpi_verbose).
// Each function writes whole lines ending in a newline, without the console's "(XEN) " prefix.
// Owns: formatting only; it reads the parsed structures and never memory.
// Imports nothing.

public enum ACPIPrinter {
    // MARK: Tables

    /// `ACPI: RSDP 000F59D0, 0014 (r0 BOCHS )`
    public static func printRSDP<Sink: TextSink>(_ rsdp: RSDP, into sink: inout Sink) {
        sink.write("ACPI: RSDP ")
        sink.writeUpperHex(rsdp.address, width: 8, pad: 0x30)
        sink.write(", ")
        sink.writeUpperHex(UInt64(rsdp.revision > 0 ? rsdp.length : 20), width: 4, pad: 0x30)
        sink.write(" (r")
        sink.write(decimal: UInt64(rsdp.revision))
        sink.put(0x20)
        sink.writeFixed(rsdp.oemID, width: 6)
        sink.writeLine(")")
    }

    /// `ACPI: FACP 3FFE19EB, 0074 (r1 BOCHS  BXPC            1 BXPC        1)`, or for the
    /// FACS, which has no such fields, `ACPI: FACS 3FFE0000, 0040`.
    public static func printTable<Sink: TextSink>(_ table: ACPITable, into sink: inout Sink) {
        let header = table.header
        sink.write("ACPI: ")
        sink.writeFixed(header.signature.text, width: 4)
        sink.put(0x20)
        sink.writeUpperHex(table.address, width: 8, pad: 0x30)
        sink.write(", ")
        sink.writeUpperHex(UInt64(header.length), width: 4, pad: 0x30)
        if table.isFACS {
            sink.newline()
            return
        }
        sink.write(" (r")
        sink.write(decimal: UInt64(header.revision))
        sink.put(0x20)
        sink.writeFixed(header.oemID, width: 6)
        sink.put(0x20)
        sink.writeFixed(header.oemTableID, width: 8)
        sink.put(0x20)
        sink.writeUpperHex(UInt64(header.oemRevision), width: 8, pad: 0x20)
        sink.put(0x20)
        sink.writeFixed(header.creatorID, width: 4)
        sink.put(0x20)
        sink.writeUpperHex(UInt64(header.creatorRevision), width: 8, pad: 0x20)
        sink.writeLine(")")
    }

    /// What is wrong with a table, if anything, as one warning line; nothing for a good table.
    public static func printProblem<Sink: TextSink>(_ table: ACPITable, into sink: inout Sink) {
        switch table.status {
        case .valid, .notChecksummed:
            return
        case .badChecksum:
            sink.write("ACPI Warning: Incorrect checksum in table [")
            sink.writeFixed(table.signature.text, width: 4)
            sink.write("] - ")
            sink.writeUpperHex(UInt64(table.header.checksum), width: 2, pad: 0x30)
            sink.write(", should be ")
            sink.writeUpperHex(UInt64(table.expectedChecksum ?? 0), width: 2, pad: 0x30)
            sink.newline()
        case .badLength:
            sink.write("ACPI Warning: Invalid length ")
            sink.write(hex0x: UInt64(table.length))
            sink.write(" in table [")
            sink.writeFixed(table.signature.text, width: 4)
            sink.writeLine("]")
        case .bodyUnreadable:
            sink.write("ACPI Warning: Table [")
            sink.writeFixed(table.signature.text, width: 4)
            sink.write("] at ")
            sink.write(hex0x: table.address)
            sink.writeLine(" is not readable")
        }
    }

    /// The RSDP, the root table and every table, each followed by its warning if it has one.
    public static func printDirectory<Sink: TextSink>(_ directory: ACPITableDirectory, into sink: inout Sink) {
        printRSDP(directory.rsdp, into: &sink)
        printTable(directory.root, into: &sink)
        printProblem(directory.root, into: &sink)
        for index in 0..<directory.count {
            let table = directory.tables[index]
            printTable(table, into: &sink)
            printProblem(table, into: &sink)
        }
    }

    // MARK: MADT

    /// Everything Xen prints while it walks the MADT, in its order.
    public static func printMADT<Sink: TextSink>(_ madt: MADT, verbose: Bool, into sink: inout Sink) {
        printLocalAPICAddress(madt, into: &sink)
        if verbose {
            printLocalAPICs(madt, into: &sink)
            printLocalNMIs(madt, into: &sink)
        }
        printIOAPICs(madt, into: &sink)
        printOverrides(madt, into: &sink)
        printLegacyIRQsUsedByOverrides(madt, into: &sink)
        printNMISources(madt, into: &sink)
    }

    /// `ACPI: Local APIC address 0xfee00000` (nothing when the header's address is zero).
    public static func printLocalAPICAddress<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        guard madt.localAPICAddress32 != 0 else { return }
        sink.write("ACPI: Local APIC address ")
        sink.write(hex0x: UInt64(madt.localAPICAddress32), minimumDigits: 8)
        sink.newline()
    }

    /// `ACPI: LAPIC (acpi_id[0x00] lapic_id[0x00] enabled)` and
    /// `ACPI: X2APIC (apic_id[0x00] uid[0x00] enabled)`: the legacy entries, then the x2APIC ones.
    public static func printLocalAPICs<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        for pass in 0..<2 {
            for index in 0..<madt.cpuCount where madt.cpus[index].isX2APIC == (pass == 1) {
                let cpu = madt.cpus[index]
                if cpu.isX2APIC {
                    sink.write("ACPI: X2APIC (apic_id[")
                    sink.write(hex0x: UInt64(cpu.apicID), minimumDigits: 2)
                    sink.write("] uid[")
                    sink.write(hex0x: UInt64(cpu.processorUID), minimumDigits: 2)
                } else {
                    sink.write("ACPI: LAPIC (acpi_id[")
                    sink.write(hex0x: UInt64(cpu.processorUID), minimumDigits: 2)
                    sink.write("] lapic_id[")
                    sink.write(hex0x: UInt64(cpu.apicID), minimumDigits: 2)
                }
                sink.write("] ")
                if cpu.isEnabled { sink.write("enabled") } else { sink.write("disabled") }
                sink.writeLine(")")
            }
        }
    }

    /// `ACPI: LAPIC_NMI (acpi_id[0xff] dfl dfl lint[0x1])` / `ACPI: X2APIC_NMI (uid[...] ...)`.
    public static func printLocalNMIs<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        for pass in 0..<2 {
            for index in 0..<madt.localNMICount where madt.localNMIs[index].isX2APIC == (pass == 1) {
                let nmi = madt.localNMIs[index]
                sink.write(nmi.isX2APIC ? "ACPI: X2APIC_NMI (uid[" : "ACPI: LAPIC_NMI (acpi_id[")
                sink.write(hex0x: UInt64(nmi.processorUID), minimumDigits: 2)
                sink.write("] ")
                sink.writeMPSFlags(nmi.flags)
                sink.write(" lint[")
                sink.writeAlternateHex(UInt64(nmi.lint))
                sink.writeLine("])")
            }
        }
    }

    /// `ACPI: IOAPIC (id[0x00] address[0xfec00000] gsi_base[0])`
    public static func printIOAPICs<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        for index in 0..<madt.ioAPICCount {
            let ioAPIC = madt.ioAPICs[index]
            sink.write("ACPI: IOAPIC (id[")
            sink.write(hex0x: UInt64(ioAPIC.id), minimumDigits: 2)
            sink.write("] address[")
            sink.write(hex0x: UInt64(ioAPIC.address), minimumDigits: 8)
            sink.write("] gsi_base[")
            sink.writeSigned32(ioAPIC.gsiBase)
            sink.writeLine("])")
        }
    }

    /// `ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)`, plus Xen's note on
    /// reserved flag bits when an entry has them.
    public static func printOverrides<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        for index in 0..<madt.overrideCount {
            let item = madt.overrides[index]
            sink.write("ACPI: INT_SRC_OVR (bus ")
            sink.write(decimal: UInt64(item.bus))
            sink.write(" bus_irq ")
            sink.write(decimal: UInt64(item.sourceIRQ))
            sink.write(" global_irq ")
            sink.writeSigned32(item.gsi)
            sink.put(0x20)
            sink.writeMPSFlags(item.flags)
            sink.writeLine(")")
            if item.flags.reservedBits != 0 {
                sink.write("ACPI: INT_SRC_OVR unexpected reserved flags: ")
                sink.write(hex0x: UInt64(item.flags.reservedBits))
                sink.newline()
            }
        }
    }

    /// `ACPI: IRQ0 used by override.` for each ISA IRQ 0-15 that an override takes as its
    /// source or lands on (its IOAPIC pin, counted from the owning IOAPIC's GSI base).
    public static func printLegacyIRQsUsedByOverrides<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        guard madt.ioAPICCount > 0 else { return }
        for irq in 0..<16 {
            var used = false
            for index in 0..<madt.overrideCount where madt.overrides[index].bus == 0 {
                let item = madt.overrides[index]
                if Int(item.sourceIRQ) == irq || pin(of: item.gsi, in: madt) == UInt64(irq) { used = true }
            }
            guard used else { continue }
            sink.write("ACPI: IRQ")
            sink.write(decimal: irq)
            sink.writeLine(" used by override.")
        }
    }

    /// `ACPI: NMI_SRC (dfl dfl global_irq 2)`
    public static func printNMISources<Sink: TextSink>(_ madt: MADT, into sink: inout Sink) {
        for index in 0..<madt.nmiSourceCount {
            let item = madt.nmiSources[index]
            sink.write("ACPI: NMI_SRC (")
            sink.writeMPSFlags(item.flags)
            sink.write(" global_irq ")
            sink.writeSigned32(item.gsi)
            sink.writeLine(")")
        }
    }

    private static func pin(of gsi: UInt32, in madt: MADT) -> UInt64 {
        var base: UInt32 = 0
        for index in 0..<madt.ioAPICCount where madt.ioAPICs[index].gsiBase <= gsi {
            base = Swift.max(base, madt.ioAPICs[index].gsiBase)
        }
        return UInt64(gsi - base)
    }

    // MARK: FADT, FACS, HPET

    /// `ACPI: PM-Timer IO Port: 0x608 (24 bits)` (nothing without a PM timer).
    public static func printPMTimer<Sink: TextSink>(_ fadt: FADT, into sink: inout Sink) {
        let timer = fadt.pmTimer
        guard timer.port != 0 else { return }
        sink.write("ACPI: PM-Timer IO Port: ")
        sink.writeAlternateHex(UInt64(timer.port))
        sink.write(" (")
        sink.write(decimal: UInt64(timer.bits))
        sink.writeLine(" bits)")
    }

    /// `ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]` and, when `facs` is the
    /// FACS the FADT names and it is sound, `ACPI:             wakeup_vec[3ffe000c], vec_size[20]`.
    public static func printSleepInfo<Sink: TextSink>(_ fadt: FADT, facs: ACPITable?, into sink: inout Sink) {
        guard !fadt.isHardwareReduced else { return }
        sink.write("ACPI: SLEEP INFO: pm1x_cnt[")
        sink.writeSpaceAndAddress(fadt.pm1aControl)
        sink.put(0x2C)
        sink.writeSpaceAndAddress(fadt.pm1bControl)
        sink.write("], pm1x_evt[")
        sink.writeSpaceAndAddress(fadt.pm1aEvent)
        sink.put(0x2C)
        sink.writeSpaceAndAddress(fadt.pm1bEvent)
        sink.writeLine("]")

        guard fadt.facsAddress != 0, let facs, facs.address == fadt.facsAddress else { return }
        guard facs.isFACS else {
            sink.write("ACPI: Invalid FACS signature ")
            sink.writeFixed(facs.signature.text, width: 0)
            sink.newline()
            return
        }
        guard facs.length >= 24 else {
            sink.write("ACPI: Invalid FACS table length: ")
            sink.writeAlternateHex(UInt64(facs.length))
            sink.newline()
            return
        }
        if facs.length < 64 {
            sink.write("ACPI: FACS is shorter than ACPI spec allow: ")
            sink.writeAlternateHex(UInt64(facs.length))
            sink.newline()
        }
        sink.write("ACPI:             wakeup_vec[")
        sink.write(hex: facs.address &+ 12)   // firmware_waking_vector, 32 bits wide
        sink.writeLine("], vec_size[20]")
    }

    /// `ACPI: HPET id: 0x8086a201 base: 0xfed00000`
    public static func printHPET<Sink: TextSink>(_ hpet: HPETTable, into sink: inout Sink) {
        sink.write("ACPI: HPET id: ")
        sink.writeAlternateHex(UInt64(hpet.eventTimerBlockID))
        sink.write(" base: ")
        sink.writeAlternateHex(hpet.baseAddress.address)
        sink.newline()
    }
}

extension TextSink {
    /// Upper-case hex padded to `width` with `pad` (C's "%0NX" with '0', "%NX" with ' ').
    fileprivate mutating func writeUpperHex(_ value: UInt64, width: Int, pad: UInt8) {
        var digits = 1
        var rest = value >> 4
        while rest != 0 { digits += 1; rest >>= 4 }
        var fill = width - digits
        while fill > 0 { put(pad); fill -= 1 }
        var shift = (digits - 1) * 4
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF
            put(nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10)
            shift -= 4
        }
    }

    /// C's "%N.Ns": at most N bytes, stopping at a NUL, right-aligned in N columns.
    fileprivate mutating func writeFixed(_ text: ACPIFixedText, width: Int) {
        let length = text.printableCount
        var fill = width - length
        while fill > 0 { put(0x20); fill -= 1 }
        for index in 0..<length { put(text[index]) }
    }

    /// C's "%#x": "0" for zero, "0x..." otherwise.
    fileprivate mutating func writeAlternateHex(_ value: UInt64) {
        if value == 0 { put(0x30) } else { write(hex0x: value) }
    }

    /// C's "%d" applied to a 32-bit field, as Xen's format strings do.
    fileprivate mutating func writeSigned32(_ value: UInt32) {
        write(decimal: Int(Int32(bitPattern: value)))
    }

    fileprivate mutating func writeMPSFlags(_ flags: MPSInterruptFlags) {
        switch flags.polarity {
        case 0: write("dfl")
        case 1: write("high")
        case 2: write("res")
        default: write("low")
        }
        put(0x20)
        switch flags.trigger {
        case 0: write("dfl")
        case 1: write("edge")
        case 2: write("res")
        default: write("level")
        }
    }

    /// "space:address" as Xen's SLEEP INFO line has it ("%d:%x").
    fileprivate mutating func writeSpaceAndAddress(_ address: GenericAddress) {
        write(decimal: UInt64(address.spaceID))
        put(0x3A)
        write(hex: address.address)
    }
}
