// The PV page-table rules that keep a guest inside its own memory, as pure logic.
//
// A PV guest writes its own page tables; Apus checks every entry before it takes effect.
// The model (the first cut of Xen's; the memory issue adds reference counts per level):
//  - every frame has an owner, and a page-table level (0: ordinary memory, 1-4: Ln);
//  - a frame with a level is never mapped writable; a frame mapped writable (the frame
//    table counts those mappings) cannot be given a level;
//  - an L1 entry may map a frame the domain owns, the domain's shared_info frame, or, for
//    the privileged domain, I/O memory (anything that is not RAM); never another owner's
//    RAM, never an address beyond the CPU's physical width, never the local APIC Apus
//    drives; the IOAPIC and HPET registers only read-only (a writable request is stored
//    without the write bit, as Xen does);
//  - a table is validated (recursively: an L4's L3s, their L2s, their L1s) when it first
//    becomes a table; Apus's own L4 slots (256-271) are not the guest's to fill;
//  - an L1's writable entries count as writable mappings of their frames from the moment
//    it becomes an L1 (the guest wrote them directly while the page was ordinary memory),
//    and stop counting when it stops being one, so no frame can be both.
// Verdicts use Xen 4.17's errno for each case, as its test guests observed them.
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

    /// Gives `frame` the type `level` after validating it and what it points to.
    /// A failure leaves already-validated children typed: they are only more protected.
    public static func validate<Table: PVFrameTable>(_ frame: UInt64, level: Int, domain: PVDomainIdentity,
                                                    table: inout Table) -> PVMemoryVerdict {
        guard level >= 1 && level <= 4 else { return .invalid }
        guard table.isRAM(frame), table.owner(of: frame) == domain.id else { return .invalid }
        let existing = table.level(of: frame)
        if existing == level { return .ok }
        guard existing == 0, table.writableMappings(of: frame) == 0 else { return .invalid }
        if level == 1 { return validateL1(frame, domain: domain, table: &table) }
        // Take the type first, as Xen does, so that nothing below can map this table
        // writable while it is being validated; give it back if validation fails.
        table.setLevel(level, of: frame)
        for index in 0..<512 {
            if level == 4 && hypervisorSlots.contains(index) { continue }
            let entry = PageTableEntry(raw: table.entry(frame, index))
            guard entry.isPresent else { continue }
            var verdict = PVMemoryVerdict.ok
            if entry.isLargePage {
                verdict = .invalid   // no superpages offered to PV guests
            } else {
                verdict = validate(entry.physicalAddress >> 12, level: level - 1, domain: domain, table: &table)
            }
            guard verdict == .ok else {
                table.setLevel(0, of: frame)
                return verdict
            }
        }
        return .ok
    }

    /// Checks every entry and counts the writable ones; on any failure (including an L1
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
            if entry.isPresent && entry.isWritable && entry.physicalAddress >> 12 != domain.sharedInfoFrame {
                table.adjustWritableMappings(of: entry.physicalAddress >> 12, by: 1)
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

    /// An L1 stops being one: its writable entries no longer count.
    public static func untypeL1<Table: PVFrameTable>(_ frame: UInt64, domain: PVDomainIdentity, table: inout Table) {
        guard table.level(of: frame) == 1 else { return }
        releaseWritable(frame, entries: 512, domain: domain, table: &table)
        table.setLevel(0, of: frame)
    }

    static func releaseWritable<Table: PVFrameTable>(_ frame: UInt64, entries: Int, domain: PVDomainIdentity,
                                                     table: inout Table) {
        for index in 0..<entries {
            let entry = PageTableEntry(raw: table.entry(frame, index))
            if entry.isPresent && entry.isWritable && entry.physicalAddress >> 12 != domain.sharedInfoFrame {
                table.adjustWritableMappings(of: entry.physicalAddress >> 12, by: -1)
            }
        }
    }
}
