// MADT: decodes the Multiple APIC Description Table ("APIC"): CPUs, IOAPICs, IRQ overrides.
//
// Layout (ACPI spec 5.2.12): header, local APIC address (36, u32), flags (40, bit 0 PCAT_COMPAT),
// then entries of (type u8, length u8, ...):
//   0 local APIC      (8):  processor uid 2, APIC id 3, flags 4 (bit 0 enabled, bit 1 online capable)
//   1 IOAPIC          (12): id 2, address 4, GSI base 8
//   2 override        (10): bus 2, source IRQ 3, GSI 4, flags 8 (u16: polarity bits 0-1, trigger 2-3)
//   3 NMI source      (8):  flags 2, GSI 4
//   4 local APIC NMI  (6):  processor uid 2 (0xFF = all), flags 3, LINT# 5
//   5 address override(12): 64-bit local APIC address 4
//   9 local x2APIC    (16): x2APIC id 4, flags 8, processor uid 12
//  10 local x2APIC NMI(12): flags 2, processor uid 4 (0xFFFFFFFF = all), LINT# 8
//
// Invariants: an entry shorter than 2 bytes or running past the table ends the walk (a zero
// length would otherwise loop forever) and sets `truncated`; an entry shorter than its type
// needs is skipped and counted; lists keep at most their capacity and count the rest.
// Imports nothing.

public struct MADTLocalAPIC: Equatable, Sendable {
    public var processorUID: UInt32
    public var apicID: UInt32
    public var flags: UInt32
    /// From a type 9 (x2APIC) entry rather than type 0.
    public var isX2APIC: Bool

    public var isEnabled: Bool { flags & 1 != 0 }
    public var isOnlineCapable: Bool { flags & 2 != 0 }
    /// Present now, or may be brought online later.
    public var isUsable: Bool { isEnabled || isOnlineCapable }
}

public struct MADTIOAPIC: Equatable, Sendable {
    public var id: UInt8
    public var address: UInt32
    public var gsiBase: UInt32
}

/// MPS INTI flags, shared by overrides and NMI entries.
public struct MPSInterruptFlags: Equatable, Sendable {
    public var rawValue: UInt16

    /// 0 conforms to the bus, 1 active high, 2 reserved, 3 active low.
    public var polarity: UInt16 { rawValue & 3 }
    /// 0 conforms to the bus, 1 edge, 2 reserved, 3 level.
    public var trigger: UInt16 { (rawValue >> 2) & 3 }
    public var reservedBits: UInt16 { rawValue & ~0xF }
}

public struct MADTInterruptOverride: Equatable, Sendable {
    public var bus: UInt8
    public var sourceIRQ: UInt8
    public var gsi: UInt32
    public var flags: MPSInterruptFlags
}

public struct MADTLocalAPICNMI: Equatable, Sendable {
    /// 0xFF (type 4) or 0xFFFFFFFF (type 10) means every processor.
    public var processorUID: UInt32
    public var flags: MPSInterruptFlags
    public var lint: UInt8
    public var isX2APIC: Bool

    public var appliesToAllProcessors: Bool {
        isX2APIC ? processorUID == 0xFFFF_FFFF : processorUID == 0xFF
    }
}

public struct MADTNMISource: Equatable, Sendable {
    public var flags: MPSInterruptFlags
    public var gsi: UInt32
}

public struct MADT {
    public static let cpuCapacity = 256
    public static let ioAPICCapacity = 8
    public static let overrideCapacity = 16
    public static let nmiCapacity = 16

    public enum EntryType {
        public static let localAPIC: UInt8 = 0
        public static let ioAPIC: UInt8 = 1
        public static let interruptOverride: UInt8 = 2
        public static let nmiSource: UInt8 = 3
        public static let localAPICNMI: UInt8 = 4
        public static let localAPICAddressOverride: UInt8 = 5
        public static let localX2APIC: UInt8 = 9
        public static let localX2APICNMI: UInt8 = 10
    }

    /// The 32-bit address in the table header.
    public var localAPICAddress32: UInt32 = 0
    /// From a type 5 entry, when there is one.
    public var localAPICAddressOverride: UInt64?
    public var flags: UInt32 = 0

    public var cpus = InlineArray<256, MADTLocalAPIC>(
        repeating: MADTLocalAPIC(processorUID: 0, apicID: 0, flags: 0, isX2APIC: false))
    public var cpuCount = 0
    public var cpusDropped = 0

    public var ioAPICs = InlineArray<8, MADTIOAPIC>(repeating: MADTIOAPIC(id: 0, address: 0, gsiBase: 0))
    public var ioAPICCount = 0
    public var ioAPICsDropped = 0

    public var overrides = InlineArray<16, MADTInterruptOverride>(
        repeating: MADTInterruptOverride(bus: 0, sourceIRQ: 0, gsi: 0, flags: MPSInterruptFlags(rawValue: 0)))
    public var overrideCount = 0
    public var overridesDropped = 0

    public var localNMIs = InlineArray<16, MADTLocalAPICNMI>(
        repeating: MADTLocalAPICNMI(processorUID: 0, flags: MPSInterruptFlags(rawValue: 0), lint: 0, isX2APIC: false))
    public var localNMICount = 0
    public var localNMIsDropped = 0

    public var nmiSources = InlineArray<16, MADTNMISource>(
        repeating: MADTNMISource(flags: MPSInterruptFlags(rawValue: 0), gsi: 0))
    public var nmiSourceCount = 0
    public var nmiSourcesDropped = 0

    /// Entries of a known type that were too short for it.
    public var shortEntriesSkipped = 0
    /// Entries of types this parser does not decode.
    public var unknownEntries = 0
    /// The walk stopped at an entry with a length below 2 or past the end of the table.
    public var truncated = false

    public init() {}

    /// The local APIC base to use: the 64-bit override when present, else the header's.
    public var localAPICAddress: UInt64 { localAPICAddressOverride ?? UInt64(localAPICAddress32) }

    /// PC-AT dual 8259 setup present (the PICs must be masked).
    public var hasDual8259: Bool { flags & 1 != 0 }

    public func cpu(_ index: Int) -> MADTLocalAPIC? { index >= 0 && index < cpuCount ? cpus[index] : nil }
    public func ioAPIC(_ index: Int) -> MADTIOAPIC? { index >= 0 && index < ioAPICCount ? ioAPICs[index] : nil }
    public func override(_ index: Int) -> MADTInterruptOverride? {
        index >= 0 && index < overrideCount ? overrides[index] : nil
    }
    public func localNMI(_ index: Int) -> MADTLocalAPICNMI? {
        index >= 0 && index < localNMICount ? localNMIs[index] : nil
    }
    public func nmiSource(_ index: Int) -> MADTNMISource? {
        index >= 0 && index < nmiSourceCount ? nmiSources[index] : nil
    }

    /// The override whose source is legacy `irq` on ISA bus 0, if any.
    public func overrideForLegacyIRQ(_ irq: UInt8) -> MADTInterruptOverride? {
        for index in 0..<overrideCount where overrides[index].sourceIRQ == irq && overrides[index].bus == 0 {
            return overrides[index]
        }
        return nil
    }

    public static func parse(_ table: ByteWindow) throws(ACPIError) -> MADT {
        let declared = Int(table.uint32(at: 4) ?? 0)
        let end = Swift.min(declared, table.count)
        guard end >= 44, let address = table.uint32(at: 36), let flags = table.uint32(at: 40) else {
            throw .tableTooShort(signature: .madt, length: Swift.min(declared, table.count))
        }
        var madt = MADT()
        madt.localAPICAddress32 = address
        madt.flags = flags
        var offset = 44
        while offset < end {
            guard offset + 2 <= end, let type = table.uint8(at: offset), let length = table.uint8(at: offset + 1),
                  length >= 2, offset + Int(length) <= end,
                  let entry = table.slice(offset: offset, size: Int(length)) else {
                madt.truncated = true
                break
            }
            madt.decode(type: type, entry: entry)
            offset += Int(length)
        }
        return madt
    }

    private static func minimumLength(of type: UInt8) -> Int? {
        switch type {
        case EntryType.localAPIC: return 8
        case EntryType.ioAPIC: return 12
        case EntryType.interruptOverride: return 10
        case EntryType.nmiSource: return 8
        case EntryType.localAPICNMI: return 6
        case EntryType.localAPICAddressOverride: return 12
        case EntryType.localX2APIC: return 16
        case EntryType.localX2APICNMI: return 12
        default: return nil
        }
    }

    private mutating func decode(type: UInt8, entry e: ByteWindow) {
        guard let needed = MADT.minimumLength(of: type) else {
            unknownEntries += 1
            return
        }
        guard e.count >= needed else {
            shortEntriesSkipped += 1
            return
        }
        // Lengths were checked above, so these reads cannot fail; `?? 0` only satisfies the types.
        switch type {
        case EntryType.localAPIC:
            appendCPU(MADTLocalAPIC(processorUID: UInt32(e.uint8(at: 2) ?? 0), apicID: UInt32(e.uint8(at: 3) ?? 0),
                                    flags: e.uint32(at: 4) ?? 0, isX2APIC: false))
        case EntryType.localX2APIC:
            appendCPU(MADTLocalAPIC(processorUID: e.uint32(at: 12) ?? 0, apicID: e.uint32(at: 4) ?? 0,
                                    flags: e.uint32(at: 8) ?? 0, isX2APIC: true))
        case EntryType.ioAPIC:
            let ioAPIC = MADTIOAPIC(id: e.uint8(at: 2) ?? 0, address: e.uint32(at: 4) ?? 0, gsiBase: e.uint32(at: 8) ?? 0)
            if ioAPICCount < MADT.ioAPICCapacity { ioAPICs[ioAPICCount] = ioAPIC; ioAPICCount += 1 }
            else { ioAPICsDropped += 1 }
        case EntryType.interruptOverride:
            let item = MADTInterruptOverride(bus: e.uint8(at: 2) ?? 0, sourceIRQ: e.uint8(at: 3) ?? 0,
                                             gsi: e.uint32(at: 4) ?? 0,
                                             flags: MPSInterruptFlags(rawValue: e.uint16(at: 8) ?? 0))
            if overrideCount < MADT.overrideCapacity { overrides[overrideCount] = item; overrideCount += 1 }
            else { overridesDropped += 1 }
        case EntryType.nmiSource:
            let item = MADTNMISource(flags: MPSInterruptFlags(rawValue: e.uint16(at: 2) ?? 0), gsi: e.uint32(at: 4) ?? 0)
            if nmiSourceCount < MADT.nmiCapacity { nmiSources[nmiSourceCount] = item; nmiSourceCount += 1 }
            else { nmiSourcesDropped += 1 }
        case EntryType.localAPICNMI:
            appendLocalNMI(MADTLocalAPICNMI(processorUID: UInt32(e.uint8(at: 2) ?? 0),
                                            flags: MPSInterruptFlags(rawValue: e.uint16(at: 3) ?? 0),
                                            lint: e.uint8(at: 5) ?? 0, isX2APIC: false))
        case EntryType.localX2APICNMI:
            appendLocalNMI(MADTLocalAPICNMI(processorUID: e.uint32(at: 4) ?? 0,
                                            flags: MPSInterruptFlags(rawValue: e.uint16(at: 2) ?? 0),
                                            lint: e.uint8(at: 8) ?? 0, isX2APIC: true))
        case EntryType.localAPICAddressOverride:
            localAPICAddressOverride = e.uint64(at: 4)
        default:
            unknownEntries += 1
        }
    }

    private mutating func appendCPU(_ cpu: MADTLocalAPIC) {
        if cpuCount < MADT.cpuCapacity { cpus[cpuCount] = cpu; cpuCount += 1 }
        else { cpusDropped += 1 }
    }

    private mutating func appendLocalNMI(_ nmi: MADTLocalAPICNMI) {
        if localNMICount < MADT.nmiCapacity { localNMIs[localNMICount] = nmi; localNMICount += 1 }
        else { localNMIsDropped += 1 }
    }
}
