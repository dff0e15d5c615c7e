// memory_op, update_va_mapping, mmuext_op and the first grant-table queries: the
// memory operations a PV kernel makes, over ApusCore's page-type rules.
import ApusCore
import ApusPublic
import ArchX86

/// The PV page-type system's storage (ApusCore's PageTypeRules decide): in
/// FrameInfo.typeInfo bits 0-2 the type (0 ordinary, 1-4 an Ln table, 5 a descriptor
/// page), bit 3 pinned, bits 32-63 the type count; in FrameInfo.countInfo the number of
/// writable mappings. When a table stops being one, every CPU's TLB must forget it before
/// the guest may map it writable: `flushIfUntyped` after each operation that may untype.
enum PageTypes {
    static let pinnedBit: UInt64 = 1 << 3

    static func valid(_ frame: UInt64) -> Bool { frame < UInt64(Memory.allocator.frameTable.count) }

    static func level(of frame: UInt64) -> Int {
        valid(frame) ? Int(Memory.allocator.frameTable[Int(frame)].typeInfo & 7) : 0
    }

    static func setLevel(_ level: Int, of frame: UInt64) {
        guard valid(frame) else { return }
        let info = Memory.allocator.frameTable[Int(frame)].typeInfo
        let old = Int(info & 7)
        if level == 0 && old >= 1 && old <= 4 { untypedSinceFlush = true }
        let kept = level == 0 ? info & ~(pinnedBit | 7) : info & ~7
        Memory.allocator.frameTable[Int(frame)].typeInfo = kept | UInt64(level)
        if level == 0 && old != 0 && kept >> 32 == 0 { Reservations.freeIfReleased(frame) }
    }

    static func typeCount(of frame: UInt64) -> UInt32 {
        valid(frame) ? UInt32(truncatingIfNeeded: Memory.allocator.frameTable[Int(frame)].typeInfo >> 32) : 0
    }

    static func setTypeCount(_ count: UInt32, of frame: UInt64) {
        guard valid(frame) else { return }
        let info = Memory.allocator.frameTable[Int(frame)].typeInfo & 0xFFFF_FFFF
        Memory.allocator.frameTable[Int(frame)].typeInfo = info | UInt64(count) << 32
    }

    /// After an operation that may have let go of a frame's last type reference.
    static func levelDropped(_ frame: UInt64) { Reservations.freeIfReleased(frame) }

    /// A page table became ordinary memory since the last flush.
    nonisolated(unsafe) static var untypedSinceFlush = false
    /// A writable mapping was removed since the last flush: some TLB may still hold it,
    /// so before its frame becomes a table, every CPU flushes.
    nonisolated(unsafe) static var writableDroppedSinceFlush = false

    /// After an operation: if a table was untyped, no CPU may keep it in its TLB or
    /// paging-structure caches (the guest may now map it writable).
    static func flushIfUntyped() {
        guard untypedSinceFlush else { return }
        untypedSinceFlush = false
        CPU.flushAllTranslations()
        TLBShootdown.flushOtherCPUs()
    }

    static func isPinned(_ frame: UInt64) -> Bool {
        valid(frame) && Memory.allocator.frameTable[Int(frame)].typeInfo & pinnedBit != 0
    }

    static func setPinned(_ pinned: Bool, _ frame: UInt64) {
        guard valid(frame) else { return }
        if pinned { Memory.allocator.frameTable[Int(frame)].typeInfo |= pinnedBit }
        else { Memory.allocator.frameTable[Int(frame)].typeInfo &= ~pinnedBit }
    }

    static func writableMappings(of frame: UInt64) -> UInt64 {
        valid(frame) ? Memory.allocator.frameTable[Int(frame)].countInfo & 0xFFFF_FFFF : 0
    }

    static func adjustWritableMappings(of frame: UInt64, by delta: Int) {
        guard valid(frame) else { return }
        if delta < 0 { writableDroppedSinceFlush = true }
        let info = Memory.allocator.frameTable[Int(frame)].countInfo
        let count = max(0, Int64(info & 0xFFFF_FFFF) + Int64(delta))
        Memory.allocator.frameTable[Int(frame)].countInfo = (info & ~0xFFFF_FFFF) | UInt64(count)
        if count == 0 && delta < 0 { Reservations.freeIfReleased(frame) }
    }

    /// All present L1 mappings of `frame` (countInfo bits 32-63).
    static func mappings(of frame: UInt64) -> UInt64 {
        valid(frame) ? Memory.allocator.frameTable[Int(frame)].countInfo >> 32 : 0
    }

    static func adjustMappings(of frame: UInt64, by delta: Int) {
        guard valid(frame) else { return }
        let info = Memory.allocator.frameTable[Int(frame)].countInfo
        let count = max(0, Int64(info >> 32) + Int64(delta))
        Memory.allocator.frameTable[Int(frame)].countInfo = (info & 0xFFFF_FFFF) | UInt64(count) << 32
        if count == 0 && delta < 0 { Reservations.freeIfReleased(frame) }
    }

    static func owner(of frame: UInt64) -> UInt16? {
        valid(frame) ? Memory.allocator.frameTable[Int(frame)].owner : nil
    }

    /// Owned and not given back (a frame the domain released is no longer its to use).
    static func isOwnedByCurrent(_ frame: UInt64) -> Bool { owner(of: frame) == PV.current.id && !isReleased(frame) }

    static let releasedBit: UInt64 = 1 << 4

    static func isReleased(_ frame: UInt64) -> Bool {
        valid(frame) && Memory.allocator.frameTable[Int(frame)].typeInfo & releasedBit != 0
    }

    static func setReleased(_ frame: UInt64) {
        guard valid(frame) else { return }
        Memory.allocator.frameTable[Int(frame)].typeInfo |= releasedBit
    }

    /// RAM as the firmware reported it, above the first MiB (which Xen treats as I/O).
    /// One bit per frame, built once at boot (RAMBitmap): checked for every page-table
    /// entry a guest installs, so it must not walk the memory map.
    static func isRAM(_ frame: UInt64) -> Bool {
        frame >= 0x100 && RAMBitmap.contains(frame)
    }

    /// The current domain, as the pure rules see it.
    static var identity: PVDomainIdentity {
        PVDomainIdentity(id: PV.current.id, isPrivileged: PV.current.isPrivileged,
                         sharedInfoFrame: PV.current.sharedInfoFrame,
                         physicalAddressBits: BootCPU.identity.physicalAddressBits)
    }

    static func errno(_ verdict: PVMemoryVerdict) -> Int64 {
        switch verdict {
        case .ok, .readOnly: return 0
        case .invalid: return Errno.EINVAL
        case .busy: return Errno.EBUSY
        case .notPermitted: return Errno.EPERM
        }
    }

    /// Xen's answer for putting `entry` in one of the domain's L1 tables: 0 or a negative errno.
    static func checkL1(_ entry: UInt64) -> Int64 {
        let verdict = PageTypeRules.checkL1(entry, domain: identity, table: FrameTableView())
        let pte = PageTableEntry(raw: entry)
        if verdict == .busy, isRAM(pte.physicalAddress >> 12), !isOwnedByCurrent(pte.physicalAddress >> 12) {
            GuestWarnings.notOwned(pte.physicalAddress >> 12)
        }
        return errno(verdict)
    }

    /// Xen's mark of a guest-kernel-only page (bit 52, which the MMU ignores).
    static let guestKernel: UInt64 = 1 << 52

    /// The entry as it may be stored, adjusted as Xen 4.17 does for a 64-bit PV guest
    /// (without XPTI): without the write bit where the rules allow reading only; an
    /// entry the guest marked user-accessible becomes global (its user mappings survive
    /// the kernel/user switch), one it did not becomes user-accessible anyway (its kernel
    /// runs in ring 3) and is marked guest-kernel. nil: refused (see checkL1).
    static func acceptedL1(_ entry: UInt64) -> UInt64? {
        let verdict = PageTypeRules.checkL1(entry, domain: identity, table: FrameTableView())
        guard verdict == .ok || verdict == .readOnly else { return nil }
        var value = entry
        if verdict == .readOnly { value &= ~PageTableEntry.writable }
        if PageTableEntry(raw: value).isPresent {
            value |= value & PageTableEntry.user != 0 ? PageTableEntry.global : PageTableEntry.user | guestKernel
        }
        return value
    }

    /// Takes a type reference on `frame` as an Ln table, validating it if it is the first
    /// (ApusCore's PageTypeRules); an L4 also gets Apus's slots. 0 or Xen's errno.
    static func getType(_ frame: UInt64, level: Int) -> Int64 {
        var view = FrameTableView()
        // A frame about to be validated may still be writable in some TLB: flush first.
        if writableDroppedSinceFlush && typeCount(of: frame) == 0 {
            writableDroppedSinceFlush = false
            CPU.flushAllTranslations()
            TLBShootdown.flushOtherCPUs()
        }
        let verdict = PageTypeRules.getType(frame, level: level, domain: identity, table: &view)
        if verdict == .ok && level == 4 { MemoryHypercalls.installHypervisorSlots(l4: frame) }
        if verdict != .ok && !isOwnedByCurrent(frame) { GuestWarnings.notOwned(frame) }
        return errno(verdict)
    }

    static func putType(_ frame: UInt64) {
        var view = FrameTableView()
        PageTypeRules.putType(frame, domain: identity, table: &view)
    }

    /// Checks a new value for an L2-L4 entry and moves the references; 0 or Xen's errno.
    static func checkTableEntry(_ frame: UInt64, level: Int, index: Int, entry: UInt64) -> Int64 {
        var view = FrameTableView()
        return errno(PageTypeRules.checkTableEntryUpdate(frame, level: level, index: index, entry: entry,
                                                         domain: identity, table: &view))
    }

    /// Bookkeeping when an L1 entry changes from `old` to `new`.
    /// On every L1 write, so it touches each frame's FrameInfo once: both counts of
    /// countInfo in one read-modify-write (all mappings in bits 32-63, writable ones in
    /// bits 0-31), and a given-back frame freed when that was its last mapping.
    static func account(old: UInt64, new: UInt64) {
        let before = PageTableEntry(raw: old), after = PageTableEntry(raw: new)
        let table = Memory.allocator.frameTable
        if before.isPresent {
            let frame = before.physicalAddress >> 12
            if frame < UInt64(table.count) {
                let info = table.baseAddress.unsafelyUnwrapped + Int(frame)
                var counts = info.pointee.countInfo
                if counts >> 32 > 0 { counts -= 1 << 32 }
                if before.isWritable && counts & 0xFFFF_FFFF > 0 {
                    counts -= 1
                    writableDroppedSinceFlush = true
                }
                info.pointee.countInfo = counts
                if info.pointee.typeInfo & releasedBit != 0 { Reservations.freeIfReleased(frame) }
            }
        }
        if after.isPresent {
            let frame = after.physicalAddress >> 12
            if frame < UInt64(table.count) {
                let info = table.baseAddress.unsafelyUnwrapped + Int(frame)
                info.pointee.countInfo &+= (1 << 32) | (after.isWritable ? 1 : 0)
            }
        }
    }

    /// The machine address of the L1 entry that maps `virtual` under L4 `root`, or nil.
    static func l1EntryAddress(for virtual: UInt64, root: UInt64) -> UInt64? {
        var table = root
        var level = 4
        while level > 1 {
            let index = UInt64(VirtualAddress.index(virtual, level: level))
            let entry = PageTableEntry(raw: DirectMap.pointer(to: table << 12 + index * 8, as: UInt64.self).pointee)
            guard entry.isPresent, !entry.isLargePage else { return nil }
            table = entry.physicalAddress >> 12
            level -= 1
        }
        return table << 12 + UInt64(VirtualAddress.index(virtual, level: 1)) * 8
    }
}

/// The frame table and the direct map, as ApusCore's page-type rules read them.
struct FrameTableView: PVFrameTable {
    /// A frame the domain gave back is nobody's to map or type any more.
    func owner(of frame: UInt64) -> UInt16? {
        guard let owner = PageTypes.owner(of: frame), owner != FrameInfo.noOwner, !PageTypes.isReleased(frame) else {
            return nil
        }
        return owner
    }
    func isRAM(_ frame: UInt64) -> Bool { PageTypes.isRAM(frame) }
    func isHypervisorMMIO(_ frame: UInt64) -> Bool {
        Firmware.isHypervisorMMIO(frame) || (!PageTypes.isRAM(frame) && Memory.isReservedHigh(frame))
    }
    func isReadOnlyMMIO(_ frame: UInt64) -> Bool { Firmware.isReadOnlyMMIO(frame) }
    mutating func setEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index] = value
    }
    func level(of frame: UInt64) -> Int { PageTypes.level(of: frame) }
    func writableMappings(of frame: UInt64) -> UInt64 { PageTypes.writableMappings(of: frame) }
    func typeCount(of frame: UInt64) -> UInt32 { PageTypes.typeCount(of: frame) }
    func mappings(of frame: UInt64) -> UInt64 { PageTypes.mappings(of: frame) }
    mutating func adjustMappings(of frame: UInt64, by delta: Int) { PageTypes.adjustMappings(of: frame, by: delta) }
    mutating func setTypeCount(_ count: UInt32, of frame: UInt64) { PageTypes.setTypeCount(count, of: frame) }
    func entry(_ frame: UInt64, _ index: Int) -> UInt64 {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index]
    }
    mutating func setLevel(_ level: Int, of frame: UInt64) { PageTypes.setLevel(level, of: frame) }
    mutating func adjustWritableMappings(of frame: UInt64, by delta: Int) {
        PageTypes.adjustWritableMappings(of: frame, by: delta)
    }
}

enum MemoryHypercalls {
    static let domidSelf: UInt16 = 0x7FF0

    static func memoryOp(_ args: HypercallArguments) -> Int64 {
        let domain = PV.current
        switch Int32(truncatingIfNeeded: args.a0 & 0x3F) {
        case XENMEM_increase_reservation:
            return Reservations.increase(args, populate: false)
        case XENMEM_populate_physmap:
            return Reservations.increase(args, populate: true)
        case XENMEM_decrease_reservation:
            return Reservations.decrease(args)
        case XENMEM_exchange:
            return Reservations.exchange(args)
        case XENMEM_maximum_ram_page:
            return Int64(Memory.ramFrameEnd)
        case XENMEM_current_reservation, XENMEM_maximum_reservation:
            guard let domid = GuestMemory.read(UInt16.self, at: args.a1) else { return Errno.EFAULT }
            guard domid == domidSelf || domid == domain.id else { return Errno.ESRCH }
            return Int64(Int32(truncatingIfNeeded: args.a0 & 0x3F) == XENMEM_current_reservation
                         ? domain.pageCount : domain.maximumPageCount)
        case XENMEM_memory_map:
            // Xen 4.17 gives a PV dom0 no pseudo-physical map of its own (the version and
            // memmap guests saw -ENOSYS): it uses the machine map and its nr_pages. It reads
            // the argument first (-EFAULT).
            guard GuestMemory.read(xen_memory_map.self, at: args.a1) != nil else { return Errno.EFAULT }
            return Errno.ENOSYS
        case XENMEM_machphys_mfn_list:
            return machphysFrameList(at: args.a1)
        case XENMEM_machine_memory_map:
            return machineMemoryMap(at: args.a1)
        case XENMEM_machphys_mapping:
            var mapping = xen_machphys_mapping(v_start: MachineToPhys.virtualStart,
                                               v_end: MachineToPhys.virtualStart + MachineToPhys.entries * 8,
                                               max_mfn: MachineToPhys.entries - 1)
            return withUnsafeBytes(of: &mapping) { GuestMemory.write($0.baseAddress!, to: args.a1, count: 24) } ? 0 : Errno.EFAULT
        case XENMEM_maximum_gpfn:
            guard let domid = GuestMemory.read(UInt16.self, at: args.a1) else { return Errno.EFAULT }
            guard domid == domidSelf || domid == domain.id else { return Errno.ESRCH }
            return 0  // Xen answers from a field the guest fills in later (shared_info.arch.max_pfn)
        default:
            return Errno.ENOSYS
        }
    }

    /// XENMEM_machphys_mfn_list: the machine frames of the M2P table's 2 MiB pages (what a
    /// guest maps to read the table elsewhere), up to max_extents of them.
    static func machphysFrameList(at address: UInt64) -> Int64 {
        guard var request = GuestMemory.read(xen_machphys_mfn_list.self, at: address) else { return Errno.EFAULT }
        let chunks = (MachineToPhys.entries * 8 + 0x1F_FFFF) >> 21
        let count = min(UInt64(request.max_extents), chunks)
        for index in 0..<count {
            let frame = (MachineToPhys.tableMachineAddress >> 12) + index * 512
            guard GuestMemory.write(frame, to: request.extent_start.p &+ index &* 8) else { return Errno.EFAULT }
        }
        request.nr_extents = UInt32(count)
        return GuestMemory.write(request, to: address) ? 0 : Errno.EFAULT
    }

    /// The host's e820 for dom0: on entry nr_entries is the room; NULL buffer asks for the
    /// count; too little room is -EINVAL with the count left as it was (Xen's behaviour).
    static func machineMemoryMap(at address: UInt64) -> Int64 {
        guard PV.current.isPrivileged else { return Errno.EPERM }
        guard var map = GuestMemory.read(xen_memory_map.self, at: address) else { return Errno.EFAULT }
        var total: UInt32 = 0
        Memory.map.forEachFirmwareRange { _ in total += 1 }
        if map.buffer.p == 0 {
            map.nr_entries = total
            return GuestMemory.write(map, to: address) ? 0 : Errno.EFAULT
        }
        guard map.nr_entries >= total else { return Errno.EINVAL }
        var written: UInt32 = 0
        var failed = false
        Memory.map.forEachFirmwareRange { range in
            guard !failed else { return }
            var entry = xen_e820_entry(addr: range.base, size: range.length, type: range.type.e820Type)
            let ok = withUnsafeBytes(of: &entry) {
                GuestMemory.write($0.baseAddress!, to: map.buffer.p &+ UInt64(written) * 20, count: 20)
            }
            if ok { written += 1 } else { failed = true }
        }
        guard !failed else { return Errno.EFAULT }
        map.nr_entries = written
        return GuestMemory.write(map, to: address) ? 0 : Errno.EFAULT
    }

    static func updateVAMapping(_ args: HypercallArguments) -> Int64 {
        updateVAMapping(args, owner: .caller)
    }

    /// update_va_mapping_otherdomain(va, pte, flags, domid): the mapped page belongs to
    /// `domid` (Xen's get_pg_owner rules).
    static func updateVAMappingOtherDomain(_ args: HypercallArguments) -> Int64 {
        guard let owner = PageOwner.resolve(UInt16(truncatingIfNeeded: args.a3)) else { return Errno.ESRCH }
        return updateVAMapping(args, owner: owner)
    }

    static func updateVAMapping(_ args: HypercallArguments, owner: PageOwner) -> Int64 {
        let virtual = args.a0, entry = args.a1
        guard let flags = UpdateVAFlags.decode(args.a2) else { return Errno.EINVAL }
        guard GuestAddress.isAccessible(virtual, length: 1) else { return Errno.EINVAL }
        guard let slot = PageTypes.l1EntryAddress(for: virtual, root: PV.vcpu.pointee.kernelTableFrame) else {
            return Errno.EINVAL
        }
        if let refusal = owner.refusal(entry) { return refusal }
        guard let value = PageTypes.acceptedL1(entry) else { return PageTypes.checkL1(entry) }
        let pointer = DirectMap.pointer(to: slot, as: UInt64.self)
        PageTypes.account(old: pointer.pointee, new: value)
        pointer.pointee = value
        Shadows.guestEntryChanged(slot >> 12, level: 1, index: Int((slot & 0xFFF) >> 3))
        // A vCPU mask the guest cannot pass is -EFAULT, after the entry was written (Xen).
        if case .vcpuMask(let pointer) = flags.scope, GuestMemory.read(UInt64.self, at: pointer) == nil {
            return Errno.EFAULT
        }
        flush(flags: flags, virtual: virtual)
        return 0
    }

    /// This CPU's TLB, then the other CPUs' when the scope is not local.
    static func flush(flags: UpdateVAFlags, virtual: UInt64) {
        switch flags.flush {
        case .onePage: CPU.invalidatePage(virtual)
        case .wholeTLB: CPU.flushAllTranslations()
        case .none: return
        }
        if flags.scope != .local { TLBShootdown.flushOtherCPUs() }
    }

    static func mmuextOp(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, count = args.a1 & 0x7FFF_FFFF, doneAddress = args.a2
        // Xen 4.17 answers a preempted call with nothing left by its foreigndom argument,
        // before it looks at that domain.
        if args.a1 & MMUUpdateHypercall.preempted != 0 && count == 0 { return Int64(bitPattern: args.a3 & 0xFFFF) }
        guard let owner = PageOwner.resolve(UInt16(truncatingIfNeeded: args.a3)) else { return Errno.ESRCH }
        guard owner == .caller else { return Errno.EPERM }   // no table operations on I/O or Xen pages
        var earlier: UInt64 = 0
        if args.a1 & MMUUpdateHypercall.preempted != 0 && doneAddress != 0 {
            earlier = UInt64(GuestMemory.read(UInt32.self, at: doneAddress) ?? 0)
        }
        var done: UInt64 = 0
        var result: Int64 = 0
        let start = CPU.readTimeStampCounter()
        while done < count {
            if Continuations.due(start: start, done: done) {
                if doneAddress != 0 { _ = GuestMemory.write(UInt32(truncatingIfNeeded: earlier &+ done), to: doneAddress) }
                PageTypes.flushIfUntyped()
                Continuations.pending = HypercallArguments((list &+ done &* 24, (count - done) | MMUUpdateHypercall.preempted,
                                                            doneAddress, args.a3, args.a4, args.a5))
                return 0
            }
            guard let op = GuestMemory.read(mmuext_op.self, at: list &+ done &* 24) else { result = Errno.EFAULT; break }
            result = perform(op)
            if result != 0 { break }
            done += 1
        }
        done &+= earlier
        PageTypes.flushIfUntyped()
        if doneAddress != 0 { _ = GuestMemory.write(UInt32(truncatingIfNeeded: done), to: doneAddress) }   // as Xen: dropped if it cannot
        return result
    }

    /// A frame the caller may write as ordinary memory (CLEAR_PAGE, COPY_PAGE target).
    static func writableDataFrame(_ frame: UInt64) -> Bool {
        PageTypes.isRAM(frame) && PageTypes.isOwnedByCurrent(frame) && PageTypes.level(of: frame) == 0
            && PageTypes.typeCount(of: frame) == 0 && !GrantTable.holds(frame) && frame != PV.current.sharedInfoFrame
    }

    static func perform(_ op: mmuext_op) -> Int64 {
        switch MMUExtRequest.decode(command: op.cmd, argument1: op.arg1.mfn, argument2: op.arg2.vcpumask) {
        case .pin(let level, let frame):
            guard !PageTypes.isPinned(frame) else { return Errno.EINVAL }
            let verdict = PageTypes.getType(frame, level: level)
            guard verdict == 0 else { return verdict }
            PageTypes.setPinned(true, frame)
            return 0
        case .unpin(let frame):
            // A table the domain gave back may still be unpinned (that frees it).
            guard PageTypes.owner(of: frame) == PV.current.id, PageTypes.isPinned(frame) else { return Errno.EINVAL }
            PageTypes.setPinned(false, frame)
            PageTypes.putType(frame)
            return 0
        case .newBasePointer(let frame):
            guard PageTypes.getType(frame, level: 4) == 0 else { return Errno.EINVAL }
            let vcpu = PV.vcpu
            let old = vcpu.pointee.kernelTableFrame
            vcpu.pointee.kernelTableFrame = frame
            Shadows.rootChanged(old: old, new: frame)
            if vcpu.pointee.inKernelMode { Shadows.loadCR3(for: vcpu) }
            if old != 0 { PageTypes.putType(old) }
            return 0
        case .newUserBasePointer(let frame):
            if frame != 0 {
                guard PageTypes.getType(frame, level: 4) == 0 else { return Errno.EINVAL }
            }
            let vcpu = PV.vcpu
            let old = vcpu.pointee.userTableFrame
            vcpu.pointee.userTableFrame = frame
            Shadows.rootChanged(old: old, new: frame)
            if !vcpu.pointee.inKernelMode { Shadows.loadCR3(for: vcpu) }
            if old != 0 { PageTypes.putType(old) }
            return 0
        case .flushTLB:
            guard vcpuMaskReadable(op) else { return Errno.EINVAL }
            CPU.flushAllTranslations()
            if op.cmd != UInt32(MMUEXT_TLB_FLUSH_LOCAL) { TLBShootdown.flushOtherCPUs() }
            return 0
        case .invalidatePage(let address):
            guard vcpuMaskReadable(op) else { return Errno.EINVAL }
            CPU.invalidatePage(address)
            if op.cmd != UInt32(MMUEXT_INVLPG_LOCAL) { TLBShootdown.flushOtherCPUs() }
            return 0
        case .setLDT(let base, let entries):
            return SegmentDescriptors.setLDT(base: base, entries: entries)
        case .clearPage(let frame):
            guard writableDataFrame(frame) else { return Errno.EINVAL }
            DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
            return 0
        case .copyPage(let destination, let source):
            // Any of its own frames may be read (tables too); only ordinary memory written.
            guard PageTypes.isRAM(source), PageTypes.isOwnedByCurrent(source), writableDataFrame(destination) else {
                return Errno.EINVAL
            }
            DirectMap.pointer(to: destination << 12, as: UInt8.self)
                .update(from: DirectMap.pointer(to: source << 12, as: UInt8.self), count: 4096)
            return 0
        case .flushCache:
            CPU.writeBackAndInvalidateCaches()
            return 0
        case .superpage:
            return Errno.EOPNOTSUPP
        case .invalid:
            return Errno.EINVAL
        case .unknown:
            return Errno.ENOSYS
        }
    }

    /// The _MULTI flushes name their vCPUs by a bitmap in guest memory: one Xen cannot
    /// read makes the op -EINVAL.
    static func vcpuMaskReadable(_ op: mmuext_op) -> Bool {
        guard op.cmd == UInt32(MMUEXT_TLB_FLUSH_MULTI) || op.cmd == UInt32(MMUEXT_INVLPG_MULTI) else { return true }
        return GuestMemory.read(UInt64.self, at: op.arg2.vcpumask) != nil
    }

    /// Apus's own L4 entries (its slot of the address space) in a guest's top table, so
    /// that traps and hypercalls find Apus mapped whatever the guest has loaded.
    static func installHypervisorSlots(l4 frame: UInt64) {
        let guest = DirectMap.pointer(to: frame << 12, as: UInt64.self)
        let apus = DirectMap.pointer(to: HypervisorPageTables.rootFrame << 12, as: UInt64.self)
        for slot in 256..<272 { guest[slot] = apus[slot] }
    }
}
