import XCTest
@testable import ApusCore

final class FirmwareFADTTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) throws -> FADT { try withWindow(bytes) { try FADT.parse($0) } }

    func testQEMURevisionOneFADT() throws {
        let fadt = try parse(ACPIBuilder.fadt(facs: 0x3FFE_0000, dsdt: 0x3FFE_0040))
        XCTAssertEqual(fadt.revision, 1)
        XCTAssertEqual(fadt.length, 116)
        XCTAssertEqual(fadt.facsAddress, 0x3FFE_0000)
        XCTAssertEqual(fadt.dsdtAddress, 0x3FFE_0040)
        XCTAssertEqual(fadt.sciInterrupt, 9)
        XCTAssertEqual(fadt.smiCommandPort, 0xB2)
        XCTAssertEqual(fadt.acpiEnableValue, 0xF1)
        XCTAssertEqual(fadt.pm1aControl, GenericAddress(spaceID: 1, bitWidth: 16, bitOffset: 0, accessSize: 0, address: 0x604))
        XCTAssertEqual(fadt.pm1aEvent.address, 0x600)
        XCTAssertEqual(fadt.pm1aEvent.bitWidth, 32)
        XCTAssertFalse(fadt.pm1bControl.isPresent)
        XCTAssertEqual(fadt.gpe0Block.address, 0xAFE0)
        XCTAssertEqual(fadt.pmTimer.port, 0x608)
        XCTAssertEqual(fadt.pmTimer.bits, 24)
        XCTAssertEqual(fadt.century, 0x32)
        XCTAssertFalse(fadt.canResetThroughRegister)           // a 116-byte table has no reset register
        XCTAssertTrue(fadt.has8042)                             // revision 1: assume a PC
        XCTAssertFalse(fadt.vgaNotPresent)
        XCTAssertFalse(fadt.isHardwareReduced)
        XCTAssertNil(fadt.xPMTimerBlock)
    }

    func testRevisionFiveWithExtendedBlocks() throws {
        let ext = ACPIBuilder.fadtExtension(
            resetRegister: (GenericAddress.systemIO, 0xCF9), resetValue: 6,
            xFACS: 0x1_0000_0000, xDSDT: 0x1_0000_1000,
            xBlocks: [172: (1, 16, 0, 2, 0xB004),               // X_PM1a_CNT
                      148: (1, 32, 0, 3, 0xB000),               // X_PM1a_EVT
                      184: (0, 16, 0, 2, 0)],                   // X_PM1b_CNT: zero, so legacy (also 0)
            end: 276)
        let bytes = ACPIBuilder.fadt(revision: 5, facs: 0, dsdt: 0x2000, flags: 0x80A5 | FADT.Flag.resetRegisterSupported,
                                     bootArch: FADT.BootArchitecture.legacyDevices | FADT.BootArchitecture.vgaNotPresent,
                                     extra: ext)
        let fadt = try parse(bytes)
        XCTAssertEqual(fadt.length, 276)
        XCTAssertEqual(fadt.pm1aControl.address, 0xB004)
        XCTAssertEqual(fadt.pm1aControl.accessSize, 2)
        XCTAssertEqual(fadt.pm1aEvent.address, 0xB000)
        XCTAssertEqual(fadt.pm1bControl.address, 0)
        XCTAssertEqual(fadt.pm1bControl.spaceID, GenericAddress.systemIO)
        XCTAssertEqual(fadt.dsdtAddress, 0x1_0000_1000)          // X_DSDT wins when non-zero
        XCTAssertEqual(fadt.facsAddress, 0x1_0000_0000)          // FIRMWARE_CTRL is zero
        XCTAssertTrue(fadt.canResetThroughRegister)
        XCTAssertEqual(fadt.resetRegister.address, 0xCF9)
        XCTAssertEqual(fadt.resetValue, 6)
        XCTAssertFalse(fadt.has8042)
        XCTAssertTrue(fadt.hasLegacyDevices)
        XCTAssertTrue(fadt.vgaNotPresent)
        XCTAssertEqual(fadt.pmTimer.port, 0x608)                 // X_PM_TMR is zero: the legacy block
    }

    func testExtendedBlocksAreIgnoredBeforeRevisionTwo() throws {
        let ext = ACPIBuilder.fadtExtension(xBlocks: [172: (1, 16, 0, 2, 0xB004)])
        let fadt = try parse(ACPIBuilder.fadt(revision: 1, facs: 0x1000, dsdt: 0x2000, extra: ext))
        XCTAssertEqual(fadt.pm1aControl.address, 0x604)
    }

    func testPMTimerRules() throws {
        func timer(_ block: (UInt8, UInt8, UInt8, UInt8, UInt64), flags: UInt32 = 0) throws -> (port: UInt32, bits: UInt8) {
            let ext = ACPIBuilder.fadtExtension(xBlocks: [208: (block.0, block.1, block.2, block.3, block.4)])
            return try parse(ACPIBuilder.fadt(revision: 3, facs: 0x1000, dsdt: 0x2000, flags: flags, extra: ext)).pmTimer
        }
        let extended = FADT.Flag.pmTimer32Bit
        XCTAssertTrue(try timer((1, 32, 0, 3, 0x1808), flags: extended) == (0x1808, 32))
        XCTAssertTrue(try timer((1, 32, 0, 0, 0x1808)) == (0x1808, 24))      // no TMR_VAL_EXT: 24 bits
        XCTAssertTrue(try timer((1, 24, 0, 3, 0x1808), flags: extended) == (0x1808, 24))
        XCTAssertTrue(try timer((1, 32, 0, 1, 0x1808), flags: extended) == (0x608, 32)) // byte access: legacy
        XCTAssertTrue(try timer((1, 32, 4, 3, 0x1808), flags: extended) == (0x608, 32)) // bit offset: legacy
        XCTAssertTrue(try timer((0, 32, 0, 3, 0xFED0_0000), flags: extended) == (0x608, 32)) // memory: legacy
        // No PM timer anywhere.
        var bytes = ACPIBuilder.fadt(facs: 0x1000, dsdt: 0x2000)
        bytes.fwSetLE32(0, at: 76)
        bytes.fwFixChecksum(at: 9)
        let fadt = try parse(bytes)
        XCTAssertEqual(fadt.pmTimer.port, 0)
        var sink = ByteBufferSink()
        ACPIPrinter.printPMTimer(fadt, into: &sink)
        XCTAssertEqual(sink.text, "")
    }

    func testShortTablesReadAsZeroPastTheirEnd() throws {
        // Only up to PM1a_CNT: the rest is zero, nothing traps.
        var bytes = Array(ACPIBuilder.fadt(facs: 0x1000, dsdt: 0x2000).prefix(64))
        bytes.fwSetLE32(64, at: 4)
        let fadt = try parse(bytes)
        XCTAssertEqual(fadt.pm1aControl.address, 0)
        XCTAssertEqual(fadt.pm1aEvent.address, 0x600)
        XCTAssertEqual(fadt.pm1aEvent.bitWidth, 0)                   // PM1_EVT_LEN is past the end
        XCTAssertEqual(fadt.flags, 0)
        // A length field longer than the bytes available is clamped to them.
        var lying = ACPIBuilder.fadt(facs: 0x1000, dsdt: 0x2000)
        lying.fwSetLE32(4096, at: 4)
        XCTAssertEqual(try parse(lying).length, 116)
        // Below the DSDT field: an error.
        XCTAssertThrowsError(try parse(Array(bytes.prefix(40)))) {
            XCTAssertEqual($0 as? ACPIError, .tableTooShort(signature: .fadt, length: 40))
        }
    }

    func testSleepInfoPrinting() throws {
        let fadt = try parse(ACPIBuilder.fadt(facs: 0x3FFE_0000, dsdt: 0x3FFE_0040))
        func facs(_ length: UInt32, _ signature: String = "FACS") -> ACPITable {
            var bytes = ACPIBuilder.facs(length: max(length, 8))
            bytes.replaceSubrange(0..<4, with: Array(signature.utf8))
            let memory = FakePhysicalMemory()
            memory.add(at: 0x3FFE_0000, bytes: bytes)
            if length < 8 { memory.write(at: 0x3FFE_0004, bytes: [UInt8(length), 0, 0, 0]) }
            return ACPITable.load(at: 0x3FFE_0000, reader: memory)!
        }
        var sink = ByteBufferSink()
        ACPIPrinter.printSleepInfo(fadt, facs: facs(32), into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]
            ACPI: FACS is shorter than ACPI spec allow: 0x20
            ACPI:             wakeup_vec[3ffe000c], vec_size[20]

            """)
        sink = ByteBufferSink()
        ACPIPrinter.printSleepInfo(fadt, facs: facs(16), into: &sink)
        XCTAssertTrue(sink.text.hasSuffix("ACPI: Invalid FACS table length: 0x10\n"))
        sink = ByteBufferSink()
        ACPIPrinter.printSleepInfo(fadt, facs: facs(64, "FACX"), into: &sink)
        XCTAssertTrue(sink.text.hasSuffix("ACPI: Invalid FACS signature FACX\n"))
        sink = ByteBufferSink()
        ACPIPrinter.printSleepInfo(fadt, facs: nil, into: &sink)
        XCTAssertEqual(sink.text, "ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]\n")
        // Hardware-reduced ACPI has no PM1 blocks: nothing is printed.
        let reduced = try parse(ACPIBuilder.fadt(facs: 0x3FFE_0000, dsdt: 0x3FFE_0040, flags: FADT.Flag.hardwareReduced))
        sink = ByteBufferSink()
        ACPIPrinter.printSleepInfo(reduced, facs: facs(64), into: &sink)
        XCTAssertEqual(sink.text, "")
    }

    func testHPETTable() throws {
        let hpet = try withWindow(ACPIBuilder.hpet()) { try HPETTable.parse($0) }
        XCTAssertEqual(hpet.eventTimerBlockID, 0x8086_A201)
        XCTAssertEqual(hpet.baseAddress.address, 0xFED0_0000)
        XCTAssertTrue(hpet.isMemoryMapped)
        let io = try withWindow(ACPIBuilder.hpet(space: 1)) { try HPETTable.parse($0) }
        XCTAssertFalse(io.isMemoryMapped)
        XCTAssertThrowsError(try withWindow(Array(ACPIBuilder.hpet().prefix(50))) { try HPETTable.parse($0) }) {
            XCTAssertEqual($0 as? ACPIError, .tableTooShort(signature: .hpet, length: 50))
        }
        var sink = ByteBufferSink()
        ACPIPrinter.printHPET(HPETTable(eventTimerBlockID: 0, baseAddress: .none, hpetNumber: 0,
                                        minimumClockTick: 0, pageProtection: 0), into: &sink)
        XCTAssertEqual(sink.text, "ACPI: HPET id: 0 base: 0\n")   // C's %#x prints a bare 0
    }

    func testRandomBytesNeverTrap() {
        var random = SeededGenerator(seed: 0xFAD7)
        for _ in 0..<2000 {
            let count = Int.random(in: 0...300, using: &random)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            if count >= 8 && Bool.random(using: &random) { bytes.fwSetLE32(UInt32(count), at: 4) }
            guard let fadt = try? withWindow(bytes, { try FADT.parse($0) }) else { continue }
            XCTAssertLessThanOrEqual(fadt.length, count)
            let timer = fadt.pmTimer
            XCTAssertTrue(timer.bits <= 24 || fadt.flags & FADT.Flag.pmTimer32Bit != 0)
            var sink = ByteBufferSink()
            ACPIPrinter.printPMTimer(fadt, into: &sink)
            ACPIPrinter.printSleepInfo(fadt, facs: nil, into: &sink)
        }
    }
}
