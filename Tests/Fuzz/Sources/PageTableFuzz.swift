// Target "pagetable": the PV page-type rules (PV/PageTypeRules.swift) over a random frame
// table, driven by what two guests can ask for, with the isolation invariants checked after
// every operation.
//
// Written against today's PageTypeRules API (checkL1, getType/validate, putType,
// checkTableEntryUpdate over PVFrameTable with type, type count, mapping and writable-mapping
// counts). Everything that calls the rules is in `Rules` below, so
// retargeting to the page-type rewrite means changing that enum (and FuzzFrameTable's
// conformance), not the model or the invariants.
//
// The machine: RAM frames 0x100..<0x100+N owned by dom A (id 0, privileged or not), dom B
// (id 1), nobody, or a third domain that never acts; each domain's shared_info is an
// unowned frame; below 0x100 and past RAM is I/O memory; the IOAPIC and HPET pages are
// read-only for dom0; the local APIC page is Apus's. Entries are stored only at a dozen
// indices (0-4, around Apus's L4 slots 256-271, 510, 511), the rules still read all 512.
//
// Input: the machine (N, physical width, privilege, owners, shared_info placement, initial
// page contents), then operations: take a type reference (a pin), drop one, a guest's plain
// write into its own untyped page, mmu_update of an L1 or an L2-L4 entry (as the hypervisor
// does it: check, store, account), a lone checkL1, an attempt to map one of the domain's
// tables writable from one of its L1s, and a frame leaving its domain (when
// Reservations.mayLeave would allow it) or joining one.
//
// Invariants after every operation:
//  - a frame has a page-table level exactly when its type count is non-zero, and then it is
//    RAM of the domain that typed it;
//  - type counts are exactly pins + present entries of typed L2-L4 tables (Apus's L4 slots
//    and read-only linear self-maps excluded), each child one level below its parent and the
//    parent's owner's; no superpage entry and no writable self-map in a typed table;
//  - writable-mapping and mapping counts are exactly what the present entries of typed L1s
//    map (shared_info excluded from the writable count, as the rules do), and never go
//    negative; no frame with a page-table level is counted as writably mapped, and no typed
//    L1 maps a typed frame writable;
//  - every present entry of a typed L1 of domain D maps D's own frame, D's shared_info, or
//    (D privileged) I/O memory that is neither RAM nor owned nor Apus's local APIC; never the
//    IOAPIC/HPET writable; never beyond the physical width or INVALID_MFN;
//  - a refused operation changes nothing (validateL1 may only have cleared the write bit of
//    entries it was going to store read-only);
//  - at the end, dropping every pin leaves nothing typed and nothing counted.

struct FuzzFrameTable: PVFrameTable {
    static let ramStart: UInt64 = 0x100
    static let ioapic: UInt64 = 0xFEC00, hpet: UInt64 = 0xFED00, localAPIC: UInt64 = 0xFEE00
    static let indices = [0, 1, 2, 3, 4, 255, 256, 263, 271, 272, 510, 511]

    let ramCount: Int
    var owners: [UInt16?]
    var levels: [Int]
    var counts: [UInt32]
    var entries: [UInt64]
    var writable: [UInt64: Int64] = [:]
    var mapped: [UInt64: Int64] = [:]

    init(ramCount: Int) {
        self.ramCount = ramCount
        owners = [UInt16?](repeating: nil, count: ramCount)
        levels = [Int](repeating: 0, count: ramCount)
        counts = [UInt32](repeating: 0, count: ramCount)
        entries = [UInt64](repeating: 0, count: ramCount * 512)
    }

    func ramIndex(_ frame: UInt64) -> Int? {
        frame >= FuzzFrameTable.ramStart && frame < FuzzFrameTable.ramStart + UInt64(ramCount)
            ? Int(frame - FuzzFrameTable.ramStart) : nil
    }
    func frame(_ index: Int) -> UInt64 { FuzzFrameTable.ramStart + UInt64(index) }
    var ramFrames: Range<UInt64> { FuzzFrameTable.ramStart..<(FuzzFrameTable.ramStart + UInt64(ramCount)) }

    // PVFrameTable
    func owner(of frame: UInt64) -> UInt16? { ramIndex(frame).flatMap { owners[$0] } }
    func isRAM(_ frame: UInt64) -> Bool { ramIndex(frame) != nil }
    func isHypervisorMMIO(_ frame: UInt64) -> Bool { frame == FuzzFrameTable.localAPIC }
    func isReadOnlyMMIO(_ frame: UInt64) -> Bool { frame == FuzzFrameTable.ioapic || frame == FuzzFrameTable.hpet }
    func level(of frame: UInt64) -> Int { ramIndex(frame).map { levels[$0] } ?? 0 }
    func writableMappings(of frame: UInt64) -> UInt64 { UInt64(max(0, writable[frame] ?? 0)) }
    func mappings(of frame: UInt64) -> UInt64 { UInt64(max(0, mapped[frame] ?? 0)) }
    func typeCount(of frame: UInt64) -> UInt32 { ramIndex(frame).map { counts[$0] } ?? 0 }

    func entry(_ frame: UInt64, _ index: Int) -> UInt64 {
        invariant(index >= 0 && index < 512, "rules read entry \(index) of frame \(hex(frame))")
        guard let r = ramIndex(frame) else { return 0 }
        return entries[r * 512 + index]
    }

    mutating func setEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        guard let r = ramIndex(frame), index >= 0 && index < 512 else {
            violation("rules wrote entry \(index) of frame \(hex(frame)), which is not RAM")
        }
        // Only the listed indices ever hold anything, so only they may be rewritten.
        invariant(FuzzFrameTable.indices.contains(index), "rules wrote entry \(index) of \(hex(frame)), which was empty")
        entries[r * 512 + index] = value
    }

    /// The entries that can be non-zero, frame by frame.
    var listedEntries: [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(ramCount * FuzzFrameTable.indices.count)
        for r in 0..<ramCount { for index in FuzzFrameTable.indices { result.append(entries[r * 512 + index]) } }
        return result
    }

    mutating func setLevel(_ level: Int, of frame: UInt64) {
        guard let r = ramIndex(frame) else { violation("rules typed frame \(hex(frame)), which is not RAM") }
        invariant(level >= 0 && level <= 4, "rules set level \(level)")
        levels[r] = level
    }

    mutating func setTypeCount(_ count: UInt32, of frame: UInt64) {
        guard let r = ramIndex(frame) else { violation("rules counted frame \(hex(frame)), which is not RAM") }
        counts[r] = count
    }

    mutating func adjustWritableMappings(of frame: UInt64, by delta: Int) {
        let value = (writable[frame] ?? 0) + Int64(delta)
        invariant(value >= 0, "writable mappings of \(hex(frame)) went below zero")
        writable[frame] = value
    }

    mutating func adjustMappings(of frame: UInt64, by delta: Int) {
        let value = (mapped[frame] ?? 0) + Int64(delta)
        invariant(value >= 0, "mappings of \(hex(frame)) went below zero")
        mapped[frame] = value
    }

    struct Counts: Equatable {
        var levels: [Int], counts: [UInt32], writable: [UInt64: Int64], mapped: [UInt64: Int64], owners: [UInt16?]
    }
    var snapshot: Counts {
        Counts(levels: levels, counts: counts, writable: writable.filter { $0.value != 0 },
               mapped: mapped.filter { $0.value != 0 }, owners: owners)
    }
}

enum PageTableFuzz {
    /// Every call into the page-type rules, in one place to retarget.
    enum Rules {
        static func checkL1(_ entry: UInt64, _ domain: PVDomainIdentity, _ table: FuzzFrameTable) -> PVMemoryVerdict {
            PageTypeRules.checkL1(entry, domain: domain, table: table)
        }
        static func getType(_ frame: UInt64, level: Int, _ domain: PVDomainIdentity, _ table: inout FuzzFrameTable) -> PVMemoryVerdict {
            PageTypeRules.getType(frame, level: level, domain: domain, table: &table)
        }
        static func validate(_ frame: UInt64, level: Int, _ domain: PVDomainIdentity, _ table: inout FuzzFrameTable) -> PVMemoryVerdict {
            PageTypeRules.validate(frame, level: level, domain: domain, table: &table)
        }
        static func putType(_ frame: UInt64, _ domain: PVDomainIdentity, _ table: inout FuzzFrameTable) {
            PageTypeRules.putType(frame, domain: domain, table: &table)
        }
        static func updateTableEntry(_ frame: UInt64, level: Int, index: Int, entry: UInt64,
                                     _ domain: PVDomainIdentity, _ table: inout FuzzFrameTable) -> PVMemoryVerdict {
            PageTypeRules.checkTableEntryUpdate(frame, level: level, index: index, entry: entry, domain: domain, table: &table)
        }
        /// mmu_update / update_va_mapping of an L1 entry, as MemoryHypercalls does it: check,
        /// store (without the write bit where only reading is allowed), account the old and
        /// new mappings (shared_info's writable mapping left out, as validateL1 does).
        static func updateL1Entry(_ frame: UInt64, index: Int, entry: UInt64, _ domain: PVDomainIdentity,
                                  _ table: inout FuzzFrameTable) -> PVMemoryVerdict {
            let verdict = checkL1(entry, domain, table)
            guard verdict == .ok || verdict == .readOnly else { return verdict }
            let value = verdict == .readOnly ? entry & ~PageTableEntry.writable : entry
            let old = PageTableEntry(raw: table.entry(frame, index)), new = PageTableEntry(raw: value)
            if old.isPresent {
                table.adjustMappings(of: old.physicalAddress >> 12, by: -1)
                if old.isWritable && old.physicalAddress >> 12 != domain.sharedInfoFrame {
                    table.adjustWritableMappings(of: old.physicalAddress >> 12, by: -1)
                }
            }
            if new.isPresent {
                table.adjustMappings(of: new.physicalAddress >> 12, by: 1)
                if new.isWritable && new.physicalAddress >> 12 != domain.sharedInfoFrame {
                    table.adjustWritableMappings(of: new.physicalAddress >> 12, by: 1)
                }
            }
            table.setEntry(frame, index, value)
            return .ok
        }
    }


    struct World {
        var table: FuzzFrameTable
        var domains: [PVDomainIdentity]
        var pins: [(domain: UInt16, frame: UInt64)] = []

        func identity(_ id: UInt16) -> PVDomainIdentity? { domains.first { $0.id == id } }
        func isSharedInfo(_ frame: UInt64) -> Bool { domains.contains { $0.sharedInfoFrame == frame } }
    }

    static func run(_ input: inout FuzzInput) {
        var world = makeWorld(&input)
        if fuzzTrace {
            print("RAM \(hex(world.table.ramFrames.lowerBound))..<\(hex(world.table.ramFrames.upperBound)), owners \(world.table.owners.map { $0.map(String.init) ?? "-" })")
            for d in world.domains { print("d\(d.id): privileged \(d.isPrivileged), shared_info \(hex(d.sharedInfoFrame)), \(d.physicalAddressBits) bits") }
            for r in 0..<world.table.ramCount {
                for i in FuzzFrameTable.indices where world.table.entries[r * 512 + i] != 0 {
                    print("  \(hex(world.table.frame(r)))[\(i)] = \(hex(world.table.entries[r * 512 + i]))")
                }
            }
        }
        check(world, "setup")
        var steps = 0
        while !input.isExhausted && steps < 96 {
            steps += 1
            let domain = world.domains[input.below(world.domains.count)]
            let before = world.table.snapshot
            let beforeEntries = world.table.listedEntries
            let (name, refused) = step(&world, domain, &input)
            if fuzzTrace { print("step \(steps): d\(domain.id) \(name)\(refused ? " [refused]" : "")") }
            if refused {
                let after = world.table.snapshot
                invariant(after == before, "\(name) by d\(domain.id) was refused but changed the counts")
                let afterEntries = world.table.listedEntries
                let perFrame = FuzzFrameTable.indices.count
                for i in 0..<beforeEntries.count where afterEntries[i] != beforeEntries[i] {
                    let old = beforeEntries[i], new = afterEntries[i]
                    let target = PageTableEntry(raw: old).physicalAddress >> 12
                    invariant(new == old & ~PageTableEntry.writable && world.table.isReadOnlyMMIO(target),
                              "\(name) by d\(domain.id) was refused but changed entry \(FuzzFrameTable.indices[i % perFrame]) of \(hex(world.table.frame(i / perFrame)))")
                }
            }
            check(world, "after \(name) by d\(domain.id) (step \(steps))")
        }
        // Dropping every pin leaves nothing typed and nothing counted.
        for pin in world.pins {
            Rules.putType(pin.frame, world.identity(pin.domain)!, &world.table)
        }
        world.pins = []
        check(world, "after dropping every pin")
        for r in 0..<world.table.ramCount {
            invariant(world.table.levels[r] == 0 && world.table.counts[r] == 0,
                      "frame \(hex(world.table.frame(r))) still typed after every pin was dropped")
        }
        invariant(world.table.writable.values.allSatisfy { $0 == 0 } && world.table.mapped.values.allSatisfy { $0 == 0 },
                  "mapping counts left behind after every pin was dropped")
    }

    static func makeWorld(_ input: inout FuzzInput) -> World {
        let ramCount = 8 + input.below(33)
        var table = FuzzFrameTable(ramCount: ramCount)
        let bits = input.pick([36, 39, 40, 46, 52])
        let privileged = input.byte() < 192
        let sharedOutsideRAM = input.byte() < 32
        // The last two RAM frames are the shared_info pages (Apus's, owned by nobody),
        // unless they are placed past RAM.
        let sharedA = sharedOutsideRAM ? table.ramFrames.upperBound + 1 : table.frame(ramCount - 2)
        let sharedB = sharedOutsideRAM ? table.ramFrames.upperBound + 2 : table.frame(ramCount - 1)
        for r in 0..<(ramCount - 2) {
            switch input.byte() % 8 {
            case 0, 1, 2, 3: table.owners[r] = 0
            case 4, 5: table.owners[r] = 1
            case 6: table.owners[r] = nil
            default: table.owners[r] = 7
            }
        }
        let domains = [
            PVDomainIdentity(id: 0, isPrivileged: privileged, sharedInfoFrame: sharedA, physicalAddressBits: bits),
            PVDomainIdentity(id: 1, isPrivileged: false, sharedInfoFrame: sharedB, physicalAddressBits: bits),
        ]
        var world = World(table: table, domains: domains)
        // Whatever the pages held before anything was typed.
        for _ in 0..<Int(input.byte() % 64) {
            let r = input.below(ramCount)
            let index = input.pick(FuzzFrameTable.indices)
            world.table.entries[r * 512 + index] = randomEntry(&input, world)
        }
        return world
    }

    static func randomFrame(_ input: inout FuzzInput, _ world: World) -> UInt64 {
        let table = world.table
        switch input.byte() % 16 {
        case 0...6: return table.frame(input.below(table.ramCount))
        case 7: return world.domains[input.below(world.domains.count)].sharedInfoFrame
        case 8: return UInt64(input.byte())
        case 9: return input.pick([FuzzFrameTable.ioapic, FuzzFrameTable.hpet, FuzzFrameTable.localAPIC])
        case 10: return table.ramFrames.upperBound + UInt64(input.byte() % 4)
        case 11: return PageTypeRules.invalidFrame
        case 12: return (UInt64(1) << UInt64(world.domains[0].physicalAddressBits - 12)) &+ UInt64(input.byte() % 3) &- 1
        default: return UInt64(input.u32()) | UInt64(input.byte()) << 32
        }
    }

    static func randomEntry(_ input: inout FuzzInput, _ world: World) -> UInt64 {
        let shape = input.byte()
        if shape < 16 { return input.u64() }
        if shape < 32 { return UInt64(input.u16()) & ~1 }       // not present, any other bits
        let frame = randomFrame(&input, world) & 0xFF_FFFF_FFFF   // the 40-bit frame field
        let flags = input.byte()
        var value = frame << 12 | PageTableEntry.present
        if flags & 1 != 0 { value |= PageTableEntry.writable }
        if flags & 2 != 0 { value |= PageTableEntry.user }
        if flags & 0x1C == 0x1C { value |= PageTableEntry.pageSize }
        if flags & 0x20 != 0 { value |= PageTableEntry.accessed | PageTableEntry.dirty }
        if flags & 0xC0 == 0xC0 { value |= PageTableEntry.noExecute }
        if flags & 0xC0 == 0x80 { value |= UInt64(input.byte() & 0x7F) << 52 }   // available bits
        return value
    }

    /// One operation; returns its name and whether it was refused (so must have changed nothing).
    static func step(_ world: inout World, _ domain: PVDomainIdentity, _ input: inout FuzzInput) -> (String, Bool) {
        let table = world.table
        switch input.byte() % 12 {
        case 0, 1:
            let frame = input.byte() < 240 ? table.frame(input.below(table.ramCount)) : randomFrame(&input, world)
            let level = input.byte() < 240 ? 1 + input.below(4) : Int(input.byte()) - 128
            let useOldName = input.bool()
            let countBefore = world.table.typeCount(of: frame)
            let verdict = useOldName ? Rules.validate(frame, level: level, domain, &world.table)
                                     : Rules.getType(frame, level: level, domain, &world.table)
            if verdict == .ok {
                invariant(world.table.level(of: frame) == level && world.table.typeCount(of: frame) == countBefore + 1,
                          "pin of \(hex(frame)) as L\(level) accepted but it is L\(world.table.level(of: frame)) count \(world.table.typeCount(of: frame))")
                world.pins.append((domain.id, frame))
            }
            return ("pin of \(hex(frame)) as L\(level) (\(verdict))", verdict != .ok)
        case 2:
            let mine = world.pins.indices.filter { world.pins[$0].domain == domain.id }
            guard !mine.isEmpty else { return ("nothing to unpin", false) }
            let pin = world.pins.remove(at: mine[input.below(mine.count)])
            Rules.putType(pin.frame, domain, &world.table)
            return ("unpin of \(hex(pin.frame))", false)
        case 3, 4, 5:
            // mmu_update or update_va_mapping of an L1 entry, or a plain write into an
            // untyped page of the domain's own.
            let r = input.below(table.ramCount)
            let frame = table.frame(r)
            let index = input.pick(FuzzFrameTable.indices)
            let value = randomEntry(&input, world)
            guard table.owners[r] == domain.id else { return ("write into a frame not d\(domain.id)'s", true) }
            switch table.levels[r] {
            case 0:
                world.table.entries[r * 512 + index] = value
                return ("plain write into \(hex(frame))", false)
            case 1:
                let verdict = Rules.updateL1Entry(frame, index: index, entry: value, domain, &world.table)
                return ("L1 update of \(hex(frame))[\(index)] to \(hex(value)) (\(verdict))",
                        verdict != .ok && verdict != .readOnly)
            default:
                let level = table.levels[r]
                let verdict = Rules.updateTableEntry(frame, level: level, index: index, entry: value, domain, &world.table)
                if verdict == .ok { world.table.setEntry(frame, index, value) }
                return ("L\(level) update of \(hex(frame))[\(index)] to \(hex(value)) (\(verdict))", verdict != .ok)
            }
        case 6:
            // mmu_update naming a level the frame does not have (the hypervisor asks the frame
            // table; a stale or forged level must still be refused or harmless).
            let r = input.below(table.ramCount)
            guard table.owners[r] == domain.id, table.levels[r] >= 2 else { return ("no table to update", false) }
            let index = input.bool() ? input.pick(FuzzFrameTable.indices) : 512 + input.below(8)
            let value = randomEntry(&input, world)
            let frame = table.frame(r)
            let verdict = Rules.updateTableEntry(frame, level: table.levels[r], index: index, entry: value, domain, &world.table)
            if verdict == .ok { world.table.setEntry(frame, index, value) }
            return ("L\(table.levels[r]) update of \(hex(frame))[\(index)] (\(verdict))", verdict != .ok)
        case 7:
            let value = randomEntry(&input, world)
            let verdict = Rules.checkL1(value, domain, table)
            checkL1Verdict(value, verdict, domain, world)
            return ("checkL1 of \(hex(value))", true)
        case 8:
            // One of the domain's tables mapped writable from one of its typed L1s: the
            // rules must refuse (busy) whatever the entry's other bits.
            let l1s = (0..<table.ramCount).filter { table.levels[$0] == 1 && table.owners[$0] == domain.id }
            let typed = (0..<table.ramCount).filter { table.levels[$0] != 0 && table.owners[$0] == domain.id }
            guard !l1s.isEmpty, !typed.isEmpty else { return ("no L1 or no table", false) }
            let l1 = table.frame(l1s[input.below(l1s.count)])
            let target = table.frame(typed[input.below(typed.count)])
            let index = input.pick(FuzzFrameTable.indices)
            let value = target << 12 | PageTableEntry.present | PageTableEntry.writable | (UInt64(input.byte()) & 0x1F8)
            let verdict = Rules.updateL1Entry(l1, index: index, entry: value, domain, &world.table)
            invariant(verdict == .busy, "L1 \(hex(l1))[\(index)] may map L\(table.level(of: target)) \(hex(target)) writable: \(verdict)")
            return ("writable map of table \(hex(target)) from \(hex(l1)) (\(verdict))", true)
        case 9:
            // A frame leaves the domain when nothing holds it (Reservations.mayLeave).
            let mine = (0..<table.ramCount).filter { table.owners[$0] == domain.id }
            guard !mine.isEmpty else { return ("no frame to release", false) }
            let r = mine[input.below(mine.count)]
            let frame = table.frame(r)
            guard table.levels[r] == 0, table.counts[r] == 0, table.mappings(of: frame) == 0,
                  table.writableMappings(of: frame) == 0, !world.isSharedInfo(frame),
                  !world.pins.contains(where: { $0.frame == frame }) else { return ("frame in use stays", false) }
            world.table.owners[r] = input.bool() ? nil : world.domains[input.below(world.domains.count)].id
            return ("release of \(hex(frame))", false)
        case 10:
            // A free frame joins the domain (populate_physmap).
            let free = (0..<table.ramCount).filter { table.owners[$0] == nil && !world.isSharedInfo(table.frame($0)) }
            guard !free.isEmpty else { return ("no free frame", false) }
            world.table.owners[free[input.below(free.count)]] = domain.id
            return ("populate", false)
        default:
            // A pin of a table the domain already built, by its top level, to grow trees.
            let typed = (0..<table.ramCount).filter { table.levels[$0] != 0 && table.owners[$0] == domain.id }
            guard !typed.isEmpty else { return ("nothing typed", false) }
            let frame = table.frame(typed[input.below(typed.count)])
            let verdict = Rules.getType(frame, level: table.level(of: frame), domain, &world.table)
            invariant(verdict == .ok, "another reference to a typed L\(table.level(of: frame)) refused: \(verdict)")
            world.pins.append((domain.id, frame))
            return ("extra pin of \(hex(frame))", false)
        }
    }

    /// What the rules promise about a verdict on an L1 entry, from the domain's point of view.
    static func checkL1Verdict(_ value: UInt64, _ verdict: PVMemoryVerdict, _ domain: PVDomainIdentity, _ world: World) {
        let entry = PageTableEntry(raw: value)
        guard entry.isPresent else {
            invariant(verdict == .ok, "a not-present entry \(hex(value)) refused (\(verdict))")
            return
        }
        guard verdict == .ok || verdict == .readOnly else { return }
        let table = world.table
        let frame = entry.physicalAddress >> 12
        invariant(frame != PageTypeRules.invalidFrame, "INVALID_MFN mapped")
        invariant(entry.physicalAddress >> UInt64(domain.physicalAddressBits) == 0,
                  "\(hex(value)) beyond \(domain.physicalAddressBits) physical bits accepted")
        if frame == domain.sharedInfoFrame { return }
        if table.isRAM(frame) || table.owner(of: frame) != nil {
            invariant(table.owner(of: frame) == domain.id, "d\(domain.id) may map \(hex(frame)), owned by \(String(describing: table.owner(of: frame)))")
            if entry.isWritable && verdict == .ok {
                invariant(table.level(of: frame) == 0, "d\(domain.id) may map its L\(table.level(of: frame)) \(hex(frame)) writable")
            }
        } else {
            invariant(domain.isPrivileged, "unprivileged d\(domain.id) may map I/O frame \(hex(frame))")
            invariant(!table.isHypervisorMMIO(frame), "d\(domain.id) may map Apus's local APIC")
            if table.isReadOnlyMMIO(frame) && entry.isWritable {
                invariant(verdict == .readOnly, "d\(domain.id) may map \(hex(frame)) writable")
            }
        }
    }

    static func check(_ world: World, _ context: String) {
        let table = world.table
        var expectedCounts: [UInt64: UInt32] = [:]
        var expectedWritable: [UInt64: Int64] = [:]
        var expectedMapped: [UInt64: Int64] = [:]
        for pin in world.pins { expectedCounts[pin.frame, default: 0] += 1 }
        for r in 0..<table.ramCount {
            let frame = table.frame(r)
            let level = table.levels[r]
            invariant((level != 0) == (table.counts[r] != 0),
                      "\(context): \(hex(frame)) is L\(level) with type count \(table.counts[r])")
            guard level != 0 else { continue }
            guard let ownerID = table.owners[r], let owner = world.identity(ownerID) else {
                violation("\(context): \(hex(frame)) is L\(level) but owned by \(String(describing: table.owners[r]))")
            }
            for index in FuzzFrameTable.indices {
                let raw = table.entries[r * 512 + index]
                let entry = PageTableEntry(raw: raw)
                guard entry.isPresent else { continue }
                let target = entry.physicalAddress >> 12
                if level == 1 {
                    expectedMapped[target, default: 0] += 1
                    if entry.isWritable && target != owner.sharedInfoFrame { expectedWritable[target, default: 0] += 1 }
                    checkL1Verdict(raw, .ok, owner, world)
                    if entry.isWritable && target != owner.sharedInfoFrame {
                        invariant(table.level(of: target) == 0,
                                  "\(context): L1 \(hex(frame))[\(index)] maps L\(table.level(of: target)) \(hex(target)) writable")
                    }
                } else {
                    if level == 4 && PageTypeRules.hypervisorSlots.contains(index) { continue }
                    if target == frame {
                        // A linear self-map: allowed read-only, holds no reference.
                        invariant(!entry.isWritable, "\(context): L\(level) \(hex(frame))[\(index)] maps itself writable")
                        continue
                    }
                    invariant(!entry.isLargePage, "\(context): L\(level) \(hex(frame))[\(index)] is a superpage")
                    invariant(entry.physicalAddress >> UInt64(owner.physicalAddressBits) == 0,
                              "\(context): L\(level) \(hex(frame))[\(index)] beyond the physical width")
                    expectedCounts[target, default: 0] += 1
                    invariant(table.level(of: target) == level - 1,
                              "\(context): L\(level) \(hex(frame))[\(index)] points to L\(table.level(of: target)) \(hex(target))")
                    invariant(table.isRAM(target) && table.owner(of: target) == ownerID,
                              "\(context): L\(level) \(hex(frame)) of d\(ownerID) points to \(hex(target)) of \(String(describing: table.owner(of: target)))")
                }
            }
        }
        for r in 0..<table.ramCount {
            let frame = table.frame(r)
            invariant(table.counts[r] == expectedCounts[frame] ?? 0,
                      "\(context): type count of \(hex(frame)) is \(table.counts[r]), pins and tables hold \(expectedCounts[frame] ?? 0)")
            if table.levels[r] != 0 {
                invariant((table.writable[frame] ?? 0) == 0,
                          "\(context): L\(table.levels[r]) \(hex(frame)) counted as writably mapped \(table.writable[frame]!) times")
            }
        }
        for frame in Set(expectedWritable.keys).union(table.writable.keys) {
            invariant((table.writable[frame] ?? 0) == (expectedWritable[frame] ?? 0),
                      "\(context): writable mappings of \(hex(frame)) counted \(table.writable[frame] ?? 0), typed L1s make \(expectedWritable[frame] ?? 0)")
        }
        for frame in Set(expectedMapped.keys).union(table.mapped.keys) {
            invariant((table.mapped[frame] ?? 0) == (expectedMapped[frame] ?? 0),
                      "\(context): mappings of \(hex(frame)) counted \(table.mapped[frame] ?? 0), typed L1s make \(expectedMapped[frame] ?? 0)")
        }
        for frame in expectedCounts.keys where table.ramIndex(frame) == nil {
            violation("\(context): \(hex(frame)), not RAM, is held as a table")
        }
    }
}
