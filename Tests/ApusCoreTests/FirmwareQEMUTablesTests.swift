import XCTest
@testable import ApusCore

/// The parsers against real firmware bytes: SeaBIOS's tables under QEMU 7.2.
final class FirmwareQEMUTablesTests: XCTestCase {
    private func machine() -> FakePhysicalMemory {
        let memory = FakePhysicalMemory()
        var bda = [UInt8](repeating: 0, count: 0x100)
        bda[0x0E] = UInt8(QEMUSeaBIOSTables.ebdaSegment & 0xFF)
        bda[0x0F] = UInt8(QEMUSeaBIOSTables.ebdaSegment >> 8)
        memory.add(at: 0x400, bytes: bda)
        memory.add(at: UInt64(QEMUSeaBIOSTables.ebdaSegment) << 4, zeroes: 0x400)
        memory.add(at: 0xE0000, zeroes: 0x20000)
        memory.write(at: QEMUSeaBIOSTables.rsdpAddress, bytes: QEMUSeaBIOSTables.rsdp)
        memory.add(at: QEMUSeaBIOSTables.tablesBase, bytes: QEMUSeaBIOSTables.tables)
        return memory
    }

    func testTheWholeChain() throws {
        let memory = machine()
        let rsdp = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: nil))
        XCTAssertEqual(rsdp.address, 0xF59D0)
        XCTAssertEqual(rsdp.source, .biosArea)
        XCTAssertEqual(rsdp.revision, 0)

        let directory = try ACPITableDirectory.load(rsdp: rsdp, reader: memory)
        var sink = ByteBufferSink()
        ACPIPrinter.printDirectory(directory, into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: RSDP 000F59D0, 0014 (r0 BOCHS )
            ACPI: RSDT 3FFE1B33, 0034 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: FACP 3FFE19DF, 0074 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: DSDT 3FFE0040, 199F (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: FACS 3FFE0000, 0040
            ACPI: APIC 3FFE1A53, 0080 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: HPET 3FFE1AD3, 0038 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: WAET 3FFE1B0B, 0028 (r1 BOCHS  BXPC            1 BXPC        1)

            """)
        for index in 0..<directory.count {
            let table = directory.table(index)!
            XCTAssertTrue(table.status == .valid || table.status == .notChecksummed, "\(index): \(table.status)")
        }

        let fadt = try FADT.parse(XCTUnwrap(directory.first(.fadt)?.bytes(reader: memory)))
        XCTAssertEqual(fadt.pm1aControl.address, 0x604)
        XCTAssertEqual(fadt.pm1aEvent.address, 0x600)
        XCTAssertFalse(fadt.pm1bControl.isPresent)
        XCTAssertEqual(fadt.sciInterrupt, 9)
        XCTAssertEqual(fadt.dsdtAddress, 0x3FFE_0040)
        XCTAssertEqual(fadt.facsAddress, 0x3FFE_0000)
        XCTAssertEqual(fadt.century, 0x32)
        XCTAssertTrue(fadt.has8042)
        XCTAssertFalse(fadt.canResetThroughRegister)

        let madt = try MADT.parse(XCTUnwrap(directory.first(.madt)?.bytes(reader: memory)))
        XCTAssertEqual(madt.cpuCount, 2)
        XCTAssertEqual(madt.ioAPIC(0), MADTIOAPIC(id: 0, address: 0xFEC0_0000, gsiBase: 0))
        XCTAssertEqual(madt.overrideCount, 5)
        XCTAssertFalse(madt.truncated)
        let hpet = try HPETTable.parse(XCTUnwrap(directory.first(.hpet)?.bytes(reader: memory)))

        let dsdt = try XCTUnwrap(directory.first(.dsdt)?.bytes(reader: memory))
        let s5 = try XCTUnwrap(ACPISleepType.find(state: 5, in: dsdt))
        XCTAssertEqual(s5, ACPISleepType(typeA: 0, typeB: 0))
        XCTAssertEqual(s5.pm1aControlValue(), 0x2000)   // what QEMU's PIIX PM takes as "power off"

        sink = ByteBufferSink()
        ACPIPrinter.printPMTimer(fadt, into: &sink)
        ACPIPrinter.printSleepInfo(fadt, facs: directory.first(.facs), into: &sink)
        ACPIPrinter.printMADT(madt, verbose: true, into: &sink)
        ACPIPrinter.printHPET(hpet, into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: PM-Timer IO Port: 0x608 (24 bits)
            ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]
            ACPI:             wakeup_vec[3ffe000c], vec_size[20]
            ACPI: Local APIC address 0xfee00000
            ACPI: LAPIC (acpi_id[0x00] lapic_id[0x00] enabled)
            ACPI: LAPIC (acpi_id[0x01] lapic_id[0x01] enabled)
            ACPI: LAPIC_NMI (acpi_id[0xff] dfl dfl lint[0x1])
            ACPI: IOAPIC (id[0x00] address[0xfec00000] gsi_base[0])
            ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)
            ACPI: INT_SRC_OVR (bus 0 bus_irq 5 global_irq 5 high level)
            ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)
            ACPI: INT_SRC_OVR (bus 0 bus_irq 10 global_irq 10 high level)
            ACPI: INT_SRC_OVR (bus 0 bus_irq 11 global_irq 11 high level)
            ACPI: IRQ0 used by override.
            ACPI: IRQ2 used by override.
            ACPI: IRQ5 used by override.
            ACPI: IRQ9 used by override.
            ACPI: IRQ10 used by override.
            ACPI: IRQ11 used by override.
            ACPI: HPET id: 0x8086a201 base: 0xfed00000

            """)
    }

    /// Through a Multiboot2 RSDP copy (as GRUB passes it) the same tables are found.
    func testThroughTheMultibootCopy() throws {
        let memory = machine()
        memory.add(at: 0x9000, bytes: QEMUSeaBIOSTables.rsdp)
        let rsdp = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: PhysicalRange(address: 0x9000, count: 20)))
        XCTAssertEqual(rsdp.source, .multibootCopy)
        XCTAssertEqual(try ACPITableDirectory.load(rsdp: rsdp, reader: memory).count, 6)
    }

    /// Flipping any single byte of the real tables never traps anything downstream.
    func testEverySingleByteFlip() throws {
        let tables = QEMUSeaBIOSTables.tables
        // Every byte outside the DSDT body, and a stride through the DSDT.
        let offsets = Array(0..<0x80) + Array(stride(from: 0x80, to: 0x19DF, by: 37)) + Array(0x19DF..<tables.count)
        for offset in offsets {
            let memory = machine()
            memory.write(at: QEMUSeaBIOSTables.tablesBase + UInt64(offset), bytes: [tables[offset] ^ 0xFF])
            guard let rsdp = RSDP.locate(reader: memory, multibootCopy: nil),
                  let directory = try? ACPITableDirectory.load(rsdp: rsdp, reader: memory) else { continue }
            var sink = ByteBufferSink()
            ACPIPrinter.printDirectory(directory, into: &sink)
            for index in 0..<directory.count {
                guard let window = directory.table(index)!.bytes(reader: memory) else { continue }
                if let madt = try? MADT.parse(window) { ACPIPrinter.printMADT(madt, verbose: true, into: &sink) }
                if let fadt = try? FADT.parse(window) { ACPIPrinter.printSleepInfo(fadt, facs: directory.first(.facs), into: &sink) }
                _ = ACPISleepType.find(state: 5, in: window)
            }
        }
    }
}
