// The PV page-table rules that keep a guest inside its own memory, as pure logic.
//
// A PV guest writes its own page tables; Apus checks every entry before it takes effect.
// The model is Xen's page-type system, cut to what a 64-bit PV guest needs:
//  - every frame has an owner, a type (0: ordinary memory, 1-4: an Ln table, 5: a
//    descriptor page, managed by the hypervisor's descriptor code) and, for tables, a type
//    count: the references that keep it a table (an entry of a typed parent table, a pin,
//    a vCPU's base pointer). The first reference validates it (and takes references on
//    everything it points to); when the last goes, it is devalidated (and drops them) and
//    becomes ordinary memory again;
//  - a frame with a type is never mapped writable; a frame mapped writable (the frame
//    table counts those mappings, made by the entries of typed L1s) cannot take a type;
//  - an L1 entry may map a frame the domain owns, the domain's shared_info frame, or, for
//    the privileged domain, I/O memory (anything that is not RAM); never another owner's
//    RAM, never an address beyond the CPU's physical width, never the local APIC Apus
//    drives; the IOAPIC and HPET registers only read-only (a writable request is stored
//    without the write bit, as Xen does);
//  - an L2-L4 entry points at a table of the level below (no superpages are offered), or,
//    read-only, at its own table (a linear self-map, which Xen 4.17 accepts; it takes no
//    reference, so a table never keeps itself alive); PWT, PCD, PSE and global are not
//    allowed there; Apus's own L4 slots (256-271) are not the guest's to fill;
//  - an L1's writable entries count as writable mappings of their frames from the moment
//    it becomes an L1 (the guest wrote them directly while the page was ordinary memory),
//    and stop counting when it stops being one, so no frame can be both.
// Verdicts use Xen 4.17's errno for each case, as its test guests observed them. Every
// failing operation leaves the counts as they were.
// Imports nothing: the hypervisor implements PVFrameTable over its frame table.

public enum PVMemoryVerdict: Equatable {
    case ok
    /// Accepted, but stored without the write bit (device registers a guest may only read).
    case readOnly
    /// -EINVAL
    case invalid
    /// -EBUSY: the frame is in use in a way that forbids this (another owner's, a table).
    case busy
    /// -EPERM: no such memory at all.
    case notPermitted
}

public protocol PVFrameTable {
    /// The domain owning `frame`, nil when no domain does (free, Apus's, not RAM).
    func owner(of frame: UInt64) -> UInt16?
    /// RAM as the firmware reported it, above the first MiB.
    func isRAM(_ frame: UInt64) -> Bool
    /// Device registers the hypervisor drives and no guest may map (the local APIC).
    func isHypervisorMMIO(_ frame: UInt64) -> Bool
    /// Device registers the privileged domain may read but never write (IOAPIC, HPET).
    func isReadOnlyMMIO(_ frame: UInt64) -> Bool
    func level(of frame: UInt64) -> Int
    func writableMappings(of frame: UInt64) -> UInt64
    /// Present entries of typed L1s that map `frame`, writable or not (a frame still
    /// mapped may not leave the domain).
    func mappings(of frame: UInt64) -> UInt64
    mutating func adjustMappings(of frame: UInt64, by delta: Int)
    /// References holding `frame` as a table of its level (0 for anything else).
    func typeCount(of frame: UInt64) -> UInt32
    mutating func setTypeCount(_ count: UInt32, of frame: UInt64)
    /// Entry `index` of the table in `frame`.
    func entry(_ frame: UInt64, _ index: Int) -> UInt64
    mutating func setLevel(_ level: Int, of frame: UInt64)
    mutating func adjustWritableMappings(of frame: UInt64, by delta: Int)
    mutating func setEntry(_ frame: UInt64, _ index: Int, _ value: UInt64)
}

public struct PVDomainIdentity {
    public var id: UInt16
    public var isPrivileged: Bool
    public var sharedInfoFrame: UInt64
    public var physicalAddressBits: Int

    public init(id: UInt16, isPrivileged: Bool, sharedInfoFrame: UInt64, physicalAddressBits: Int) {
        self.id = id; self.isPrivileged = isPrivileged
        self.sharedInfoFrame = sharedInfoFrame; self.physicalAddressBits = physicalAddressBits
    }
}

public enum PageTypeRules {
    /// The all-ones frame number of a 40-bit frame field: Xen's INVALID_MFN.
    public static let invalidFrame: UInt64 = (1 << 40) - 1
    public static let hypervisorSlots = 256..<272

    /// May `domain` put `entry` into one of its L1 tables?
    public static func checkL1<Table: PVFrameTable>(_ entry: UInt64, domain: PVDomainIdentity,
                                                   table: Table) -> PVMemoryVerdict {
        let pte = PageTableEntry(raw: entry)
        guard pte.isPresent else { return .ok }
        let frame = pte.physicalAddress >> 12
        if frame == invalidFrame { return .invalid }
        if pte.physicalAddress >> UInt64(domain.physicalAddressBits) != 0 { return .notPermitted }
        if frame == domain.sharedInfoFrame { return .ok }
        let owner = table.owner(of: frame)
        if table.isRAM(frame) || owner != nil {
            guard owner == domain.id else { return .busy }
            if pte.isWritable && table.level(of: frame) != 0 { return .busy }
            return .ok
        }
        if table.isHypervisorMMIO(frame) { return .notPermitted }
        guard domain.isPrivileged else { return .notPermitted }   // I/O memory is dom0's
        if table.isReadOnlyMMIO(frame) && pte.isWritable { return .readOnly }
        return .ok
    }

    /// Takes a type reference on `frame` as an Ln table (`level` 1-4): the first one
    /// validates it, which takes references on every table it points to and counts its
    /// writable mappings (L1). On failure nothing has changed.
    public static func getType<Table: PVFrameTable>(_ frame: UInt64, level: Int, domain: PVDomainIdentity,
                                                   table: inout Table) -> PVMemoryVerdict {
        guard level >= 1 && level <= 4 else { return .invalid }
        guard table.isRAM(frame), table.owner(of: frame) == domain.id else { return .invalid }
        let existing = table.level(of: frame)
        let count = table.typeCount(of: frame)
        if count > 0 {
            guard existing == level else { return .invalid }
            table.setTypeCount(count + 1, of: frame)
            return .ok
        }
        guard existing == 0, table.writableMappings(of: frame) == 0 else { return .invalid }
        let verdict = level == 1 ? validateL1(frame, domain: domain, table: &table)
                                 : validateTable(frame, level: level, domain: domain, table: &table)
        if verdict == .ok { table.setTypeCount(1, of: frame) }
        return verdict
    }

    /// The older name: validating is taking the first type reference.
    public static func validate<Table: PVFrameTable>(_ frame: UInt64, level: Int, domain: PVDomainIdentity,
                                                    table: inout Table) -> PVMemoryVerdict {
        getType(frame, level: level, domain: domain, table: &table)
    }

    /// Drops a type reference; the last one devalidates the table (its own references on
    /// lower tables and its writable mappings go) and makes it ordinary memory.
    public static func putType<Table: PVFrameTable>(_ frame: UInt64, domain: PVDomainIdentity, table: inout Table) {
        let count = table.typeCount(of: frame)
        guard count > 0 else { return }
        if count > 1 {
            table.setTypeCount(count - 1, of: frame)
            return
        }
        table.setTypeCount(0, of: frame)
        let level = table.level(of: frame)
        if level == 1 {
            releaseWritable(frame, entries: 512, domain: domain, table: &table)
        } else if level >= 2 && level <= 4 {
            releaseChildren(frame, level: level, entries: 512, domain: domain, table: &table)
        }
        table.setLevel(0, of: frame)
    }

    /// A new value for entry `index` of the L2-L4 table `frame` (mmu_update): the table it
    /// points to is taken as a table of the level below before the old one is let go; an
    /// unchanged target only changes flags. The caller writes `entry` on .ok.
    public static func checkTableEntryUpdate<Table: PVFrameTable>(_ frame: UInt64, level: Int, index: Int,
                                                                 entry: UInt64, domain: PVDomainIdentity,
                                                                 table: inout Table) -> PVMemoryVerdict {
        guard level >= 2 && level <= 4, index >= 0 && index < 512 else { return .invalid }
        if level == 4 && hypervisorSlots.contains(index) { return .invalid }
        let new = PageTableEntry(raw: entry), old = PageTableEntry(raw: table.entry(frame, index))
        if new.isPresent {
            guard entry & disallowedTableFlags == 0 else { return .invalid }
            if new.physicalAddress >> UInt64(domain.physicalAddressBits) != 0 { return .invalid }
        }
        if new.isPresent && old.isPresent && new.physicalAddress == old.physicalAddress {
            // Same target: a self-map must stay read-only.
            return new.physicalAddress >> 12 == frame && new.isWritable ? .invalid : .ok
        }
        if new.isPresent {
            let target = new.physicalAddress >> 12
            if target == frame {
                guard !new.isWritable else { return .invalid }   // a linear self-map, read-only
            } else {
                let verdict = getType(target, level: level - 1, domain: domain, table: &table)
                guard verdict == .ok else { return verdict }
            }
        }
        if old.isPresent && old.physicalAddress >> 12 != frame {
            putType(old.physicalAddress >> 12, domain: domain, table: &table)
        }
        return .ok
    }

    /// Flags an L2-L4 entry may not carry: PWT, PCD, PSE (no superpages), global.
    static let disallowedTableFlags: UInt64 = (1 << 3) | (1 << 4) | (1 << 7) | (1 << 8)

    /// Validates an L2-L4: the type is taken first, as Xen does, so that nothing below can
    /// map this table writable or use it as a table of another level meanwhile; on a
    /// refused entry the references taken so far are given back.
    static func validateTable<Table: PVFrameTable>(_ frame: UInt64, level: Int, domain: PVDomainIdentity,
                                                   table: inout Table) -> PVMemoryVerdict {
        table.setLevel(level, of: frame)
        for index in 0..<512 {
            if level == 4 && hypervisorSlots.contains(index) { continue }
            let raw = table.entry(frame, index)
            let entry = PageTableEntry(raw: raw)
            guard entry.isPresent else { continue }
            var verdict = PVMemoryVerdict.invalid   // no superpages, no cache or global bits
            if raw & disallowedTableFlags == 0 {
                if entry.physicalAddress >> 12 == frame {
                    verdict = entry.isWritable ? .invalid : .ok   // a read-only linear self-map
                } else {
                    verdict = getType(entry.physicalAddress >> 12, level: level - 1, domain: domain, table: &table)
                }
            }
            guard verdict == .ok else {
                releaseChildren(frame, level: level, entries: index, domain: domain, table: &table)
                table.setLevel(0, of: frame)
                return verdict
            }
        }
        return .ok
    }

    /// Drops the references the first `entries` entries of an L2-L4 hold.
    static func releaseChildren<Table: PVFrameTable>(_ frame: UInt64, level: Int, entries: Int,
                                                     domain: PVDomainIdentity, table: inout Table) {
        for index in 0..<entries {
            if level == 4 && hypervisorSlots.contains(index) { continue }
            let entry = PageTableEntry(raw: table.entry(frame, index))
            guard entry.isPresent, !entry.isLargePage, entry.physicalAddress >> 12 != frame else { continue }
            putType(entry.physicalAddress >> 12, domain: domain, table: &table)
        }
    }

    /// Checks every entry and counts its mappings (all, and the writable ones); on any failure (including an L1
    /// that maps itself writable) the counts taken so far are given back.
    static func validateL1<Table: PVFrameTable>(_ frame: UInt64, domain: PVDomainIdentity,
                                                table: inout Table) -> PVMemoryVerdict {
        var counted = 0
        var verdict = PVMemoryVerdict.ok
        table.setLevel(1, of: frame)  // taken first: an entry mapping this page writable is refused
        for index in 0..<512 {
            var raw = table.entry(frame, index)
            verdict = checkL1(raw, domain: domain, table: table)
            if verdict == .readOnly {
                raw &= ~PageTableEntry.writable
                table.setEntry(frame, index, raw)
                verdict = .ok
            }
            guard verdict == .ok else { break }
            let entry = PageTableEntry(raw: raw)
            if entry.isPresent {
                table.adjustMappings(of: entry.physicalAddress >> 12, by: 1)
                if entry.isWritable && entry.physicalAddress >> 12 != domain.sharedInfoFrame {
                    table.adjustWritableMappings(of: entry.physicalAddress >> 12, by: 1)
                }
            }
            counted = index + 1
        }
        guard verdict == .ok else {
            releaseWritable(frame, entries: counted, domain: domain, table: &table)
            table.setLevel(0, of: frame)
            return verdict
        }
        return .ok
    }

    static func releaseWritable<Table: PVFrameTable>(_ frame: UInt64, entries: Int, domain: PVDomainIdentity,
                                                     table: inout Table) {
        for index in 0..<entries {
            let entry = PageTableEntry(raw: table.entry(frame, index))
            guard entry.isPresent else { continue }
            table.adjustMappings(of: entry.physicalAddress >> 12, by: -1)
            if entry.isWritable && entry.physicalAddress >> 12 != domain.sharedInfoFrame {
                table.adjustWritableMappings(of: entry.physicalAddress >> 12, by: -1)
            }
        }
    }
}
