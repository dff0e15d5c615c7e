// FrameAllocator: the buddy allocator for 4 KiB machine frames (Xen's heap allocator).
//
// Blocks of 2^order frames, order 0...maxOrder (18: 1 GiB), naturally aligned, kept on
// doubly linked free lists, one per (bit zone, order) (see FrameZones.swift). The links
// and all other per-frame state live in the caller's frame table (FrameInfo.swift),
// one entry per frame from MFN 0 to the highest usable frame; the allocator itself is
// a few KiB of list heads and counters.
//
// Invariants (checked by `checkInvariants()`, FrameAllocatorChecking.swift):
//   - a free block is aligned to its order, lies in one bit zone, and is on the list
//     of that zone and order; its first frame is `.freeHead`, the rest `.free`;
//   - two buddies are never both free at the same order (frees coalesce eagerly);
//   - the counters equal what the lists hold;
//   - only frames of `.usable` map ranges were ever made free: `.unavailable` frames
//     (holes, firmware, bad pages, Apus reservations, the frame table) never are.
// Allocation marks every frame of the block `.allocated` and a free checks every frame,
// so part of a block can be freed on its own (a domain returns single pages) and a double
// free is reported, not absorbed. The cost is one table write per frame, like scrubbing.
//
// Not thread-safe: the caller holds the heap lock. `~Copyable` because two copies would
// share one frame table and corrupt it. Imports nothing.

public enum FrameAllocatorError: Error, Equatable {
    case invalidOrder
    case misaligned
    case outOfRange
    /// An aligned block that would span two bit zones (only frame 0 with order > 0).
    case crossesZone
    /// The frame is not currently allocated: a double free, or never handed out.
    case notAllocated(frame: UInt64)
}

public struct FrameAllocator: ~Copyable {
    public static var maxOrder: Int { 18 }
    static var orderCount: Int { 19 }
    /// Bytes of frame table per frame.
    public static var frameInfoStride: Int { MemoryLayout<FrameInfo>.stride }

    let frames: UnsafeMutableBufferPointer<FrameInfo>
    /// Free-list heads and block counts per (bit zone, order): 41 zones x 19 orders.
    var heads: InlineArray<779, UInt32>
    var blockCounts: InlineArray<779, UInt32>
    var zoneFreeFrames: InlineArray<41, UInt64>

    public internal(set) var freeFrames: UInt64 = 0
    /// The `dma_bits` in force (clamped to `FrameZones.dmaBitsRange`).
    public let dmaBits: Int
    /// Usable frames put under the allocator when it was built.
    public internal(set) var managedFrames: UInt64 = 0
    /// Usable frames the frame table was too short to cover (never handed out).
    public internal(set) var unmanagedFrames: UInt64 = 0

    /// Frame table entries the hypervisor must provide for `map`: one per frame up to
    /// the highest whole usable frame. Compute it before carving the table itself.
    public static func frameTableEntries<let capacity: Int>(for map: MemoryMap<capacity>) -> Int {
        Int(Swift.min(map.usableFrameEnd, UInt64(FrameInfo.noFrame)))
    }

    /// Builds the allocator: every whole frame of each `.usable` range of `map` that the
    /// table covers becomes free; everything else is `.unavailable` for good. The table is
    /// overwritten. Frames at or beyond 2^32 - 1 cannot be indexed and are left out.
    public init<let capacity: Int>(map: MemoryMap<capacity>, frameTable: UnsafeMutableBufferPointer<FrameInfo>,
                                    dmaBits: Int = 30) {
        let usableCount = Swift.min(frameTable.count, Int(FrameInfo.noFrame))
        frames = UnsafeMutableBufferPointer(start: frameTable.baseAddress, count: usableCount)
        frames.initialize(repeating: FrameInfo())
        heads = InlineArray(repeating: FrameInfo.noFrame)
        blockCounts = InlineArray(repeating: 0)
        zoneFreeFrames = InlineArray(repeating: 0)
        self.dmaBits = Swift.min(Swift.max(dmaBits, FrameZones.dmaBitsRange.lowerBound),
                                 FrameZones.dmaBitsRange.upperBound)
        let tableEnd = UInt64(usableCount)
        for index in 0..<map.count {
            let range = map[index]
            guard range.type.isUsable, range.wholeFrames > 0 else { continue }
            let first = range.firstFrame
            var end = range.endFrame
            if end > tableEnd {
                unmanagedFrames += end - Swift.max(first, tableEnd)
                end = tableEnd
            }
            guard first < end else { continue }
            addFreeRun(first..<end)
            managedFrames += end - first
        }
    }

    /// Frames the table covers (MFN 0 ..< frameCount).
    public var frameCount: Int { frames.count }

    /// The frame table. Other subsystems may change the fields the allocator does not own
    /// (FrameInfo.swift) of frames they allocated, never `state`, `order` or free links.
    public var frameTable: UnsafeMutableBufferPointer<FrameInfo> { frames }

    /// The allocator's view of `frame`; nil beyond the table.
    public func state(of frame: UInt64) -> FrameState? {
        frame < UInt64(frames.count) ? frames[Int(frame)].state : nil
    }

    // MARK: Allocation

    /// A block of 2^order frames wholly below 2^addressBits bytes; returns its first MFN.
    /// Searches from the highest allowed zone down, first above the DMA zone and only
    /// then inside it, so DMA-able memory is the last to go (Xen's policy).
    public mutating func allocate(order: Int, addressBits: Int = 64) -> UInt64? {
        guard order >= 0 && order <= Self.maxOrder,
              let top = FrameZones.highestZone(belowAddressBits: addressBits) else { return nil }
        let dmaTop = dmaBits - 12
        if top > dmaTop, let frame = take(order: order, zones: (dmaTop + 1)...top) { return frame }
        return take(order: order, zones: 0...Swift.min(dmaTop, top))
    }

    /// A block of 2^order frames from one named zone (highest addresses first).
    public mutating func allocate(order: Int, zone: MemoryZone) -> UInt64? {
        guard order >= 0 && order <= Self.maxOrder,
              let zones = FrameZones.zones(of: zone, dmaBits: dmaBits) else { return nil }
        return take(order: order, zones: zones)
    }

    /// Returns 2^order frames starting at `frame`, which must all be allocated (they need
    /// not come from one `allocate` call). Coalesces with free buddies.
    public mutating func free(_ frame: UInt64, order: Int) throws(FrameAllocatorError) {
        guard order >= 0 && order <= Self.maxOrder else { throw .invalidOrder }
        let size = UInt64(1) << order
        guard frame & (size - 1) == 0 else { throw .misaligned }
        let tableEnd = UInt64(frames.count)
        guard frame < tableEnd, size <= tableEnd - frame else { throw .outOfRange }
        let zone = FrameZones.zone(of: frame)
        let zoneTop = FrameZones.maxOrder(inZone: zone)
        guard order <= zoneTop else { throw .crossesZone }
        for member in frame..<(frame + size) where frames[Int(member)].state != .allocated {
            throw .notAllocated(frame: member)
        }
        for member in frame..<(frame + size) { frames[Int(member)].state = .free }

        var head = frame
        var merged = order
        while merged < zoneTop {
            let buddy = head ^ (UInt64(1) << merged)
            guard buddy < tableEnd else { break }
            let info = frames[Int(buddy)]
            guard info.state == .freeHead, Int(info.order) == merged else { break }
            unlink(buddy, order: merged, zone: zone)
            frames[Int(buddy)].state = .free
            head = Swift.min(head, buddy)
            merged += 1
        }
        push(head, order: merged, zone: zone)
    }

    // MARK: Counters

    public func freeFrames(in zone: MemoryZone) -> UInt64 {
        guard let zones = FrameZones.zones(of: zone, dmaBits: dmaBits) else { return 0 }
        var total: UInt64 = 0
        for bitZone in zones { total += zoneFreeFrames[bitZone] }
        return total
    }

    public func freeFrames(inBitZone zone: Int) -> UInt64 {
        zone >= 0 && zone < FrameZones.count ? zoneFreeFrames[zone] : 0
    }

    /// Free blocks of exactly `order` in bit zone `zone`.
    public func freeBlocks(inBitZone zone: Int, order: Int) -> Int {
        guard zone >= 0 && zone < FrameZones.count && order >= 0 && order <= Self.maxOrder else { return 0 }
        return Int(blockCounts[Self.slot(zone, order)])
    }

    /// Calls `body` with each free block (first MFN, order, bit zone), list by list.
    public func forEachFreeBlock(_ body: (UInt64, Int, Int) -> Void) {
        for zone in 0..<FrameZones.count {
            for order in 0...Self.maxOrder {
                var cursor = heads[Self.slot(zone, order)]
                while cursor != FrameInfo.noFrame {
                    body(UInt64(cursor), order, zone)
                    cursor = frames[Int(cursor)].next
                }
            }
        }
    }

    // MARK: List primitives

    @inline(__always)
    static func slot(_ zone: Int, _ order: Int) -> Int { zone * orderCount + order }

    /// Frees a run of frames at build time as the largest aligned blocks that fit; the
    /// result is already fully coalesced, because usable runs never touch (a partial or
    /// non-usable frame always separates two usable ranges).
    mutating func addFreeRun(_ run: Range<UInt64>) {
        var frame = run.lowerBound
        while frame < run.upperBound {
            let zone = FrameZones.zone(of: frame)
            var order = Swift.min(FrameZones.maxOrder(inZone: zone), frame == 0 ? 0 : frame.trailingZeroBitCount)
            while (UInt64(1) << order) > run.upperBound - frame { order -= 1 }
            let size = UInt64(1) << order
            for member in frame..<(frame + size) { frames[Int(member)].state = .free }
            push(frame, order: order, zone: zone)
            frame += size
        }
    }

    /// Takes a block of `order` from the highest zone in `zones` that has one, splitting
    /// a larger block if needed: the lower halves go back on the lists, the top is used.
    mutating func take(order: Int, zones: ClosedRange<Int>) -> UInt64? {
        var zone = zones.upperBound
        while zone >= zones.lowerBound {
            let zoneTop = FrameZones.maxOrder(inZone: zone)
            var candidate = order
            while candidate <= zoneTop {
                let head = heads[Self.slot(zone, candidate)]
                if head != FrameInfo.noFrame {
                    unlink(UInt64(head), order: candidate, zone: zone)
                    var block = UInt64(head)
                    while candidate > order {
                        candidate -= 1
                        push(block, order: candidate, zone: zone)
                        block += UInt64(1) << candidate
                    }
                    for member in block..<(block + (UInt64(1) << order)) {
                        frames[Int(member)].state = .allocated
                    }
                    frames[Int(block)].order = UInt8(order)
                    return block
                }
                candidate += 1
            }
            zone -= 1
        }
        return nil
    }

    /// Puts the block at `head` on its list; its other frames must already be `.free`.
    mutating func push(_ head: UInt64, order: Int, zone: Int) {
        let slot = Self.slot(zone, order)
        let old = heads[slot]
        let index = Int(head)
        frames[index].next = old
        frames[index].prev = FrameInfo.noFrame
        frames[index].order = UInt8(order)
        frames[index].state = .freeHead
        if old != FrameInfo.noFrame { frames[Int(old)].prev = UInt32(head) }
        heads[slot] = UInt32(head)
        blockCounts[slot] += 1
        zoneFreeFrames[zone] += UInt64(1) << order
        freeFrames += UInt64(1) << order
    }

    /// Takes the block at `head` off its list; the caller sets the frames' new state.
    mutating func unlink(_ head: UInt64, order: Int, zone: Int) {
        let slot = Self.slot(zone, order)
        let index = Int(head)
        let next = frames[index].next, prev = frames[index].prev
        if prev == FrameInfo.noFrame { heads[slot] = next } else { frames[Int(prev)].next = next }
        if next != FrameInfo.noFrame { frames[Int(next)].prev = prev }
        frames[index].next = FrameInfo.noFrame
        frames[index].prev = FrameInfo.noFrame
        blockCounts[slot] -= 1
        zoneFreeFrames[zone] -= UInt64(1) << order
        freeFrames -= UInt64(1) << order
    }
}
