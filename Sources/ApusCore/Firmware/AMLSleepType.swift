// AMLSleepType: finds the SLP_TYPa/SLP_TYPb values for a sleep state (S5 = soft off) in AML.
//
// There is no AML interpreter in Apus. The \_Sx_ objects are, in practice, a plain
// `Name(_S5_, Package(){a, b, ...})` at the top of the DSDT (or an SSDT), which is encoded as
// NameOp 0x08, optional root prefix '\', the NameSeg "_S5_", PackageOp 0x12, PkgLength,
// NumElements, then the elements: ZeroOp 0x00, OneOp 0x01, BytePrefix 0x0A b, WordPrefix 0x0B,
// DWordPrefix 0x0C, QWordPrefix 0x0E (ACPI spec 20.2). A package with one element packs
// SLP_TYPa in bits 0-7 and SLP_TYPb in bits 8-15, as ACPICA reads it.
//
// Invariants: every byte read is inside the table and inside the package's own PkgLength; an
// occurrence of the name that does not decode is skipped and the search goes on.
// Power-off is then: write PM1a_CNT (and PM1b_CNT if present) with SLP_TYP in bits 10-12 and
// SLP_EN (bit 13). The hypervisor does the port writes.
// Imports nothing.

public struct ACPISleepType: Equatable, Sendable {
    public static let sleepTypeShift: UInt16 = 10
    public static let sleepTypeMask: UInt16 = 0x7 << 10
    public static let sleepEnable: UInt16 = 1 << 13

    public var typeA: UInt8
    public var typeB: UInt8

    public init(typeA: UInt8, typeB: UInt8) {
        self.typeA = typeA
        self.typeB = typeB
    }

    /// The PM1_CNT value that enters the state: `current` with SLP_TYP replaced and, when
    /// `enable`, SLP_EN set (ACPICA writes once without SLP_EN, then once with it).
    public static func pm1ControlValue(sleepType: UInt8, current: UInt16 = 0, enable: Bool = true) -> UInt16 {
        let kept = current & ~(sleepTypeMask | sleepEnable)
        let typeBits = (UInt16(sleepType) << sleepTypeShift) & sleepTypeMask
        return kept | typeBits | (enable ? sleepEnable : 0)
    }

    public func pm1aControlValue(current: UInt16 = 0, enable: Bool = true) -> UInt16 {
        ACPISleepType.pm1ControlValue(sleepType: typeA, current: current, enable: enable)
    }

    public func pm1bControlValue(current: UInt16 = 0, enable: Bool = true) -> UInt16 {
        ACPISleepType.pm1ControlValue(sleepType: typeB, current: current, enable: enable)
    }

    /// The values of `\_S<state>_` in `table` (a whole DSDT or SSDT, header included), or nil.
    public static func find(state: Int, in table: ByteWindow) -> ACPISleepType? {
        guard state >= 0 && state <= 5 else { return nil }
        let digit = UInt8(0x30 + state)
        let end = Swift.min(table.count, Int(table.uint32(at: 4) ?? 0))
        var index = ACPITableHeader.size + 1
        while index + 4 <= end {
            if table.uint8(at: index) == 0x5F, table.uint8(at: index + 1) == 0x53,
               table.uint8(at: index + 2) == digit, table.uint8(at: index + 3) == 0x5F,
               isNameOp(before: index, in: table),
               let found = decodePackage(at: index + 4, in: table, end: end) {
                return found
            }
            index += 1
        }
        return nil
    }

    private static func isNameOp(before index: Int, in table: ByteWindow) -> Bool {
        if table.uint8(at: index - 1) == 0x08 { return true }
        return table.uint8(at: index - 1) == 0x5C && table.uint8(at: index - 2) == 0x08
    }

    private static func decodePackage(at start: Int, in table: ByteWindow, end: Int) -> ACPISleepType? {
        guard table.uint8(at: start) == 0x12, let (length, lengthBytes) = pkgLength(at: start + 1, in: table) else {
            return nil
        }
        let packageEnd = start + 1 + length
        guard length >= lengthBytes + 1, packageEnd <= end else { return nil }
        var cursor = start + 1 + lengthBytes
        guard let count = table.uint8(at: cursor), count >= 1 else { return nil }
        cursor += 1
        guard let first = integer(at: &cursor, in: table, end: packageEnd) else { return nil }
        if count == 1 {
            return ACPISleepType(typeA: UInt8(truncatingIfNeeded: first),
                                 typeB: UInt8(truncatingIfNeeded: first >> 8))
        }
        guard let second = integer(at: &cursor, in: table, end: packageEnd) else { return nil }
        return ACPISleepType(typeA: UInt8(truncatingIfNeeded: first), typeB: UInt8(truncatingIfNeeded: second))
    }

    /// PkgLength: the lead byte's bits 6-7 count the bytes that follow; with none, bits 0-5
    /// are the length, otherwise bits 0-3 are its low nibble and each next byte adds 8 bits.
    /// Returns the length (which counts the PkgLength bytes themselves) and how many bytes it took.
    static func pkgLength(at offset: Int, in table: ByteWindow) -> (Int, Int)? {
        guard let lead = table.uint8(at: offset) else { return nil }
        let follow = Int(lead >> 6)
        if follow == 0 { return (Int(lead & 0x3F), 1) }
        var length = Int(lead & 0x0F)
        for index in 0..<follow {
            guard let byte = table.uint8(at: offset + 1 + index) else { return nil }
            length |= Int(byte) << (4 + 8 * index)
        }
        return (length, 1 + follow)
    }

    private static func integer(at cursor: inout Int, in table: ByteWindow, end: Int) -> UInt64? {
        guard cursor < end, let op = table.uint8(at: cursor) else { return nil }
        let size: Int
        switch op {
        case 0x00: cursor += 1; return 0
        case 0x01: cursor += 1; return 1
        case 0x0A: size = 1
        case 0x0B: size = 2
        case 0x0C: size = 4
        case 0x0E: size = 8
        default: return nil
        }
        guard cursor + 1 + size <= end else { return nil }
        var value: UInt64 = 0
        for index in 0..<size {
            guard let byte = table.uint8(at: cursor + 1 + index) else { return nil }
            value |= UInt64(byte) << (8 * UInt64(index))
        }
        cursor += 1 + size
        return value
    }
}
