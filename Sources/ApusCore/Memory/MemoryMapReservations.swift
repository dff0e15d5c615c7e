// MemoryMap reservations: how Apus takes usable RAM out of the map before the frame
// allocator exists (`reserve`, `clip(above:)` for `mem=`, and the `carve` boot allocator).
//
// Invariant: these edits only ever turn `.usable` into `.apus(reason)`. Firmware
// types and holes are left alone, and an existing reservation keeps its first reason.
// Owns: the boot-time placement policy (carve is highest-first). Imports nothing.

extension MemoryMap {
    /// Marks the usable RAM inside `[base, base + length)` as reserved for `reason`.
    /// Returns how many bytes of usable RAM changed (0 if none was usable). Not rounded
    /// to frames: the allocator only uses frames wholly inside usable ranges, so a
    /// partial page reserved here never reaches it.
    @discardableResult
    public mutating func reserve(base: UInt64, length: UInt64, reason: MemoryReservationReason) -> UInt64 {
        guard let (end, _) = Self.clampedEnd(base: base, length: length) else { return 0 }
        return paint(from: base, to: end) { current in
            current == .usable ? .apus(reason) : nil
        }.changed
    }

    /// Reserves whole 4 KiB frames `first ..< first + count` (`badpage=` takes frame numbers).
    @discardableResult
    public mutating func reserve(frame first: UInt64, count frames: UInt64 = 1,
                                 reason: MemoryReservationReason) -> UInt64 {
        guard first < (Self.addressLimit >> 12) else { return 0 }
        let available = (Self.addressLimit >> 12) - first
        return reserve(base: first << 12, length: Swift.min(frames, available) << 12, reason: reason)
    }

    /// `mem=`: RAM at or above `limit` is no longer usable (it becomes `.apus(.memLimit)`,
    /// which prints as unusable, as Xen does). Returns the bytes of RAM cut.
    @discardableResult
    public mutating func clip(above limit: UInt64) -> UInt64 {
        guard limit < Self.addressLimit else { return 0 }
        return paint(from: limit, to: Self.addressLimit) { current in
            current == .usable ? .apus(.memLimit) : nil
        }.changed
    }

    /// The boot allocator: takes `bytes` (rounded up to whole 4 KiB frames) of usable RAM
    /// aligned to `alignment` (a power of two; at least 4 KiB is used), ending at or below
    /// `bound`, and marks it `.apus(reason)`. Returns its physical base, or nil if no
    /// usable range fits (or `alignment` is not a power of two).
    ///
    /// Placement is highest-first: the chunk goes as high as possible below `bound`, so
    /// low memory stays free for the DMA zone and for anything that needs 32-bit addresses.
    /// The hypervisor passes the top of its direct map as `bound`.
    public mutating func carve(bytes: UInt64, alignment: UInt64 = 4096,
                               below bound: UInt64 = UInt64.max,
                               reason: MemoryReservationReason = .allocatorMetadata) -> UInt64? {
        guard bytes > 0, alignment != 0, alignment & (alignment - 1) == 0 else { return nil }
        let align = Swift.max(alignment, 4096)
        guard bytes <= Self.addressLimit else { return nil }
        let size = (bytes + 0xFFF) & ~UInt64(0xFFF)
        var index = count
        while index > 0 {
            index -= 1
            let range = storage[index]
            guard range.type.isUsable else { continue }
            let top = Swift.min(range.end, bound)
            guard top >= size else { continue }
            let base = (top - size) & ~(align - 1)
            guard base >= range.base else { continue }
            // The chunk was usable RAM a moment ago; even if capacity pressure moves ranges
            // around, what gets marked is RAM, so the result is safe to hand out.
            guard assign(from: base, to: base + size, type: .apus(reason)) else { return nil }
            return base
        }
        return nil
    }
}
