// Host-only helpers for the firmware tests: a fake physical memory made of byte regions,
// little-endian byte builders, ACPI table and Multiboot structure builders, a seeded generator.
import XCTest
@testable import ApusCore

/// Physical memory as a few separate regions; anything outside them is unreadable.
final class FakePhysicalMemory: PhysicalMemoryReader {
    private var regions: [(base: UInt64, storage: UnsafeMutableRawBufferPointer)] = []
    /// Every range asked for, to check that parsers stay inside what they were given.
    private(set) var requests: [(address: UInt64, count: Int)] = []

    init() {}

    deinit { for region in regions { region.storage.deallocate() } }

    func add(at base: UInt64, bytes: [UInt8]) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        bytes.withUnsafeBytes { storage.copyMemory(from: $0) }
        regions.append((base, UnsafeMutableRawBufferPointer(rebasing: storage[0..<bytes.count])))
    }

    func add(at base: UInt64, zeroes count: Int) { add(at: base, bytes: [UInt8](repeating: 0, count: count)) }

    /// Overwrites bytes inside an existing region.
    func write(at address: UInt64, bytes: [UInt8]) {
        for region in regions where address >= region.base
            && address - region.base + UInt64(bytes.count) <= UInt64(region.storage.count) {
            let start = Int(address - region.base)
            bytes.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: region.storage[start..<(start + bytes.count)]).copyMemory(from: $0)
            }
            return
        }
        XCTFail("write outside fake memory at \(String(address, radix: 16))")
    }

    func bytes(at physicalAddress: UInt64, count: Int) -> UnsafeRawBufferPointer? {
        requests.append((physicalAddress, count))
        guard count >= 0 else { return nil }
        for region in regions where physicalAddress >= region.base {
            let offset = physicalAddress - region.base
            guard offset <= UInt64(region.storage.count),
                  UInt64(count) <= UInt64(region.storage.count) - offset else { continue }
            let start = Int(offset)
            return UnsafeRawBufferPointer(rebasing: region.storage[start..<(start + count)])
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    mutating func fwLE16(_ value: UInt16) { append(contentsOf: Swift.withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
    mutating func fwLE32(_ value: UInt32) { append(contentsOf: Swift.withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
    mutating func fwLE64(_ value: UInt64) { append(contentsOf: Swift.withUnsafeBytes(of: value.littleEndian) { Array($0) }) }
    mutating func fwASCII(_ text: String, width: Int? = nil) {
        var bytes = Array(text.utf8)
        if let width { bytes = Array((bytes + [UInt8](repeating: 0, count: width)).prefix(width)) }
        append(contentsOf: bytes)
    }
    mutating func fwPad(to alignment: Int) { while count % alignment != 0 { append(0) } }

    func fwLE32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(self[offset + $1]) << (8 * UInt32($1)) }
    }
    mutating func fwSetLE32(_ value: UInt32, at offset: Int) {
        for index in 0..<4 { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    /// Sets the byte at `offset` so that the whole array sums to zero.
    mutating func fwFixChecksum(at offset: Int, over range: Range<Int>? = nil) {
        self[offset] = 0
        let sum = self[range ?? 0..<count].reduce(UInt8(0), &+)
        self[offset] = 0 &- sum
    }

    init(fwHex hex: String) {
        let digits = hex.unicodeScalars.compactMap { UInt8(String($0), radix: 16) }
        self = stride(from: 0, to: digits.count - 1, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }
}

/// Runs `body` with a ByteWindow over `bytes`.
func withWindow<R>(_ bytes: [UInt8], _ body: (ByteWindow) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { try body(ByteWindow($0)) }
}

enum ACPIBuilder {
    /// A table with a standard header (QEMU's ids by default) and a correct checksum.
    static func table(_ signature: String, revision: UInt8 = 1, oemID: String = "BOCHS ",
                      oemTableID: String = "BXPC    ", oemRevision: UInt32 = 1,
                      creatorID: String = "BXPC", creatorRevision: UInt32 = 1,
                      body: [UInt8], checksum: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.fwASCII(signature, width: 4)
        bytes.fwLE32(UInt32(36 + body.count))
        bytes.append(revision)
        bytes.append(0)
        bytes.fwASCII(oemID, width: 6)
        bytes.fwASCII(oemTableID, width: 8)
        bytes.fwLE32(oemRevision)
        bytes.fwASCII(creatorID, width: 4)
        bytes.fwLE32(creatorRevision)
        bytes += body
        if checksum { bytes.fwFixChecksum(at: 9) }
        return bytes
    }

    static func rsdp(revision: UInt8, rsdt: UInt32, xsdt: UInt64 = 0, oemID: String = "BOCHS ") -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.fwASCII("RSD PTR ")
        bytes.append(0)
        bytes.fwASCII(oemID, width: 6)
        bytes.append(revision)
        bytes.fwLE32(rsdt)
        if revision >= 2 {
            bytes.fwLE32(36)
            bytes.fwLE64(xsdt)
            bytes.append(0)
            bytes += [0, 0, 0]
            bytes.fwFixChecksum(at: 8, over: 0..<20)
            bytes.fwFixChecksum(at: 32)
        } else {
            bytes.fwFixChecksum(at: 8)
        }
        return bytes
    }

    static func rsdt(_ entries: [UInt32]) -> [UInt8] {
        var body: [UInt8] = []
        for entry in entries { body.fwLE32(entry) }
        return table("RSDT", body: body)
    }

    static func xsdt(_ entries: [UInt64]) -> [UInt8] {
        var body: [UInt8] = []
        for entry in entries { body.fwLE64(entry) }
        return table("XSDT", body: body)
    }

    static func facs(length: UInt32 = 64) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.fwASCII("FACS")
        bytes.fwLE32(length)
        bytes += [UInt8](repeating: 0, count: Int(length) - 8)
        return bytes
    }

    /// A 116-byte revision 1 FADT like QEMU's (PIIX PM at 0x600), or longer with `extra`.
    static func fadt(revision: UInt8 = 1, facs: UInt32, dsdt: UInt32, flags: UInt32 = 0x80A5,
                     bootArch: UInt16 = 0, extra: [UInt8] = []) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: 116 - 36)
        func put32(_ value: UInt32, _ offset: Int) { body.fwSetLE32(value, at: offset - 36) }
        put32(facs, 36)
        put32(dsdt, 40)
        body[46 - 36] = 9                           // SCI_INT
        put32(0xB2, 48)                              // SMI_CMD
        body[52 - 36] = 0xF1; body[53 - 36] = 0xF0   // ACPI_ENABLE / ACPI_DISABLE
        put32(0x600, 56)                             // PM1a_EVT_BLK
        put32(0x604, 64)                             // PM1a_CNT_BLK
        put32(0x608, 76)                             // PM_TMR_BLK
        put32(0xAFE0, 80)                            // GPE0_BLK
        body[88 - 36] = 4; body[89 - 36] = 2; body[91 - 36] = 4; body[92 - 36] = 4
        body[108 - 36] = 0x32                        // CENTURY
        body[109 - 36] = UInt8(bootArch & 0xFF); body[110 - 36] = UInt8(bootArch >> 8)
        put32(flags, 112)
        return table("FACP", revision: revision, body: body + extra)
    }

    /// The bytes a FADT has after offset 116 up to `end`, with the given generic addresses.
    static func fadtExtension(resetRegister: (UInt8, UInt64)? = nil, resetValue: UInt8 = 0,
                              xFACS: UInt64 = 0, xDSDT: UInt64 = 0,
                              xBlocks: [Int: (space: UInt8, width: UInt8, offset: UInt8, access: UInt8, address: UInt64)] = [:],
                              end: Int = 244) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: end - 116)
        func put(_ values: [UInt8], _ offset: Int) {
            for (index, value) in values.enumerated() where offset - 116 + index < bytes.count {
                bytes[offset - 116 + index] = value
            }
        }
        func gas(_ space: UInt8, _ width: UInt8, _ bitOffset: UInt8, _ access: UInt8, _ address: UInt64) -> [UInt8] {
            var out: [UInt8] = [space, width, bitOffset, access]
            out.fwLE64(address)
            return out
        }
        if let (space, address) = resetRegister { put(gas(space, 8, 0, 1, address), 116) }
        put([resetValue], 128)
        var eight: [UInt8] = []
        eight.fwLE64(xFACS); put(eight, 132)
        eight = []; eight.fwLE64(xDSDT); put(eight, 140)
        for (offset, block) in xBlocks {
            put(gas(block.space, block.width, block.offset, block.access, block.address), offset)
        }
        return bytes
    }

    enum MADTEntry {
        case localAPIC(uid: UInt8, apicID: UInt8, flags: UInt32)
        case ioAPIC(id: UInt8, address: UInt32, gsiBase: UInt32)
        case override(bus: UInt8, irq: UInt8, gsi: UInt32, flags: UInt16)
        case nmiSource(flags: UInt16, gsi: UInt32)
        case localNMI(uid: UInt8, flags: UInt16, lint: UInt8)
        case addressOverride(UInt64)
        case x2APIC(apicID: UInt32, flags: UInt32, uid: UInt32)
        case x2APICNMI(flags: UInt16, uid: UInt32, lint: UInt8)
        case raw([UInt8])

        var bytes: [UInt8] {
            var b: [UInt8] = []
            switch self {
            case let .localAPIC(uid, apicID, flags): b = [0, 8, uid, apicID]; b.fwLE32(flags)
            case let .ioAPIC(id, address, gsiBase): b = [1, 12, id, 0]; b.fwLE32(address); b.fwLE32(gsiBase)
            case let .override(bus, irq, gsi, flags): b = [2, 10, bus, irq]; b.fwLE32(gsi); b.fwLE16(flags)
            case let .nmiSource(flags, gsi): b = [3, 8]; b.fwLE16(flags); b.fwLE32(gsi)
            case let .localNMI(uid, flags, lint): b = [4, 6, uid]; b.fwLE16(flags); b.append(lint)
            case let .addressOverride(address): b = [5, 12, 0, 0]; b.fwLE64(address)
            case let .x2APIC(apicID, flags, uid): b = [9, 16, 0, 0]; b.fwLE32(apicID); b.fwLE32(flags); b.fwLE32(uid)
            case let .x2APICNMI(flags, uid, lint): b = [10, 12]; b.fwLE16(flags); b.fwLE32(uid); b += [lint, 0, 0, 0]
            case let .raw(bytes): b = bytes
            }
            return b
        }
    }

    static func madt(localAPICAddress: UInt32 = 0xFEE0_0000, flags: UInt32 = 1, _ entries: [MADTEntry]) -> [UInt8] {
        var body: [UInt8] = []
        body.fwLE32(localAPICAddress)
        body.fwLE32(flags)
        for entry in entries { body += entry.bytes }
        return table("APIC", body: body)
    }

    static func hpet(id: UInt32 = 0x8086_A201, base: UInt64 = 0xFED0_0000, space: UInt8 = 0) -> [UInt8] {
        var body: [UInt8] = []
        body.fwLE32(id)
        body += [space, 0, 0, 0]
        body.fwLE64(base)
        body.append(0)
        body.fwLE16(0)
        body.append(0)
        return table("HPET", body: body)
    }

    /// A DSDT whose AML is `aml` (only the bytes; there is no real AML structure around it).
    static func dsdt(_ aml: [UInt8]) -> [UInt8] { table("DSDT", body: aml) }
}

