// physdev_op and mmu_update: the parts of them a PV kernel meets at start of day.
// set_iopl is real; mmu_update writes L1 entries and M2P entries under the same checks
// as update_va_mapping (higher-level updates come with the memory issue).
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
    static func perform(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, count = args.a1 & 0x7FFF_FFFF, doneAddress = args.a2
        var done: UInt64 = 0
        var result: Int64 = 0
        while done < count {
            guard let request = GuestMemory.read(mmu_update.self, at: list &+ done &* 16) else { result = Errno.EFAULT; break }
            result = perform(request)
            if result != 0 { break }
            done += 1
        }
        if doneAddress != 0, !GuestMemory.write(UInt32(truncatingIfNeeded: done), to: doneAddress) { return Errno.EFAULT }
        return result
    }

    static func perform(_ request: mmu_update) -> Int64 {
        let command = Int32(truncatingIfNeeded: request.ptr & 3)
        let address = request.ptr & ~3
        let frame = address >> 12
        switch command {
        case MMU_NORMAL_PT_UPDATE, MMU_PT_UPDATE_PRESERVE_AD:
            guard PageTypes.isOwnedByCurrent(frame) else { return Errno.EPERM }
            guard PageTypes.level(of: frame) == 1 else { return Errno.ENOSYS }  // L2-L4 updates: memory issue
            guard var value = PageTypes.acceptedL1(request.val) else { return PageTypes.checkL1(request.val) }
            let pointer = DirectMap.pointer(to: address & ~7, as: UInt64.self)
            if command == MMU_PT_UPDATE_PRESERVE_AD {
                value |= pointer.pointee & (PageTableEntry.accessed | PageTableEntry.dirty)
            }
            PageTypes.account(old: pointer.pointee, new: value)
            pointer.pointee = value
            return 0
        case MMU_MACHPHYS_UPDATE:
            guard PageTypes.isOwnedByCurrent(frame) else { return Errno.EPERM }
            MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: request.val)
            return 0
        default:
            return Errno.ENOSYS
        }
    }
}
