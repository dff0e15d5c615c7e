// FrameAllocator checking and dumping: the invariant checker the tests run after every
// step and the hypervisor can run from a debug key, and the `m`-key style dump.
//
// `checkInvariants()` walks every free list and scans the whole frame table once, so
// it costs O(frames): fine for a debug key, not for a fast path. It reads only.
// Owns: the statement of the allocator's invariants. Imports nothing.

/// The first broken invariant `checkInvariants()` found.
public struct FrameAllocatorViolation: Equatable {
    public enum Kind: Equatable {
        case headOutOfRange        // a list entry or its block is beyond the table
        case badBackLink           // `prev` does not point at the previous list entry
        case headNotFreeHead       // a listed frame is not in state `.freeHead`
        case wrongOrder            // a listed frame's `order` differs from its list's
        case misaligned            // a free block is not aligned to its order
        case wrongZone             // a free block is on another zone's list
        case orderTooLarge         // a block larger than its zone allows
        case interiorNotFree       // a frame inside a free block is not `.free`
        case buddiesBothFree       // a block and its buddy are both free at one order
        case blockCountMismatch    // a list's length differs from its counter (or it loops)
        case zoneCountMismatch     // a zone's free-frame counter differs from its lists
        case totalCountMismatch    // the free-frame total differs from the zones' sum
        case unlistedFreeHead      // a `.freeHead` frame that no list reaches
        case strayFreeFrame        // a `.free` frame outside every free block
    }

    public var kind: Kind
    public var frame: UInt64
    public var zone: Int
    public var order: Int

    public init(_ kind: Kind, frame: UInt64, zone: Int, order: Int) {
        self.kind = kind
        self.frame = frame
        self.zone = zone
        self.order = order
    }
}

extension FrameAllocator {
    /// nil when every invariant of FrameAllocator.swift holds, else the first violation.
    public func checkInvariants() -> FrameAllocatorViolation? {
        let tableEnd = UInt64(frames.count)
        var listedTotal: UInt64 = 0
        var listedBlocks: UInt64 = 0
        for zone in 0..<FrameZones.count {
            let zoneTop = FrameZones.maxOrder(inZone: zone)
            var zoneTotal: UInt64 = 0
            for order in 0...Self.maxOrder {
                let slot = Self.slot(zone, order)
                let expected = UInt64(blockCounts[slot])
                let size = UInt64(1) << order
                var cursor = heads[slot]
                var previous = FrameInfo.noFrame
                var walked: UInt64 = 0
                while cursor != FrameInfo.noFrame {
                    let head = UInt64(cursor)
                    func violation(_ kind: FrameAllocatorViolation.Kind) -> FrameAllocatorViolation {
                        FrameAllocatorViolation(kind, frame: head, zone: zone, order: order)
                    }
                    walked += 1
                    if walked > expected { return violation(.blockCountMismatch) }
                    if order > zoneTop { return violation(.orderTooLarge) }
                    guard head < tableEnd, size <= tableEnd - head else { return violation(.headOutOfRange) }
                    let info = frames[Int(head)]
                    if info.prev != previous { return violation(.badBackLink) }
                    if info.state != .freeHead { return violation(.headNotFreeHead) }
                    if Int(info.order) != order { return violation(.wrongOrder) }
                    if head & (size - 1) != 0 { return violation(.misaligned) }
                    if FrameZones.zone(of: head) != zone { return violation(.wrongZone) }
                    for member in (head + 1)..<(head + size) where frames[Int(member)].state != .free {
                        return FrameAllocatorViolation(.interiorNotFree, frame: member, zone: zone, order: order)
                    }
                    if order < zoneTop {
                        let buddy = head ^ size
                        if buddy < tableEnd && frames[Int(buddy)].state == .freeHead
                            && Int(frames[Int(buddy)].order) == order {
                            return violation(.buddiesBothFree)
                        }
                    }
                    zoneTotal += size
                    previous = cursor
                    cursor = info.next
                }
                if walked != expected {
                    return FrameAllocatorViolation(.blockCountMismatch, frame: 0, zone: zone, order: order)
                }
                listedBlocks += walked
            }
            if zoneTotal != zoneFreeFrames[zone] {
                return FrameAllocatorViolation(.zoneCountMismatch, frame: 0, zone: zone, order: 0)
            }
            listedTotal += zoneTotal
        }
        if listedTotal != freeFrames {
            return FrameAllocatorViolation(.totalCountMismatch, frame: 0, zone: 0, order: 0)
        }
        return scanTable(listedBlocks: listedBlocks)
    }

    /// The table-side half of the check: every free frame belongs to a listed block.
    /// Listed blocks were shown disjoint and wholly free above, so matching counts plus
    /// these local checks leave no room for a lost frame.
    func scanTable(listedBlocks: UInt64) -> FrameAllocatorViolation? {
        var blockEnd: UInt64 = 0
        var headCount: UInt64 = 0
        var freeCount: UInt64 = 0
        for index in 0..<frames.count {
            let frame = UInt64(index)
            let info = frames[index]
            switch info.state {
            case .freeHead:
                let zone = FrameZones.zone(of: frame)
                let order = Int(info.order)
                let reached = info.prev == FrameInfo.noFrame
                    ? order <= Self.maxOrder && heads[Self.slot(zone, order)] == UInt32(index)
                    : Int(info.prev) < frames.count && frames[Int(info.prev)].next == UInt32(index)
                if !reached {
                    return FrameAllocatorViolation(.unlistedFreeHead, frame: frame, zone: zone, order: order)
                }
                headCount += 1
                freeCount += 1
                blockEnd = frame + (UInt64(1) << Swift.min(order, Self.maxOrder))
            case .free:
                if frame >= blockEnd {
                    return FrameAllocatorViolation(.strayFreeFrame, frame: frame,
                                                   zone: FrameZones.zone(of: frame), order: 0)
                }
                freeCount += 1
            case .unavailable, .allocated:
                break
            }
        }
        if headCount != listedBlocks {
            return FrameAllocatorViolation(.unlistedFreeHead, frame: 0, zone: 0, order: 0)
        }
        if freeCount != freeFrames {
            return FrameAllocatorViolation(.totalCountMismatch, frame: 0, zone: 0, order: 0)
        }
        return nil
    }

    /// The `m` debug key view: totals, the three named zones, then each non-empty bit
    /// zone with its free blocks per order (`o<order>:<blocks>`).
    public func dump<Sink: TextSink>(into sink: inout Sink) {
        sink.write("Frame allocator: ")
        sink.write(decimal: freeFrames)
        sink.write(" of ")
        sink.write(decimal: managedFrames)
        sink.write(" frames free (")
        sink.write(size: freeFrames << 12)
        sink.write("), dma_bits=")
        sink.write(decimal: dmaBits)
        sink.newline()
        MemoryZone.forEach { zone in
            guard let zones = FrameZones.zones(of: zone, dmaBits: dmaBits) else { return }
            switch zone {
            case .dma: sink.write(" DMA     ")
            case .below4G: sink.write(" <4GB    ")
            case .high: sink.write(" high    ")
            }
            Self.writeSpan(zones, into: &sink)
            sink.write(": ")
            sink.write(decimal: freeFrames(in: zone))
            sink.writeLine(" frames free")
        }
        for zone in 0..<FrameZones.count where zoneFreeFrames[zone] != 0 {
            sink.write("  zone ")
            sink.write(decimal: UInt64(zone), minimumWidth: 2)
            sink.put(0x20)
            Self.writeSpan(zone...zone, into: &sink)
            sink.write(": ")
            sink.write(decimal: zoneFreeFrames[zone])
            sink.write(" frames:")
            for order in 0...Self.maxOrder where blockCounts[Self.slot(zone, order)] != 0 {
                sink.write(" o")
                sink.write(decimal: order)
                sink.put(0x3A)  // ':'
                sink.write(decimal: UInt64(blockCounts[Self.slot(zone, order)]))
            }
            sink.newline()
        }
    }

    /// `[first byte, last byte]` of a run of bit zones, 16 hex digits like the e820 print.
    static func writeSpan<Sink: TextSink>(_ zones: ClosedRange<Int>, into sink: inout Sink) {
        let first = FrameZones.frames(inZone: zones.lowerBound).lowerBound << 12
        let last = (FrameZones.frames(inZone: zones.upperBound).upperBound << 12) - 1
        sink.put(0x5B)  // '['
        sink.write(hex: first, minimumDigits: 16)
        sink.write(", ")
        sink.write(hex: last, minimumDigits: 16)
        sink.put(0x5D)  // ']'
    }
}

#if !hasFeature(Embedded)
extension FrameAllocatorViolation: CustomStringConvertible {
    public var description: String { "\(kind) at frame \(frame) (zone \(zone), order \(order))" }
}
#endif
