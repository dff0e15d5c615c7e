// ACPITables: one ACPI table as found in memory: its header, where it is, whether it checks out.
//
// Layout (ACPI spec 5.2.6): every table but the FACS starts with the 36-byte header: signature
// (0), length (4), revision (8), checksum (9), OEM id (10, 6), OEM table id (16, 8), OEM
// revision (24), creator id (28, 4), creator revision (32). The FACS has only signature and
// length, and no checksum.
//
// Invariants: a table's length is checked against [36, maximumTableLength] before the table
// is read whole; a bad checksum is recorded in `status`, not fatal (Xen reports such tables
// and uses them anyway), so `isUsable` stays true for it.
// Imports nothing.

/// A four-character table signature, stored as its bytes read little-endian.
public struct ACPISignature: Equatable, Sendable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ text: StaticString) {
        var value: UInt32 = 0
        text.withUTF8Buffer { bytes in
            for index in 0..<Swift.min(4, bytes.count) { value |= UInt32(bytes[index]) << (8 * UInt32(index)) }
        }
        rawValue = value
    }

    public static let rsdt = ACPISignature("RSDT")
    public static let xsdt = ACPISignature("XSDT")
    public static let fadt = ACPISignature("FACP")
    public static let dsdt = ACPISignature("DSDT")
    public static let ssdt = ACPISignature("SSDT")
    public static let facs = ACPISignature("FACS")
    public static let madt = ACPISignature("APIC")
    public static let hpet = ACPISignature("HPET")

    public var text: ACPIFixedText { ACPIFixedText(rawValue: UInt64(rawValue), count: 4) }
}

/// Up to eight bytes of fixed-width, possibly NUL-padded text from a table (ids, signatures).
public struct ACPIFixedText: Equatable, Sendable {
    public var rawValue: UInt64
    public var count: Int

    public init(rawValue: UInt64, count: Int) {
        self.rawValue = rawValue
        self.count = Swift.max(0, Swift.min(8, count))
    }

    public init?(_ window: ByteWindow, at offset: Int, count: Int) {
        guard count >= 0, count <= 8, window.contains(offset: offset, size: count) else { return nil }
        var value: UInt64 = 0
        for index in 0..<count { value |= UInt64(window.uint8(at: offset + index) ?? 0) << (8 * UInt64(index)) }
        self.init(rawValue: value, count: count)
    }

    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count)
        return UInt8(truncatingIfNeeded: rawValue >> (8 * UInt64(index)))
    }

    /// The bytes before the first NUL, as C's "%.Ns" would take them.
    public var printableCount: Int {
        var length = 0
        while length < count && self[length] != 0 { length += 1 }
        return length
    }

    public func equals(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { bytes in
            guard bytes.count == printableCount else { return false }
            for index in 0..<bytes.count where bytes[index] != self[index] { return false }
            return true
        }
    }
}

public struct ACPITableHeader: Equatable, Sendable {
    public static let size = 36

    public var signature: ACPISignature
    public var length: UInt32
    public var revision: UInt8
    public var checksum: UInt8
    public var oemID: ACPIFixedText
    public var oemTableID: ACPIFixedText
    public var oemRevision: UInt32
    public var creatorID: ACPIFixedText
    public var creatorRevision: UInt32

    public init?(_ window: ByteWindow) {
        guard let signature = window.uint32(at: 0), let length = window.uint32(at: 4),
              let revision = window.uint8(at: 8), let checksum = window.uint8(at: 9),
              let oemID = ACPIFixedText(window, at: 10, count: 6),
              let oemTableID = ACPIFixedText(window, at: 16, count: 8),
              let oemRevision = window.uint32(at: 24),
              let creatorID = ACPIFixedText(window, at: 28, count: 4),
              let creatorRevision = window.uint32(at: 32) else { return nil }
        self.signature = ACPISignature(rawValue: signature)
        self.length = length
        self.revision = revision
        self.checksum = checksum
        self.oemID = oemID
        self.oemTableID = oemTableID
        self.oemRevision = oemRevision
        self.creatorID = creatorID
        self.creatorRevision = creatorRevision
    }

    /// A FACS "header": only signature and length are real.
    init(facsSignature: UInt32, length: UInt32) {
        signature = ACPISignature(rawValue: facsSignature)
        self.length = length
        revision = 0
        checksum = 0
        oemID = ACPIFixedText(rawValue: 0, count: 6)
        oemTableID = ACPIFixedText(rawValue: 0, count: 8)
        oemRevision = 0
        creatorID = ACPIFixedText(rawValue: 0, count: 4)
        creatorRevision = 0
    }
}

/// One table found through the directory.
public struct ACPITable: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case valid
        /// The bytes do not sum to zero; `sum` is what they sum to.
        case badChecksum(sum: UInt8)
        /// The length field is below the header size or above `maximumTableLength`.
        case badLength
        /// The header was readable but the whole table was not.
        case bodyUnreadable
        /// FACS: no checksum to check.
        case notChecksummed
    }

    /// No sane table is this big (real DSDTs are well under 1 MiB).
    public static let maximumTableLength: UInt32 = 16 << 20

    public var address: UInt64
    public var header: ACPITableHeader
    public var status: Status

    public var signature: ACPISignature { header.signature }
    public var length: UInt32 { header.length }
    public var isFACS: Bool { header.signature == .facs }
    public var isUsable: Bool { status == .valid || status == .notChecksummed || isBadChecksum }
    var isBadChecksum: Bool { if case .badChecksum = status { return true } else { return false } }

    /// The checksum byte that would have made the table sum to zero.
    public var expectedChecksum: UInt8? {
        guard case .badChecksum(let sum) = status else { return nil }
        return header.checksum &- sum
    }

    /// Reads the header at `address` and checks the table; nil when the header is unreadable.
    public static func load<Reader: PhysicalMemoryReader>(at address: UInt64, reader: Reader) -> ACPITable? {
        guard let start = reader.window(at: address, count: 8), let signature = start.uint32(at: 0),
              let length = start.uint32(at: 4) else { return nil }
        if ACPISignature(rawValue: signature) == .facs {
            return ACPITable(address: address, header: ACPITableHeader(facsSignature: signature, length: length),
                             status: .notChecksummed)
        }
        guard let headerWindow = reader.window(at: address, count: ACPITableHeader.size),
              let header = ACPITableHeader(headerWindow) else { return nil }
        guard length >= UInt32(ACPITableHeader.size), length <= maximumTableLength else {
            return ACPITable(address: address, header: header, status: .badLength)
        }
        guard let whole = reader.window(at: address, count: Int(length)),
              let sum = whole.byteSum(offset: 0, size: Int(length)) else {
            return ACPITable(address: address, header: header, status: .bodyUnreadable)
        }
        return ACPITable(address: address, header: header, status: sum == 0 ? .valid : .badChecksum(sum: sum))
    }

    /// The whole table, for the table parsers; nil if its length is bad or it is unreadable.
    public func bytes<Reader: PhysicalMemoryReader>(reader: Reader) -> ByteWindow? {
        guard length <= ACPITable.maximumTableLength else { return nil }
        return reader.window(at: address, count: Int(length))
    }
}

public enum ACPIError: Error, Equatable {
    case rsdpNotFound
    case rootTableUnreadable(address: UInt64)
    case rootTableBadSignature(address: UInt64)
    case rootTableBadLength(length: UInt32)
    case tableTooShort(signature: ACPISignature, length: Int)

    public func describe<Sink: TextSink>(into sink: inout Sink) {
        switch self {
        case .rsdpNotFound:
            sink.write("ACPI: RSDP not found")
        case .rootTableUnreadable(let address):
            sink.write("ACPI: root table at ")
            sink.write(hex0x: address)
            sink.write(" is not readable")
        case .rootTableBadSignature(let address):
            sink.write("ACPI: no RSDT/XSDT signature at ")
            sink.write(hex0x: address)
        case .rootTableBadLength(let length):
            sink.write("ACPI: invalid length ")
            sink.write(hex0x: UInt64(length))
            sink.write(" in RSDT/XSDT")
        case .tableTooShort(let signature, let length):
            sink.write("ACPI: ")
            for index in 0..<4 { sink.put(signature.text[index]) }
            sink.write(" table too short (")
            sink.write(decimal: length)
            sink.write(" bytes)")
        }
    }
}
