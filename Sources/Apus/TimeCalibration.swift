// Measures the TSC and local APIC timer frequencies against the PIT at boot.
//
// One 50 ms PIT window samples both counters; the results set the delay loop used by
// panics and resets (Platform.facts.tscPerMillisecond) and the APIC timer rate the
// scheduler tick will use. Under emulation the figures are as noisy as the host.
import ApusCore
import ArchX86

struct ClockFrequencies {
    var tscHz: UInt64 = 0
    var apicTimerHz: UInt64 = 0   // after the divide-by-16 the timer is programmed with
}

enum TimeCalibration {
    static let windowTicks: UInt16 = 59_659  // 50 ms of the 1.193182 MHz PIT

    static func measure() -> ClockFrequencies? {
        var tscSamples: (UInt64, UInt64) = (0, 0)
        var apicSamples: (UInt32, UInt32) = (0, 0)
        var taken = 0
        LocalAPIC.startTimer(vector: UInt8(Interrupts.timerVector), initialCount: UInt32.max, periodic: false, masked: true)
        let ok = PIT.measure(ticks: windowTicks) {
            let tsc = CPU.readTimeStampCounter()
            let apic = LocalAPIC.timerCurrent
            if taken == 0 { tscSamples.0 = tsc; apicSamples.0 = apic } else { tscSamples.1 = tsc; apicSamples.1 = apic }
            taken += 1
        }
        LocalAPIC.stopTimer()
        guard ok else { return nil }
        let windowNs = UInt64(windowTicks) * 1_000_000_000 / PIT.frequencyHz
        var result = ClockFrequencies()
        result.tscHz = (tscSamples.1 &- tscSamples.0) * 1_000_000_000 / windowNs
        result.apicTimerHz = UInt64(apicSamples.0 &- apicSamples.1) * 1_000_000_000 / windowNs
        return result
    }
}

extension TextSink {
    /// `2445.409` for 2445409xxx Hz: MHz with three decimals, as Xen prints the CPU clock.
    mutating func write(megahertz hz: UInt64) {
        write(decimal: hz / 1_000_000)
        put(0x2E)
        write(decimal: (hz / 1_000) % 1_000, minimumWidth: 3, pad: 0x30)
    }
}
