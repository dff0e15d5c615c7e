// The boot CPU's clocks: the local APIC enabled and its timer and the TSC calibrated
// against the PIT, then a 100 Hz periodic tick (the credit scheduler's 10 ms tick)
// checked to really interrupt the CPU.
import ApusCore
import ArchX86

enum Timers {
    static let tickHz: UInt64 = 100
    nonisolated(unsafe) static var frequencies = ClockFrequencies()
    /// TSC ticks to nanoseconds, computed once from the calibration (guests get the same).
    nonisolated(unsafe) static var tscScale: TimeScale? = nil

    /// The APIC timer's initial count for one tick (all CPUs share the bus clock).
    nonisolated(unsafe) static var tickCount: UInt32 = 0

    /// An application processor: its own local APIC and the same 100 Hz tick.
    static func startOnSecondary() {
        LocalAPIC.enable(registerPage: LocalAPIC.base, spurious: UInt8(Interrupts.spuriousVector))
        guard tickCount != 0 else { return }
        LocalAPIC.startTimer(vector: UInt8(Interrupts.timerVector), initialCount: tickCount, periodic: true, masked: false)
    }

    static func start(options: BootOptions) {
        let apicPage = Firmware.facts.localAPICAddress
        LocalAPIC.enable(registerPage: DirectMap.address(of: apicPage), spurious: UInt8(Interrupts.spuriousVector))
        Log.line { c in
            c.write("Local APIC: id "); c.write(decimal: UInt64(LocalAPIC.apicID)); c.write(", version ")
            c.write(hex0x: UInt64(LocalAPIC.versionRegister & 0xFF)); c.write(", registers at "); c.write(hex0x: apicPage)
        }
        guard let measured = TimeCalibration.measure() else {
            Log.line { $0.write("WARNING: the PIT did not count; TSC and APIC timer left uncalibrated") }
            return
        }
        frequencies = measured
        if measured.tscHz > 0 { tscScale = TimeScale(ticksPerSecond: measured.tscHz) }
        Platform.facts.tscPerMillisecond = max(1, measured.tscHz / 1000)
        Log.line { c in c.write("Detected "); c.write(megahertz: measured.tscHz); c.write(" MHz processor.") }
        Log.line { c in
            c.write("Local APIC timer: "); c.write(megahertz: measured.apicTimerHz * 16); c.write(" MHz bus clock")
        }
        if BootCPU.identity.has(.invariantTSC) { Log.line { $0.write("TSC is invariant: it is Apus's clock source") } }

        let count = UInt32(truncatingIfNeeded: max(1, measured.apicTimerHz / tickHz))
        tickCount = count
        LocalAPIC.startTimer(vector: UInt8(Interrupts.timerVector), initialCount: count, periodic: true, masked: false)
        let before = Interrupts.timerTicks
        CPU.enableInterrupts()
        Platform.delay(milliseconds: 50)
        CPU.disableInterrupts()
        let ticks = Interrupts.timerTicks - before
        Log.line { c in
            c.write("Timer tick: "); c.write(decimal: tickHz); c.write(" Hz on vector "); c.write(hex0x: UInt64(Interrupts.timerVector))
            c.write(" ("); c.write(decimal: ticks); c.write(" ticks in 50 ms)")
        }
        if ticks == 0 { Log.line { $0.write("WARNING: the local APIC timer did not interrupt") } }
    }
}
