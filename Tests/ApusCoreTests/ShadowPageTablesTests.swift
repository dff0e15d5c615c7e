import XCTest
@testable import ApusCore

/// Guest tables and shadow frames as dictionaries; shadow frames come from 0x9000 up.
struct FakeShadowMemory: ShadowMemory {
    var guest: [UInt64: [UInt64]] = [:]
    var shadows: [UInt64: [UInt64]] = [:]
    var owners: [UInt64: UInt64] = [:]
    var next: UInt64 = 0x9000
    var limit = 10_000
    var freed: [UInt64] = []

    func guestEntry(_ frame: UInt64, _ index: Int) -> UInt64 { guest[frame]?[index] ?? 0 }
    func shadowEntry(_ frame: UInt64, _ index: Int) -> UInt64 { shadows[frame]?[index] ?? 0 }
    mutating func setShadowEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) { shadows[frame]![index] = value }
    mutating func allocateShadowFrame() -> UInt64? {
        guard shadows.count < limit else { return nil }
        defer { next += 1 }
        shadows[next] = Array(repeating: 0, count: 512)
        return next
    }
    mutating func freeShadowFrame(_ frame: UInt64) { shadows[frame] = nil; freed.append(frame) }
    func pseudoPhysicalFrame(of machineFrame: UInt64) -> UInt64? { machineFrame >= 0x100 ? machineFrame - 0x100 : nil }
    func guestFrame(ofShadow shadowFrame: UInt64) -> UInt64 { owners[shadowFrame] ?? 0 }
    mutating func setGuestFrame(_ guestFrame: UInt64, ofShadow shadowFrame: UInt64) { owners[shadowFrame] = guestFrame }

    mutating func set(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        var t = guest[frame] ?? Array(repeating: 0, count: 512)
        t[index] = value
        guest[frame] = t
    }
}

final class ShadowPageTablesTests: XCTestCase {
    let rw: UInt64 = 0x67, ro: UInt64 = 0x65

    func withShadows(_ body: (inout ShadowPageTables) throws -> Void) rethrows {
        let slots = UnsafeMutableBufferPointer<ShadowSlot>.allocate(capacity: 256)
        let bits = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: 64)
        defer { slots.deallocate(); bits.deallocate() }
        var shadows = ShadowPageTables(slots: slots, dirtyBits: bits)
        try body(&shadows)
    }

    /// L4 0x100 -> L3 0x101 -> L2 0x102 -> L1 0x103 -> data 0x110 (rw) and 0x111 (ro).
    func tree() -> FakeShadowMemory {
        var m = FakeShadowMemory()
        m.set(0x100, 0, 0x101 << 12 | rw)
        m.set(0x100, 260, 0x55 << 12 | rw)            // Apus's slot: copied as it is
        m.set(0x101, 0, 0x102 << 12 | rw)
        m.set(0x102, 0, 0x103 << 12 | rw)
        m.set(0x103, 0, 0x110 << 12 | rw)
        m.set(0x103, 1, 0x111 << 12 | ro)
        return m
    }

    /// Walks the shadow tree for `address` and returns the shadow L1 entry.
    func walk(_ m: FakeShadowMemory, root: UInt64, _ address: UInt64) -> UInt64 {
        var table = root
        for level in stride(from: 4, to: 1, by: -1) {
            let e = m.shadowEntry(table, Int((address >> UInt64(12 + 9 * (level - 1))) & 0x1FF))
            guard e & 1 != 0 else { return 0 }
            table = (e & 0x000F_FFFF_FFFF_F000) >> 12
        }
        return m.shadowEntry(table, Int((address >> 12) & 0x1FF))
    }

    func testShadowTreeMirrorsTheGuestsThroughShadowTables() throws {
        try withShadows { s in
            var m = tree()
            let root = try s.acquire(0x100, level: 4, memory: &m)
            XCTAssertEqual(s.shadowCount, 4)
            XCTAssertEqual(walk(m, root: root, 0x0000), 0x110 << 12 | rw)
            XCTAssertEqual(walk(m, root: root, 0x1000), 0x111 << 12 | ro)
            XCTAssertEqual(m.shadowEntry(root, 260), 0x55 << 12 | rw, "Apus's slot")
            XCTAssertNotEqual(m.shadowEntry(root, 0) >> 12, 0x101, "points at a shadow, not the guest table")
            s.release(0x100, level: 4, memory: &m)
            XCTAssertEqual(s.shadowCount, 0)
            XCTAssertTrue(m.shadows.isEmpty, "every shadow frame freed")
        }
    }

    func testEntryChangesMoveSharedShadows() throws {
        try withShadows { s in
            var m = tree()
            m.set(0x101, 1, 0x102 << 12 | rw)          // the L2 twice
            let root = try s.acquire(0x100, level: 4, memory: &m)
            XCTAssertEqual(s.shadowCount, 4, "one shadow for the shared L2")
            // The guest points L3 entry 1 at a new L2 -> L1 0x104.
            m.set(0x105, 0, 0x104 << 12 | rw)
            m.set(0x104, 3, 0x112 << 12 | rw)
            m.set(0x101, 1, 0x105 << 12 | rw)
            try s.guestEntryChanged(0x101, level: 3, index: 1, memory: &m)
            XCTAssertEqual(s.shadowCount, 6)
            XCTAssertEqual(walk(m, root: root, 1 << 30 | 3 << 12), 0x112 << 12 | rw)
            XCTAssertEqual(walk(m, root: root, 0), 0x110 << 12 | rw, "the old L2 still used by entry 0")
            m.set(0x101, 0, 0)
            try s.guestEntryChanged(0x101, level: 3, index: 0, memory: &m)
            XCTAssertEqual(s.shadowCount, 4, "the old L2 and L1 shadows went with their last reference")
            XCTAssertEqual(walk(m, root: root, 0), 0)
            s.release(0x100, level: 4, memory: &m)
            XCTAssertTrue(m.shadows.isEmpty)
        }
    }

    func testLogDirtyMarksExactlyTheWrittenPages() throws {
        try withShadows { s in
            var m = tree()
            m.set(0x103, 2, 0x120 << 12 | rw)
            let root = try s.acquire(0x100, level: 4, memory: &m)
            s.setLogDirty(true, memory: &m)
            XCTAssertEqual(walk(m, root: root, 0), 0x110 << 12 | ro, "clean pages are write-protected")
            XCTAssertEqual(walk(m, root: root, 0x1000), 0x111 << 12 | ro)
            XCTAssertTrue(s.writeFault(0x0010, guestRoot: 0x100, memory: &m))
            XCTAssertEqual(walk(m, root: root, 0), 0x110 << 12 | rw, "writable once dirty")
            XCTAssertFalse(s.writeFault(0x0010, guestRoot: 0x100, memory: &m), "already writable: the guest's fault")
            XCTAssertFalse(s.writeFault(0x1000, guestRoot: 0x100, memory: &m), "read-only for the guest too")
            XCTAssertFalse(s.writeFault(0x5000, guestRoot: 0x100, memory: &m), "not mapped")
            XCTAssertTrue(s.isDirty(0x10))
            XCTAssertFalse(s.isDirty(0x20))
            XCTAssertEqual(s.dirtyCount, 1)
            // A new writable mapping of a clean page starts protected; of a dirty one, writable.
            m.set(0x103, 3, 0x110 << 12 | rw)
            try s.guestEntryChanged(0x103, level: 1, index: 3, memory: &m)
            XCTAssertEqual(walk(m, root: root, 0x3000), 0x110 << 12 | rw)
            s.clean(memory: &m)
            XCTAssertEqual(s.dirtyCount, 0)
            XCTAssertEqual(walk(m, root: root, 0), 0x110 << 12 | ro, "protected again after a clean")
            XCTAssertTrue(s.writeFault(0x2000, guestRoot: 0x100, memory: &m))
            XCTAssertTrue(s.isDirty(0x20))
            XCTAssertFalse(s.isDirty(0x10))
            s.setLogDirty(false, memory: &m)
            XCTAssertEqual(walk(m, root: root, 0), 0x110 << 12 | rw, "off: the guest's own rights")
        }
    }

    func testRunningOutOfShadowMemoryLeavesNothingBehind() throws {
        try withShadows { s in
            var m = tree()
            m.limit = 2
            XCTAssertThrowsError(try s.acquire(0x100, level: 4, memory: &m))
            XCTAssertEqual(s.shadowCount, 0)
            XCTAssertTrue(m.shadows.isEmpty)
            m.limit = 100
            XCTAssertNoThrow(try s.acquire(0x100, level: 4, memory: &m), "tombstones do not block a later build")
            XCTAssertEqual(s.shadowCount, 4)
        }
    }

    /// Random trees and random entry changes: every shadow walk agrees with the guest walk
    /// (modulo log-dirty write protection), and releasing the root frees everything.
    func testRandomChangesKeepShadowsInStep() throws {
        var generator = SeededGenerator(seed: 5150)
        for _ in 0..<60 {
            try withShadows { s in
                var m = FakeShadowMemory()
                // Tables 0x100-0x10F: L4 0x100, L3s 0x101-0x103, L2s 0x104-0x107, L1s 0x108-0x10F.
                func level(_ f: UInt64) -> Int { f == 0x100 ? 4 : (f <= 0x103 ? 3 : (f <= 0x107 ? 2 : 1)) }
                func randomEntry(for table: UInt64) -> UInt64 {
                    guard Int.random(in: 0..<4, using: &generator) > 0 else { return 0 }
                    switch level(table) {
                    case 4: return UInt64.random(in: 0x101...0x103, using: &generator) << 12 | rw
                    case 3: return UInt64.random(in: 0x104...0x107, using: &generator) << 12 | rw
                    case 2: return UInt64.random(in: 0x108...0x10F, using: &generator) << 12 | rw
                    default: return UInt64.random(in: 0x110...0x130, using: &generator) << 12
                        | (Bool.random(using: &generator) ? rw : ro)
                    }
                }
                for table in UInt64(0x100)...0x10F { for i in 0..<2 { m.set(table, i, randomEntry(for: table)) } }
                let root = try s.acquire(0x100, level: 4, memory: &m)
                if Bool.random(using: &generator) { s.setLogDirty(true, memory: &m) }
                for _ in 0..<40 {
                    let table = UInt64.random(in: 0x100...0x10F, using: &generator)
                    let i = Int.random(in: 0..<2, using: &generator)
                    m.set(table, i, randomEntry(for: table))
                    try s.guestEntryChanged(table, level: level(table), index: i, memory: &m)
                    for a in 0..<2 { for b in 0..<2 { for c in 0..<2 { for d in 0..<2 {
                        let address = UInt64(a) << 39 | UInt64(b) << 30 | UInt64(c) << 21 | UInt64(d) << 12
                        let expected = guestWalk(m, address)
                        let shadow = walk(m, root: root, address)
                        XCTAssertEqual(shadow & ~2, expected & ~2, "mapping of \(address)")
                        if shadow & 2 != 0 { XCTAssertNotEqual(expected & 2, 0, "shadow grants a write the guest does not") }
                        if !s.logDirty { XCTAssertEqual(shadow, expected) }
                    } } } }
                }
                s.release(0x100, level: 4, memory: &m)
                XCTAssertEqual(s.shadowCount, 0)
                XCTAssertTrue(m.shadows.isEmpty)
            }
        }
    }

    func guestWalk(_ m: FakeShadowMemory, _ address: UInt64) -> UInt64 {
        var table: UInt64 = 0x100
        for level in stride(from: 4, to: 1, by: -1) {
            let e = m.guestEntry(table, Int((address >> UInt64(12 + 9 * (level - 1))) & 0x1FF))
            guard e & 1 != 0 else { return 0 }
            table = (e & 0x000F_FFFF_FFFF_F000) >> 12
        }
        return m.guestEntry(table, Int((address >> 12) & 0x1FF))
    }
}
