// Shadow page tables for a PV domain, and the log-dirty tracking they make possible (the
// dirty bitmap that save/restore and live migration read), as pure logic.
//
// In shadow mode the CPU never walks the guest's own tables: it walks shadows Apus builds
// from them, one shadow per guest table (keyed by guest frame and level), whose entries
// point at shadow tables instead of guest ones; L1 shadows map the same frames as the
// guest's L1s. A PV guest's tables are read-only to it and every change goes through Apus
// (mmu_update, update_va_mapping, the writable-page-table emulation), so shadows are
// resynchronised entry by entry as each guest entry changes (`guestEntryChanged`), never
// by scanning. With log-dirty on, an L1 shadow maps a writable page read-only until the
// page is first written: the write faults (`writeFault`), the page's pseudo-physical
// frame is marked in the dirty bitmap, and the shadow entry becomes writable. Cleaning the
// bitmap write-protects every such entry again.
// Shadows are reference-counted by the shadow entries and roots that point at them and
// freed with the last. Storage (the shadow index and the bitmap) is the caller's; so are
// the shadow frames (ShadowMemory). Imports nothing.

public protocol ShadowMemory {
    /// Entry `index` of the guest's table in `frame`.
    func guestEntry(_ frame: UInt64, _ index: Int) -> UInt64
    func shadowEntry(_ frame: UInt64, _ index: Int) -> UInt64
    mutating func setShadowEntry(_ frame: UInt64, _ index: Int, _ value: UInt64)
    /// A zeroed frame for a shadow table; nil when none is left.
    mutating func allocateShadowFrame() -> UInt64?
    mutating func freeShadowFrame(_ frame: UInt64)
    /// The pseudo-physical frame of a machine frame (the bitmap's index), if it has one.
    func pseudoPhysicalFrame(of machineFrame: UInt64) -> UInt64?
    /// Which guest table a shadow frame mirrors (kept with the shadow frame by the caller).
    func guestFrame(ofShadow shadowFrame: UInt64) -> UInt64
    mutating func setGuestFrame(_ guestFrame: UInt64, ofShadow shadowFrame: UInt64)
}

/// One shadow: which guest table at which level it mirrors, where, and how many shadow
/// entries and roots point at it. `guestFrame == 0` marks a free slot.
public struct ShadowSlot {
    public var guestFrame: UInt64 = 0
    public var shadowFrame: UInt64 = 0
    public var level: UInt8 = 0
    public var references: UInt32 = 0
    public init() {}
}

public enum ShadowError: Error, Equatable {
    /// No shadow frame or index slot left: the shadow pool is too small.
    case outOfShadowMemory
}

public struct ShadowPageTables: ~Copyable {
    static let present: UInt64 = 1, writable: UInt64 = 2, largePage: UInt64 = 0x80
    static let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000
    public static let hypervisorSlots = 256..<272

    let slots: UnsafeMutableBufferPointer<ShadowSlot>
    let dirtyBits: UnsafeMutableBufferPointer<UInt64>
    public private(set) var logDirty = false
    /// Write faults resolved by log-dirty since the last clean (Xen's fault_count).
    public private(set) var faultCount: UInt32 = 0
    public private(set) var shadowCount = 0

    /// `slots` indexes the shadows (at least twice the shadows expected); `dirtyBits`
    /// holds one bit per pseudo-physical frame.
    public init(slots: UnsafeMutableBufferPointer<ShadowSlot>, dirtyBits: UnsafeMutableBufferPointer<UInt64>) {
        self.slots = slots
        self.dirtyBits = dirtyBits
        for i in 0..<slots.count { slots[i] = ShadowSlot() }
        for i in 0..<dirtyBits.count { dirtyBits[i] = 0 }
    }

    // MARK: the index

    func find(_ guestFrame: UInt64, level: Int) -> Int? {
        guard slots.count > 0 else { return nil }
        var i = Int((guestFrame &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(level)) % UInt64(slots.count))
        for _ in 0..<slots.count {
            if slots[i].guestFrame == 0 && slots[i].references == 0 && slots[i].shadowFrame == 0 { return nil }
            if slots[i].guestFrame == guestFrame && Int(slots[i].level) == level { return i }
            i = (i + 1) % slots.count
        }
        return nil
    }

    func freeSlot(for guestFrame: UInt64, level: Int) -> Int? {
        guard slots.count > 0 else { return nil }
        var i = Int((guestFrame &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(level)) % UInt64(slots.count))
        for _ in 0..<slots.count {
            if slots[i].guestFrame == 0 { return i }
            i = (i + 1) % slots.count
        }
        return nil
    }

    /// The shadow of a guest table, if there is one.
    public func shadow(of guestFrame: UInt64, level: Int) -> UInt64? {
        find(guestFrame, level: level).map { slots[$0].shadowFrame }
    }

    // MARK: building and releasing

    /// Takes a reference on the shadow of `guestFrame` at `level`, building it (and its
    /// children) if it does not exist yet. Returns the shadow frame.
    public mutating func acquire<M: ShadowMemory>(_ guestFrame: UInt64, level: Int, memory: inout M)
        throws(ShadowError) -> UInt64 {
        if let i = find(guestFrame, level: level) {
            slots[i].references += 1
            return slots[i].shadowFrame
        }
        guard let i = freeSlot(for: guestFrame, level: level),
              let frame = memory.allocateShadowFrame() else { throw .outOfShadowMemory }
        slots[i] = ShadowSlot()
        slots[i].guestFrame = guestFrame
        slots[i].shadowFrame = frame
        slots[i].level = UInt8(level)
        slots[i].references = 1
        shadowCount += 1
        memory.setGuestFrame(guestFrame, ofShadow: frame)
        for index in 0..<512 {
            do throws(ShadowError) {
                memory.setShadowEntry(frame, index, try shadowEntry(for: memory.guestEntry(guestFrame, index),
                                                                    level: level, index: index, memory: &memory))
            } catch {
                // Undo: release what this table took so far, then the table itself.
                for done in 0..<index { releaseChild(memory.shadowEntry(frame, done), level: level, index: done, memory: &memory) }
                slots[i] = ShadowSlot()
                slots[i].shadowFrame = 1   // a tombstone keeps later probes going
                memory.freeShadowFrame(frame)
                shadowCount -= 1
                throw error
            }
        }
        return frame
    }

    /// Drops a reference on a shadow; the last one frees it and releases its children.
    public mutating func release<M: ShadowMemory>(_ guestFrame: UInt64, level: Int, memory: inout M) {
        guard let i = find(guestFrame, level: level) else { return }
        slots[i].references -= 1
        guard slots[i].references == 0 else { return }
        let frame = slots[i].shadowFrame
        slots[i] = ShadowSlot()
        slots[i].shadowFrame = 1   // tombstone
        shadowCount -= 1
        for index in 0..<512 { releaseChild(memory.shadowEntry(frame, index), level: level, index: index, memory: &memory) }
        memory.freeShadowFrame(frame)
    }

    /// What the shadow holds for a guest entry: for an L1, the same mapping (read-only
    /// while log-dirty tracks a clean page); above, the child's shadow.
    mutating func shadowEntry<M: ShadowMemory>(for guest: UInt64, level: Int, index: Int, memory: inout M)
        throws(ShadowError) -> UInt64 {
        guard guest & Self.present != 0 else { return 0 }
        if level == 1 { return l1Shadow(guest, memory: memory) }
        if level == 4 && Self.hypervisorSlots.contains(index) { return guest }   // Apus's own tables
        guard guest & Self.largePage == 0 else { return 0 }
        let child = try acquire((guest & Self.frameMask) >> 12, level: level - 1, memory: &memory)
        return (guest & ~Self.frameMask) | child << 12
    }

    mutating func releaseChild<M: ShadowMemory>(_ shadowEntry: UInt64, level: Int, index: Int, memory: inout M) {
        guard level > 1, shadowEntry & Self.present != 0 else { return }
        if level == 4 && Self.hypervisorSlots.contains(index) { return }
        let childShadow = (shadowEntry & Self.frameMask) >> 12
        release(memory.guestFrame(ofShadow: childShadow), level: level - 1, memory: &memory)
    }

    func l1Shadow<M: ShadowMemory>(_ guest: UInt64, memory: M) -> UInt64 {
        guard logDirty, guest & Self.writable != 0, let pfn = memory.pseudoPhysicalFrame(of: (guest & Self.frameMask) >> 12),
              !isDirty(pfn) else { return guest }
        return guest & ~Self.writable
    }

    // MARK: keeping in step with the guest

    /// The guest changed entry `index` of its table `guestFrame` (level `level`): the
    /// shadow entry follows (references move from the old child to the new).
    public mutating func guestEntryChanged<M: ShadowMemory>(_ guestFrame: UInt64, level: Int, index: Int,
                                                           memory: inout M) throws(ShadowError) {
        guard let i = find(guestFrame, level: level) else { return }
        let frame = slots[i].shadowFrame
        let old = memory.shadowEntry(frame, index)
        let new = try shadowEntry(for: memory.guestEntry(guestFrame, index), level: level, index: index, memory: &memory)
        memory.setShadowEntry(frame, index, new)
        releaseChild(old, level: level, index: index, memory: &memory)
    }

    // MARK: log-dirty

    public func isDirty(_ pfn: UInt64) -> Bool {
        let word = Int(pfn / 64)
        return word < dirtyBits.count && dirtyBits[word] & (1 << (pfn % 64)) != 0
    }

    mutating func markDirty(_ pfn: UInt64) {
        let word = Int(pfn / 64)
        if word < dirtyBits.count { dirtyBits[word] |= 1 << (pfn % 64) }
    }

    public var dirtyCount: Int {
        var count = 0
        for i in 0..<dirtyBits.count { count += dirtyBits[i].nonzeroBitCount }
        return count
    }

    public func dirtyWord(_ index: Int) -> UInt64 { index < dirtyBits.count ? dirtyBits[index] : 0 }

    /// Turns log-dirty on or off; on: every page starts clean (write-protected).
    public mutating func setLogDirty<M: ShadowMemory>(_ on: Bool, memory: inout M) {
        logDirty = on
        clean(memory: &memory)
    }

    /// Empties the bitmap and write-protects again every writable mapping (while log-dirty
    /// is on; off, it makes every shadow L1 entry equal to the guest's).
    public mutating func clean<M: ShadowMemory>(memory: inout M) {
        for i in 0..<dirtyBits.count { dirtyBits[i] = 0 }
        faultCount = 0
        for i in 0..<slots.count where slots[i].guestFrame != 0 && slots[i].level == 1 {
            let guestFrame = slots[i].guestFrame, frame = slots[i].shadowFrame
            for index in 0..<512 {
                let guest = memory.guestEntry(guestFrame, index)
                memory.setShadowEntry(frame, index, guest & Self.present == 0 ? 0 : l1Shadow(guest, memory: memory))
            }
        }
    }

    /// A write fault at `address` under the shadow root of `guestRoot`: if log-dirty kept
    /// this page read-only, mark it dirty, make the shadow entry writable and return true
    /// (retry the write); false if the fault is the guest's own.
    public mutating func writeFault<M: ShadowMemory>(_ address: UInt64, guestRoot: UInt64, memory: inout M) -> Bool {
        guard logDirty else { return false }
        var guestTable = guestRoot
        var level = 4
        while level > 1 {
            let index = Int((address >> UInt64(12 + 9 * (level - 1))) & 0x1FF)
            let entry = memory.guestEntry(guestTable, index)
            guard entry & Self.present != 0, entry & Self.largePage == 0 else { return false }
            guard level != 4 || !Self.hypervisorSlots.contains(index) else { return false }
            guestTable = (entry & Self.frameMask) >> 12
            level -= 1
        }
        let index = Int((address >> 12) & 0x1FF)
        let guest = memory.guestEntry(guestTable, index)
        guard guest & Self.present != 0, guest & Self.writable != 0,
              let i = find(guestTable, level: 1) else { return false }
        let shadowFrame = slots[i].shadowFrame
        let shadow = memory.shadowEntry(shadowFrame, index)
        guard shadow & Self.writable == 0 else { return false }
        if let pfn = memory.pseudoPhysicalFrame(of: (guest & Self.frameMask) >> 12) { markDirty(pfn) }
        memory.setShadowEntry(shadowFrame, index, guest)
        faultCount &+= 1
        return true
    }
}
