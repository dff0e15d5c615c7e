// MemoryMap: the boot-time physical memory map, normalised and editable without a heap.
//
// The hypervisor feeds it the firmware's entries (multiboot 1 or 2 memory map) with
// `add`, then edits it: `clip(above:)` for `mem=`, `reserve` for the image, modules,
// the first MiB and `badpage=`, and `carve` to place the frame table. The frame
// allocator is then built from the `.usable` ranges that remain.
//
// Invariants (hold after every public mutation):
//   - ranges are sorted by base, non-empty and do not overlap;
//   - two touching ranges never have the same type (they are merged);
//   - every range lies below `addressLimit` (2^52, the architectural MAXPHYADDR).
// On overlap the stricter type wins (see `MemoryRangeType.rank`), whatever the order
// in which entries were added.
//
// Capacity: the map holds at most `capacity` ranges (fixed storage, no allocation).
// An edit that does not fit never traps: MemoryMapCapacity.swift frees slots or
// widens the edit, always erring towards "not usable", and counts what it did so the
// boot log can warn. A reservation is never lost; only RAM can be.
//
// Owns: normalisation and the slot-level editing primitives. Imports nothing.

/// The map the hypervisor boots with: 256 ranges (6 KiB). Firmware maps rarely pass 100
/// entries; the rest is room for reservations, `badpage=` lists above all.
public typealias BootMemoryMap = MemoryMap<256>

public struct MemoryMap<let capacity: Int> {
    /// Physical addresses at or above this are ignored: no x86-64 CPU can address them.
    public static var addressLimit: UInt64 { 1 << 52 }

    var storage: InlineArray<capacity, MemoryRange>
    public internal(set) var count: Int = 0

    /// `add` calls that recorded nothing: zero length, or starting at/above `addressLimit`.
    public internal(set) var ignoredEntries = 0
    /// `add` calls whose end was cut at `addressLimit` (including 64-bit wrap-around).
    public internal(set) var truncatedEntries = 0
    /// Capacity pressure: neighbouring non-RAM ranges merged over a hole.
    public internal(set) var capacityMerges = 0
    /// Capacity pressure: edits widened to whole ranges (a reservation covering a
    /// whole usable range, say) because a split would not fit.
    public internal(set) var widenedEdits = 0
    /// Capacity pressure: usable RAM dropped from the map, reserved beyond what was
    /// asked, or never added.
    public internal(set) var lostUsableBytes: UInt64 = 0
    /// Capacity pressure: edits that could not be made at all.
    public internal(set) var rejectedEdits = 0

    public init() {
        storage = InlineArray(repeating: MemoryRange(base: 0, end: 0, type: .reserved))
    }

    public subscript(index: Int) -> MemoryRange {
        precondition(index >= 0 && index < count)
        return storage[index]
    }

    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with each range, lowest first. (No Collection conformance: its
    /// default witnesses build Arrays, which the hypervisor build forbids.)
    public func forEach(_ body: (MemoryRange) -> Void) {
        for index in 0..<count { body(storage[index]) }
    }

    /// Whether any capacity pressure lost or merged information.
    public var overflowed: Bool {
        capacityMerges != 0 || widenedEdits != 0 || lostUsableBytes != 0 || rejectedEdits != 0
    }

    // MARK: Building

    /// Adds a firmware entry. Zero-length entries are ignored; lengths that run past
    /// `addressLimit` (or wrap around 2^64) are cut there. Returns false when nothing
    /// or not all of it could be recorded.
    @discardableResult
    public mutating func add(base: UInt64, length: UInt64, type: MemoryRangeType) -> Bool {
        guard let (end, truncated) = Self.clampedEnd(base: base, length: length) else {
            ignoredEntries += 1
            return false
        }
        if truncated { truncatedEntries += 1 }
        let result = paint(from: base, to: end) { current in
            guard let current else { return type }
            return current.stricter(type)
        }
        return result.complete
    }

    /// Adds a raw e820 entry (type number as the firmware gave it).
    @discardableResult
    public mutating func add(base: UInt64, length: UInt64, e820Type: UInt32) -> Bool {
        add(base: base, length: length, type: MemoryRangeType(e820: e820Type))
    }

    // MARK: Queries

    /// The type at a physical address, nil in a hole.
    public func type(at address: UInt64) -> MemoryRangeType? {
        let index = firstIndex(endingAfter: address)
        guard index < count, storage[index].base <= address else { return nil }
        return storage[index].type
    }

    /// Bytes in `.usable` ranges (what the frame allocator may get, before frame rounding).
    public var totalUsableBytes: UInt64 {
        var total: UInt64 = 0
        for index in 0..<count where storage[index].type.isUsable { total += storage[index].length }
        return total
    }

    /// The last usable byte, nil if nothing is usable.
    public var highestUsableAddress: UInt64? {
        var index = count
        while index > 0 {
            index -= 1
            if storage[index].type.isUsable { return storage[index].last }
        }
        return nil
    }

    /// One past the highest whole usable 4 KiB frame: the frame table needs this many entries.
    public var usableFrameEnd: UInt64 {
        var index = count
        while index > 0 {
            index -= 1
            let range = storage[index]
            if range.type.isUsable && range.wholeFrames > 0 { return range.endFrame }
        }
        return 0
    }

    /// Whole usable 4 KiB frames (partial frames at range edges are not RAM to the allocator).
    public var usableFrames: UInt64 {
        var total: UInt64 = 0
        for index in 0..<count where storage[index].type.isUsable { total += storage[index].wholeFrames }
        return total
    }

    // MARK: Editing primitives

    /// `base + length` cut at `addressLimit`; nil when the range is empty or out of reach.
    static func clampedEnd(base: UInt64, length: UInt64) -> (end: UInt64, truncated: Bool)? {
        let limit = addressLimit
        guard length > 0, base < limit else { return nil }
        let (sum, wrapped) = base.addingReportingOverflow(length)
        if wrapped || sum > limit { return (limit, true) }
        return (sum, false)
    }

    /// Index of the first range whose end is above `address` (`count` if none).
    func firstIndex(endingAfter address: UInt64) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if storage[middle].end > address { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Walks `[start, end)` piece by piece (holes and parts of existing ranges) and
    /// gives each piece the type `decide` returns for its current type (nil = hole);
    /// `decide` returning nil leaves the piece alone. Returns the bytes whose type
    /// changed and whether every wanted change was made.
    mutating func paint(
        from start: UInt64, to end: UInt64,
        _ decide: (MemoryRangeType?) -> MemoryRangeType?
    ) -> (changed: UInt64, complete: Bool) {
        var cursor = start
        var changed: UInt64 = 0
        var complete = true
        while cursor < end {
            let index = firstIndex(endingAfter: cursor)
            let pieceEnd: UInt64
            let current: MemoryRangeType?
            if index == count || storage[index].base >= end {
                pieceEnd = end; current = nil
            } else if storage[index].base > cursor {
                pieceEnd = storage[index].base; current = nil
            } else {
                pieceEnd = Swift.min(storage[index].end, end); current = storage[index].type
            }
            if let wanted = decide(current), wanted != current {
                if assign(from: cursor, to: pieceEnd, type: wanted) {
                    changed += pieceEnd - cursor
                } else {
                    complete = false
                }
            }
            // Each iteration moves past one piece, so the walk ends even when
            // capacity pressure rearranged or widened ranges around the cursor.
            cursor = pieceEnd
        }
        return (changed, complete)
    }

    /// Makes `[start, end)` one range of `type`, splitting or removing what was there.
    /// `[start, end)` must be a hole or lie inside one range (as `paint` pieces do).
    /// Under capacity pressure the edit may cover more than asked (see MemoryMapCapacity.swift);
    /// it fails only when adding RAM (which is then left out) or an Apus range over a hole.
    mutating func assign(from start: UInt64, to end: UInt64, type: MemoryRangeType) -> Bool {
        guard let window = makeRoom(for: (start, end, type)) else { return false }
        let first = firstIndex(endingAfter: window.start)
        var last = first
        while last < count && storage[last].base < window.end { last += 1 }

        var left: MemoryRange? = nil, right: MemoryRange? = nil
        if first < last && storage[first].base < window.start {
            left = MemoryRange(base: storage[first].base, end: window.start, type: storage[first].type)
        }
        if first < last && storage[last - 1].end > window.end {
            right = MemoryRange(base: window.end, end: storage[last - 1].end, type: storage[last - 1].type)
        }
        let pieceCount = 1 + (left == nil ? 0 : 1) + (right == nil ? 0 : 1)
        replace(first..<last, withCount: pieceCount)
        var slot = first
        if let left { storage[slot] = left; slot += 1 }
        storage[slot] = MemoryRange(base: window.start, end: window.end, type: window.type)
        slot += 1
        if let right { storage[slot] = right }
        mergeTouching(around: first, through: first + pieceCount)
        return true
    }

    /// How many more slots assigning `[start, end)` would use (0 when it shrinks the map).
    func slotsNeeded(from start: UInt64, to end: UInt64) -> Int {
        let first = firstIndex(endingAfter: start)
        var last = first
        while last < count && storage[last].base < end { last += 1 }
        var after = 1
        if first < last && storage[first].base < start { after += 1 }
        if first < last && storage[last - 1].end > end { after += 1 }
        return Swift.max(0, after - (last - first))
    }

    /// Replaces the ranges in `removed` by `newCount` slots (contents left to the caller).
    mutating func replace(_ removed: Range<Int>, withCount newCount: Int) {
        let delta = newCount - removed.count
        if delta > 0 {
            var index = count - 1
            while index >= removed.upperBound {
                storage[index + delta] = storage[index]
                index -= 1
            }
        } else if delta < 0 {
            for index in removed.upperBound..<count { storage[index + delta] = storage[index] }
        }
        count += delta
    }

    /// Merges touching same-type ranges in `lower-1 ... upper` (the edited window and its neighbours).
    mutating func mergeTouching(around lower: Int, through upper: Int) {
        var index = Swift.max(0, lower - 1)
        var stop = Swift.min(count - 1, upper)
        while index < stop {
            if storage[index].end == storage[index + 1].base && storage[index].type == storage[index + 1].type {
                storage[index].end = storage[index + 1].end
                replace((index + 1)..<(index + 2), withCount: 0)
                stop -= 1
            } else {
                index += 1
            }
        }
    }
}
