import XCTest
@testable import ApusCore

final class FirmwareMADTTests: XCTestCase {
    private func parse(_ entries: [ACPIBuilder.MADTEntry], address: UInt32 = 0xFEE0_0000) throws -> MADT {
        try withWindow(ACPIBuilder.madt(localAPICAddress: address, entries)) { try MADT.parse($0) }
    }

    func testEveryEntryType() throws {
        let madt = try parse([
            .localAPIC(uid: 0, apicID: 0, flags: 1),
            .localAPIC(uid: 1, apicID: 2, flags: 0),
            .localAPIC(uid: 2, apicID: 4, flags: 2),
            .x2APIC(apicID: 0x100, flags: 1, uid: 3),
            .ioAPIC(id: 8, address: 0xFEC0_0000, gsiBase: 0),
            .ioAPIC(id: 9, address: 0xFEC0_1000, gsiBase: 24),
            .override(bus: 0, irq: 0, gsi: 2, flags: 0),
            .override(bus: 0, irq: 9, gsi: 9, flags: 0xF),
            .nmiSource(flags: 5, gsi: 3),
            .localNMI(uid: 0xFF, flags: 0, lint: 1),
            .x2APICNMI(flags: 0xD, uid: 0xFFFF_FFFF, lint: 0),
            .addressOverride(0x1_FEE0_0000),
        ])
        XCTAssertEqual(madt.localAPICAddress32, 0xFEE0_0000)
        XCTAssertEqual(madt.localAPICAddress, 0x1_FEE0_0000)
        XCTAssertTrue(madt.hasDual8259)
        XCTAssertEqual(madt.cpuCount, 4)
        XCTAssertEqual(madt.cpu(1), MADTLocalAPIC(processorUID: 1, apicID: 2, flags: 0, isX2APIC: false))
        XCTAssertEqual((0..<4).map { madt.cpu($0)!.isUsable }, [true, false, true, true])
        XCTAssertTrue(madt.cpu(2)!.isOnlineCapable)
        XCTAssertFalse(madt.cpu(2)!.isEnabled)
        XCTAssertEqual(madt.cpu(3), MADTLocalAPIC(processorUID: 3, apicID: 0x100, flags: 1, isX2APIC: true))
        XCTAssertEqual(madt.ioAPICCount, 2)
        XCTAssertEqual(madt.ioAPIC(1), MADTIOAPIC(id: 9, address: 0xFEC0_1000, gsiBase: 24))
        XCTAssertEqual(madt.overrideCount, 2)
        XCTAssertEqual(madt.overrideForLegacyIRQ(9)?.flags.polarity, 3)
        XCTAssertEqual(madt.overrideForLegacyIRQ(9)?.flags.trigger, 3)
        XCTAssertEqual(madt.overrideForLegacyIRQ(0)?.gsi, 2)
        XCTAssertNil(madt.overrideForLegacyIRQ(4))
        XCTAssertEqual(madt.nmiSource(0), MADTNMISource(flags: MPSInterruptFlags(rawValue: 5), gsi: 3))
        XCTAssertEqual(madt.localNMICount, 2)
        XCTAssertTrue(madt.localNMI(0)!.appliesToAllProcessors)
        XCTAssertTrue(madt.localNMI(1)!.appliesToAllProcessors)
        XCTAssertEqual(madt.localNMI(1)!.lint, 0)
        XCTAssertFalse(madt.truncated)
        XCTAssertEqual(madt.unknownEntries, 0)

        var sink = ByteBufferSink()
        ACPIPrinter.printMADT(madt, verbose: true, into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: Local APIC address 0xfee00000
            ACPI: LAPIC (acpi_id[0x00] lapic_id[0x00] enabled)
            ACPI: LAPIC (acpi_id[0x01] lapic_id[0x02] disabled)
            ACPI: LAPIC (acpi_id[0x02] lapic_id[0x04] disabled)
            ACPI: X2APIC (apic_id[0x100] uid[0x03] enabled)
            ACPI: LAPIC_NMI (acpi_id[0xff] dfl dfl lint[0x1])
            ACPI: X2APIC_NMI (uid[0xffffffff] high level lint[0])
            ACPI: IOAPIC (id[0x08] address[0xfec00000] gsi_base[0])
            ACPI: IOAPIC (id[0x09] address[0xfec01000] gsi_base[24])
            ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)
            ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 low level)
            ACPI: IRQ0 used by override.
            ACPI: IRQ2 used by override.
            ACPI: IRQ9 used by override.
            ACPI: NMI_SRC (high edge global_irq 3)

            """)
        // Not verbose: no per-CPU lines, as in Xen's default log.
        var quiet = ByteBufferSink()
        ACPIPrinter.printMADT(madt, verbose: false, into: &quiet)
        XCTAssertFalse(quiet.text.contains("LAPIC ("))
        XCTAssertFalse(quiet.text.contains("NMI ("))
    }

    func testReservedOverrideFlagsAreMentioned() throws {
        let madt = try parse([.override(bus: 0, irq: 1, gsi: 1, flags: 0x35)])
        var sink = ByteBufferSink()
        ACPIPrinter.printOverrides(madt, into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: INT_SRC_OVR (bus 0 bus_irq 1 global_irq 1 high edge)
            ACPI: INT_SRC_OVR unexpected reserved flags: 0x30

            """)
    }

    func testZeroLengthEntryEndsTheWalk() throws {
        let madt = try parse([.localAPIC(uid: 0, apicID: 0, flags: 1), .raw([0, 0, 1, 1, 1, 0, 0, 0]),
                              .localAPIC(uid: 1, apicID: 1, flags: 1)])
        XCTAssertEqual(madt.cpuCount, 1)
        XCTAssertTrue(madt.truncated)
        let one = try parse([.raw([0, 1])])
        XCTAssertTrue(one.truncated)
    }

    func testEntryPastTheEndAndShortEntries() throws {
        // The last entry claims 200 bytes.
        let past = try parse([.ioAPIC(id: 1, address: 2, gsiBase: 3), .raw([1, 200, 0, 0])])
        XCTAssertEqual(past.ioAPICCount, 1)
        XCTAssertTrue(past.truncated)
        // A local APIC entry of length 4 is skipped, the walk goes on; unknown types are counted.
        let short = try parse([.raw([0, 4, 7, 7]), .raw([0x7F, 3, 0]), .localAPIC(uid: 5, apicID: 6, flags: 1)])
        XCTAssertEqual(short.shortEntriesSkipped, 1)
        XCTAssertEqual(short.unknownEntries, 1)
        XCTAssertEqual(short.cpu(0)?.apicID, 6)
        XCTAssertFalse(short.truncated)
        // Longer entries than the type needs are accepted (newer ACPI revisions grow them).
        let long = try parse([.raw([1, 16, 3, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0, 9, 9, 9, 9])])
        XCTAssertEqual(long.ioAPIC(0), MADTIOAPIC(id: 3, address: 0xFEC0_0000, gsiBase: 0))
    }

    func testTableLengthBoundsTheWalk() throws {
        // A MADT whose length field stops before its last entry: that entry is not seen.
        var bytes = ACPIBuilder.madt([.localAPIC(uid: 0, apicID: 0, flags: 1), .localAPIC(uid: 1, apicID: 1, flags: 1)])
        bytes.fwSetLE32(UInt32(bytes.count - 8), at: 4)
        XCTAssertEqual(try withWindow(bytes) { try MADT.parse($0) }.cpuCount, 1)
        // One that stops inside its last entry: the entry is cut, so it is not used.
        bytes.fwSetLE32(UInt32(bytes.count - 4), at: 4)
        let cut = try withWindow(bytes) { try MADT.parse($0) }
        XCTAssertEqual(cut.cpuCount, 1)
        XCTAssertTrue(cut.truncated)
        // A length field beyond the window is clamped to it.
        bytes.fwSetLE32(0xFFFF, at: 4)
        XCTAssertEqual(try withWindow(bytes) { try MADT.parse($0) }.cpuCount, 2)
        // Shorter than the fixed part: an error.
        XCTAssertThrowsError(try withWindow(Array(bytes.prefix(40))) { try MADT.parse($0) }) {
            XCTAssertEqual($0 as? ACPIError, .tableTooShort(signature: .madt, length: 40))
        }
    }

    func testCapacities() throws {
        var entries: [ACPIBuilder.MADTEntry] = (0..<300).map { .x2APIC(apicID: UInt32($0), flags: 1, uid: UInt32($0)) }
        entries += (0..<10).map { .ioAPIC(id: UInt8($0), address: 0xFEC0_0000 + UInt32($0) << 12, gsiBase: UInt32($0) * 24) }
        entries += (0..<20).map { .override(bus: 0, irq: UInt8($0), gsi: UInt32($0), flags: 0) }
        entries += (0..<20).map { .localNMI(uid: UInt8($0), flags: 0, lint: 1) }
        let madt = try parse(entries)
        XCTAssertEqual(madt.cpuCount, MADT.cpuCapacity)
        XCTAssertEqual(madt.cpusDropped, 44)
        XCTAssertEqual(madt.cpu(255)?.apicID, 255)
        XCTAssertNil(madt.cpu(256))
        XCTAssertEqual(madt.ioAPICCount, MADT.ioAPICCapacity)
        XCTAssertEqual(madt.ioAPICsDropped, 2)
        XCTAssertEqual(madt.overrideCount, MADT.overrideCapacity)
        XCTAssertEqual(madt.overridesDropped, 4)
        XCTAssertEqual(madt.localNMICount, MADT.nmiCapacity)
        XCTAssertEqual(madt.localNMIsDropped, 4)
    }

    /// Random entry streams: no trap, no endless loop, counts add up to what was accepted.
    func testRandomEntriesAreHandledSafely() {
        var random = SeededGenerator(seed: 0x3AD7)
        for _ in 0..<2000 {
            var raw: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                let type = UInt8.random(in: 0...11, using: &random)
                let length = UInt8.random(in: 0...20, using: &random)
                raw += [type, length] + (0..<Int.random(in: 0...18, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            let bytes = ACPIBuilder.madt([.raw(raw)])
            guard let madt = try? withWindow(bytes, { try MADT.parse($0) }) else {
                XCTFail("a well-sized MADT must parse")
                continue
            }
            XCTAssertLessThanOrEqual(madt.cpuCount, MADT.cpuCapacity)
            XCTAssertLessThanOrEqual(madt.ioAPICCount, MADT.ioAPICCapacity)
            XCTAssertLessThanOrEqual(madt.cpuCount + madt.ioAPICCount + madt.overrideCount + madt.localNMICount
                                     + madt.nmiSourceCount + madt.shortEntriesSkipped + madt.unknownEntries,
                                     raw.count / 2)
            var sink = ByteBufferSink()
            ACPIPrinter.printMADT(madt, verbose: true, into: &sink)
        }
    }
}
