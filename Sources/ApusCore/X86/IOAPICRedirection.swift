// IOAPICRedirection: one IOAPIC redirection-table entry (64 bits), and how an ISA IRQ
// reaches an IOAPIC pin.
//
// Entry layout (Intel 82093AA datasheet): vector bits 0-7, delivery mode 8-10 (0 fixed),
// destination mode 11 (0 physical), delivery status 12 (read-only), polarity 13 (1 active
// low), remote IRR 14 (read-only), trigger 15 (1 level), mask 16, destination APIC id
// 56-63. The register pair of pin n is 0x10 + 2n (low word) and 0x11 + 2n (high word);
// the version register (1) holds the highest pin number in bits 16-23.
// ISA IRQs are edge-triggered, active high, on the GSI of the same number, unless the
// MADT has an interrupt source override for them (its MPS INTI flags: polarity bits 0-1,
// 1 high / 3 low; trigger bits 2-3, 1 edge / 3 level; 0 means "as the bus says").
// Imports nothing.

public struct IOAPICRedirection: Equatable {
    public var vector: UInt8
    public var activeLow: Bool
    public var levelTriggered: Bool
    public var masked: Bool
    public var destinationAPICID: UInt8

    public init(vector: UInt8, activeLow: Bool = false, levelTriggered: Bool = false, masked: Bool = false,
                destinationAPICID: UInt8 = 0) {
        self.vector = vector
        self.activeLow = activeLow
        self.levelTriggered = levelTriggered
        self.masked = masked
        self.destinationAPICID = destinationAPICID
    }

    /// Fixed delivery, physical destination mode.
    public var rawValue: UInt64 {
        var value = UInt64(vector)
        if activeLow { value |= 1 << 13 }
        if levelTriggered { value |= 1 << 15 }
        if masked { value |= 1 << 16 }
        value |= UInt64(destinationAPICID) << 56
        return value
    }

    /// The register index of pin `pin`'s low word (the high word follows it).
    public static func registerIndex(pin: Int) -> UInt32 { UInt32(0x10 + 2 * pin) }

    /// The number of pins an IOAPIC with this version register has.
    public static func pinCount(versionRegister: UInt32) -> Int { Int((versionRegister >> 16) & 0xFF) + 1 }
}

/// Where an ISA IRQ arrives: its GSI and the electrical settings the pin needs.
public struct ISAInterruptRoute: Equatable {
    public var gsi: UInt32
    public var activeLow: Bool
    public var levelTriggered: Bool

    public init(gsi: UInt32, activeLow: Bool, levelTriggered: Bool) {
        self.gsi = gsi
        self.activeLow = activeLow
        self.levelTriggered = levelTriggered
    }

    /// ISA IRQ `irq` with no override: same-numbered GSI, edge, active high.
    public static func identity(_ irq: UInt8) -> ISAInterruptRoute {
        ISAInterruptRoute(gsi: UInt32(irq), activeLow: false, levelTriggered: false)
    }

    /// The route an MADT override gives (INTI flags 0 = the ISA default for that field).
    public static func overridden(gsi: UInt32, intiFlags: UInt16) -> ISAInterruptRoute {
        let polarity = intiFlags & 3, trigger = (intiFlags >> 2) & 3
        return ISAInterruptRoute(gsi: gsi, activeLow: polarity == 3, levelTriggered: trigger == 3)
    }
}
