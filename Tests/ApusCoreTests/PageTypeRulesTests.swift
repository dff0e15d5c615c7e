import XCTest
@testable import ApusCore

/// A small machine: frames 0x100..<0x200 are RAM; dom0 (id 0) owns 0x100..<0x180.
struct FakeFrameTable: PVFrameTable {
    var levels: [UInt64: Int] = [:]
    var writable: [UInt64: UInt64] = [:]
    var counts: [UInt64: UInt32] = [:]
    var mapped: [UInt64: UInt64] = [:]
    var tables: [UInt64: [UInt64]] = [:]
    var owners: [UInt64: UInt16] = {
        var o: [UInt64: UInt16] = [:]
        for f in UInt64(0x100)..<0x180 { o[f] = 0 }
        for f in UInt64(0x180)..<0x190 { o[f] = 1 }
        return o
    }()

    func owner(of frame: UInt64) -> UInt16? { owners[frame] }
    func isRAM(_ frame: UInt64) -> Bool { frame >= 0x100 && frame < 0x200 }
    func isHypervisorMMIO(_ frame: UInt64) -> Bool { frame == 0xFEE00 }
    func isReadOnlyMMIO(_ frame: UInt64) -> Bool { frame == 0xFEC00 || frame == 0xFED00 }
    func level(of frame: UInt64) -> Int { levels[frame] ?? 0 }
    func writableMappings(of frame: UInt64) -> UInt64 { writable[frame] ?? 0 }
    func typeCount(of frame: UInt64) -> UInt32 { counts[frame] ?? 0 }
    func mappings(of frame: UInt64) -> UInt64 { mapped[frame] ?? 0 }
    mutating func adjustMappings(of frame: UInt64, by delta: Int) { mapped[frame] = UInt64(Int(mapped[frame] ?? 0) + delta) }
    mutating func setTypeCount(_ count: UInt32, of frame: UInt64) { counts[frame] = count }
    func entry(_ frame: UInt64, _ index: Int) -> UInt64 { tables[frame]?[index] ?? 0 }
    mutating func setLevel(_ level: Int, of frame: UInt64) { levels[frame] = level }
    mutating func setEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        var t = tables[frame] ?? Array(repeating: 0, count: 512)
        t[index] = value
        tables[frame] = t
    }
    mutating func adjustWritableMappings(of frame: UInt64, by delta: Int) {
        writable[frame] = UInt64(Int(writable[frame] ?? 0) + delta)
    }

}

final class PageTypeRulesTests: XCTestCase {
    let dom0 = PVDomainIdentity(id: 0, isPrivileged: true, sharedInfoFrame: 0x1F0, physicalAddressBits: 40)
    let domU = PVDomainIdentity(id: 1, isPrivileged: false, sharedInfoFrame: 0x1F1, physicalAddressBits: 40)
    let present: UInt64 = 1, writable: UInt64 = 2

    func pte(_ frame: UInt64, _ flags: UInt64) -> UInt64 { frame << 12 | flags }

    /// The cases the vamapping guest saw on Xen 4.17.
    func testL1VerdictsMatchXen() {
        var table = FakeFrameTable()
        table.levels[0x120] = 1
        XCTAssertEqual(PageTypeRules.checkL1(0, domain: dom0, table: table), .ok)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x110, present | writable), domain: dom0, table: table), .ok)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x120, present), domain: dom0, table: table), .ok, "a table read-only")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x120, present | writable), domain: dom0, table: table), .busy)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x1A0, present), domain: dom0, table: table), .busy, "free RAM")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x185, present), domain: dom0, table: table), .busy, "domU's frame")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0, present), domain: dom0, table: table), .ok, "I/O memory for dom0")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x300, present), domain: dom0, table: table), .ok, "past RAM")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0xFEE00, present), domain: dom0, table: table), .notPermitted,
                       "Apus's local APIC")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0xFEC00, present | writable), domain: dom0, table: table), .readOnly,
                       "the IOAPIC: read-only for dom0, as on Xen")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0xFED00, present), domain: dom0, table: table), .ok, "the HPET read-only")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0xFED00, present), domain: domU, table: table), .notPermitted)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0, present), domain: domU, table: table), .notPermitted)
        XCTAssertEqual(PageTypeRules.checkL1(pte((1 << 40) - 1, present), domain: dom0, table: table), .invalid)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x110, present) | 1 << 51, domain: dom0, table: table), .notPermitted)
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x1F0, present | writable), domain: dom0, table: table), .ok, "shared_info")
    }

    func testValidatingATreeTypesEveryLevel() {
        var table = FakeFrameTable()
        table.setEntry(0x100, 0, pte(0x101, present | writable))     // L4 -> L3
        table.setEntry(0x100, 261, pte(0x1FF, present))              // Apus's slot: ignored
        table.setEntry(0x101, 0, pte(0x102, present | writable))     // L3 -> L2
        table.setEntry(0x102, 0, pte(0x103, present | writable))     // L2 -> L1
        table.setEntry(0x103, 0, pte(0x110, present | writable))     // L1 -> data
        table.setEntry(0x103, 1, pte(0x100, present))                // the L4 itself, read-only
        XCTAssertEqual(PageTypeRules.validate(0x100, level: 4, domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.levels, [0x100: 4, 0x101: 3, 0x102: 2, 0x103: 1])
        XCTAssertEqual(PageTypeRules.validate(0x100, level: 4, domain: dom0, table: &table), .ok, "already an L4")
        XCTAssertEqual(PageTypeRules.validate(0x103, level: 2, domain: dom0, table: &table), .invalid, "an L1 as L2")
    }

    func testValidationRefusesWhatWouldBreakIsolation() {
        var table = FakeFrameTable()
        table.writable[0x104] = 1
        XCTAssertEqual(PageTypeRules.validate(0x104, level: 1, domain: dom0, table: &table), .invalid, "mapped writable")
        XCTAssertEqual(PageTypeRules.validate(0x185, level: 1, domain: dom0, table: &table), .invalid, "not its frame")
        XCTAssertEqual(PageTypeRules.validate(0x0, level: 1, domain: dom0, table: &table), .invalid, "not RAM")
        table.setEntry(0x105, 0, pte(0x105, present | writable))     // an L1 mapping itself writable
        XCTAssertEqual(PageTypeRules.validate(0x105, level: 1, domain: dom0, table: &table), .busy)
        XCTAssertEqual(table.writableMappings(of: 0x105), 0, "counts given back on failure")
        table.levels[0x106] = 1
        table.setEntry(0x107, 0, pte(0x106, present | writable))
        XCTAssertEqual(PageTypeRules.validate(0x107, level: 1, domain: dom0, table: &table), .busy, "maps a table writable")
        table.setEntry(0x108, 0, pte(0x109, present | writable | 0x80))
        XCTAssertEqual(PageTypeRules.validate(0x108, level: 2, domain: dom0, table: &table), .invalid, "superpage")
        XCTAssertEqual(PageTypeRules.validate(0x10A, level: 5, domain: dom0, table: &table), .invalid)
    }

    func testAnL1CountsItsWritableEntriesUntilUntyped() {
        var table = FakeFrameTable()
        table.setEntry(0x110, 0, pte(0x111, present | writable))
        table.setEntry(0x110, 1, pte(0x112, present))
        XCTAssertEqual(PageTypeRules.validate(0x110, level: 1, domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.writableMappings(of: 0x111), 1)
        XCTAssertEqual(PageTypeRules.validate(0x111, level: 1, domain: dom0, table: &table), .invalid,
                       "a frame an L1 maps writable cannot become a table")
        PageTypeRules.putType(0x110, domain: dom0, table: &table)   // its only reference
        XCTAssertEqual(table.writableMappings(of: 0x111), 0)
        XCTAssertEqual(PageTypeRules.validate(0x111, level: 1, domain: dom0, table: &table), .ok)
    }

    /// Random trees: whatever validates, no L1 in it maps a typed frame writable, and
    /// every typed frame is the domain's own RAM.
    func testRandomTreesNeverLeakWritableTables() {
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            var table = FakeFrameTable()
            for frame in UInt64(0x100)..<0x140 {
                for index in 0..<4 {
                    let target = UInt64.random(in: 0xF0..<0x1A0, using: &generator)
                    let flags = present | (Bool.random(using: &generator) ? writable : 0)
                    if Int.random(in: 0..<3, using: &generator) > 0 { table.setEntry(frame, index, pte(target, flags)) }
                }
            }
            for _ in 0..<4 {
                let root = UInt64.random(in: 0x100..<0x140, using: &generator)
                _ = PageTypeRules.validate(root, level: Int.random(in: 1...4, using: &generator), domain: dom0, table: &table)
            }
            for (frame, level) in table.levels where level > 0 {
                XCTAssertEqual(table.owners[frame], 0)
                XCTAssertTrue(table.isRAM(frame))
                guard level == 1 else { continue }
                for index in 0..<512 {
                    let entry = PageTableEntry(raw: table.entry(frame, index))
                    if entry.isPresent && entry.isWritable {
                        let target = entry.physicalAddress >> 12
                        XCTAssertEqual(table.level(of: target), 0, "L1 \(frame) maps table \(target) writable")
                    }
                }
            }
        }
    }

    // MARK: type counts

    func testSharedTablesAreCountedAndDevalidatedWithTheirLastReference() {
        var table = FakeFrameTable()
        table.setEntry(0x101, 0, pte(0x102, present))                // L3 -> L2 twice
        table.setEntry(0x101, 1, pte(0x102, present))
        table.setEntry(0x102, 0, pte(0x103, present))                // L2 -> L1
        table.setEntry(0x103, 0, pte(0x110, present | writable))     // L1 -> data, writable
        XCTAssertEqual(PageTypeRules.getType(0x101, level: 3, domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.counts[0x102], 2, "two entries of the L3")
        XCTAssertEqual(table.counts[0x103], 1)
        XCTAssertEqual(table.writableMappings(of: 0x110), 1)
        XCTAssertEqual(PageTypeRules.getType(0x101, level: 3, domain: dom0, table: &table), .ok, "a pin")
        PageTypeRules.putType(0x101, domain: dom0, table: &table)
        XCTAssertEqual(table.level(of: 0x101), 3, "still referenced once")
        PageTypeRules.putType(0x101, domain: dom0, table: &table)
        XCTAssertEqual(table.level(of: 0x101), 0)
        XCTAssertEqual(table.level(of: 0x102), 0)
        XCTAssertEqual(table.level(of: 0x103), 0)
        XCTAssertEqual(table.writableMappings(of: 0x110), 0, "the L1's writable mapping went with it")
        XCTAssertEqual(PageTypeRules.checkL1(pte(0x103, present | writable), domain: dom0, table: table), .ok,
                       "an untyped table may be mapped writable again")
    }

    func testTableEntryUpdatesMoveReferences() {
        var table = FakeFrameTable()
        table.setEntry(0x102, 0, pte(0x103, present))                // L2 -> L1 0x103
        XCTAssertEqual(PageTypeRules.getType(0x102, level: 2, domain: dom0, table: &table), .ok)
        // Point entry 0 at another L1: 0x104 becomes an L1, 0x103 ordinary memory.
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 0, entry: pte(0x104, present | writable),
                                                           domain: dom0, table: &table), .ok)
        table.setEntry(0x102, 0, pte(0x104, present | writable))
        XCTAssertEqual(table.level(of: 0x104), 1)
        XCTAssertEqual(table.level(of: 0x103), 0)
        // Same target, other flags: no count moves.
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 0, entry: pte(0x104, present),
                                                           domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.counts[0x104], 1)
        // Refusals leave everything as it was.
        table.writable[0x105] = 1
        let before = (table.levels, table.counts, table.writable)
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 1, entry: pte(0x105, present),
                                                           domain: dom0, table: &table), .invalid, "mapped writable")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 1, entry: pte(0x185, present),
                                                           domain: dom0, table: &table), .invalid, "not its frame")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 1, entry: pte(0x106, present | 0x80),
                                                           domain: dom0, table: &table), .invalid, "superpage")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 1, entry: pte(0x102, present | writable),
                                                           domain: dom0, table: &table), .invalid, "itself, writable")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x100, level: 4, index: 256, entry: 0,
                                                           domain: dom0, table: &table), .invalid, "Apus's slot")
        XCTAssertEqual(table.levels, before.0)
        XCTAssertEqual(table.counts, before.1)
        XCTAssertEqual(table.writable, before.2)
        // Clearing the entry lets the L1 go.
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 0, entry: 0,
                                                           domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.level(of: 0x104), 0)
    }

    func testAFailedValidationGivesBackWhatItTook() {
        var table = FakeFrameTable()
        table.setEntry(0x101, 0, pte(0x102, present))                // fine
        table.setEntry(0x101, 1, pte(0x185, present))                // domU's frame: refused
        table.setEntry(0x102, 0, pte(0x110, present | writable))
        XCTAssertEqual(PageTypeRules.getType(0x101, level: 2, domain: dom0, table: &table), .invalid)
        XCTAssertEqual(table.level(of: 0x101), 0)
        XCTAssertEqual(table.level(of: 0x102), 0)
        XCTAssertEqual(table.typeCount(of: 0x102), 0)
        XCTAssertEqual(table.writableMappings(of: 0x110), 0)
    }

    /// Random trees, random references taken and dropped, random entry updates: after
    /// every step the counts are exactly what the typed tables and the outside references
    /// say, no typed frame is mapped writable, and dropping every outside reference leaves
    /// nothing typed and nothing counted.
    func testRandomReferenceSequencesKeepCountsExact() {
        var generator = SeededGenerator(seed: 2026)
        for _ in 0..<150 {
            var table = FakeFrameTable()
            for frame in UInt64(0x100)..<0x130 {
                for index in 0..<3 where Int.random(in: 0..<3, using: &generator) > 0 {
                    let target = UInt64.random(in: 0x100..<0x138, using: &generator)
                    let flags = present | (Bool.random(using: &generator) ? writable : 0)
                    table.setEntry(frame, index, pte(target, flags))
                }
            }
            var outside: [UInt64] = []
            for _ in 0..<40 {
                let frame = UInt64.random(in: 0x100..<0x130, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0:
                    if PageTypeRules.getType(frame, level: Int.random(in: 1...4, using: &generator), domain: dom0,
                                             table: &table) == .ok { outside.append(frame) }
                case 1:
                    if let i = outside.indices.randomElement(using: &generator) {
                        PageTypeRules.putType(outside.remove(at: i), domain: dom0, table: &table)
                    }
                default:
                    let level = table.level(of: frame)
                    guard level >= 2 && level <= 4 && table.typeCount(of: frame) > 0 else { continue }
                    let index = Int.random(in: 0..<3, using: &generator)
                    let value = Bool.random(using: &generator)
                        ? pte(UInt64.random(in: 0x100..<0x138, using: &generator), present) : 0
                    if PageTypeRules.checkTableEntryUpdate(frame, level: level, index: index, entry: value,
                                                           domain: dom0, table: &table) == .ok {
                        table.setEntry(frame, index, value)
                    }
                }
                checkCounts(table, outside: outside)
            }
            for frame in outside { PageTypeRules.putType(frame, domain: dom0, table: &table) }
            XCTAssertTrue(table.levels.values.allSatisfy { $0 == 0 }, "something stayed typed")
            XCTAssertTrue(table.counts.values.allSatisfy { $0 == 0 })
            XCTAssertTrue(table.writable.values.allSatisfy { $0 == 0 }, "writable counts left behind")
            XCTAssertTrue(table.mapped.values.allSatisfy { $0 == 0 }, "mapping counts left behind")
        }
    }

    func checkCounts(_ table: FakeFrameTable, outside: [UInt64], file: StaticString = #filePath, line: UInt = #line) {
        var expectedCounts: [UInt64: UInt32] = [:]
        var expectedWritable: [UInt64: UInt64] = [:]
        var expectedMapped: [UInt64: UInt64] = [:]
        for frame in outside { expectedCounts[frame, default: 0] += 1 }
        for (frame, level) in table.levels where level > 0 && table.typeCount(of: frame) > 0 {
            for index in 0..<512 {
                let entry = PageTableEntry(raw: table.entry(frame, index))
                guard entry.isPresent else { continue }
                let target = entry.physicalAddress >> 12
                if level == 1 {
                    expectedMapped[target, default: 0] += 1
                    if entry.isWritable { expectedWritable[target, default: 0] += 1 }
                } else if target != frame {   // a self-map holds no reference
                    expectedCounts[target, default: 0] += 1
                    XCTAssertEqual(table.level(of: target), level - 1, "child level", file: file, line: line)
                } else {
                    XCTAssertFalse(entry.isWritable, "a writable self-map", file: file, line: line)
                }
            }
        }
        for frame in UInt64(0x100)..<0x138 {
            XCTAssertEqual(table.typeCount(of: frame), expectedCounts[frame] ?? 0, "type count of \(frame)", file: file, line: line)
            XCTAssertEqual(table.writableMappings(of: frame), expectedWritable[frame] ?? 0, "writable \(frame)",
                           file: file, line: line)
            XCTAssertEqual(table.mappings(of: frame), expectedMapped[frame] ?? 0, "mappings of \(frame)", file: file, line: line)
            if table.level(of: frame) != 0 { XCTAssertEqual(expectedWritable[frame] ?? 0, 0, "typed and writable", file: file, line: line) }
            if table.typeCount(of: frame) == 0 { XCTAssertEqual(table.level(of: frame), 0, "typed without references", file: file, line: line) }
        }
    }

    func testLinearSelfMapsAndDisallowedFlags() {
        var table = FakeFrameTable()
        table.setEntry(0x102, 0, pte(0x103, present))
        table.setEntry(0x102, 3, pte(0x102, present))                 // read-only self-map
        XCTAssertEqual(PageTypeRules.getType(0x102, level: 2, domain: dom0, table: &table), .ok)
        XCTAssertEqual(table.counts[0x102], 1, "a self-map takes no reference")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 4, entry: pte(0x102, present | writable),
                                                           domain: dom0, table: &table), .invalid, "a writable self-map")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 4, entry: pte(0x102, present),
                                                           domain: dom0, table: &table), .ok)
        for flag: UInt64 in [1 << 3, 1 << 4, 1 << 7, 1 << 8] {
            XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 5, entry: pte(0x104, present | flag),
                                                               domain: dom0, table: &table), .invalid, "flag \(flag)")
        }
        XCTAssertEqual(table.level(of: 0x104), 0, "refused entries took nothing")
        XCTAssertEqual(PageTypeRules.checkTableEntryUpdate(0x102, level: 2, index: 5,
                                                           entry: pte(0x104, present | writable | 1 << 63 | 0xE00),
                                                           domain: dom0, table: &table), .ok, "NX and available bits")
        table.setEntry(0x102, 5, pte(0x104, present | writable | 1 << 63 | 0xE00))
        XCTAssertEqual(table.level(of: 0x104), 1)
        PageTypeRules.putType(0x102, domain: dom0, table: &table)
        XCTAssertEqual(table.level(of: 0x102), 0)
        XCTAssertEqual(table.level(of: 0x104), 0)
        XCTAssertEqual(table.level(of: 0x103), 0)
    }
}
