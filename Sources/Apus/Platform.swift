// Whole-machine operations: reset, power-off, and busy-wait delays.
//
// Reset and power-off try ACPI first (FADT reset register; PM1 control with the S5
// sleep type from the DSDT), as Xen does, then the legacy ways: the keyboard
// controller's reset line, the PCI reset control port, a triple fault for reset; the
// emulators' shutdown ports for power-off. The ACPI facts are filled in at boot.
import ApusCore
import ArchX86

struct PlatformFacts {
    /// ACPI reset register when it is an I/O port (FADT RESET_REG in system I/O space).
    var resetPort: UInt16? = nil
    var resetValue: UInt8 = 0
    /// PM1a/PM1b control ports and the S5 sleep types, for power-off.
    var pm1aControl: UInt16? = nil
    var pm1bControl: UInt16? = nil
    var sleepTypeA: UInt16 = 0
    var sleepTypeB: UInt16 = 0
    var haveS5 = false
    /// TSC ticks per millisecond once calibrated; a rough guess before.
    var tscPerMillisecond: UInt64 = 2_000_000
}

enum Platform {
    nonisolated(unsafe) static var facts = PlatformFacts()

    static func delay(milliseconds: UInt64) {
        let start = CPU.readTimeStampCounter()
        let ticks = milliseconds &* facts.tscPerMillisecond
        while CPU.readTimeStampCounter() &- start < ticks { CPU.pause() }
    }

    static func delay(microseconds: UInt64) {
        let start = CPU.readTimeStampCounter()
        let ticks = max(1, microseconds &* facts.tscPerMillisecond / 1000)
        while CPU.readTimeStampCounter() &- start < ticks { CPU.pause() }
    }

    static func reset() -> Never {
        CPU.disableInterrupts()
        if let port = facts.resetPort {
            Port.out8(port, facts.resetValue)
            delay(milliseconds: 50)
        }
        // Keyboard controller: pulse the reset line (wait for its input buffer first).
        for _ in 0..<10 {
            var spins = 0
            while Port.in8(0x64) & 0x02 != 0 && spins < 100_000 { spins += 1 }
            Port.out8(0x64, 0xFE)
            delay(milliseconds: 10)
        }
        // PCI reset control register: hard reset.
        Port.out8(0xCF9, 0x02)
        Port.out8(0xCF9, 0x06)
        delay(milliseconds: 50)
        CPU.tripleFault()
    }

    static func powerOff() -> Never {
        CPU.disableInterrupts()
        if facts.haveS5, let a = facts.pm1aControl {
            let slpEnable: UInt16 = 1 << 13
            Port.out16(a, (facts.sleepTypeA << 10) | slpEnable)
            if let b = facts.pm1bControl { Port.out16(b, (facts.sleepTypeB << 10) | slpEnable) }
            delay(milliseconds: 100)
        }
        // QEMU/Bochs ACPI PM ports for machines whose tables we could not read.
        Port.out16(0x604, 0x2000)
        Port.out16(0xB004, 0x2000)
        delay(milliseconds: 100)
        Log.line(.error) { $0.write("Power-off failed: halting. It is now safe to switch the machine off.") }
        CPU.haltForever()
    }
}
