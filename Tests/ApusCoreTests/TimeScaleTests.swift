import XCTest
@testable import ApusCore

final class TimeScaleTests: XCTestCase {
    func testConvertsOneSecondForManyFrequencies() {
        for hz: UInt64 in [1_000_000, 14_318_180, 999_999_999, 1_000_000_000, 2_597_796_000, 3_999_999_999, 5_000_000_000] {
            let scale = TimeScale(ticksPerSecond: hz)
            XCTAssertGreaterThanOrEqual(scale.multiplier, 1 << 31, "\(hz)")
            let ns = scale.nanoseconds(hz)
            XCTAssertLessThan(abs(Int64(ns) - 1_000_000_000), 2, "\(hz): \(ns)")
        }
    }

    func testLongSpansStayAccurate() {
        let scale = TimeScale(ticksPerSecond: 2_600_000_000)
        let hour = scale.nanoseconds(2_600_000_000 * 3600)
        XCTAssertLessThan(abs(Int64(hour) - 3_600_000_000_000), 3_600)
    }

    func testRandomFrequencies() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<1000 {
            let hz = UInt64.random(in: 1_000_000...10_000_000_000, using: &generator)
            let scale = TimeScale(ticksPerSecond: hz)
            let ticks = UInt64.random(in: 0...(hz * 10), using: &generator)
            let exact = ticks.multipliedFullWidth(by: 1_000_000_000)
            let expected = hz.dividingFullWidth(exact).quotient
            let got = scale.nanoseconds(ticks)
            // Truncations: the multiplier (2^-31 relative) and, for a fast TSC, the low bits
            // of the ticks the right shift drops.
            XCTAssertLessThan(abs(Int64(got) - Int64(expected)), 8 + Int64(expected >> 30), "\(hz) \(ticks)")
        }
    }
}
