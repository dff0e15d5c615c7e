import Foundation
import XCTest
@testable import ApusCore

/// A machine laid out like the one in the Xen reference log (QEMU pc, SeaBIOS, 1 GiB): the
/// same table addresses, lengths and ids, with synthetic contents.
struct ReferenceMachine {
    static let facs: UInt64 = 0x3FFE_0000
    static let dsdt: UInt64 = 0x3FFE_0040
    static let fadt: UInt64 = 0x3FFE_19EB
    static let madt: UInt64 = 0x3FFE_1A5F
    static let hpet: UInt64 = 0x3FFE_1ADF
    static let waet: UInt64 = 0x3FFE_1B17
    static let rsdt: UInt64 = 0x3FFE_1B3F
    static let rsdp: UInt64 = 0xF59D0

    static let madtEntries: [ACPIBuilder.MADTEntry] = [
        .localAPIC(uid: 0, apicID: 0, flags: 1),
        .localAPIC(uid: 1, apicID: 1, flags: 1),
        .ioAPIC(id: 0, address: 0xFEC0_0000, gsiBase: 0),
        .override(bus: 0, irq: 0, gsi: 2, flags: 0),
        .override(bus: 0, irq: 5, gsi: 5, flags: 0xD),
        .override(bus: 0, irq: 9, gsi: 9, flags: 0xD),
        .override(bus: 0, irq: 10, gsi: 10, flags: 0xD),
        .override(bus: 0, irq: 11, gsi: 11, flags: 0xD),
        .localNMI(uid: 0xFF, flags: 0, lint: 1),
    ]

    /// AML long enough to give the DSDT the reference length, with `Name(_S5_, Package(4){0,0,0,0})`.
    static func dsdtBytes() -> [UInt8] {
        var aml: [UInt8] = [0x10, 0x49, 0x04, 0x5C, 0x00]               // some unrelated AML first
        aml += [0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00]
        aml += [UInt8](repeating: 0xA3, count: 0x19AB - 36 - aml.count)   // NoopOp filler
        return ACPIBuilder.dsdt(aml)
    }

    static func memory(rsdpBytes: [UInt8]? = nil, rsdtEntries: [UInt32]? = nil) -> FakePhysicalMemory {
        let memory = FakePhysicalMemory()
        var bda = [UInt8](repeating: 0, count: 0x100)
        bda[0x0E] = 0xC0; bda[0x0F] = 0x9F                             // EBDA at 0x9FC00
        memory.add(at: 0x400, bytes: bda)
        memory.add(at: 0x9FC00, zeroes: 0x400)
        memory.add(at: 0xE0000, zeroes: 0x20000)
        memory.write(at: rsdp, bytes: rsdpBytes ?? ACPIBuilder.rsdp(revision: 0, rsdt: UInt32(rsdt)))
        memory.add(at: 0x3FFE_0000, zeroes: 0x2000)
        memory.write(at: facs, bytes: ACPIBuilder.facs())
        memory.write(at: dsdt, bytes: dsdtBytes())
        memory.write(at: fadt, bytes: ACPIBuilder.fadt(facs: UInt32(facs), dsdt: UInt32(dsdt)))
        memory.write(at: madt, bytes: ACPIBuilder.madt(madtEntries))
        memory.write(at: hpet, bytes: ACPIBuilder.hpet())
        memory.write(at: waet, bytes: ACPIBuilder.table("WAET", body: [2, 0, 0, 0]))
        let entries = rsdtEntries ?? [fadt, madt, hpet, waet].map { UInt32($0) }
        memory.write(at: rsdt, bytes: ACPIBuilder.rsdt(entries))
        return memory
    }
}

final class FirmwareACPITests: XCTestCase {
    // MARK: RSDP

    func testRSDPRevisionZeroAndTwo() throws {
        let memory = FakePhysicalMemory()
        memory.add(at: 0x1000, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x1234_5678))
        let old = try XCTUnwrap(RSDP.parse(at: 0x1000, reader: memory))
        XCTAssertEqual(old.revision, 0)
        XCTAssertEqual(old.rsdtAddress, 0x1234_5678)
        XCTAssertNil(old.xsdtAddress)
        XCTAssertEqual(old.length, 20)
        XCTAssertTrue(old.oemID.equals("BOCHS "))

        memory.add(at: 0x2000, bytes: ACPIBuilder.rsdp(revision: 2, rsdt: 0x1000, xsdt: 0x1_2345_6780))
        let new = try XCTUnwrap(RSDP.parse(at: 0x2000, reader: memory))
        XCTAssertEqual(new.xsdtAddress, 0x1_2345_6780)
        XCTAssertEqual(new.length, 36)
        XCTAssertTrue(new.extendedChecksumValid)
    }

    func testRSDPChecksumsAreEnforced() {
        let memory = FakePhysicalMemory()
        var bad = ACPIBuilder.rsdp(revision: 0, rsdt: 0x1000)
        bad[8] &+= 1
        memory.add(at: 0x1000, bytes: bad)
        XCTAssertNil(RSDP.parse(at: 0x1000, reader: memory))

        // A bad extended checksum keeps the RSDP (its first 20 bytes are fine) but not the XSDT.
        var badExtended = ACPIBuilder.rsdp(revision: 2, rsdt: 0x1000, xsdt: 0x5000)
        badExtended[32] &+= 1
        memory.add(at: 0x2000, bytes: badExtended)
        let rsdp = RSDP.parse(at: 0x2000, reader: memory)
        XCTAssertNotNil(rsdp)
        XCTAssertNil(rsdp?.xsdtAddress)
        XCTAssertFalse(rsdp?.extendedChecksumValid ?? true)

        // An extended length pointing past readable memory is treated the same way.
        var longLength = ACPIBuilder.rsdp(revision: 2, rsdt: 0x1000, xsdt: 0x5000)
        longLength.fwSetLE32(0x1000, at: 20)
        longLength.fwFixChecksum(at: 8, over: 0..<20)
        longLength.fwFixChecksum(at: 32)
        memory.add(at: 0x3000, bytes: longLength)
        XCTAssertNil(RSDP.parse(at: 0x3000, reader: memory)?.xsdtAddress)
    }

    func testRSDPScanOrder() throws {
        // Found in the BIOS area of the reference machine.
        let memory = ReferenceMachine.memory()
        let found = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: nil))
        XCTAssertEqual(found.address, 0xF59D0)
        XCTAssertEqual(found.source, .biosArea)

        // An EBDA copy wins over the BIOS area; a candidate off a 16-byte boundary or with a
        // bad checksum does not count.
        memory.write(at: 0x9FC08, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x1111))
        var broken = ACPIBuilder.rsdp(revision: 0, rsdt: 0x2222)
        broken[8] &+= 1
        memory.write(at: 0x9FC20, bytes: broken)
        XCTAssertEqual(RSDP.locate(reader: memory, multibootCopy: nil)?.address, 0xF59D0)
        memory.write(at: 0x9FC40, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x3333))
        let ebda = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: nil))
        XCTAssertEqual(ebda.address, 0x9FC40)
        XCTAssertEqual(ebda.source, .ebda)

        // The loader's copy is used first unless the caller wants the firmware's own.
        memory.add(at: 0x10000, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x4444))
        let copy = PhysicalRange(address: 0x10000, count: 20)
        XCTAssertEqual(RSDP.locate(reader: memory, multibootCopy: copy)?.rsdtAddress, 0x4444)
        XCTAssertEqual(RSDP.locate(reader: memory, multibootCopy: copy, preferFirmwareCopy: true)?.rsdtAddress, 0x3333)
    }

    func testRSDPScanWithNothingReadable() {
        let memory = FakePhysicalMemory()
        XCTAssertNil(RSDP.locate(reader: memory, multibootCopy: nil))
        XCTAssertNil(RSDP.scan(reader: memory, from: UInt64.max - 32, length: 256, source: .given))
        // A garbage EBDA pointer is not followed.
        memory.add(at: 0x400, bytes: [UInt8](repeating: 0xFF, count: 0x100))
        XCTAssertNil(RSDP.scanLegacyAreas(reader: memory))
    }

    // MARK: Directory

    func testReferenceMachineDirectory() throws {
        let memory = ReferenceMachine.memory()
        let rsdp = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: nil))
        let directory = try ACPITableDirectory.load(rsdp: rsdp, reader: memory)
        XCTAssertFalse(directory.usesXSDT)
        XCTAssertEqual(directory.root.address, ReferenceMachine.rsdt)
        XCTAssertEqual(directory.count, 6)
        XCTAssertEqual((0..<directory.count).map { directory.table($0)!.address },
                       [ReferenceMachine.fadt, ReferenceMachine.dsdt, ReferenceMachine.facs,
                        ReferenceMachine.madt, ReferenceMachine.hpet, ReferenceMachine.waet])
        for index in 0..<directory.count {
            XCTAssertTrue(directory.table(index)!.isUsable)
            XCTAssertNotEqual(directory.table(index)!.status, .badLength)
        }
        XCTAssertEqual(directory.first(.facs)?.status, .notChecksummed)
        XCTAssertEqual(directory.first(.madt)?.status, .valid)
        XCTAssertEqual(directory.first(.dsdt)?.length, 0x19AB)
        XCTAssertNil(directory.first(.ssdt))
        XCTAssertEqual(directory.skippedEntries, 0)
    }

    /// The printed table list and the FADT/MADT/HPET lines match Xen 4.17's log of the same
    /// machine, character for character.
    func testReferenceMachinePrintsLikeXen() throws {
        let memory = ReferenceMachine.memory()
        let rsdp = try XCTUnwrap(RSDP.locate(reader: memory, multibootCopy: nil))
        let directory = try ACPITableDirectory.load(rsdp: rsdp, reader: memory)
        var sink = ByteBufferSink()
        ACPIPrinter.printDirectory(directory, into: &sink)

        let fadt = try FADT.parse(XCTUnwrap(directory.first(.fadt)?.bytes(reader: memory)))
        ACPIPrinter.printPMTimer(fadt, into: &sink)
        ACPIPrinter.printSleepInfo(fadt, facs: directory.first(.facs), into: &sink)
        let madt = try MADT.parse(XCTUnwrap(directory.first(.madt)?.bytes(reader: memory)))
        ACPIPrinter.printMADT(madt, verbose: false, into: &sink)
        let hpet = try HPETTable.parse(XCTUnwrap(directory.first(.hpet)?.bytes(reader: memory)))
        ACPIPrinter.printHPET(hpet, into: &sink)

        // From ../shared/reference/xen-4.17-dom0-linux-boot.log, without "(XEN) " and without
        // the "IOAPIC[0]: apic_id 0, version 32, ..." line that Xen prints from the hardware.
        XCTAssertEqual(sink.text, """
            ACPI: RSDP 000F59D0, 0014 (r0 BOCHS )
            ACPI: RSDT 3FFE1B3F, 0034 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: FACP 3FFE19EB, 0074 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: DSDT 3FFE0040, 19AB (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: FACS 3FFE0000, 0040
            ACPI: APIC 3FFE1A5F, 0080 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: HPET 3FFE1ADF, 0038 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: WAET 3FFE1B17, 0028 (r1 BOCHS  BXPC            1 BXPC        1)
            ACPI: PM-Timer IO Port: 0x608 (24 bits)
            ACPI: SLEEP INFO: pm1x_cnt[1:604,1:0], pm1x_evt[1:600,1:0]
            ACPI:             wakeup_vec[3ffe000c], vec_size[20]
            ACPI: Local APIC address 0xfee00000
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

    func testBadChecksumIsReportedAndTableStillListed() throws {
        let memory = ReferenceMachine.memory()
        memory.write(at: ReferenceMachine.madt + 9, bytes: [0x42])     // corrupt the MADT checksum
        let directory = try ACPITableDirectory.load(rsdp: XCTUnwrap(RSDP.parse(at: ReferenceMachine.rsdp, reader: memory)),
                                                    reader: memory)
        let madt = try XCTUnwrap(directory.first(.madt))
        guard case .badChecksum = madt.status else { return XCTFail("checksum not caught: \(madt.status)") }
        XCTAssertTrue(madt.isUsable)
        // Fixing the checksum byte to the value printed as "should be" makes it valid again.
        var fixed = try XCTUnwrap(madt.bytes(reader: memory)).raw.map { $0 }
        fixed[9] = try XCTUnwrap(madt.expectedChecksum)
        XCTAssertEqual(fixed.reduce(UInt8(0), &+), 0)

        let original = ACPIBuilder.madt(ReferenceMachine.madtEntries)[9]
        XCTAssertEqual(fixed[9], original)
        var sink = ByteBufferSink()
        ACPIPrinter.printProblem(madt, into: &sink)
        XCTAssertEqual(sink.text, "ACPI Warning: Incorrect checksum in table [APIC] - 42, should be "
                       + String(format: "%02X", original) + "\n")
        var all = ByteBufferSink()
        ACPIPrinter.printDirectory(directory, into: &all)
        XCTAssertTrue(all.text.contains("ACPI: APIC 3FFE1A5F, 0080 (r1 BOCHS  BXPC            1 BXPC        1)\nACPI Warning: Incorrect checksum in table [APIC]"))
    }

    func testNullUnreadableAndBrokenEntries() throws {
        let memory = ReferenceMachine.memory(rsdtEntries: [0, UInt32(ReferenceMachine.madt), 0x7000_0000,
                                                           UInt32(ReferenceMachine.hpet)])
        // A table whose length runs past readable memory, and one shorter than a header.
        memory.add(at: 0x5000, bytes: ACPIBuilder.table("SSDT", body: [1, 2, 3]))
        memory.write(at: 0x5004, bytes: [0, 0, 1, 0])
        memory.add(at: 0x6000, bytes: ACPIBuilder.table("BOOT", body: []))
        memory.write(at: 0x6004, bytes: [8, 0, 0, 0])
        var rsdt = ACPIBuilder.rsdt([0, UInt32(ReferenceMachine.madt), 0x7000_0000, UInt32(ReferenceMachine.hpet), 0x5000, 0x6000])
        rsdt.fwFixChecksum(at: 9)
        memory.add(at: 0x8000, bytes: rsdt)
        memory.add(at: 0x9000, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x8000))
        let directory = try ACPITableDirectory.load(rsdp: XCTUnwrap(RSDP.parse(at: 0x9000, reader: memory)), reader: memory)
        XCTAssertEqual(directory.skippedEntries, 2)                     // the null and the unreadable one
        XCTAssertEqual(directory.count, 4)
        XCTAssertEqual(directory.first(.ssdt)?.status, .bodyUnreadable)
        XCTAssertEqual(directory.first(ACPISignature("BOOT"))?.status, .badLength)
        XCTAssertNil(directory.first(.ssdt)?.bytes(reader: memory))
        var sink = ByteBufferSink()
        ACPIPrinter.printDirectory(directory, into: &sink)
        XCTAssertTrue(sink.text.contains("ACPI Warning: Table [SSDT] at 0x5000 is not readable\n"))
        XCTAssertTrue(sink.text.contains("ACPI Warning: Invalid length 0x8 in table [BOOT]\n"))
    }

    func testXSDTIsPreferredAndRSDTIsTheFallback() throws {
        let memory = ReferenceMachine.memory()
        memory.add(at: 0x1_0000_0000, bytes: ACPIBuilder.xsdt([ReferenceMachine.madt, ReferenceMachine.hpet]))
        memory.add(at: 0x1000, bytes: ACPIBuilder.rsdp(revision: 2, rsdt: UInt32(ReferenceMachine.rsdt), xsdt: 0x1_0000_0000))
        let rsdp = try XCTUnwrap(RSDP.parse(at: 0x1000, reader: memory))
        let directory = try ACPITableDirectory.load(rsdp: rsdp, reader: memory)
        XCTAssertTrue(directory.usesXSDT)
        XCTAssertEqual(directory.count, 2)
        XCTAssertEqual(directory.root.signature, .xsdt)
        var sink = ByteBufferSink()
        ACPIPrinter.printRSDP(rsdp, into: &sink)
        ACPIPrinter.printTable(directory.root, into: &sink)
        XCTAssertEqual(sink.text, """
            ACPI: RSDP 00001000, 0024 (r2 BOCHS )
            ACPI: XSDT 100000000, 0034 (r1 BOCHS  BXPC            1 BXPC        1)

            """)

        // An XSDT with a null entry: use the RSDT, as Xen does.
        memory.add(at: 0x2_0000_0000, bytes: ACPIBuilder.xsdt([ReferenceMachine.madt, 0]))
        memory.add(at: 0x2000, bytes: ACPIBuilder.rsdp(revision: 2, rsdt: UInt32(ReferenceMachine.rsdt), xsdt: 0x2_0000_0000))
        let fallback = try ACPITableDirectory.load(rsdp: XCTUnwrap(RSDP.parse(at: 0x2000, reader: memory)), reader: memory)
        XCTAssertFalse(fallback.usesXSDT)
        XCTAssertEqual(fallback.count, 6)

        // An unreadable XSDT also falls back.
        memory.add(at: 0x3000, bytes: ACPIBuilder.rsdp(revision: 2, rsdt: UInt32(ReferenceMachine.rsdt), xsdt: 0xDEAD_0000))
        XCTAssertFalse(try ACPITableDirectory.load(rsdp: XCTUnwrap(RSDP.parse(at: 0x3000, reader: memory)), reader: memory).usesXSDT)
    }

    func testRootTableErrors() throws {
        let memory = FakePhysicalMemory()
        memory.add(at: 0x1000, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x2000))
        let rsdp = try XCTUnwrap(RSDP.parse(at: 0x1000, reader: memory))
        XCTAssertThrowsError(try ACPITableDirectory.load(rsdp: rsdp, reader: memory)) {
            XCTAssertEqual($0 as? ACPIError, .rootTableUnreadable(address: 0x2000))
        }
        memory.add(at: 0x2000, bytes: ACPIBuilder.table("XSDT", body: []))
        XCTAssertThrowsError(try ACPITableDirectory.load(rsdp: rsdp, reader: memory)) {
            XCTAssertEqual($0 as? ACPIError, .rootTableBadSignature(address: 0x2000))
            var sink = ByteBufferSink()
            ($0 as! ACPIError).describe(into: &sink)
            XCTAssertEqual(sink.text, "ACPI: no RSDT/XSDT signature at 0x2000")
        }
        var short = ACPIBuilder.rsdt([])
        short.fwSetLE32(20, at: 4)
        memory.write(at: 0x2000, bytes: short)
        XCTAssertThrowsError(try ACPITableDirectory.load(rsdp: rsdp, reader: memory)) {
            XCTAssertEqual($0 as? ACPIError, .rootTableBadLength(length: 20))
        }
        short.fwSetLE32(0xFFFF_FFF0, at: 4)
        memory.write(at: 0x2000, bytes: short)
        XCTAssertThrowsError(try ACPITableDirectory.load(rsdp: rsdp, reader: memory)) {
            XCTAssertEqual($0 as? ACPIError, .rootTableBadLength(length: 0xFFFF_FFF0))
        }
    }

    func testDirectoryCapacity() throws {
        let memory = FakePhysicalMemory()
        var entries: [UInt32] = []
        for index in 0..<70 {
            let address = UInt32(0x10000 + index * 0x100)
            memory.add(at: UInt64(address), bytes: ACPIBuilder.table("SSDT", oemRevision: UInt32(index), body: [0xA3]))
            entries.append(address)
        }
        memory.add(at: 0x2000, bytes: ACPIBuilder.rsdt(entries))
        memory.add(at: 0x1000, bytes: ACPIBuilder.rsdp(revision: 0, rsdt: 0x2000))
        let directory = try ACPITableDirectory.load(rsdp: XCTUnwrap(RSDP.parse(at: 0x1000, reader: memory)), reader: memory)
        XCTAssertEqual(directory.count, ACPITableDirectory.capacity)
        XCTAssertEqual(directory.dropped, 6)
        XCTAssertEqual(directory.first(.ssdt, instance: 63)?.header.oemRevision, 63)
        XCTAssertNil(directory.first(.ssdt, instance: 64))
    }

    /// Random corruption of the reference machine's tables never traps and never produces a
    /// table outside what was readable.
    func testRandomCorruptionIsHandledSafely() {
        var random = SeededGenerator(seed: 0xAC91)
        let clean = ReferenceMachine.memory()
        let original = clean.bytes(at: 0x3FFE_0000, count: 0x2000).map { Array($0) } ?? []
        for _ in 0..<300 {
            let memory = ReferenceMachine.memory()
            var bytes = original
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                // Mostly hit headers and the MADT, where lengths and counts live.
                let offset = Bool.random(using: &random)
                    ? Int(ReferenceMachine.fadt - 0x3FFE_0000) + Int.random(in: 0..<0x188, using: &random)
                    : Int.random(in: 0..<0x1B73, using: &random)
                bytes[offset] = UInt8.random(in: 0...255, using: &random)
            }
            memory.write(at: 0x3FFE_0000, bytes: bytes)
            guard let rsdp = RSDP.locate(reader: memory, multibootCopy: nil),
                  let directory = try? ACPITableDirectory.load(rsdp: rsdp, reader: memory) else { continue }
            XCTAssertLessThanOrEqual(directory.count, ACPITableDirectory.capacity)
            var sink = ByteBufferSink()
            ACPIPrinter.printDirectory(directory, into: &sink)
            for index in 0..<directory.count {
                let table = directory.table(index)!
                guard let window = table.bytes(reader: memory) else { continue }
                if table.signature == .madt, let madt = try? MADT.parse(window) {
                    ACPIPrinter.printMADT(madt, verbose: true, into: &sink)
                }
                if table.signature == .fadt, let fadt = try? FADT.parse(window) {
                    ACPIPrinter.printPMTimer(fadt, into: &sink)
                    ACPIPrinter.printSleepInfo(fadt, facs: directory.first(.facs), into: &sink)
                }
                if table.signature == .hpet, let hpet = try? HPETTable.parse(window) {
                    ACPIPrinter.printHPET(hpet, into: &sink)
                }
                _ = ACPISleepType.find(state: 5, in: window)
            }
        }
    }
}
