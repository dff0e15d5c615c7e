// The CMOS real-time clock (ports 0x70/0x71), read once at boot for the guests' wall
// clock. Reads wait for no update in progress and repeat until two agree, so a reading
// never straddles a second change. Decoding is ApusCore's RTCReading.
import ApusCore

public enum RTC {
    static func register(_ index: UInt8) -> UInt8 {
        Port.out8(0x70, index)  // bit 7 clear: NMI stays enabled
        return Port.in8(0x71)
    }

    static func snapshot(centuryRegister: UInt8) -> RTCReading {
        var spins = 0
        while register(0x0A) & 0x80 != 0 && spins < 1_000_000 { spins += 1 }
        return RTCReading(second: register(0x00), minute: register(0x02), hour: register(0x04),
                          day: register(0x07), month: register(0x08), year: register(0x09),
                          century: centuryRegister != 0 ? register(centuryRegister) : 0,
                          statusB: register(0x0B))
    }

    /// `centuryRegister`: the FADT's century index (0 when it has none).
    public static func read(centuryRegister: UInt8) -> RTCReading {
        var previous = snapshot(centuryRegister: centuryRegister)
        for _ in 0..<5 {
            let next = snapshot(centuryRegister: centuryRegister)
            if next == previous { return next }
            previous = next
        }
        return previous
    }
}
