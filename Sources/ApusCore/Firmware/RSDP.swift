// RSDP: finds and validates the ACPI Root System Description Pointer.
//
// Layout (ACPI spec 5.2.5.3): "RSD PTR " (8), checksum over the first 20 bytes (8), OEM id (9,
// 6 bytes), revision (15), RSDT address (16, u32); from revision 2: length (20, u32), XSDT
// address (24, u64), extended checksum over `length` bytes (32).
// Where it is (5.2.5.1): on a 16-byte boundary in the first KiB of the EBDA (whose segment is
// the u16 at 0x40E) or in 0xE0000-0xFFFFF; or handed over by the loader (Multiboot2 tags 14/15).
//
// Invariants: a candidate counts only with its signature and its 20-byte checksum; an XSDT
// address is believed only when the extended length and checksum are also right.
// Imports nothing.

public struct RSDP: Equatable, Sendable {
    public enum Source: Equatable, Sendable {
        case multibootCopy
        case ebda
        case biosArea
        case given
    }

    public var address: UInt64
    public var revision: UInt8
    public var oemID: ACPIFixedText
    public var rsdtAddress: UInt32
    /// The XSDT, when revision >= 2 and the extended structure checks out and it is non-zero.
    public var xsdtAddress: UInt64?
    /// Bytes covered by the checksums: 20 for revision 0, the length field otherwise.
    public var length: UInt32
    /// False when revision >= 2 but the extended length or checksum was wrong.
    public var extendedChecksumValid: Bool
    public var source: Source

    public static let minimumExtendedLength: UInt32 = 36
    public static let maximumExtendedLength: UInt32 = 4096

    /// The RSDP at `address`, or nil when there is none (bad signature or checksum).
    public static func parse<Reader: PhysicalMemoryReader>(
        at address: UInt64, reader: Reader, source: Source = .given
    ) -> RSDP? {
        guard let head = reader.window(at: address, count: 20), head.matches("RSD PTR ", at: 0),
              head.byteSum(offset: 0, size: 20) == 0,
              let revision = head.uint8(at: 15), let rsdt = head.uint32(at: 16),
              let oem = ACPIFixedText(head, at: 9, count: 6) else { return nil }
        var rsdp = RSDP(address: address, revision: revision, oemID: oem, rsdtAddress: rsdt,
                        xsdtAddress: nil, length: 20, extendedChecksumValid: true, source: source)
        guard revision >= 2 else { return rsdp }
        rsdp.extendedChecksumValid = false
        guard let extended = reader.window(at: address, count: 36), let length = extended.uint32(at: 20),
              length >= minimumExtendedLength, length <= maximumExtendedLength,
              let whole = reader.window(at: address, count: Int(length)),
              whole.byteSum(offset: 0, size: Int(length)) == 0,
              let xsdt = extended.uint64(at: 24) else { return rsdp }
        rsdp.length = length
        rsdp.extendedChecksumValid = true
        rsdp.xsdtAddress = xsdt == 0 ? nil : xsdt
        return rsdp
    }

    /// Looks for the RSDP: in the loader's copy when there is one, then in the EBDA, then in
    /// the BIOS area. With `preferFirmwareCopy` the memory scan goes first (that is what Xen
    /// does on BIOS machines, so the printed address matches its log).
    public static func locate<Reader: PhysicalMemoryReader>(
        reader: Reader, multibootCopy: PhysicalRange?, preferFirmwareCopy: Bool = false
    ) -> RSDP? {
        if !preferFirmwareCopy, let copy = multibootCopy, let found = parse(at: copy.address, reader: reader, source: .multibootCopy) {
            return found
        }
        if let found = scanLegacyAreas(reader: reader) { return found }
        if let copy = multibootCopy { return parse(at: copy.address, reader: reader, source: .multibootCopy) }
        return nil
    }

    /// The BIOS search: the first KiB of the EBDA, then 0xE0000-0xFFFFF.
    public static func scanLegacyAreas<Reader: PhysicalMemoryReader>(reader: Reader) -> RSDP? {
        if let segment = reader.readUInt16(at: 0x40E) {
            let ebda = UInt64(segment) << 4
            // Outside conventional memory the pointer is garbage; do not scan there.
            if ebda >= 0x400 && ebda < 0xA0000,
               let found = scan(reader: reader, from: ebda, length: 1024, source: .ebda) {
                return found
            }
        }
        return scan(reader: reader, from: 0xE0000, length: 0x20000, source: .biosArea)
    }

    /// The first valid RSDP on a 16-byte boundary in `[from, from + length)`.
    public static func scan<Reader: PhysicalMemoryReader>(
        reader: Reader, from start: UInt64, length: Int, source: Source
    ) -> RSDP? {
        var offset = 0
        while offset < length {
            let (address, wraps) = start.addingReportingOverflow(UInt64(offset))
            if wraps { return nil }
            if let signature = reader.window(at: address, count: 8), signature.matches("RSD PTR ", at: 0),
               let found = parse(at: address, reader: reader, source: source) {
                return found
            }
            offset += 16
        }
        return nil
    }
}
