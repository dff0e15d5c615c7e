import XCTest
@testable import ApusCore

/// Builds an allocator over `map` with an Array-backed frame table and runs `body`.
private func withAllocator<let N: Int, R>(
    _ map: MemoryMap<N>, dmaBits: Int = 30, tableEntries: Int? = nil,
    _ body: (inout FrameAllocator, UnsafeMutableBufferPointer<FrameInfo>) -> R
) -> R {
    var table = [FrameInfo](repeating: FrameInfo(), count: tableEntries ?? FrameAllocator.frameTableEntries(for: map))
    return table.withUnsafeMutableBufferPointer { buffer in
        var allocator = FrameAllocator(map: map, frameTable: buffer, dmaBits: dmaBits)
        return body(&allocator, buffer)
    }
}

private struct FreeBlock: Hashable { var head: UInt64; var order: Int; var zone: Int }

private func freeBlocks(_ allocator: borrowing FrameAllocator) -> Set<FreeBlock> {
    var blocks = Set<FreeBlock>()
    allocator.forEachFreeBlock { head, order, zone in
        XCTAssertTrue(blocks.insert(FreeBlock(head: head, order: order, zone: zone)).inserted)
    }
    return blocks
}

/// Frees and fails the test on an error (XCTAssertNoThrow's autoclosure cannot take
/// an inout ~Copyable allocator).
private func expectFree(_ allocator: inout FrameAllocator, _ frame: UInt64, order: Int,
                        file: StaticString = #filePath, line: UInt = #line) {
    do throws(FrameAllocatorError) {
        try allocator.free(frame, order: order)
    } catch {
        XCTFail("free(\(frame), order: \(order)) failed: \(error)", file: file, line: line)
    }
}

private func assertInvariants(_ allocator: borrowing FrameAllocator, file: StaticString = #filePath, line: UInt = #line) {
    if let violation = allocator.checkInvariants() {
        XCTFail("invariant broken: \(violation)", file: file, line: line)
    }
}

/// 64 MiB like a small PC: low RAM below 640 KiB, a BIOS hole, RAM from 1 MiB, a
/// reserved range in the middle, Apus's image and the first MiB reserved, bad pages.
private func smallPCMap() -> MemoryMap<64> {
    var map = MemoryMap<64>()
    map.add(base: 0, length: 0x9fc00, e820Type: 1)
    map.add(base: 0x9fc00, length: 0x400, e820Type: 2)
    map.add(base: 0xf0000, length: 0x10000, e820Type: 2)
    map.add(base: 0x10_0000, length: 0x3f0_0000, e820Type: 1)
    map.add(base: 0x200_0000, length: 0x1_8000, e820Type: 4)
    map.add(base: 0x2a0_0123, length: 0x10, e820Type: 5)        // a few bad bytes mid-page
    map.reserve(base: 0, length: 0x10_0000, reason: .lowMemory)
    map.reserve(base: 0x10_0000, length: 0x20_0000, reason: .image)
    map.reserve(frame: 0x1234, reason: .badPage)
    map.reserve(frame: 0x1235, reason: .badPage)
    map.reserve(base: 0x380_0000, length: 0x12_3456, reason: .module)
    return map
}

final class FrameAllocatorTests: XCTestCase {
    func testFrameInfoLayoutIs32Bytes() {
        XCTAssertEqual(MemoryLayout<FrameInfo>.size, 32)
        XCTAssertEqual(MemoryLayout<FrameInfo>.stride, 32)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.next), 0)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.prev), 4)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.countInfo), 8)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.typeInfo), 16)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.owner), 24)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.order), 26)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.state), 27)
        XCTAssertEqual(MemoryLayout<FrameInfo>.offset(of: \.spare), 28)
        XCTAssertEqual(FrameAllocator.frameInfoStride, 32)
    }

    func testZoneArithmetic() {
        XCTAssertEqual(FrameZones.zone(of: 0), 0)
        XCTAssertEqual(FrameZones.zone(of: 1), 1)
        XCTAssertEqual(FrameZones.zone(of: 3), 2)
        XCTAssertEqual(FrameZones.zone(of: 0x3_ffff), 18)             // last frame below 1 GiB
        XCTAssertEqual(FrameZones.zone(of: 0x4_0000), 19)
        XCTAssertEqual(FrameZones.zone(of: (1 << 40) - 1), 40)
        XCTAssertEqual(FrameZones.maxOrder(inZone: 0), 0)
        XCTAssertEqual(FrameZones.maxOrder(inZone: 2), 1)
        XCTAssertEqual(FrameZones.maxOrder(inZone: 30), FrameAllocator.maxOrder)
        XCTAssertEqual(FrameZones.frames(inZone: 19), 0x4_0000..<0x8_0000)
        XCTAssertEqual(FrameZones.highestZone(belowAddressBits: 30), 18)
        XCTAssertEqual(FrameZones.highestZone(belowAddressBits: 64), 40)
        XCTAssertNil(FrameZones.highestZone(belowAddressBits: 11))
        XCTAssertEqual(FrameZones.zones(of: .dma, dmaBits: 30), 0...18)
        XCTAssertEqual(FrameZones.zones(of: .below4G, dmaBits: 30), 19...20)
        XCTAssertEqual(FrameZones.zones(of: .high, dmaBits: 30), 21...40)
        XCTAssertNil(FrameZones.zones(of: .below4G, dmaBits: 36))
        XCTAssertEqual(FrameZones.zones(of: .high, dmaBits: 36), 25...40)
        XCTAssertEqual(41 * 19, 779, "InlineArray sizes in FrameAllocator")
    }

    func testInitialStateHasOnlyUsableFramesFreeAndIsCanonical() {
        let map = smallPCMap()
        withAllocator(map) { allocator, table in
            assertInvariants(allocator)
            XCTAssertEqual(allocator.frameCount, 0x4000)
            XCTAssertEqual(allocator.freeFrames, map.usableFrames)
            XCTAssertEqual(allocator.managedFrames, map.usableFrames)
            XCTAssertEqual(allocator.unmanagedFrames, 0)
            for frame in 0..<UInt64(table.count) {
                let start = frame << 12
                let wholeFrameUsable = map.type(at: start) == .usable && map.type(at: start + 0xFFF) == .usable
                    && (0..<map.count).contains { map[$0].type == .usable && map[$0].base <= start && start + 0x1000 <= map[$0].end }
                XCTAssertEqual(table[Int(frame)].state != .unavailable, wholeFrameUsable, "frame \(frame)")
            }
            XCTAssertEqual(allocator.state(of: 0x1234), .unavailable)
            XCTAssertEqual(allocator.state(of: 0x2a00), .unavailable, "frame with bad bytes")
            XCTAssertEqual(allocator.state(of: 0x2a01), .freeHead)
            XCTAssertNil(allocator.state(of: 0x4000))
            // Greedy initial blocks are already fully coalesced: frame 0x2a01 starts a run
            // of order-0, then larger aligned blocks.
            XCTAssertEqual(table[0x2a01].order, 0)
            XCTAssertEqual(table[0x2a02].order, 1)
            XCTAssertEqual(table[0x2a04].order, 2)
        }
    }

    func testAllocatingEverythingNeverRepeatsAFrameOrTouchesReservedMemory() {
        let map = smallPCMap()
        withAllocator(map) { allocator, _ in
            var seen = Set<UInt64>()
            var rng = SeededGenerator(seed: 10)
            var order = 5
            while true {
                guard let head = allocator.allocate(order: order) else {
                    if order == 0 { break }
                    order -= 1
                    continue
                }
                XCTAssertEqual(head & ((1 << UInt64(order)) - 1), 0, "aligned to its order")
                for frame in head..<(head + (1 << UInt64(order))) {
                    XCTAssertTrue(seen.insert(frame).inserted, "frame \(frame) handed out twice")
                    XCTAssertEqual(map.type(at: frame << 12), .usable)
                    XCTAssertEqual(map.type(at: (frame << 12) + 0xFFF), .usable)
                }
                if Int.random(in: 0..<8, using: &rng) == 0 { order = Int.random(in: 0...5, using: &rng) }
            }
            XCTAssertEqual(UInt64(seen.count), map.usableFrames)
            XCTAssertEqual(allocator.freeFrames, 0)
            XCTAssertNil(allocator.allocate(order: 0))
            assertInvariants(allocator)
        }
    }

    func testAllocateAllThenFreeInRandomOrderCoalescesBackExactly() {
        let map = smallPCMap()
        for seed in UInt64(20)..<UInt64(25) {
            withAllocator(map) { allocator, _ in
                let initial = freeBlocks(allocator)
                let initialFree = allocator.freeFrames
                var rng = SeededGenerator(seed: seed)
                var live: [(UInt64, Int)] = []
                while allocator.freeFrames > 0 {
                    let order = Int.random(in: 0...4, using: &rng)
                    if let head = allocator.allocate(order: order, addressBits: 64) {
                        live.append((head, order))
                    } else if let head = allocator.allocate(order: 0) {
                        live.append((head, 0))
                    }
                }
                XCTAssertTrue(freeBlocks(allocator).isEmpty)
                assertInvariants(allocator)
                live.shuffle(using: &rng)
                for (index, (head, order)) in live.enumerated() {
                    expectFree(&allocator, head, order: order)
                    if index % 97 == 0 { assertInvariants(allocator) }
                }
                assertInvariants(allocator)
                XCTAssertEqual(allocator.freeFrames, initialFree)
                XCTAssertEqual(freeBlocks(allocator), initial)
            }
        }
    }

    /// 10,000 random operations with the invariant checker run throughout.
    func testRandomAllocFreeKeepsInvariants() {
        var map = smallPCMap()
        map.add(base: 0x1_0000_0000, length: 0x80_0000, e820Type: 1)  // 8 MiB above 4 GiB
        let tableEntries = FrameAllocator.frameTableEntries(for: map)
        XCTAssertEqual(tableEntries, 0x10_0800)
        withAllocator(map) { allocator, _ in
            var rng = SeededGenerator(seed: 30)
            var live: [(head: UInt64, order: Int)] = []
            var owned = Set<UInt64>()
            for step in 0..<10_000 {
                if live.isEmpty || Int.random(in: 0..<100, using: &rng) < 55 {
                    let order = Int.random(in: 0...9, using: &rng)
                    let bits = [64, 64, 64, 32, 30, 26].randomElement(using: &rng)!
                    if let head = allocator.allocate(order: order, addressBits: bits) {
                        let size = UInt64(1) << order
                        if bits < 64 {
                            XCTAssertLessThanOrEqual((head + size) << 12, UInt64(1) << bits, "address width \(bits)")
                        }
                        for frame in head..<(head + size) {
                            XCTAssertTrue(owned.insert(frame).inserted, "frame \(frame) handed out twice")
                            XCTAssertEqual(allocator.state(of: frame), .allocated)
                        }
                        live.append((head, order))
                    }
                } else {
                    let index = Int.random(in: 0..<live.count, using: &rng)
                    var (head, order) = live.remove(at: index)
                    // Sometimes give back only half and keep the other half live.
                    if order > 0 && Bool.random(using: &rng) {
                        order -= 1
                        let half = UInt64(1) << order
                        let keepLow = Bool.random(using: &rng)
                        live.append((keepLow ? head : head + half, order))
                        if keepLow { head += half }
                    }
                    expectFree(&allocator, head, order: order)
                    for frame in head..<(head + (1 << UInt64(order))) { owned.remove(frame) }
                }
                if step % 500 == 0 { assertInvariants(allocator) }
                XCTAssertEqual(allocator.freeFrames + UInt64(owned.count), allocator.managedFrames)
            }
            assertInvariants(allocator)
            for (head, order) in live { expectFree(&allocator, head, order: order) }
            assertInvariants(allocator)
            XCTAssertEqual(allocator.freeFrames, allocator.managedFrames)
        }
    }

    func testZoneLimitsAndDMAComesLast() {
        var map = MemoryMap<16>()
        map.add(base: 0x10_0000, length: 0x3ff0_0000, e820Type: 1)        // 1 MiB .. 1 GiB
        map.add(base: 0x4000_0000, length: 0x10_0000, e820Type: 1)        // 1 MiB above 1 GiB
        map.add(base: 0x1_0000_0000, length: 0x4000_0000, e820Type: 1)    // 4 .. 5 GiB
        withAllocator(map) { allocator, _ in
            assertInvariants(allocator)
            XCTAssertEqual(allocator.freeFrames(in: .dma), 0x3ff00)
            XCTAssertEqual(allocator.freeFrames(in: .below4G), 0x100)
            XCTAssertEqual(allocator.freeFrames(in: .high), 0x4_0000)
            XCTAssertEqual(allocator.freeBlocks(inBitZone: 21, order: 18), 1, "a 1 GiB block at 4 GiB")

            // A 30-bit limit lands below 1 GiB; 32 bits below 4 GiB; no limit: highest zone.
            let low = allocator.allocate(order: 0, addressBits: 30)!
            XCTAssertLessThan(low << 12, 1 << 30)
            let below4G = allocator.allocate(order: 0, addressBits: 32)!
            XCTAssertGreaterThanOrEqual(below4G << 12, 1 << 30, "DMA memory is used last")
            XCTAssertLessThan(below4G << 12, 1 << 32)
            let anywhere = allocator.allocate(order: 0)!
            XCTAssertGreaterThanOrEqual(anywhere << 12, 1 << 32)
            XCTAssertNil(allocator.allocate(order: 0, addressBits: 11))
            XCTAssertNil(allocator.allocate(order: 19))
            XCTAssertNil(allocator.allocate(order: -1))
            XCTAssertNil(allocator.allocate(order: 9, addressBits: 20), "nothing free below 1 MiB")

            XCTAssertEqual(allocator.allocate(order: 18, zone: .high), nil, "the 1 GiB block was split")
            let dma = allocator.allocate(order: 3, zone: .dma)!
            XCTAssertLessThan((dma + 8) << 12, (1 << 30) + 1)

            // Exhaust everything above the DMA zone: the next ordinary allocation falls back.
            while let frame = allocator.allocate(order: 0, zone: .high) { _ = frame }
            while let frame = allocator.allocate(order: 0, zone: .below4G) { _ = frame }
            XCTAssertEqual(allocator.freeFrames(in: .high), 0)
            let fallback = allocator.allocate(order: 0)!
            XCTAssertLessThan(fallback << 12, 1 << 30)
            XCTAssertNil(allocator.allocate(order: 0, zone: .below4G))
            assertInvariants(allocator)
        }
    }

    func testDmaBitsMovesTheBoundaryAndIsClamped() {
        var map = MemoryMap<8>()
        map.add(base: 0x10_0000, length: 0x7ff0_0000, e820Type: 1)   // up to 2 GiB
        withAllocator(map, dmaBits: 31) { allocator, _ in
            XCTAssertEqual(allocator.dmaBits, 31)
            XCTAssertEqual(allocator.freeFrames(in: .below4G), 0)
            XCTAssertEqual(allocator.freeFrames(in: .dma), 0x7ff00)
        }
        withAllocator(map, dmaBits: 0) { allocator, _ in
            XCTAssertEqual(allocator.dmaBits, FrameZones.dmaBitsRange.lowerBound)
        }
        withAllocator(map, dmaBits: 99) { allocator, _ in
            XCTAssertEqual(allocator.dmaBits, 52)
            XCTAssertNil(allocator.allocate(order: 0, zone: .high))
        }
    }

    func testFreeRejectsBadRequests() {
        let map = smallPCMap()
        withAllocator(map) { allocator, _ in
            let block = allocator.allocate(order: 2)!
            func check(_ expected: FrameAllocatorError, _ frame: UInt64, order: Int, line: UInt = #line) {
                do throws(FrameAllocatorError) {
                    try allocator.free(frame, order: order)
                    XCTFail("no error", line: line)
                } catch {
                    XCTAssertEqual(error, expected, line: line)
                }
            }
            check(.invalidOrder, block, order: 19)
            check(.invalidOrder, block, order: -1)
            check(.misaligned, block + 1, order: 1)
            check(.outOfRange, 0x4000, order: 0)
            check(.outOfRange, 0, order: 15)
            check(.crossesZone, 0, order: 1)
            check(.notAllocated(frame: 0x1234), 0x1234, order: 0)
            check(.notAllocated(frame: 0), 0, order: 0)
            // A free frame that was never handed out.
            let freeFrame = UInt64(0x2a01)
            XCTAssertEqual(allocator.state(of: freeFrame), .freeHead)
            check(.notAllocated(frame: freeFrame), freeFrame, order: 0)
            // Part of a block may go back on its own; then a double free is caught.
            expectFree(&allocator, block + 2, order: 1)
            check(.notAllocated(frame: block + 2), block, order: 2)
            check(.notAllocated(frame: block + 3), block + 3, order: 0)
            expectFree(&allocator, block, order: 0)
            expectFree(&allocator, block + 1, order: 0)
            assertInvariants(allocator)
            XCTAssertEqual(allocator.freeFrames, map.usableFrames)
        }
    }

    func testShortFrameTableLeavesHighFramesUnmanaged() {
        var map = MemoryMap<8>()
        map.add(base: 0x10_0000, length: 0xF0_0000, e820Type: 1)   // frames 0x100..<0x1000
        withAllocator(map, tableEntries: 0x800) { allocator, _ in
            XCTAssertEqual(allocator.managedFrames, 0x700)
            XCTAssertEqual(allocator.unmanagedFrames, 0x800)
            var highest: UInt64 = 0
            while let frame = allocator.allocate(order: 0) { highest = max(highest, frame) }
            XCTAssertEqual(highest, 0x7ff)
            assertInvariants(allocator)
        }
    }

    func testCheckerCatchesCorruption() {
        let map = smallPCMap()
        func corrupted(_ damage: (UnsafeMutableBufferPointer<FrameInfo>) -> Void) -> FrameAllocatorViolation.Kind? {
            withAllocator(map) { allocator, table in
                XCTAssertNil(allocator.checkInvariants())
                damage(table)
                return allocator.checkInvariants()?.kind
            }
        }
        // 0x2a04 heads an order-2 block; 0x2a02 an order-1 block; 0x1236 is free.
        XCTAssertEqual(corrupted { $0[0x2a05].state = .allocated }, .interiorNotFree)
        XCTAssertEqual(corrupted { $0[0x2a04].order = 1 }, .wrongOrder)
        XCTAssertEqual(corrupted { $0[0x2a04].state = .allocated }, .headNotFreeHead)
        XCTAssertEqual(corrupted { $0[0x1234].state = .free }, .strayFreeFrame)
        XCTAssertEqual(corrupted { $0[0x1234].state = .freeHead }, .unlistedFreeHead)
        XCTAssertEqual(corrupted { $0[0x2a04].prev = 7 }, .badBackLink)
        XCTAssertNotNil(corrupted { table in
            table[0x2a04].next = UInt32(0x2a04)   // a loop in a list
        })
        withAllocator(map) { allocator, _ in
            // Counters out of step with the lists.
            allocator.freeFrames += 1
            XCTAssertEqual(allocator.checkInvariants()?.kind, .totalCountMismatch)
        }
        withAllocator(map) { allocator, _ in
            // Two free buddies at one order: give back an order-1 block as two order-0
            // blocks behind the allocator's back.
            let pair = allocator.allocate(order: 1)!
            for frame in pair...(pair + 1) {
                allocator.frameTable[Int(frame)].state = .free
                allocator.push(frame, order: 0, zone: FrameZones.zone(of: frame))
            }
            XCTAssertEqual(allocator.checkInvariants()?.kind, .buddiesBothFree)
        }
    }

    func testDumpFormat() {
        var map = MemoryMap<8>()
        map.add(base: 0x10_0000, length: 0x30_0000, e820Type: 1)      // frames 0x100..<0x400
        map.add(base: 0x4000_0000, length: 0x1000, e820Type: 1)       // one frame at 1 GiB
        withAllocator(map) { allocator, _ in
            _ = allocator.allocate(order: 0, zone: .dma)
            var sink = ByteBufferSink()
            allocator.dump(into: &sink)
            XCTAssertEqual(sink.text, """
                Frame allocator: 768 of 769 frames free (3MB), dma_bits=30
                 DMA     [0000000000000000, 000000003fffffff]: 767 frames free
                 <4GB    [0000000040000000, 00000000ffffffff]: 1 frames free
                 high    [0000000100000000, 000fffffffffffff]: 0 frames free
                  zone  9 [0000000000100000, 00000000001fffff]: 256 frames: o8:1
                  zone 10 [0000000000200000, 00000000003fffff]: 511 frames: o0:1 o1:1 o2:1 o3:1 o4:1 o5:1 o6:1 o7:1 o8:1
                  zone 19 [0000000040000000, 000000007fffffff]: 1 frames: o0:1

                """)
        }
    }

    /// The boot sequence the hypervisor follows: map, reservations, carve the table, build.
    func testBootSequenceWithCarvedFrameTable() {
        var map = MemoryMap<128>()
        for (base, length, type) in memoryTestQemuEntries { map.add(base: base, length: length, e820Type: type) }
        map.reserve(base: 0, length: 0x10_0000, reason: .lowMemory)
        map.reserve(base: 0x10_0000, length: 0x40_0000, reason: .image)
        XCTAssertEqual(map.clip(above: 0x2000_0000), 0x1ffe_0000)       // mem=512M
        let entries = FrameAllocator.frameTableEntries(for: map)
        XCTAssertEqual(entries, 0x2_0000)
        let tableBase = map.carve(bytes: UInt64(entries * FrameAllocator.frameInfoStride))!
        XCTAssertEqual(tableBase, 0x2000_0000 - 0x40_0000)
        withAllocator(map, tableEntries: entries) { allocator, _ in
            assertInvariants(allocator)
            for frame in (tableBase >> 12)..<((tableBase + 0x40_0000) >> 12) {
                XCTAssertEqual(allocator.state(of: frame), .unavailable, "frame table frame \(frame)")
            }
            XCTAssertEqual(allocator.freeFrames, 0x2_0000 - 0x500 - 0x400)
            XCTAssertEqual(allocator.freeBlocks(inBitZone: 17, order: 15), 1)
        }
    }
}
