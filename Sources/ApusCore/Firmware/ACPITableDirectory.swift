// ACPITableDirectory: every ACPI table, from the RSDP through the RSDT or XSDT.
//
// Layout (ACPI spec 5.2.7, 5.2.8): the RSDT holds 32-bit table addresses after its header,
// the XSDT 64-bit ones (only 4-byte aligned). The FADT names the DSDT and the FACS, which the
// root table does not list.
//
// Invariants: the XSDT is used only when the RSDP's extended part checks out, it is readable
// with a sane length, and it has no null entry (else the RSDT, as Xen does); a table whose
// header cannot be read, a null entry and entries past maximumRootEntries are counted in
// `skippedEntries`; at most `capacity` tables are kept and the rest counted in `dropped`.
// Imports nothing.

/// Every table the firmware lists, in the order Xen prints them: the root table's entries,
/// with the DSDT and FACS right after the FADT that names them.
public struct ACPITableDirectory {
    public static let capacity = 64
    /// More root entries than this means a corrupt length; the rest are not read.
    public static let maximumRootEntries = 1024

    public var rsdp: RSDP
    public var root: ACPITable
    public var usesXSDT: Bool
    public var tables = InlineArray<64, ACPITable>(
        repeating: ACPITable(address: 0, header: ACPITableHeader(facsSignature: 0, length: 0), status: .badLength))
    public var count = 0
    public var dropped = 0
    /// Root entries that were zero, unreadable, or past `maximumRootEntries`.
    public var skippedEntries = 0

    public func table(_ index: Int) -> ACPITable? {
        guard index >= 0 && index < count else { return nil }
        return tables[index]
    }

    /// The `instance`-th table with `signature` (0 = the first).
    public func first(_ signature: ACPISignature, instance: Int = 0) -> ACPITable? {
        var seen = 0
        for index in 0..<count where tables[index].signature == signature {
            if seen == instance { return tables[index] }
            seen += 1
        }
        return nil
    }

    /// Reads the root table named by `rsdp` (XSDT when present and sound, RSDT otherwise)
    /// and every table it lists.
    public static func load<Reader: PhysicalMemoryReader>(
        rsdp: RSDP, reader: Reader
    ) throws(ACPIError) -> ACPITableDirectory {
        let root: ACPITable
        let usesXSDT: Bool
        if let xsdt = usableXSDT(rsdp, reader: reader) {
            root = xsdt
            usesXSDT = true
        } else {
            let address = UInt64(rsdp.rsdtAddress)
            guard let rsdt = ACPITable.load(at: address, reader: reader) else {
                throw .rootTableUnreadable(address: address)
            }
            guard rsdt.signature == .rsdt else { throw .rootTableBadSignature(address: address) }
            root = rsdt
            usesXSDT = false
        }
        switch root.status {
        case .badLength: throw .rootTableBadLength(length: root.length)
        case .bodyUnreadable: throw .rootTableUnreadable(address: root.address)
        default: break
        }
        guard let entries = root.bytes(reader: reader) else { throw .rootTableUnreadable(address: root.address) }

        var directory = ACPITableDirectory(rsdp: rsdp, root: root, usesXSDT: usesXSDT)
        let entrySize = usesXSDT ? 8 : 4
        let entryCount = (Int(root.length) - ACPITableHeader.size) / entrySize
        for index in 0..<entryCount {
            if index >= maximumRootEntries {
                directory.skippedEntries += entryCount - index
                break
            }
            let offset = ACPITableHeader.size + index * entrySize
            let address = usesXSDT ? entries.uint64(at: offset) : entries.uint32(at: offset).map { UInt64($0) }
            guard let address, address != 0, let table = ACPITable.load(at: address, reader: reader) else {
                directory.skippedEntries += 1
                continue
            }
            directory.append(table)
            if table.signature == .fadt { directory.appendFADTChildren(table, reader: reader) }
        }
        return directory
    }

    init(rsdp: RSDP, root: ACPITable, usesXSDT: Bool) {
        self.rsdp = rsdp
        self.root = root
        self.usesXSDT = usesXSDT
    }

    mutating func append(_ table: ACPITable) {
        if count < ACPITableDirectory.capacity {
            tables[count] = table
            count += 1
        } else {
            dropped += 1
        }
    }

    /// The DSDT and FACS the FADT names (the 64-bit X_ field when present and non-zero).
    mutating func appendFADTChildren<Reader: PhysicalMemoryReader>(_ fadtTable: ACPITable, reader: Reader) {
        guard let bytes = fadtTable.bytes(reader: reader), let fadt = FADT(bytes) else { return }
        if fadt.dsdtAddress != 0, let dsdt = ACPITable.load(at: fadt.dsdtAddress, reader: reader) {
            append(dsdt)
        }
        if fadt.facsAddress != 0, let facs = ACPITable.load(at: fadt.facsAddress, reader: reader) {
            append(facs)
        }
    }

    static func usableXSDT<Reader: PhysicalMemoryReader>(_ rsdp: RSDP, reader: Reader) -> ACPITable? {
        guard let address = rsdp.xsdtAddress, let xsdt = ACPITable.load(at: address, reader: reader),
              xsdt.signature == .xsdt, xsdt.status != .badLength, xsdt.status != .bodyUnreadable else { return nil }
        if rsdp.rsdtAddress != 0 && hasNullEntry(xsdt, reader: reader) { return nil }
        return xsdt
    }

    /// Whether an XSDT lists a zero address (firmware bug; Xen then falls back to the RSDT).
    static func hasNullEntry<Reader: PhysicalMemoryReader>(_ xsdt: ACPITable, reader: Reader) -> Bool {
        guard let bytes = xsdt.bytes(reader: reader) else { return true }
        var offset = ACPITableHeader.size
        while let entry = bytes.uint64(at: offset) {
            if entry == 0 { return true }
            offset += 8
        }
        return false
    }
}
