import XCTest
@testable import ApusCore

/// Builds Multiboot2 boot information: tags 8-aligned, then the end tag.
private func multiboot2Info(_ tags: [(type: UInt32, payload: [UInt8])], endTag: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
    for tag in tags {
        bytes.fwLE32(tag.type)
        bytes.fwLE32(UInt32(8 + tag.payload.count))
        bytes += tag.payload
        bytes.fwPad(to: 8)
    }
    if endTag { bytes.fwLE32(0); bytes.fwLE32(8) }
    bytes.fwSetLE32(UInt32(bytes.count), at: 0)
    return bytes
}

private func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

private func moduleTag(_ start: UInt32, _ end: UInt32, _ text: String) -> (type: UInt32, payload: [UInt8]) {
    var payload: [UInt8] = []
    payload.fwLE32(start)
    payload.fwLE32(end)
    return (3, payload + cString(text))
}

private func mmapTag(_ entries: [MemoryMapEntry], entrySize: UInt32 = 24) -> (type: UInt32, payload: [UInt8]) {
    var payload: [UInt8] = []
    payload.fwLE32(entrySize)
    payload.fwLE32(0)
    for entry in entries {
        var one: [UInt8] = []
        one.fwLE64(entry.base); one.fwLE64(entry.length); one.fwLE32(entry.type); one.fwLE32(0)
        while one.count < Int(entrySize) { one.append(0xEE) }
        payload += one.prefix(Int(entrySize))
    }
    return (6, payload)
}

private let qemuMap = [
    MemoryMapEntry(base: 0, length: 0x9FC00, type: 1),
    MemoryMapEntry(base: 0x9FC00, length: 0x400, type: 2),
    MemoryMapEntry(base: 0x100000, length: 0x3FEE0000, type: 1),
    MemoryMapEntry(base: 0xFD_0000_0000, length: 0x3_0000_0000, type: 2),
]

private func text(_ location: PhysicalText?, _ memory: FakePhysicalMemory) -> String? {
    guard let location, let text = location.read(from: memory) else { return nil }
    return text.description
}

final class FirmwareMultibootTests: XCTestCase {
    let infoAddress: UInt64 = 0x10000

    func testMultiboot2FullInformation() throws {
        var rsdpCopy = ACPIBuilder.rsdp(revision: 2, rsdt: 0x3FFE1B3F, xsdt: 0x3FFE2000)
        rsdpCopy += [0, 0, 0, 0]
        var framebuffer: [UInt8] = []
        framebuffer.fwLE64(0xB8000); framebuffer.fwLE32(160); framebuffer.fwLE32(80); framebuffer.fwLE32(25)
        framebuffer += [16, 2, 0, 0]
        var meminfo: [UInt8] = []
        meminfo.fwLE32(639); meminfo.fwLE32(1047424)
        let info = multiboot2Info([
            (1, cString("dom0_mem=256M console=com1")),
            (2, cString("GRUB 2.06-13+deb12u2")),
            (21, [0, 0, 0x20, 0]),                        // load base address: not ours, skipped
            moduleTag(0x200000, 0x2F1000, "/boot/vmlinuz console=hvc0"),
            (4, meminfo),
            moduleTag(0x2F1000, 0x2F2000, ""),
            mmapTag(qemuMap),
            (15, rsdpCopy),
            (8, framebuffer),
        ])
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: info)

        let boot = try BootInfo.parse(magic: MultibootMagic.multiboot2, infoAddress: infoAddress, reader: memory)
        XCTAssertEqual(boot.bootProtocol, .multiboot2)
        XCTAssertEqual(text(boot.commandLine, memory), "dom0_mem=256M console=com1")
        XCTAssertEqual(boot.commandLine?.address, infoAddress + 16)
        XCTAssertEqual(text(boot.bootloaderName, memory), "GRUB 2.06-13+deb12u2")
        XCTAssertEqual(boot.memoryLowerKiB, 639)
        XCTAssertEqual(boot.memoryUpperKiB, 1047424)
        XCTAssertEqual(boot.moduleCount, 2)
        XCTAssertEqual(boot.module(0)?.start, 0x200000)
        XCTAssertEqual(boot.module(0)?.end, 0x2F1000)
        XCTAssertEqual(boot.module(0)?.size, 0xF1000)
        XCTAssertEqual(text(boot.module(0)?.commandLine, memory), "/boot/vmlinuz console=hvc0")
        XCTAssertEqual(text(boot.module(1)?.commandLine, memory), "")
        XCTAssertNil(boot.module(2))
        XCTAssertEqual(boot.memoryMapCount, 4)
        XCTAssertEqual((0..<4).map { boot.memoryMapEntry($0)! }, qemuMap)
        XCTAssertNil(boot.acpiOldRSDPCopy)
        XCTAssertEqual(boot.acpiRSDPCopy?.count, 40)
        let copy = try XCTUnwrap(boot.acpiRSDPCopy)
        let rsdp = try XCTUnwrap(RSDP.parse(at: copy.address, reader: memory, source: .multibootCopy))
        XCTAssertEqual(rsdp.xsdtAddress, 0x3FFE2000)
        XCTAssertEqual(boot.framebufferType, 2)
        XCTAssertEqual(boot.framebufferAddress, 0xB8000)
        XCTAssertTrue(boot.anomalies.isEmpty)

        // The visitor sees the same entries, in order.
        var visited: [MemoryMapEntry] = []
        XCTAssertTrue(boot.memoryMapLocation!.forEach(reader: memory) { visited.append($0) })
        XCTAssertEqual(visited, qemuMap)
    }

    func testWrongMagicIsAnErrorWithAMessage() {
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: multiboot2Info([]))
        XCTAssertThrowsError(try BootInfo.parse(magic: 0x1BAD_B002, infoAddress: infoAddress, reader: memory)) { error in
            XCTAssertEqual(error as? BootInfoError, .wrongMagic(0x1BAD_B002))
            var sink = ByteBufferSink()
            (error as! BootInfoError).describe(into: &sink)
            XCTAssertEqual(sink.text, "Multiboot: wrong magic 0x1badb002 (expected 0x2badb002 or 0x36d76289)")
        }
    }

    func testMultiboot2FixedPartIsChecked() {
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: [8, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: infoAddress, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .totalSizeInvalid(8))
        }
        // total_size larger than readable memory.
        var info = multiboot2Info([(1, cString("x"))])
        info.fwSetLE32(UInt32(info.count + 8), at: 0)
        memory.add(at: 0x20000, bytes: info)
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: 0x20000, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .unreadable(address: 0x20000))
        }
        // Absurd total_size.
        memory.add(at: 0x30000, bytes: [0, 0, 0, 0x40, 0, 0, 0, 0])
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: 0x30000, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .totalSizeInvalid(0x4000_0000))
        }
        // Nothing there at all.
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: 0x90000, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .unreadable(address: 0x90000))
        }
    }

    func testMultiboot2ZeroSizedTagStopsWithAnError() {
        var info = multiboot2Info([(1, cString("abc")), (2, cString("loader"))])
        info.fwSetLE32(0, at: 8 + 16 + 4)       // the second tag's size
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: info)
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: infoAddress, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .tagSizeInvalid(offset: 24, size: 0))
        }
    }

    func testMultiboot2TagPastTheEndIsAnError() {
        var info = multiboot2Info([(1, cString("abc"))])
        info.fwSetLE32(0x1000, at: 12)
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: info)
        XCTAssertThrowsError(try Multiboot2.parse(infoAddress: infoAddress, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .tagSizeInvalid(offset: 8, size: 0x1000))
        }
    }

    func testMultiboot2OddTagsAreSkippedAndNoted() throws {
        var shortModule: [UInt8] = []
        shortModule.fwLE32(0x1000)                            // no mod_end
        let info = multiboot2Info([
            (3, shortModule),
            moduleTag(0x5000, 0x4000, "backwards"),
            mmapTag(qemuMap, entrySize: 0),                   // would divide by zero or loop
            (14, [1, 2, 3]),                                  // RSDP copy too short
            (1, Array("no terminating NUL".utf8)),
        ], endTag: false)
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: info)
        let boot = try Multiboot2.parse(infoAddress: infoAddress, reader: memory)
        XCTAssertEqual(boot.moduleCount, 0)
        XCTAssertEqual(boot.memoryMapCount, 0)
        XCTAssertNil(boot.acpiRSDPCopy)
        XCTAssertEqual(text(boot.commandLine, memory), "no terminating NUL")
        for anomaly in [BootInfoAnomalies.shortTagSkipped, .badModuleSkipped, .badMemoryMap, .missingEndTag] {
            XCTAssertTrue(boot.anomalies.contains(anomaly), "missing anomaly \(anomaly.rawValue)")
        }
        XCTAssertFalse(boot.anomalies.contains(.unreadableString))
    }

    func testMultiboot2LargerMapEntriesAndCapacities() throws {
        var tags: [(type: UInt32, payload: [UInt8])] = []
        for index in 0..<20 { tags.append(moduleTag(UInt32(index) << 20, UInt32(index) << 20 | 0xFFF, "m\(index)")) }
        let manyEntries = (0..<150).map { MemoryMapEntry(base: UInt64($0) << 12, length: 0x1000, type: UInt32($0 % 5 + 1)) }
        tags.append(mmapTag(manyEntries, entrySize: 32))
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: multiboot2Info(tags))
        let boot = try Multiboot2.parse(infoAddress: infoAddress, reader: memory)
        XCTAssertEqual(boot.moduleCount, BootInfo.moduleCapacity)
        XCTAssertEqual(boot.modulesDropped, 4)
        XCTAssertEqual(text(boot.module(15)?.commandLine, memory), "m15")
        XCTAssertEqual(boot.memoryMapCount, BootInfo.memoryMapCapacity)
        XCTAssertEqual(boot.memoryMapDropped, 22)
        XCTAssertEqual(boot.memoryMapEntry(127), manyEntries[127])
        var count = 0
        XCTAssertTrue(boot.memoryMapLocation!.forEach(reader: memory) { _ in count += 1 })
        XCTAssertEqual(count, 150)
        XCTAssertTrue(boot.anomalies.isEmpty)
    }

    /// Random tag streams and random corruption never trap, never read outside the block, and
    /// every location handed out lies inside it.
    func testMultiboot2RandomInputIsHandledSafely() {
        var random = SeededGenerator(seed: 0x5EED_0002)
        for round in 0..<3000 {
            var tags: [(type: UInt32, payload: [UInt8])] = []
            for _ in 0..<Int.random(in: 0...8, using: &random) {
                let type = UInt32.random(in: 0...16, using: &random)
                let payload = (0..<Int.random(in: 0...48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                tags.append((type, payload))
            }
            var info = multiboot2Info(tags, endTag: Bool.random(using: &random))
            for _ in 0..<Int.random(in: 0...3, using: &random) where !info.isEmpty {
                info[Int.random(in: 0..<info.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            let memory = FakePhysicalMemory()
            memory.add(at: infoAddress, bytes: info)
            let end = infoAddress + UInt64(info.count)
            guard let boot = try? Multiboot2.parse(infoAddress: infoAddress, reader: memory) else { continue }
            func inside(_ text: PhysicalText?) -> Bool {
                guard let text else { return true }
                return text.address >= infoAddress && text.address + UInt64(text.count) <= end
            }
            XCTAssertTrue(inside(boot.commandLine), "round \(round)")
            XCTAssertTrue(inside(boot.bootloaderName), "round \(round)")
            XCTAssertLessThanOrEqual(boot.moduleCount, BootInfo.moduleCapacity)
            for index in 0..<boot.moduleCount {
                XCTAssertTrue(inside(boot.module(index)!.commandLine), "round \(round)")
                XCTAssertLessThanOrEqual(boot.module(index)!.start, boot.module(index)!.end)
            }
            XCTAssertLessThanOrEqual(boot.memoryMapCount, BootInfo.memoryMapCapacity)
            if let copy = boot.acpiRSDPCopy {
                XCTAssertTrue(copy.address >= infoAddress && copy.address + UInt64(copy.count) <= end)
            }
        }
    }

    // MARK: Multiboot 1

    private func multiboot1Memory(flags: UInt32, modules: [(UInt32, UInt32, UInt32)] = [],
                                  mmap: [UInt8] = [], cmdline: UInt32 = 0x9000, name: UInt32 = 0x9100) -> FakePhysicalMemory {
        var info = [UInt8](repeating: 0, count: 88)
        info.fwSetLE32(flags, at: 0)
        info.fwSetLE32(639, at: 4)
        info.fwSetLE32(261_120, at: 8)
        info.fwSetLE32(cmdline, at: 16)
        info.fwSetLE32(UInt32(modules.count), at: 20)
        info.fwSetLE32(0x8000, at: 24)
        info.fwSetLE32(UInt32(mmap.count), at: 44)
        info.fwSetLE32(0xA000, at: 48)
        info.fwSetLE32(name, at: 64)
        var list: [UInt8] = []
        for (start, end, string) in modules { list.fwLE32(start); list.fwLE32(end); list.fwLE32(string); list.fwLE32(0) }
        let memory = FakePhysicalMemory()
        memory.add(at: infoAddress, bytes: info)
        memory.add(at: 0x8000, bytes: list)
        var strings = [UInt8](repeating: 0, count: 0x400)
        for (offset, string) in [(0, "placeholder=1 loglvl=all"), (0x100, "GRUB 0.97"), (0x200, "/dom0 root=/dev/xvda"), (0x300, "initrd")] {
            strings.replaceSubrange(offset..<(offset + string.utf8.count), with: Array(string.utf8))
        }
        memory.add(at: 0x9000, bytes: strings)
        memory.add(at: 0xA000, bytes: mmap)
        return memory
    }

    private func mb1Map(_ entries: [MemoryMapEntry], size: UInt32 = 20) -> [UInt8] {
        var bytes: [UInt8] = []
        for entry in entries {
            bytes.fwLE32(size)
            bytes.fwLE64(entry.base); bytes.fwLE64(entry.length); bytes.fwLE32(entry.type)
            bytes += [UInt8](repeating: 0xAA, count: Int(size) - 20)
        }
        return bytes
    }

    func testMultiboot1FullInformation() throws {
        let memory = multiboot1Memory(flags: 0x24F, modules: [(0x200000, 0x300000, 0x9200), (0x300000, 0x380000, 0x9300),
                                                              (0x380000, 0x381000, 0)],
                                      mmap: mb1Map(qemuMap))
        let boot = try BootInfo.parse(magic: MultibootMagic.multiboot1, infoAddress: infoAddress, reader: memory)
        XCTAssertEqual(boot.bootProtocol, .multiboot1)
        XCTAssertEqual(boot.memoryLowerKiB, 639)
        XCTAssertEqual(boot.memoryUpperKiB, 261_120)
        XCTAssertEqual(text(boot.commandLine, memory), "placeholder=1 loglvl=all")
        XCTAssertEqual(text(boot.bootloaderName, memory), "GRUB 0.97")
        XCTAssertEqual(boot.moduleCount, 3)
        XCTAssertEqual(text(boot.module(0)?.commandLine, memory), "/dom0 root=/dev/xvda")
        XCTAssertEqual(text(boot.module(1)?.commandLine, memory), "initrd")
        XCTAssertNil(boot.module(2)?.commandLine)
        XCTAssertEqual(boot.module(2)?.end, 0x381000)
        XCTAssertEqual((0..<boot.memoryMapCount).map { boot.memoryMapEntry($0)! }, qemuMap)
        XCTAssertNil(boot.acpiRSDPCopy)
        XCTAssertTrue(boot.anomalies.isEmpty)
    }

    func testMultiboot1OnlyReadsWhatFlagsSay() throws {
        // Flags 0: nothing but the flags word needs to be valid.
        let memory = multiboot1Memory(flags: 0, cmdline: 0xDEAD_0000, name: 0xDEAD_0000)
        let boot = try Multiboot1.parse(infoAddress: infoAddress, reader: memory)
        XCTAssertNil(boot.commandLine)
        XCTAssertNil(boot.bootloaderName)
        XCTAssertNil(boot.memoryLowerKiB)
        XCTAssertEqual(boot.moduleCount, 0)
        XCTAssertNil(boot.memoryMapLocation)
        // With the flags set, the unreadable strings are noted, not fatal.
        let bad = multiboot1Memory(flags: 0x204, cmdline: 0xDEAD_0000, name: 0xDEAD_0000)
        let noted = try Multiboot1.parse(infoAddress: infoAddress, reader: bad)
        XCTAssertNil(noted.commandLine)
        XCTAssertTrue(noted.anomalies.contains(.unreadableString))
    }

    func testMultiboot1StringRunningIntoUnreadableMemory() throws {
        let memory = multiboot1Memory(flags: 0x4, cmdline: 0x20000)
        // A string that ends exactly at the end of its region (NUL is the last byte) is fine,
        // even though the region ends mid-page ...
        memory.add(at: 0x20000, bytes: Array("ok".utf8) + [0])
        XCTAssertEqual(text(try Multiboot1.parse(infoAddress: infoAddress, reader: memory).commandLine, memory), "ok")
        // ... one with no NUL before the region ends is not.
        let unterminated = multiboot1Memory(flags: 0x4, cmdline: 0x20000)
        unterminated.add(at: 0x20000, bytes: Array("no nul".utf8))
        let boot = try Multiboot1.parse(infoAddress: infoAddress, reader: unterminated)
        XCTAssertNil(boot.commandLine)
        XCTAssertTrue(boot.anomalies.contains(.unreadableString))
    }

    func testMultiboot1ModuleListProblems() {
        let memory = multiboot1Memory(flags: 0x8, modules: [(1, 2, 0)])
        var info = [UInt8](repeating: 0, count: 28)
        info.fwSetLE32(0x8, at: 0)
        info.fwSetLE32(0xFFFF_FFFF, at: 20)
        info.fwSetLE32(0x8000, at: 24)
        memory.add(at: 0x40000, bytes: info)
        XCTAssertThrowsError(try Multiboot1.parse(infoAddress: 0x40000, reader: memory)) {
            XCTAssertEqual($0 as? BootInfoError, .modulesUnreadable(address: 0x8000))
        }
        info.fwSetLE32(2, at: 20)          // two entries, but only one is readable
        memory.add(at: 0x50000, bytes: info)
        XCTAssertThrowsError(try Multiboot1.parse(infoAddress: 0x50000, reader: memory))
    }

    func testMultiboot1MemoryMapEdgeCases() throws {
        // Entries larger than 20 bytes are skipped over by their size.
        let wide = multiboot1Memory(flags: 0x40, mmap: mb1Map(qemuMap, size: 28))
        let boot = try Multiboot1.parse(infoAddress: infoAddress, reader: wide)
        XCTAssertEqual((0..<boot.memoryMapCount).map { boot.memoryMapEntry($0)! }, qemuMap)
        // A zero size field must not loop forever: the walk stops and says so.
        var broken = mb1Map(qemuMap)
        broken.fwSetLE32(0, at: 24)
        let stopped = try Multiboot1.parse(infoAddress: infoAddress, reader: multiboot1Memory(flags: 0x40, mmap: broken))
        XCTAssertEqual(stopped.memoryMapCount, 1)
        XCTAssertTrue(stopped.anomalies.contains(.badMemoryMap))
        // A last entry cut short by mmap_length is not delivered.
        let cut = Array(mb1Map(qemuMap).dropLast(4))
        let short = try Multiboot1.parse(infoAddress: infoAddress, reader: multiboot1Memory(flags: 0x40, mmap: cut))
        XCTAssertEqual(short.memoryMapCount, 3)
        XCTAssertTrue(short.anomalies.contains(.badMemoryMap))
    }

    func testMemoryMapVisitorReportsUnreadableMaps() {
        let memory = FakePhysicalMemory()
        let location = MemoryMapLocation(address: 0x1234_0000, byteCount: 48, layout: .fixedStride(entrySize: 24))
        var calls = 0
        XCTAssertFalse(location.forEach(reader: memory) { _ in calls += 1 })
        XCTAssertEqual(calls, 0)
        let huge = MemoryMapLocation(address: 0, byteCount: Int.max, layout: .sizePrefixed)
        XCTAssertFalse(huge.forEach(reader: memory) { _ in calls += 1 })
    }

    func testCStringLengthCrossesPages() {
        let memory = FakePhysicalMemory()
        var bytes = [UInt8](repeating: 0x41, count: 5000)
        bytes[4500] = 0
        memory.add(at: 0x7F00, bytes: bytes)
        XCTAssertEqual(memory.cStringLength(at: 0x7F00, limit: 8192), 4500)
        XCTAssertNil(memory.cStringLength(at: 0x7F00, limit: 100))
        XCTAssertNil(memory.cStringLength(at: UInt64.max - 2, limit: 100))
    }
}
