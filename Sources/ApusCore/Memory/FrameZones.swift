// FrameZones: how the frame allocator splits machine memory by address width.
//
// Internally there is one zone per address bit, as in Xen's heap: zone 0 is frame 0,
// and zone z (z >= 1) holds frames [2^(z-1), 2^z), i.e. addresses below 2^(z+12).
// So "frames below 2^bits bytes" is always a whole set of zones (z <= bits - 12), any
// width a guest asks for (XENMEMF_address_bits) can be honoured exactly, and a block
// never straddles two zones because zone z is a naturally aligned 2^(z-1)-frame run.
//
// On top of that sit the three zones people talk about, set by `dma_bits` (default 30,
// "addresses up to 1GB are DMAable"): `.dma` below 2^dma_bits, `.below4G` from there
// to 4 GiB, and `.high` above. Ordinary allocations avoid `.dma` until the rest is gone.
// Owns: zone arithmetic only. Imports nothing.

/// The named zones of the `m` debug key and of zone-targeted allocations.
public enum MemoryZone: UInt8 {
    case dma
    case below4G
    case high

    /// Lowest to highest; `allCases` would build an Array, which the hypervisor cannot.
    public static func forEach(_ body: (MemoryZone) -> Void) {
        body(.dma); body(.below4G); body(.high)
    }
}

/// Zone arithmetic shared by the allocator and its checker.
public enum FrameZones {
    /// Bit zones 0...40: physical addresses stop at 2^52, frames at 2^40.
    public static var count: Int { 41 }

    /// `dma_bits` is clamped into this range (below it the DMA zone would be frame 0 alone).
    public static var dmaBitsRange: ClosedRange<Int> { 13...52 }

    /// The bit zone holding `frame`.
    @inline(__always)
    public static func zone(of frame: UInt64) -> Int {
        frame == 0 ? 0 : 64 - frame.leadingZeroBitCount
    }

    /// The largest block order that fits zone `zone` (and the allocator's `maxOrder`).
    @inline(__always)
    public static func maxOrder(inZone zone: Int) -> Int {
        Swift.min(FrameAllocator.maxOrder, Swift.max(0, zone - 1))
    }

    /// Frames of bit zone `zone`.
    public static func frames(inZone zone: Int) -> Range<UInt64> {
        zone == 0 ? 0..<1 : (UInt64(1) << (zone - 1))..<(UInt64(1) << zone)
    }

    /// The highest bit zone whose every frame lies below 2^addressBits bytes; nil if none.
    public static func highestZone(belowAddressBits addressBits: Int) -> Int? {
        guard addressBits >= 12 else { return nil }
        return Swift.min(count - 1, addressBits - 12)
    }

    /// The bit zones of a named zone, given the `dma_bits` setting (already clamped).
    public static func zones(of zone: MemoryZone, dmaBits: Int) -> ClosedRange<Int>? {
        let dmaTop = dmaBits - 12              // last bit zone below 2^dma_bits
        let fourGiBTop = 32 - 12               // last bit zone below 4 GiB
        switch zone {
        case .dma:
            return 0...dmaTop
        case .below4G:
            return dmaTop < fourGiBTop ? (dmaTop + 1)...fourGiBTop : nil
        case .high:
            let low = Swift.max(dmaTop, fourGiBTop) + 1
            return low < count ? low...(count - 1) : nil
        }
    }
}
