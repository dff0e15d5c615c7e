// HPETTable: decodes the ACPI "HPET" table (IA-PC HPET specification 1.0a, table 3).
//
// Layout: header, event timer block id (36, u32: the capabilities register's low half),
// base address as a generic address structure (40), HPET number (52), minimum clock tick
// (53, u16), page protection (55). 56 bytes.
//
// Invariant: a table shorter than 56 bytes is an error, not a partial read.
// Imports nothing.

public struct HPETTable: Equatable, Sendable {
    public static let length = 56

    /// Bits 0-7 revision, 8-12 comparators - 1, 13 64-bit counter, 15 legacy replacement
    /// capable, 16-31 PCI vendor id (0x8086a201 on QEMU).
    public var eventTimerBlockID: UInt32
    public var baseAddress: GenericAddress
    public var hpetNumber: UInt8
    public var minimumClockTick: UInt16
    public var pageProtection: UInt8

    public static func parse(_ table: ByteWindow) throws(ACPIError) -> HPETTable {
        let declared = Int(table.uint32(at: 4) ?? 0)
        guard Swift.min(declared, table.count) >= length, let id = table.uint32(at: 36),
              let base = GenericAddress(table, at: 40), let number = table.uint8(at: 52),
              let tick = table.uint16(at: 53), let protection = table.uint8(at: 55) else {
            throw .tableTooShort(signature: .hpet, length: Swift.min(declared, table.count))
        }
        return HPETTable(eventTimerBlockID: id, baseAddress: base, hpetNumber: number,
                         minimumClockTick: tick, pageProtection: protection)
    }

    /// The timers must be memory-mapped for Xen (and Apus) to use them.
    public var isMemoryMapped: Bool { baseAddress.spaceID == GenericAddress.systemMemory }
}
