// The wall clock a PV guest reads from shared_info (wc_sec, wc_nsec, wc_sec_hi): the
// date and time at system time 0, which Apus takes from the CMOS real-time clock once at
// boot. This file turns the RTC's register values (BCD or binary, 12- or 24-hour, two-
// digit year plus an optional century register) into seconds since 1970-01-01 UTC, and
// refuses readings that cannot be a date. Pure: the port reads are ArchX86's.
// Imports nothing.

public struct RTCReading: Equatable {
    public var second: UInt8
    public var minute: UInt8
    public var hour: UInt8
    public var day: UInt8
    public var month: UInt8
    public var year: UInt8
    /// The FADT's century register value, if the machine has one (0: none).
    public var century: UInt8
    /// Status register B: bit 2 set = binary values, bit 1 set = 24-hour clock.
    public var statusB: UInt8

    public init(second: UInt8, minute: UInt8, hour: UInt8, day: UInt8, month: UInt8, year: UInt8,
                century: UInt8 = 0, statusB: UInt8 = 0x02) {
        self.second = second
        self.minute = minute
        self.hour = hour
        self.day = day
        self.month = month
        self.year = year
        self.century = century
        self.statusB = statusB
    }

    static func decode(_ value: UInt8, binary: Bool) -> Int? {
        if binary { return Int(value) }
        let high = Int(value >> 4), low = Int(value & 0xF)
        guard high < 10 && low < 10 else { return nil }
        return high * 10 + low
    }

    /// Seconds since the Unix epoch, or nil if the registers do not hold a valid date.
    /// Without a century register, years 70-99 are 19xx and 00-69 are 20xx.
    public var unixSeconds: UInt64? {
        let binary = statusB & 0x04 != 0
        let twentyFourHour = statusB & 0x02 != 0
        let pm = !twentyFourHour && hour & 0x80 != 0
        guard let s = Self.decode(second, binary: binary), let m = Self.decode(minute, binary: binary),
              var h = Self.decode(hour & 0x7F, binary: binary), let d = Self.decode(day, binary: binary),
              let mo = Self.decode(month, binary: binary), let y = Self.decode(year, binary: binary) else { return nil }
        if !twentyFourHour {
            guard h >= 1 && h <= 12 else { return nil }
            h = h % 12 + (pm ? 12 : 0)
        }
        let fullYear: Int
        if century != 0 {
            guard let c = Self.decode(century, binary: binary) else { return nil }
            fullYear = c * 100 + y
        } else {
            fullYear = y < 70 ? 2000 + y : 1900 + y
        }
        guard s < 60, m < 60, h < 24, mo >= 1, mo <= 12, d >= 1, d <= Self.daysIn(month: mo, year: fullYear),
              fullYear >= 1970 else { return nil }
        let days = Self.daysSinceEpoch(year: fullYear, month: mo, day: d)
        return UInt64(days) * 86_400 + UInt64(h * 3600 + m * 60 + s)
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from 1970-01-01 to the given date (proleptic Gregorian).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        var days = 0
        for y in 1970..<year { days += isLeap(y) ? 366 : 365 }
        for m in 1..<month { days += daysIn(month: m, year: year) }
        return days + day - 1
    }
}
