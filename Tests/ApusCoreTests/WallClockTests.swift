import XCTest
@testable import ApusCore

final class WallClockTests: XCTestCase {
    func testBCDTwentyFourHour() {
        // 2026-12-01 05:55:12 UTC, as QEMU's RTC shows it in BCD.
        let r = RTCReading(second: 0x12, minute: 0x55, hour: 0x05, day: 0x01, month: 0x12, year: 0x26,
                           century: 0x20, statusB: 0x02)
        XCTAssertEqual(r.unixSeconds, 1_796_104_512)
    }

    func testEpochAndLeapDays() {
        XCTAssertEqual(RTCReading(second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 70, statusB: 0x06).unixSeconds, 0)
        // 2000-02-29 (a leap day in a century year divisible by 400).
        XCTAssertEqual(RTCReading(second: 0, minute: 0, hour: 0, day: 29, month: 2, year: 0, statusB: 0x06).unixSeconds,
                       951_782_400)
        // 2100 is not a leap year: Feb 29 is refused.
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 0, day: 29, month: 2, year: 0, century: 21, statusB: 0x06)
            .unixSeconds)
    }

    func testTwelveHourClock() {
        let midnight = RTCReading(second: 0, minute: 0, hour: 12, day: 2, month: 1, year: 70, statusB: 0x04)
        XCTAssertEqual(midnight.unixSeconds, 86_400)
        let onePM = RTCReading(second: 0, minute: 0, hour: 0x80 | 1, day: 1, month: 1, year: 70, statusB: 0x04)
        XCTAssertEqual(onePM.unixSeconds, 13 * 3600)
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 13, day: 1, month: 1, year: 70, statusB: 0x04).unixSeconds)
    }

    func testMalformedReadingsAreRefused() {
        XCTAssertNil(RTCReading(second: 0x1A, minute: 0, hour: 0, day: 1, month: 1, year: 0x70).unixSeconds)
        XCTAssertNil(RTCReading(second: 0, minute: 0x60, hour: 0, day: 1, month: 1, year: 0x70).unixSeconds)
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 0x24, day: 1, month: 1, year: 0x70).unixSeconds)
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 0, day: 0x31, month: 0x04, year: 0x70).unixSeconds)
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 0, day: 1, month: 0x13, year: 0x70).unixSeconds)
        XCTAssertNil(RTCReading(second: 0, minute: 0, hour: 0, day: 1, month: 1, year: 69, century: 19, statusB: 0x06)
            .unixSeconds)
    }

    func testEveryDayOfSomeYearsRoundTrips() {
        // Consecutive days differ by exactly 86400 s across month and year ends.
        var previous: UInt64? = nil
        for year in [1999, 2000, 2023, 2024] {
            for month in 1...12 {
                for day in 1...RTCReading.daysIn(month: month, year: year) {
                    let r = RTCReading(second: 0, minute: 0, hour: 0, day: UInt8(day), month: UInt8(month),
                                       year: UInt8(year % 100), century: UInt8(year / 100), statusB: 0x06)
                    guard let seconds = r.unixSeconds else { return XCTFail("\(year)-\(month)-\(day) refused") }
                    if let previous, !(month == 1 && day == 1 && (year == 2023)) {
                        XCTAssertEqual(seconds - previous, 86_400, "\(year)-\(month)-\(day)")
                    }
                    previous = seconds
                }
            }
        }
    }
}
