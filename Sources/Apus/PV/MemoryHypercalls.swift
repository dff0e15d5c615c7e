// memory_op, update_va_mapping, mmuext_op and the first grant-table queries: the
// start-of-day memory operations a PV kernel makes.
//
// The protection rule in force from the start (the full PV page-type system comes with
// the memory issue): a domain maps only frames it owns, never maps one of its page-table
// frames writable, and never touches Apus's L4 slots, which Apus fills itself. A frame's
// page-table level lives in its FrameInfo.typeInfo (0 = ordinary memory, 1-4 = Ln).
import ApusCore
import ApusPublic
import ArchX86

/// A first cut of the PV page-type rules (the memory issue completes them): a frame's
/// page-table level and pin in FrameInfo.typeInfo (bits 0-2 level, bit 3 pinned), the
/// number of writable mappings of it in FrameInfo.countInfo. A frame with a level is never
/// mapped writable; a frame mapped writable cannot become a page table.
enum PageTypes {
    static let pinnedBit: UInt64 = 1 << 3

    static func valid(_ frame: UInt64) -> Bool { frame < UInt64(Memory.allocator.frameTable.count) }

    static func level(of frame: UInt64) -> Int {
        valid(frame) ? Int(Memory.allocator.frameTable[Int(frame)].typeInfo & 7) : 0
    }

    static func setLevel(_ level: Int, of frame: UInt64) {
        guard valid(frame) else { return }
        let pinned = Memory.allocator.frameTable[Int(frame)].typeInfo & pinnedBit
        Memory.allocator.frameTable[Int(frame)].typeInfo = UInt64(level) | (level == 0 ? 0 : pinned)
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
        let count = Int64(Memory.allocator.frameTable[Int(frame)].countInfo & 0xFFFF_FFFF) + Int64(delta)
        Memory.allocator.frameTable[Int(frame)].countInfo = UInt64(max(0, count))
    }

    static func owner(of frame: UInt64) -> UInt16? {
        valid(frame) ? Memory.allocator.frameTable[Int(frame)].owner : nil
    }

    static func isOwnedByCurrent(_ frame: UInt64) -> Bool { owner(of: frame) == PV.current.id }

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
        errno(PageTypeRules.checkL1(entry, domain: identity, table: FrameTableView()))
    }

    /// The entry as it may be stored: user-accessible (the PV kernel runs in ring 3), and
    /// without the write bit where the rules allow reading only. nil: refused (see checkL1).
    static func acceptedL1(_ entry: UInt64) -> UInt64? {
        let verdict = PageTypeRules.checkL1(entry, domain: identity, table: FrameTableView())
        guard verdict == .ok || verdict == .readOnly else { return nil }
        var value = entry
        if verdict == .readOnly { value &= ~PageTableEntry.writable }
        if PageTableEntry(raw: value).isPresent { value |= PageTableEntry.user }
        return value
    }

    /// Gives `frame` the page-table type `level` after validating it (ApusCore's
    /// PageTypeRules); an L4 also gets Apus's slots. 0 or Xen's errno.
    static func validate(_ frame: UInt64, level: Int) -> Int64 {
        var view = FrameTableView()
        let verdict = PageTypeRules.validate(frame, level: level, domain: identity, table: &view)
        if verdict == .ok && level == 4 { MemoryHypercalls.installHypervisorSlots(l4: frame) }
        return errno(verdict)
    }

    static func untypeL1(_ frame: UInt64) {
        var view = FrameTableView()
        PageTypeRules.untypeL1(frame, domain: identity, table: &view)
    }

    /// Bookkeeping when an L1 entry changes from `old` to `new`.
    static func account(old: UInt64, new: UInt64) {
        let before = PageTableEntry(raw: old), after = PageTableEntry(raw: new)
        if before.isPresent && before.isWritable { adjustWritableMappings(of: before.physicalAddress >> 12, by: -1) }
        if after.isPresent && after.isWritable { adjustWritableMappings(of: after.physicalAddress >> 12, by: 1) }
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

    /// Is `frame` referenced as a table by the domain's current tables (so it keeps its type)?
    static func isReferenced(_ frame: UInt64, from root: UInt64) -> Bool {
        guard root != 0 else { return false }
        if frame == root { return true }
        let top = DirectMap.pointer(to: root << 12, as: UInt64.self)
        for i in 0..<256 where PageTableEntry(raw: top[i]).isPresent {
            let l3 = PageTableEntry(raw: top[i]).physicalAddress >> 12
            if l3 == frame { return true }
            let level3 = DirectMap.pointer(to: l3 << 12, as: UInt64.self)
            for j in 0..<512 where PageTableEntry(raw: level3[j]).isPresent && !PageTableEntry(raw: level3[j]).isLargePage {
                let l2 = PageTableEntry(raw: level3[j]).physicalAddress >> 12
                if l2 == frame { return true }
                let level2 = DirectMap.pointer(to: l2 << 12, as: UInt64.self)
                for k in 0..<512 where PageTableEntry(raw: level2[k]).isPresent && !PageTableEntry(raw: level2[k]).isLargePage {
                    if PageTableEntry(raw: level2[k]).physicalAddress >> 12 == frame { return true }
                }
            }
        }
        return false
    }
}

/// The frame table and the direct map, as ApusCore's page-type rules read them.
struct FrameTableView: PVFrameTable {
    func owner(of frame: UInt64) -> UInt16? {
        guard let owner = PageTypes.owner(of: frame), owner != FrameInfo.noOwner else { return nil }
        return owner
    }
    func isRAM(_ frame: UInt64) -> Bool { PageTypes.isRAM(frame) }
    func isHypervisorMMIO(_ frame: UInt64) -> Bool { Firmware.isHypervisorMMIO(frame) }
    func isReadOnlyMMIO(_ frame: UInt64) -> Bool { Firmware.isReadOnlyMMIO(frame) }
    mutating func setEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index] = value
    }
    func level(of frame: UInt64) -> Int { PageTypes.level(of: frame) }
    func writableMappings(of frame: UInt64) -> UInt64 { PageTypes.writableMappings(of: frame) }
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
        case XENMEM_maximum_ram_page:
            return Int64(Memory.ramFrameEnd)
        case XENMEM_current_reservation, XENMEM_maximum_reservation:
            guard let domid = GuestMemory.read(UInt16.self, at: args.a1) else { return Errno.EFAULT }
            guard domid == domidSelf || domid == domain.id else { return Errno.ESRCH }
            return Int64(Int32(truncatingIfNeeded: args.a0 & 0x3F) == XENMEM_current_reservation
                         ? domain.pageCount : domain.maximumPageCount)
        case XENMEM_memory_map:
            // Xen 4.17 gives a PV dom0 no pseudo-physical map of its own (the version and
            // memmap guests saw -ENOSYS): it uses the machine map and its nr_pages.
            return Errno.ENOSYS
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
        let virtual = args.a0, entry = args.a1
        guard let flags = UpdateVAFlags.decode(args.a2) else { return Errno.EINVAL }
        guard GuestAddress.isAccessible(virtual, length: 1) else { return Errno.EINVAL }
        guard let slot = PageTypes.l1EntryAddress(for: virtual, root: PV.vcpu.pointee.kernelTableFrame) else {
            return Errno.EINVAL
        }
        guard let value = PageTypes.acceptedL1(entry) else { return PageTypes.checkL1(entry) }
        let pointer = DirectMap.pointer(to: slot, as: UInt64.self)
        PageTypes.account(old: pointer.pointee, new: value)
        pointer.pointee = value
        flush(flags: flags, virtual: virtual)
        return 0
    }

    /// This CPU's TLB, then the other CPUs' when the scope is not local.
    static func flush(flags: UpdateVAFlags, virtual: UInt64) {
        switch flags.flush {
        case .onePage: CPU.invalidatePage(virtual)
        case .wholeTLB: CPU.writeCR3(CPU.cr3)
        case .none: return
        }
        if flags.scope != .local { TLBShootdown.flushOtherCPUs() }
    }

    static func mmuextOp(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, count = args.a1 & 0x7FFF_FFFF, doneAddress = args.a2
        var done: UInt64 = 0
        var result: Int64 = 0
        while done < count {
            guard let op = GuestMemory.read(mmuext_op.self, at: list &+ done &* 24) else { result = Errno.EFAULT; break }
            result = perform(op)
            if result != 0 { break }
            done += 1
        }
        if doneAddress != 0, !GuestMemory.write(UInt32(truncatingIfNeeded: done), to: doneAddress) { return Errno.EFAULT }
        return result
    }

    static func perform(_ op: mmuext_op) -> Int64 {
        switch MMUExtRequest.decode(command: op.cmd, argument1: op.arg1.mfn, argument2: op.arg2.vcpumask) {
        case .pin(let level, let frame):
            guard !PageTypes.isPinned(frame) else { return Errno.EINVAL }
            let verdict = PageTypes.validate(frame, level: level)
            guard verdict == 0 else { return verdict }
            PageTypes.setPinned(true, frame)
            return 0
        case .unpin(let frame):
            guard PageTypes.isOwnedByCurrent(frame), PageTypes.isPinned(frame) else { return Errno.EINVAL }
            PageTypes.setPinned(false, frame)
            if !PageTypes.isReferenced(frame, from: PV.vcpu.pointee.kernelTableFrame)
                && !PageTypes.isReferenced(frame, from: PV.vcpu.pointee.userTableFrame) {
                if PageTypes.level(of: frame) == 1 { PageTypes.untypeL1(frame) } else { PageTypes.setLevel(0, of: frame) }
            }
            return 0
        case .newBasePointer(let frame):
            guard PageTypes.validate(frame, level: 4) == 0 else { return Errno.EINVAL }
            PV.vcpu.pointee.kernelTableFrame = frame
            if PV.vcpu.pointee.inKernelMode { CPU.writeCR3(frame << 12) }
            return 0
        case .newUserBasePointer(let frame):
            if frame != 0 {
                guard PageTypes.validate(frame, level: 4) == 0 else { return Errno.EINVAL }
            }
            PV.vcpu.pointee.userTableFrame = frame
            if !PV.vcpu.pointee.inKernelMode { CPU.writeCR3((frame != 0 ? frame : PV.vcpu.pointee.kernelTableFrame) << 12) }
            return 0
        case .flushTLB:
            CPU.writeCR3(CPU.cr3)
            if op.cmd != UInt32(MMUEXT_TLB_FLUSH_LOCAL) { TLBShootdown.flushOtherCPUs() }
            return 0
        case .invalidatePage(let address):
            CPU.invalidatePage(address)
            if op.cmd != UInt32(MMUEXT_INVLPG_LOCAL) { TLBShootdown.flushOtherCPUs() }
            return 0
        case .setLDT(let base, let entries):
            return SegmentDescriptors.setLDT(base: base, entries: entries)
        case .invalid:
            return Errno.EINVAL
        case .unknown:
            return Errno.ENOSYS
        }
    }

    /// Apus's own L4 entries (its slot of the address space) in a guest's top table, so
    /// that traps and hypercalls find Apus mapped whatever the guest has loaded.
    static func installHypervisorSlots(l4 frame: UInt64) {
        let guest = DirectMap.pointer(to: frame << 12, as: UInt64.self)
        let apus = DirectMap.pointer(to: HypervisorPageTables.rootFrame << 12, as: UInt64.self)
        for slot in 256..<272 { guest[slot] = apus[slot] }
    }
}
