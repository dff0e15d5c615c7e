import XCTest
@testable import ApusCore

/// Page-table frames in host memory: frame n is the n-th 4 KiB block of `storage`.
final class FakeTableMemory: PageTableMemory {
    var storage: UnsafeMutablePointer<UInt64>
    let capacity: Int
    var nextFree: Int

    init(frames: Int) {
        capacity = frames
        storage = .allocate(capacity: frames * 512)
        storage.initialize(repeating: 0, count: frames * 512)
        nextFree = 1  // frame 0 is the root
    }
    deinit { storage.deallocate() }

    func table(_ frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        precondition(Int(frame) < capacity)
        return storage + Int(frame) * 512
    }
    func allocateTableFrame() -> UInt64? {
        guard nextFree < capacity else { return nil }
        defer { nextFree += 1 }
        return UInt64(nextFree)
    }
}

final class PageTableMapperTests: XCTestCase {
    func testEntryBitsMatchTheSDM() {
        let e = PageTableEntry(physical: 0x1234_5000, flags: PageTableEntry.present | PageTableEntry.writable | PageTableEntry.noExecute)
        XCTAssertEqual(e.raw, 0x8000_0000_1234_5003)
        XCTAssertEqual(e.physicalAddress, 0x1234_5000)
        XCTAssertTrue(e.isNoExecute && e.isWritable && !e.isUser && !e.isLargePage)
        XCTAssertEqual(PageTableEntry.global, 0x100)
        XCTAssertEqual(PageSize.size2M.bytes, 0x20_0000)
        XCTAssertEqual(PageSize.size1G.bytes, 0x4000_0000)
    }

    func testIndicesAndCanonicalForm() {
        let image: UInt64 = 0xFFFF_82D0_4000_0000
        XCTAssertEqual(VirtualAddress.index(image, level: 4), 261)
        XCTAssertEqual(VirtualAddress.index(image, level: 3), 321)
        XCTAssertEqual(VirtualAddress.index(image, level: 2), 0)
        XCTAssertEqual(VirtualAddress.index(0xFFFF_8300_0000_0000, level: 4), 262)
        XCTAssertTrue(VirtualAddress.isCanonical(image))
        XCTAssertFalse(VirtualAddress.isCanonical(0x0000_8000_0000_0000))
        XCTAssertTrue(VirtualAddress.isCanonical(0x0000_7FFF_FFFF_F000))
    }

    func testMapAndTranslateEachSize() throws {
        var mapper = PageTableMapper(memory: FakeTableMemory(frames: 16), rootFrame: 0)
        try mapper.map(virtual: 0xFFFF_82D0_4020_0000, physical: 0x20_0000, count: 3, size: .size4K,
                       flags: PageTableEntry.global)
        try mapper.map(virtual: 0xFFFF_8300_0000_0000, physical: 0, count: 2, size: .size2M,
                       flags: PageTableEntry.writable | PageTableEntry.noExecute)
        try mapper.map(virtual: 0xFFFF_8301_0000_0000, physical: 0x1_0000_0000, size: .size1G,
                       flags: PageTableEntry.writable)

        let text = try XCTUnwrap(mapper.translate(0xFFFF_82D0_4020_2123))
        XCTAssertEqual(text.physical, 0x20_2123)
        XCTAssertEqual(text.size, .size4K)
        XCTAssertFalse(text.effectiveWritable)
        XCTAssertFalse(text.effectiveNoExecute)
        XCTAssertFalse(text.effectiveUser)

        let direct = try XCTUnwrap(mapper.translate(0xFFFF_8300_0030_0010))
        XCTAssertEqual(direct.physical, 0x30_0010)
        XCTAssertEqual(direct.size, .size2M)
        XCTAssertTrue(direct.effectiveWritable && direct.effectiveNoExecute)

        XCTAssertEqual(mapper.translate(0xFFFF_8301_3FFF_FFFF)?.physical, 0x1_3FFF_FFFF)
        XCTAssertNil(mapper.translate(0xFFFF_82D0_4020_3000))
        XCTAssertNil(mapper.translate(0x0000_8000_0000_0000))
    }

    func testRefusesRemapMisalignmentAndLargePagesInTheWay() {
        var mapper = PageTableMapper(memory: FakeTableMemory(frames: 16), rootFrame: 0)
        XCTAssertNoThrow(try mapper.map(virtual: 0x20_0000, physical: 0x20_0000, size: .size2M, flags: 0))
        XCTAssertThrowsError(try mapper.map(virtual: 0x20_0000, physical: 0x40_0000, size: .size2M, flags: 0)) {
            XCTAssertEqual($0 as? PagingError, .alreadyMapped(virtual: 0x20_0000))
        }
        XCTAssertThrowsError(try mapper.map(virtual: 0x20_1000, physical: 0x1000, size: .size4K, flags: 0)) {
            XCTAssertEqual($0 as? PagingError, .largePageInTheWay(virtual: 0x20_1000))
        }
        XCTAssertThrowsError(try mapper.map(virtual: 0x1000, physical: 0x20_0000, size: .size2M, flags: 0)) {
            XCTAssertEqual($0 as? PagingError, .misaligned)
        }
        XCTAssertThrowsError(try mapper.map(virtual: 0x0000_8000_0000_0000, physical: 0, size: .size4K, flags: 0)) {
            XCTAssertEqual($0 as? PagingError, .nonCanonical)
        }
    }

    func testRunsOutOfTableFramesCleanly() {
        var mapper = PageTableMapper(memory: FakeTableMemory(frames: 3), rootFrame: 0)
        XCTAssertThrowsError(try mapper.map(virtual: 0, physical: 0, size: .size4K, flags: 0)) {
            XCTAssertEqual($0 as? PagingError, .outOfTableFrames)
        }
    }

    /// Random 4 KiB mappings translate back to exactly what was mapped.
    func testRandomMappingsTranslateBack() throws {
        var generator = SeededGenerator(seed: 42)
        var mapper = PageTableMapper(memory: FakeTableMemory(frames: 2048), rootFrame: 0)
        var mapped: [UInt64: UInt64] = [:]
        for _ in 0..<500 {
            var page = UInt64.random(in: 0..<(1 << 35), using: &generator) << 12
            if Bool.random(using: &generator) { page |= 0xFFFF_8000_0000_0000 }
            guard mapped[page] == nil else { continue }
            let frame = UInt64.random(in: 0..<(1 << 30), using: &generator) << 12
            try mapper.map(virtual: page, physical: frame, size: .size4K, flags: PageTableEntry.writable)
            mapped[page] = frame
        }
        for (page, frame) in mapped {
            XCTAssertEqual(mapper.translate(page + 0x123)?.physical, frame + 0x123)
        }
    }
}

