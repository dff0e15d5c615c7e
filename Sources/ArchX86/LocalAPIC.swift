// The boot CPU's local APIC in xAPIC mode (MMIO), reached through the direct map.
//
// Owns: enabling it, the timer registers, EOI. Calibration policy (against the PIT) is
// in the Apus module; this file only touches registers.
import _Volatile

public enum LocalAPIC {
    /// Virtual address of the APIC's register page; 0 until `enable` maps it in.
    nonisolated(unsafe) public static var base: UInt64 = 0

    static let id = 0x20, version = 0x30, taskPriority = 0x80, eoi = 0xB0
    static let spuriousVector = 0xF0, lvtTimer = 0x320
    static let commandLow = 0x300, commandHigh = 0x310
    static let timerInitialCount = 0x380, timerCurrentCount = 0x390, timerDivide = 0x3E0

    @inline(__always) static func register(_ offset: Int) -> VolatileMappedRegister<UInt32> {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base) + UInt(offset))
    }

    public static var isMapped: Bool { base != 0 }

    /// Software-enables the APIC with `spurious` as its spurious vector and accepts all priorities.
    public static func enable(registerPage: UInt64, spurious: UInt8) {
        base = registerPage
        let apicBase = CPU.readMSR(MSR.apicBase)
        CPU.writeMSR(MSR.apicBase, apicBase | (1 << 11))  // global enable
        register(taskPriority).store(0)
        register(spuriousVector).store(0x100 | UInt32(spurious))
    }

    public static var apicID: UInt32 { register(id).load() >> 24 }
    public static var versionRegister: UInt32 { register(version).load() }

    /// Writes the interrupt command register (destination in physical mode), after the
    /// previous command has been accepted (delivery status clear).
    public static func sendCommand(destination: UInt32, command: UInt32) {
        var spins = 0
        while register(commandLow).load() & (1 << 12) != 0 && spins < 1_000_000 { spins += 1 }
        register(commandHigh).store(destination << 24)
        register(commandLow).store(command)
    }

    public static func endOfInterrupt() {
        guard base != 0 else { return }
        register(eoi).store(0)
    }

    /// Timer with divide-by-16. `periodic` false is one-shot. `masked` leaves it silent
    /// (used while calibrating).
    public static func startTimer(vector: UInt8, initialCount: UInt32, periodic: Bool, masked: Bool) {
        register(timerDivide).store(0x3)  // divide by 16
        register(lvtTimer).store(UInt32(vector) | (periodic ? 1 << 17 : 0) | (masked ? 1 << 16 : 0))
        register(timerInitialCount).store(initialCount)
    }

    public static func stopTimer() {
        register(timerInitialCount).store(0)
        register(lvtTimer).store(1 << 16)
    }

    public static var timerCurrent: UInt32 { register(timerCurrentCount).load() }
}

/// The 8254 PIT, used only as a known-frequency reference to calibrate the TSC and the
/// APIC timer (channel 2, gated through port 0x61, no interrupt).
public enum PIT {
    public static let frequencyHz: UInt64 = 1_193_182

    /// Busy-waits `ticks` PIT ticks (at most 65535, about 55 ms) and calls `sample` just
    /// before and just after. Returns false if the PIT never counted down (absent).
    public static func measure(ticks: UInt16, sample: () -> Void) -> Bool {
        let gate = Port.in8(0x61)
        Port.out8(0x61, (gate & 0xFD) | 0x01)     // speaker off, gate channel 2 on
        Port.out8(0x43, 0xB0)                     // channel 2, lo/hi byte, mode 0, binary
        Port.out8(0x42, UInt8(truncatingIfNeeded: ticks))
        Port.out8(0x42, UInt8(truncatingIfNeeded: ticks >> 8))
        sample()
        var spins: UInt64 = 0
        // OUT2 (bit 5 of port 0x61) goes high when the count reaches zero.
        while Port.in8(0x61) & 0x20 == 0 {
            spins += 1
            if spins > 100_000_000 { Port.out8(0x61, gate); return false }
        }
        sample()
        Port.out8(0x61, gate)
        return true
    }
}
