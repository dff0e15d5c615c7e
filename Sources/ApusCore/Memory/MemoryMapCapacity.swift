// MemoryMap capacity pressure: what an edit does when the fixed storage is full.
//
// The rule is to err towards "not usable": the map may forget RAM, but never calls
// something usable that the firmware or Apus said was not, and never drops a
// reservation. `assign` repeats, until the edit fits:
//   1. merge the two neighbouring non-RAM firmware ranges with the smallest hole
//      between them (the hole becomes non-RAM; holes are never RAM anyway);
//   2. otherwise take the cheaper, in bytes of RAM lost, of
//      - dropping the smallest usable range the edit does not touch, and
//      - widening the edit so it needs one slot fewer: a change inside a range grows
//        to that range's nearer edge (a reservation then covers more RAM than asked);
//        a non-RAM firmware entry in a hole is folded into its nearest non-RAM
//        neighbour;
//   3. otherwise give up: only possible when the edit adds RAM (which is left out
//      rather than traded for a larger range) or an Apus range over a hole.
// Every step is counted (`capacityMerges`, `widenedEdits`, `lostUsableBytes`,
// `rejectedEdits`) and `printReservations` warns about it.
// Owns: the degradation policy. Imports nothing.

extension MemoryMap {
    typealias EditWindow = (start: UInt64, end: UInt64, type: MemoryRangeType)

    /// Makes room for `window` (or a widened version of it); returns the window to
    /// apply, or nil if the edit has to be dropped. `window` lies in a hole or inside
    /// one range, as `paint` pieces do.
    mutating func makeRoom(for window: EditWindow) -> EditWindow? {
        var window = window
        let start = window.start, end = window.end
        while count + slotsNeeded(from: window.start, to: window.end) > capacity {
            if mergeNonRAMNeighbours(keeping: start, end) { continue }
            var drop = smallestUsableRange(avoiding: start, end)
            // Dropping RAM to add less RAM gains nothing.
            if window.type.isUsable && drop >= 0 && storage[drop].length >= end - start { drop = -1 }
            let widening = widened(window)
            if let widening, drop < 0 || widening.lostBytes <= storage[drop].length {
                widenedEdits += 1
                lostUsableBytes += widening.lostBytes
                window = widening.window
            } else if drop >= 0 {
                lostUsableBytes += storage[drop].length
                replace(drop..<(drop + 1), withCount: 0)
            } else {
                rejectedEdits += 1
                if window.type.isUsable { lostUsableBytes += window.end - window.start }
                return nil
            }
        }
        return window
    }

    /// Step 1: merges the neighbouring non-RAM firmware pair with the smallest hole
    /// that does not meet `[start, end)`.
    mutating func mergeNonRAMNeighbours(keeping start: UInt64, _ end: UInt64) -> Bool {
        var bestPair = -1
        var bestHole = UInt64.max
        var index = 0
        while index + 1 < count {
            let left = storage[index], right = storage[index + 1]
            let holeMeetsEdit = left.end < end && right.base > start
            if left.type.rank >= 2 && right.type.rank >= 2 && !holeMeetsEdit && right.base - left.end < bestHole {
                bestHole = right.base - left.end
                bestPair = index
            }
            index += 1
        }
        guard bestPair >= 0 else { return false }
        let right = storage[bestPair + 1]
        storage[bestPair].end = right.end
        storage[bestPair].type = storage[bestPair].type.stricter(right.type)
        replace((bestPair + 1)..<(bestPair + 2), withCount: 0)
        capacityMerges += 1
        mergeTouching(around: bestPair, through: bestPair + 1)
        return true
    }

    /// The index of the smallest usable range not meeting `[start, end)`, or -1.
    func smallestUsableRange(avoiding start: UInt64, _ end: UInt64) -> Int {
        var smallest = -1
        for candidate in 0..<count where storage[candidate].type.isUsable {
            let range = storage[candidate]
            if range.base < end && start < range.end { continue }
            if smallest < 0 || range.length < storage[smallest].length { smallest = candidate }
        }
        return smallest
    }

    /// A version of `window` that needs one slot fewer and the RAM that costs, or nil.
    func widened(_ window: EditWindow) -> (window: EditWindow, lostBytes: UInt64)? {
        let first = firstIndex(endingAfter: window.start)
        var last = first
        while last < count && storage[last].base < window.end { last += 1 }
        let hasLeft = first < last && storage[first].base < window.start
        let hasRight = first < last && storage[last - 1].end > window.end
        if hasLeft || hasRight {
            // Growing RAM over something else would invent RAM.
            guard !window.type.isUsable else { return nil }
            let leftBytes = hasLeft ? window.start - storage[first].base : 0
            let rightBytes = hasRight ? storage[last - 1].end - window.end : 0
            var result = window
            let absorbed: MemoryRange
            if hasLeft && (!hasRight || leftBytes <= rightBytes) {
                absorbed = MemoryRange(base: storage[first].base, end: window.start, type: storage[first].type)
                result.start = absorbed.base
            } else {
                absorbed = MemoryRange(base: window.end, end: storage[last - 1].end, type: storage[last - 1].type)
                result.end = absorbed.end
            }
            return (result, absorbed.type.isUsable ? absorbed.length : 0)
        }
        // A hole: only non-RAM firmware types are worth keeping, next to a non-RAM neighbour.
        guard window.type.rank >= 2 else { return nil }
        let previous = first > 0 && storage[first - 1].type.rank >= 2 ? first - 1 : -1
        let next = first < count && storage[first].type.rank >= 2 ? first : -1
        let previousHole = previous >= 0 ? window.start - storage[previous].end : UInt64.max
        let nextHole = next >= 0 ? storage[next].base - window.end : UInt64.max
        if previous >= 0 && previousHole <= nextHole {
            return ((storage[previous].base, window.end, storage[previous].type.stricter(window.type)), 0)
        }
        if next >= 0 {
            return ((window.start, storage[next].end, storage[next].type.stricter(window.type)), 0)
        }
        return nil
    }
}
