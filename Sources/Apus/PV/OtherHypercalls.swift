// physdev_op and mmu_update. set_iopl is real; mmu_update writes page-table entries at
// every level under ApusCore's page-type rules (an L1 entry as update_va_mapping does, an
// L2-L4 entry moving type references), a plain word into a page that is no table, and
// machine-to-phys entries.
import ApusCore
import ApusPublic
import ArchX86

enum PhysdevHypercall {
    static func perform(_ args: HypercallArguments) -> Int64 {
        switch Int32(truncatingIfNeeded: args.a0) {
        case PHYSDEVOP_set_iopl:
            guard let request = GuestMemory.read(physdev_set_iopl.self, at: args.a1) else { return Errno.EFAULT }
            guard request.iopl <= 3 else { return Errno.EINVAL }
            PV.vcpu.pointee.iopl = UInt64(request.iopl) << 12
            return 0
        default:
            guard GuestMemory.read(UInt32.self, at: args.a1) != nil else { return Errno.EFAULT }
            return Errno.ENOSYS
        }
    }
}

enum MMUUpdateHypercall {
    /// Xen's MMU_UPDATE_PREEMPTED: set in the count of a call Apus continues; the guest's
    /// `done` counter then already holds what the earlier parts did.
    static let preempted: UInt64 = 1 << 31

    static func perform(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, count = args.a1 & 0x7FFF_FFFF, doneAddress = args.a2
        // foreigndom: bits 0-15 the owner of the mapped pages, bits 16-31 (plus one) the
        // owner of the tables, which can only be the caller here.
        // Xen's continuation mark, honoured whoever set it; with nothing left to do Xen
        // 4.17 answers with its foreigndom argument, before looking at the domains.
        if args.a1 & preempted != 0 && count == 0 { return Int64(bitPattern: args.a3 & 0xFFFF) }
        let tableOwner = (args.a3 >> 16) & 0xFFFF
        guard tableOwner == 0 || tableOwner - 1 == UInt64(PV.current.id) else { return Errno.ESRCH }
        guard let owner = PageOwner.resolve(UInt16(truncatingIfNeeded: args.a3)) else { return Errno.ESRCH }
        var earlier: UInt64 = 0
        if args.a1 & preempted != 0 && doneAddress != 0 {
            earlier = UInt64(GuestMemory.read(UInt32.self, at: doneAddress) ?? 0)
        }
        var done: UInt64 = 0
        var result: Int64 = 0
        let start = CPU.readTimeStampCounter()
        while done < count {
            if Continuations.due(start: start, done: done) {
                // A `done` the guest cannot receive is dropped, as Xen does.
                if doneAddress != 0 { _ = GuestMemory.write(UInt32(truncatingIfNeeded: earlier &+ done), to: doneAddress) }
                PageTypes.flushIfUntyped()
                Continuations.pending = HypercallArguments((list &+ done &* 16, (count - done) | preempted,
                                                            doneAddress, args.a3, args.a4, args.a5))
                return 0
            }
            guard let request = GuestMemory.read(mmu_update.self, at: list &+ done &* 16) else { result = Errno.EFAULT; break }
            result = perform(request, owner: owner)
            if result != 0 { break }
            done += 1
        }
        done &+= earlier
        PageTypes.flushIfUntyped()
        if doneAddress != 0 { _ = GuestMemory.write(UInt32(truncatingIfNeeded: done), to: doneAddress) }
        return result
    }

    static func perform(_ request: mmu_update, owner: PageOwner) -> Int64 {
        let command = Int32(truncatingIfNeeded: request.ptr & 3)
        let address = request.ptr & ~3
        let frame = address >> 12
        switch command {
        case MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD, MMU_PT_UPDATE_NO_TRANSLATE:
            // (NO_TRANSLATE is a NORMAL update for a PV guest.)
            guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return Errno.EINVAL }
            let pointer = DirectMap.pointer(to: address & ~7, as: UInt64.self)
            let level = PageTypes.level(of: frame)
            let typed = PageTypes.typeCount(of: frame) > 0
            var value = request.val
            if command == MMU_PT_UPDATE_PRESERVE_AD {
                value |= pointer.pointee & (PageTableEntry.accessed | PageTableEntry.dirty)
            }
            switch level {
            case 1 where typed:
                if let refusal = owner.refusal(value) { return refusal }
                guard let accepted = PageTypes.acceptedL1(value) else { return PageTypes.checkL1(value) }
                PageTypes.account(old: pointer.pointee, new: accepted)
                pointer.pointee = accepted
                Shadows.guestEntryChanged(frame, level: 1, index: Int((address & 0xFFF) >> 3))
            case 2...4 where typed:
                let index = Int((address & 0xFFF) >> 3)
                let verdict = PageTypes.checkTableEntry(frame, level: level, index: index, entry: value)
                guard verdict == 0 else { return verdict }
                // The guest kernel runs in ring 3: its tables are user-accessible (Xen adds it too).
                if PageTableEntry(raw: value).isPresent { value |= PageTableEntry.user }
                pointer.pointee = value
                Shadows.guestEntryChanged(frame, level: level, index: index)
            case 0:
                // No table: a plain write, as Xen does for a page it can type writable.
                pointer.pointee = value
            default:
                return Errno.EINVAL   // a descriptor page, or a table being torn down
            }
            return 0
        case MMU_MACHPHYS_UPDATE:
            guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return Errno.EINVAL }
            MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: request.val)
            return 0
        default:
            return Errno.ENOSYS
        }
    }
}
