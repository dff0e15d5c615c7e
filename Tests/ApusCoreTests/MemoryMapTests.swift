import XCTest
@testable import ApusCore


/// Checks the map's own invariants: sorted, non-empty, non-overlapping, touching ranges differ.
private func assertWellFormed<let N: Int>(_ map: MemoryMap<N>, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertLessThanOrEqual(map.count, N, file: file, line: line)
    for index in 0..<map.count {
        let range = map[index]
        XCTAssertLessThan(range.base, range.end, "empty range \(index)", file: file, line: line)
        XCTAssertLessThanOrEqual(range.end, MemoryMap<N>.addressLimit, file: file, line: line)
        if index > 0 {
            let previous = map[index - 1]
            XCTAssertLessThanOrEqual(previous.end, range.base, "overlap at \(index)", file: file, line: line)
            if previous.end == range.base {
                XCTAssertNotEqual(previous.type, range.type, "unmerged neighbours at \(index)", file: file, line: line)
            }
        }
    }
}

private func ranges<let N: Int>(_ map: MemoryMap<N>) -> [MemoryRange] {
    var result: [MemoryRange] = []
    map.forEach { result.append($0) }
    return result
}

/// The QEMU map of the reference Xen boot log (../reference/xen-4.17-dom0-linux-boot.log).
let memoryTestQemuEntries: [(UInt64, UInt64, UInt32)] = [
    (0x0, 0x9fc00, 1),
    (0x9fc00, 0x400, 2),
    (0xf0000, 0x10000, 2),
    (0x100000, 0x3fee0000, 1),
    (0x3ffe0000, 0x20000, 2),
    (0xfffc0000, 0x40000, 2),
    (0xfd00000000, 0x300000000, 2),
]

final class MemoryMapTests: XCTestCase {
    func testQemuMapPrintsLikeXenInAnyOrder() {
        var rng = SeededGenerator(seed: 1)
        for _ in 0..<20 {
            var map = MemoryMap<128>()
            for (base, length, type) in memoryTestQemuEntries.shuffled(using: &rng) {
                XCTAssertTrue(map.add(base: base, length: length, e820Type: type))
            }
            assertWellFormed(map)
            var sink = ByteBufferSink()
            map.printE820(into: &sink)
            map.printSystemRAM(into: &sink)
            XCTAssertEqual(sink.text, """
                 [0000000000000000, 000000000009fbff] (usable)
                 [000000000009fc00, 000000000009ffff] (reserved)
                 [00000000000f0000, 00000000000fffff] (reserved)
                 [0000000000100000, 000000003ffdffff] (usable)
                 [000000003ffe0000, 000000003fffffff] (reserved)
                 [00000000fffc0000, 00000000ffffffff] (reserved)
                 [000000fd00000000, 000000ffffffffff] (reserved)
                System RAM: 1023MB (1048060kB)

                """)
        }
    }

    func testQueries() {
        var map = MemoryMap<128>()
        for (base, length, type) in memoryTestQemuEntries { map.add(base: base, length: length, e820Type: type) }
        XCTAssertEqual(map.count, 7)
        XCTAssertEqual(map.totalUsableBytes, 0x9fc00 + 0x3fee0000)
        XCTAssertEqual(map.highestUsableAddress, 0x3ffdffff)
        XCTAssertEqual(map.usableFrameEnd, 0x3ffe0)
        XCTAssertEqual(map.usableFrames, 0x9f + 0x3fee0)
        XCTAssertEqual(map.type(at: 0x9fbff), .usable)
        XCTAssertEqual(map.type(at: 0x9fc00), .reserved)
        XCTAssertNil(map.type(at: 0xa0000))
        XCTAssertNil(map.type(at: 0x1_0000_0000))
        XCTAssertEqual(map.type(at: 0xffffffffff), .reserved)
        XCTAssertNil(MemoryMap<4>().highestUsableAddress)
        XCTAssertEqual(MemoryMap<4>().usableFrameEnd, 0)
    }

    func testOverlapStricterTypeWinsWhateverTheOrder() {
        let entries: [(UInt64, UInt64, MemoryRangeType)] = [
            (0, 0x100_0000, .usable),
            (0x10_0000, 0x10_0000, .reserved),
            (0x18_0000, 0x1_0000, .unusable),
            (0x80_0000, 0x10_0000, .acpiReclaimable),
            (0x88_0000, 0x10_0000, .acpiNVS),          // overlaps ACPI data and runs past it
            (0x8C_0000, 0x1000, .reserved),            // inside NVS: NVS stays
            (0xF0_0000, 0x20_0000, .other(7)),         // overlaps the usable end
            (0xF8_0000, 0x1000, .other(12)),           // larger raw number wins a raw tie
        ]
        let expected: [MemoryRange] = [
            MemoryRange(base: 0, end: 0x10_0000, type: .usable),
            MemoryRange(base: 0x10_0000, end: 0x18_0000, type: .reserved),
            MemoryRange(base: 0x18_0000, end: 0x19_0000, type: .unusable),
            MemoryRange(base: 0x19_0000, end: 0x20_0000, type: .reserved),
            MemoryRange(base: 0x20_0000, end: 0x80_0000, type: .usable),
            MemoryRange(base: 0x80_0000, end: 0x88_0000, type: .acpiReclaimable),
            MemoryRange(base: 0x88_0000, end: 0x98_0000, type: .acpiNVS),
            MemoryRange(base: 0x98_0000, end: 0xF0_0000, type: .usable),
            MemoryRange(base: 0xF0_0000, end: 0xF8_0000, type: .other(7)),
            MemoryRange(base: 0xF8_0000, end: 0xF8_1000, type: .other(12)),
            MemoryRange(base: 0xF8_1000, end: 0x110_0000, type: .other(7)),
        ]
        var rng = SeededGenerator(seed: 2)
        for _ in 0..<50 {
            var map = MemoryMap<64>()
            for (base, length, type) in entries.shuffled(using: &rng) { map.add(base: base, length: length, type: type) }
            assertWellFormed(map)
            XCTAssertEqual(ranges(map), expected)
        }
    }

    func testTouchingSameTypeEntriesMerge() {
        var map = MemoryMap<8>()
        map.add(base: 0x2000, length: 0x1000, e820Type: 1)
        map.add(base: 0, length: 0x1000, e820Type: 1)
        map.add(base: 0x1000, length: 0x1000, e820Type: 1)
        map.add(base: 0x1800, length: 0x1000, e820Type: 1)  // overlapping duplicate
        XCTAssertEqual(ranges(map), [MemoryRange(base: 0, end: 0x3000, type: .usable)])
    }

    func testZeroLengthHugeAndOutOfReachEntries() {
        var map = MemoryMap<8>()
        XCTAssertFalse(map.add(base: 0x1000, length: 0, e820Type: 1))
        XCTAssertFalse(map.add(base: 1 << 52, length: 0x1000, e820Type: 1))
        XCTAssertFalse(map.add(base: UInt64.max, length: UInt64.max, e820Type: 2))
        XCTAssertEqual(map.count, 0)
        XCTAssertEqual(map.ignoredEntries, 3)
        // Wraps around 2^64: cut at the 52-bit limit, not dropped, not trapped.
        XCTAssertTrue(map.add(base: 0x1_0000_0000, length: UInt64.max, e820Type: 2))
        XCTAssertTrue(map.add(base: 0x10_0000, length: 0x10_0000, e820Type: 1))
        XCTAssertEqual(map.truncatedEntries, 1)
        XCTAssertEqual(ranges(map), [
            MemoryRange(base: 0x10_0000, end: 0x20_0000, type: .usable),
            MemoryRange(base: 0x1_0000_0000, end: 1 << 52, type: .reserved),
        ])
        var sink = ByteBufferSink()
        map.printE820(into: &sink)
        XCTAssertEqual(sink.text, """
             [0000000000100000, 00000000001fffff] (usable)
             [0000000100000000, 000fffffffffffff] (reserved)

            """)
    }

    func testUnknownTypesPrintAsXenDoes() {
        var map = MemoryMap<8>()
        map.add(base: 0, length: 0x1000, e820Type: 3)
        map.add(base: 0x1000, length: 0x1000, e820Type: 4)
        map.add(base: 0x2000, length: 0x1000, e820Type: 5)
        map.add(base: 0x3000, length: 0x1000, e820Type: 7)
        map.add(base: 0x4000, length: 0x1000, e820Type: 0)
        var sink = ByteBufferSink()
        map.printE820(into: &sink)
        XCTAssertEqual(sink.text, """
             [0000000000000000, 0000000000000fff] (ACPI data)
             [0000000000001000, 0000000000001fff] (ACPI NVS)
             [0000000000002000, 0000000000002fff] (unusable)
             [0000000000003000, 0000000000003fff] type 7
             [0000000000004000, 0000000000004fff] type 0

            """)
        XCTAssertEqual(map[3].type.e820Type, 7)
        XCTAssertEqual(MemoryRangeType.apus(.image).e820Type, 1)
        XCTAssertEqual(MemoryRangeType.apus(.memLimit).e820Type, 5)
    }

    /// Random entries on a coarse grid against a brute-force model of "stricter wins".
    func testRandomEntriesMatchPointwiseModel() {
        let types: [MemoryRangeType] = [.usable, .usable, .usable, .reserved, .acpiReclaimable,
                                        .acpiNVS, .unusable, .other(9), .other(20)]
        let unit: UInt64 = 0x800, units = 96
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<300 {
            var map = MemoryMap<128>()
            var model = [MemoryRangeType?](repeating: nil, count: units)
            for _ in 0..<Int.random(in: 1...14, using: &rng) {
                let start = Int.random(in: 0..<units, using: &rng)
                let length = Int.random(in: 0...(units - start), using: &rng)
                let type = types.randomElement(using: &rng)!
                // Entries not on unit boundaries still must not leak: shift inside the unit.
                map.add(base: UInt64(start) * unit, length: UInt64(length) * unit, type: type)
                for point in start..<(start + length) { model[point] = model[point]?.stricter(type) ?? type }
            }
            assertWellFormed(map)
            for point in 0..<units {
                XCTAssertEqual(map.type(at: UInt64(point) * unit), model[point])
                XCTAssertEqual(map.type(at: UInt64(point) * unit + unit - 1), model[point])
            }
        }
    }

    func testReserveKeepsReasonsAndOnlyTouchesUsableRAM() {
        var map = MemoryMap<32>()
        for (base, length, type) in memoryTestQemuEntries { map.add(base: base, length: length, e820Type: type) }
        // First MiB: only the usable part changes.
        XCTAssertEqual(map.reserve(base: 0, length: 0x10_0000, reason: .lowMemory), 0x9fc00)
        XCTAssertEqual(map.reserve(base: 0x20_0000, length: 0x20_0000, reason: .image), 0x20_0000)
        // Overlapping an earlier reservation keeps the earlier reason.
        XCTAssertEqual(map.reserve(base: 0x30_0000, length: 0x20_0000, reason: .module), 0x10_0000)
        XCTAssertEqual(map.reserve(frame: 0x12345, reason: .badPage), 0x1000)
        XCTAssertEqual(map.reserve(frame: 0x12345, reason: .badPage), 0, "already reserved")
        XCTAssertEqual(map.reserve(frame: 0x3ffdf, count: 4, reason: .badPage), 0x1000, "only one frame is RAM")
        XCTAssertEqual(map.reserve(base: 0xfffc0000, length: 0x1000, reason: .firmware), 0, "not RAM")
        XCTAssertEqual(map.reserve(base: 0x5000_0000, length: 0x1000, reason: .firmware), 0, "a hole")
        XCTAssertEqual(map.reserve(frame: 1 << 41, reason: .badPage), 0, "beyond the address limit")
        XCTAssertEqual(map.reserve(base: 0x1000, length: 0, reason: .badPage), 0)
        assertWellFormed(map)
        XCTAssertEqual(map.type(at: 0x20_0000), .apus(.image))
        XCTAssertEqual(map.type(at: 0x3f_ffff), .apus(.image))
        XCTAssertEqual(map.type(at: 0x40_0000), .apus(.module))
        XCTAssertEqual(map.type(at: 0x50_0000), .usable)
        XCTAssertEqual(map.type(at: 0x12345000), .apus(.badPage))

        var sink = ByteBufferSink()
        map.printE820(into: &sink)
        map.printSystemRAM(into: &sink)
        map.printReservations(into: &sink)
        // The firmware view is unchanged by Apus's reservations.
        XCTAssertEqual(sink.text, """
             [0000000000000000, 000000000009fbff] (usable)
             [000000000009fc00, 000000000009ffff] (reserved)
             [00000000000f0000, 00000000000fffff] (reserved)
             [0000000000100000, 000000003ffdffff] (usable)
             [000000003ffe0000, 000000003fffffff] (reserved)
             [00000000fffc0000, 00000000ffffffff] (reserved)
             [000000fd00000000, 000000ffffffffff] (reserved)
            System RAM: 1023MB (1048060kB)
             [0000000000000000, 000000000009fbff] low memory (639kB)
             [0000000000200000, 00000000003fffff] Apus image (2MB)
             [0000000000400000, 00000000004fffff] boot module (1MB)
             [0000000012345000, 0000000012345fff] bad page (4kB)
             [000000003ffdf000, 000000003ffdffff] bad page (4kB)

            """)
        XCTAssertEqual(map.totalUsableBytes, 0x3fee0000 - 0x30_0000 - 0x2000)
        XCTAssertEqual(map.highestUsableAddress, 0x3ffdefff)
    }

    func testClipAboveMemLimit() {
        var map = MemoryMap<16>()
        map.add(base: 0, length: 0x9fc00, e820Type: 1)
        map.add(base: 0x10_0000, length: 0xBFF0_0000, e820Type: 1)          // to 3 GiB
        map.add(base: 0xC000_0000, length: 0x4000_0000, e820Type: 2)
        map.add(base: 0x1_0000_0000, length: 0x1_0000_0000, e820Type: 1)    // 4..8 GiB
        map.reserve(base: 0x1_8000_0000, length: 0x10_0000, reason: .module)
        // mem=2G cuts 1 GiB below 4 GiB and the 4 GiB above it minus the module.
        XCTAssertEqual(map.clip(above: 0x8000_0000), 0x4000_0000 + 0x1_0000_0000 - 0x10_0000)
        assertWellFormed(map)
        XCTAssertEqual(map.type(at: 0x7fff_ffff), .usable)
        XCTAssertEqual(map.type(at: 0x8000_0000), .apus(.memLimit))
        XCTAssertEqual(map.type(at: 0xC000_0000), .reserved, "firmware ranges stay")
        XCTAssertEqual(map.type(at: 0x1_8000_0000), .apus(.module), "earlier reservations stay")
        XCTAssertEqual(map.highestUsableAddress, 0x7fff_ffff)
        XCTAssertEqual(map.clip(above: 0x8000_0000), 0, "idempotent")
        XCTAssertEqual(map.clip(above: 1 << 60), 0)
        var sink = ByteBufferSink()
        map.printE820(into: &sink)
        map.printSystemRAM(into: &sink)
        XCTAssertEqual(sink.text, """
             [0000000000000000, 000000000009fbff] (usable)
             [0000000000100000, 000000007fffffff] (usable)
             [0000000080000000, 00000000bfffffff] (unusable)
             [00000000c0000000, 00000000ffffffff] (reserved)
             [0000000100000000, 000000017fffffff] (unusable)
             [0000000180000000, 00000001800fffff] (usable)
             [0000000180100000, 00000001ffffffff] (unusable)
            System RAM: 2048MB (2097788kB)

            """)
    }

    func testCarveIsHighestFirstAlignedAndDisjoint() {
        var map = MemoryMap<32>()
        map.add(base: 0, length: 0x9fc00, e820Type: 1)
        map.add(base: 0x10_0000, length: 0x3fee_0000, e820Type: 1)
        map.add(base: 0x1_0000_0000, length: 0x1000_0000, e820Type: 1)
        // Highest-first under the bound: the top of the range below 4 GiB.
        let table = map.carve(bytes: 0x12345, alignment: 0x20_0000, below: 0x1_0000_0000)
        XCTAssertEqual(table, 0x3fe0_0000, "0x3ffe_0000 - 0x13000, aligned down to 2 MiB")
        XCTAssertEqual(map.type(at: 0x3fdf_ffff), .usable)
        XCTAssertEqual(map.type(at: 0x3fe0_0000), .apus(.allocatorMetadata))
        XCTAssertEqual(map.type(at: 0x3fe1_2fff), .apus(.allocatorMetadata), "rounded up to whole frames")
        XCTAssertEqual(map.type(at: 0x3fe1_3000), .usable)
        // No bound: the top of memory.
        XCTAssertEqual(map.carve(bytes: 0x1000), 0x1_0fff_f000)
        XCTAssertEqual(map.carve(bytes: 0x1000, reason: .pageTables), 0x1_0fff_e000)
        XCTAssertEqual(map.type(at: 0x1_0fff_e000), .apus(.pageTables))
        // A bound inside a range, and one below everything usable.
        XCTAssertEqual(map.carve(bytes: 0x1000, below: 0x20_0800), 0x1f_f000)
        XCTAssertNil(map.carve(bytes: 0x1000, below: 0x800))
        XCTAssertNil(map.carve(bytes: 0, alignment: 0x1000))
        XCTAssertNil(map.carve(bytes: 0x1000, alignment: 0x3000))
        XCTAssertNil(map.carve(bytes: 0x4000_0000, below: 0x1_0000_0000), "no range below the bound is big enough")
        XCTAssertNil(map.carve(bytes: UInt64.max))
        // Repeated carving never hands out the same byte twice.
        var chunks: [UInt64] = []
        while let chunk = map.carve(bytes: 0x100_0000, alignment: 0x1000, below: 0x1000_0000) { chunks.append(chunk) }
        XCTAssertEqual(chunks.count, 15, "[2 MiB, 256 MiB) holds 15 whole 16 MiB chunks")
        for (index, chunk) in chunks.enumerated() {
            XCTAssertEqual(chunk & 0xFFF, 0)
            XCTAssertLessThanOrEqual(chunk + 0x100_0000, 0x1000_0000)
            for other in chunks[(index + 1)...] { XCTAssertTrue(other + 0x100_0000 <= chunk || chunk + 0x100_0000 <= other) }
        }
        assertWellFormed(map)
    }

    func testCapacityOverflowMergesNonRAMFirstAndNeverInventsRAM() {
        var map = MemoryMap<6>()
        map.add(base: 0, length: 0x8000, e820Type: 1)
        for index in 0..<10 {
            XCTAssertTrue(map.add(base: 0x1_0000 + UInt64(index) * 0x2000, length: 0x1000, e820Type: 2))
        }
        assertWellFormed(map)
        XCTAssertEqual(map.count, 6)
        XCTAssertGreaterThan(map.capacityMerges, 0)
        XCTAssertEqual(map.lostUsableBytes, 0)
        XCTAssertEqual(map.type(at: 0), .usable)
        XCTAssertEqual(map.type(at: 0x1_0000), .reserved)
        XCTAssertEqual(map.type(at: 0x1_2000), .reserved)
        XCTAssertEqual(map.type(at: 0x2_2000), .reserved)
        XCTAssertTrue(map.overflowed)
        var sink = ByteBufferSink()
        map.printReservations(into: &sink)
        XCTAssertTrue(sink.text.hasPrefix(" WARNING: memory map full (6 entries): merged"), sink.text)
    }

    func testCapacityOverflowDropsTheCheapestRAM() {
        var map = MemoryMap<4>()
        for index in 0..<4 { map.add(base: UInt64(index) * 0x10_0000, length: 0x1000 * UInt64(index + 1), e820Type: 1) }
        XCTAssertEqual(map.count, 4)
        // A fifth range must come from somewhere: the smallest RAM range (one frame) goes.
        XCTAssertTrue(map.add(base: 0x100_0000, length: 0x1000, e820Type: 2))
        XCTAssertEqual(map.lostUsableBytes, 0x1000)
        XCTAssertNil(map.type(at: 0))
        XCTAssertEqual(map.type(at: 0x100_0000), .reserved)
        // A bad page inside [0x30_0000, 0x30_4000) needs two more slots. Widening the
        // reservation over the 4 KiB to its left is cheaper than dropping the 8 KiB
        // range; for the last slot both cost 8 KiB and widening wins the tie.
        XCTAssertEqual(map.reserve(base: 0x30_1000, length: 0x1000, reason: .badPage), 0x1000)
        assertWellFormed(map)
        XCTAssertEqual(map.widenedEdits, 2)
        XCTAssertEqual(map.type(at: 0x30_0000), .apus(.badPage))
        XCTAssertEqual(map.type(at: 0x30_3fff), .apus(.badPage))
        XCTAssertEqual(map.type(at: 0x10_0000), .usable)
        XCTAssertEqual(map.lostUsableBytes, 0x1000 + 0x1000 + 0x2000)
        XCTAssertEqual(map.rejectedEdits, 0)
    }

    func testCapacityOverflowNeverLosesAReservation() {
        var map = MemoryMap<3>()
        map.add(base: 0, length: 0x10_0000, e820Type: 1)
        map.reserve(base: 0, length: 0x1000, reason: .image)
        XCTAssertEqual(map.count, 2)
        // A bad page in the middle of the only RAM: the reservation grows to the
        // nearer edge (the end), giving up the RAM behind it rather than the bad page.
        XCTAssertEqual(map.reserve(base: 0xF_0000, length: 0x1000, reason: .badPage), 0x1000)
        assertWellFormed(map)
        XCTAssertEqual(map.type(at: 0xF_0000), .apus(.badPage))
        XCTAssertEqual(map.type(at: 0xF_FFFF), .apus(.badPage))
        XCTAssertEqual(map.type(at: 0xE_F000), .usable)
        XCTAssertEqual(map.type(at: 0), .apus(.image))
        XCTAssertEqual(map.lostUsableBytes, 0xF000)
        // Adding RAM to a full map is dropped rather than traded for the larger range.
        XCTAssertFalse(map.add(base: 0x100_0000, length: 0x1000, e820Type: 1))
        XCTAssertEqual(map.rejectedEdits, 1)
        XCTAssertNil(map.type(at: 0x100_0000))
        // A firmware range in a hole is folded into a non-RAM neighbour when there is one.
        var firmware = MemoryMap<2>()
        firmware.add(base: 0, length: 0x1000, e820Type: 1)
        firmware.add(base: 0x10_0000, length: 0x1000, e820Type: 2)
        XCTAssertTrue(firmware.add(base: 0x20_0000, length: 0x1000, e820Type: 5))
        XCTAssertEqual(firmware.type(at: 0x10_0000), .unusable)
        XCTAssertEqual(firmware.type(at: 0x18_0000), .unusable)
        XCTAssertEqual(firmware.type(at: 0x20_0000), .unusable)
        XCTAssertEqual(firmware.type(at: 0), .usable)
        var sink = ByteBufferSink()
        map.printReservations(into: &sink)
        XCTAssertEqual(sink.text, """
             [0000000000000000, 0000000000000fff] Apus image (4kB)
             [00000000000f0000, 00000000000fffff] bad page (64kB)
             WARNING: memory map full (3 entries): merged 0 non-RAM ranges, widened 1 reservations, lost 64kB of RAM, rejected 1 entries

            """)
    }

    /// Property: under capacity pressure the map may lose RAM or merge non-RAM, but a byte
    /// it calls usable was usable in every entry that covered it and never reserved.
    func testRandomEditsUnderPressureNeverInventUsableRAM() {
        let unit: UInt64 = 0x1000, units = 128
        var rng = SeededGenerator(seed: 4)
        for _ in 0..<200 {
            var map = MemoryMap<8>()
            var model = [MemoryRangeType?](repeating: nil, count: units)
            var reserved = [Bool](repeating: false, count: units)
            for step in 0..<40 {
                let start = Int.random(in: 0..<units, using: &rng)
                let length = Int.random(in: 1...min(12, units - start), using: &rng)
                // Firmware entries first, then Apus's edits, as the hypervisor does.
                if step < 20 {
                    let type: MemoryRangeType = [.usable, .usable, .reserved, .acpiNVS, .unusable].randomElement(using: &rng)!
                    map.add(base: UInt64(start) * unit, length: UInt64(length) * unit, type: type)
                    for point in start..<(start + length) { model[point] = model[point]?.stricter(type) ?? type }
                } else {
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0..<3:
                        let wasUsable = (start..<(start + length)).filter { map.type(at: UInt64($0) * unit) == .usable }
                        map.reserve(base: UInt64(start) * unit, length: UInt64(length) * unit, reason: .badPage)
                        for point in start..<(start + length) { reserved[point] = true }
                        for point in wasUsable {
                            XCTAssertEqual(map.type(at: UInt64(point) * unit), .apus(.badPage), "reservation lost")
                        }
                    case 3:
                        _ = map.carve(bytes: UInt64(length) * unit)
                    default:
                        map.clip(above: UInt64(start) * unit)
                        for point in start..<units { reserved[point] = true }
                    }
                }
                assertWellFormed(map)
                for point in 0..<units where map.type(at: UInt64(point) * unit) == .usable {
                    XCTAssertEqual(model[point], .usable)
                    XCTAssertFalse(reserved[point])
                }
            }
        }
    }
}
