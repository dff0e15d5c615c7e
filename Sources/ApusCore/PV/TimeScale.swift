// The scale a PV guest uses to turn TSC ticks into nanoseconds without a hypercall
// (vcpu_time_info): ns = ((ticks << shift) * mul) >> 32, with shift possibly negative
// (a right shift). Apus picks shift so that mul is as large as fits 32 bits, for the
// best precision, the way Xen's set_time_scale does for the same purpose.

public struct TimeScale: Equatable {
    public var multiplier: UInt32
    public var shift: Int8

    /// The scale for a TSC running at `ticksPerSecond`.
    public init(ticksPerSecond: UInt64) {
        precondition(ticksPerSecond > 0)
        // Want mul / 2^32 * 2^shift = 1e9 / hz with 2^31 <= mul < 2^32.
        var shift: Int = 0
        var numerator: UInt64 = 1_000_000_000
        var denominator = ticksPerSecond
        // Normalise so that numerator / denominator lies in [0.5, 1).
        while numerator >= denominator { denominator <<= 1; shift += 1 }
        while numerator < denominator / 2 { numerator <<= 1; shift -= 1 }
        // floor(numerator * 2^32 / denominator) by long division, one bit at a time: the
        // 128-bit divide would need a compiler-runtime routine the hypervisor lacks, and
        // numerator < denominator < 2^62 keeps every step within 64 bits.
        var remainder = numerator
        var mul: UInt64 = 0
        for _ in 0..<32 {
            remainder <<= 1
            mul <<= 1
            if remainder >= denominator { remainder -= denominator; mul |= 1 }
        }
        multiplier = UInt32(truncatingIfNeeded: mul)
        self.shift = Int8(shift)
    }

    /// Nanoseconds for `ticks` TSC ticks, as the guest computes them.
    public func nanoseconds(_ ticks: UInt64) -> UInt64 {
        let shifted = shift >= 0 ? ticks << UInt64(shift) : ticks >> UInt64(-Int(shift))
        let product = shifted.multipliedFullWidth(by: UInt64(multiplier))
        return (product.high << 32) | (product.low >> 32)
    }
}
