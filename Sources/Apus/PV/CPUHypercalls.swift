// The hypercalls that set up how a PV vCPU takes traps and switches stacks and modes:
// set_trap_table, stack_switch, set_callbacks, callback_op, fpu_taskswitch,
// set_segment_base, vm_assist (vcpu_op: VCPUHypercalls.swift). Each checks every guest value before storing it.
import ApusCore
import ApusPublic
import ArchX86

enum CPUHypercalls {
    /// trap_info records until one with address 0; NULL clears the table.
    static func setTrapTable(_ args: HypercallArguments) -> Int64 {
        if args.a0 == 0 { PV.vcpu.pointee.traps.clear(); return 0 }
        let size = UInt64(MemoryLayout<trap_info>.size)
        var index: UInt64 = 0
        while index < 1024 {
            guard let info = GuestMemory.read(trap_info.self, at: args.a0 &+ index &* size) else { return Errno.EFAULT }
            if info.address == 0 { return 0 }
            guard PV.vcpu.pointee.traps.set(vector: info.vector, flags: info.flags, codeSelector: info.cs,
                                            address: info.address) else { return Errno.EINVAL }
            index += 1
        }
        return Errno.E2BIG
    }

    static func stackSwitch(_ args: HypercallArguments) -> Int64 {
        // A ring-0 selector is raised to RPL 3, as Xen's stack-selector fix-up does.
        PV.vcpu.pointee.kernelStackSegment = args.a0 & 3 == 0 ? args.a0 | 3 : args.a0
        PV.vcpu.pointee.kernelStackPointer = args.a1
        return 0
    }

    /// 64-bit form: event, failsafe and syscall entry points (the last two mask events).
    /// Non-canonical addresses are ignored (the old one stays), as Xen does.
    static func setCallbacks(_ args: HypercallArguments) -> Int64 {
        if VirtualAddress.isCanonical(args.a0) { PV.vcpu.pointee.callbacks.event = args.a0 }
        if VirtualAddress.isCanonical(args.a1) { PV.vcpu.pointee.callbacks.failsafe = args.a1 }
        if VirtualAddress.isCanonical(args.a2) {
            PV.vcpu.pointee.callbacks.syscall = args.a2
            PV.vcpu.pointee.callbacks.syscallMasksEvents = true
        }
        return 0
    }

    static func callbackOp(_ args: HypercallArguments) -> Int64 {
        switch Int32(truncatingIfNeeded: args.a0) {
        case CALLBACKOP_register:
            guard let request = GuestMemory.read(callback_register.self, at: args.a1) else { return Errno.EFAULT }
            // Xen takes any canonical address (a wrong one faults when used) and checks it before the type.
            guard VirtualAddress.isCanonical(request.address) else { return Errno.EINVAL }
            switch Int32(request.type) {
            case CALLBACKTYPE_event: PV.vcpu.pointee.callbacks.event = request.address
            case CALLBACKTYPE_failsafe: PV.vcpu.pointee.callbacks.failsafe = request.address
            case CALLBACKTYPE_syscall:
                PV.vcpu.pointee.callbacks.syscall = request.address
                PV.vcpu.pointee.callbacks.syscallMasksEvents = request.flags & UInt16(CALLBACKF_mask_events) != 0
            case CALLBACKTYPE_nmi: PV.vcpu.pointee.callbacks.nmi = request.address
            case CALLBACKTYPE_syscall32, CALLBACKTYPE_sysenter:
                return 0  // recorded by Xen for 32-bit user space; Apus runs 64-bit guests only
            default: return Errno.ENOSYS  // what Xen 4.17 answers for an unknown type
            }
            return 0
        case CALLBACKOP_unregister:
            guard let request = GuestMemory.read(callback_unregister.self, at: args.a1) else { return Errno.EFAULT }
            switch Int32(request.type) {
            case CALLBACKTYPE_nmi:
                PV.vcpu.pointee.callbacks.nmi = 0
                return 0
            case CALLBACKTYPE_event, CALLBACKTYPE_failsafe, CALLBACKTYPE_syscall, CALLBACKTYPE_sysenter,
                 CALLBACKTYPE_syscall32:
                return Errno.EINVAL  // only the NMI callback can be unregistered
            default:
                return Errno.ENOSYS
            }
        default:
            return Errno.ENOSYS
        }
    }

    /// Sets or clears CR0.TS so that the guest's next FPU use raises #NM (bounced to it).
    static func fpuTaskSwitch(_ args: HypercallArguments) -> Int64 {
        FPUState.setTaskSwitched(args.a0 != 0)
        return 0
    }

    static func setSegmentBase(_ args: HypercallArguments) -> Int64 {
        let base = args.a1
        if Int32(truncatingIfNeeded: args.a0) == SEGBASE_GS_USER_SEL && args.a0 >> 32 == 0 {
            return setUserGSSelector(base)
        }
        guard VirtualAddress.isCanonical(base) else { return Errno.EINVAL }
        switch Int32(truncatingIfNeeded: args.a0) {
        case SEGBASE_FS:
            PV.vcpu.pointee.fsBase = base
            CPU.writeMSR(MSR.fsBase, base)
        case SEGBASE_GS_USER:
            PV.vcpu.pointee.gsBaseUser = base
            CPU.writeMSR(MSR.kernelGSBase, base)  // the inactive base while the kernel runs
        case SEGBASE_GS_KERNEL:
            PV.vcpu.pointee.gsBaseKernel = base
            CPU.writeMSR(MSR.gsBase, base)
        default:
            return Errno.EINVAL
        }
        return 0
    }

    /// SEGBASE_GS_USER_SEL: base[15:0] is the user %gs selector (RPL raised to 3 unless
    /// null); its descriptor's base becomes the user GS base; one that cannot be loaded
    /// leaves the null selector, and a null selector a zero base. Always 0, as on Xen.
    static func setUserGSSelector(_ value: UInt64) -> Int64 {
        var selector = UInt16(truncatingIfNeeded: value)
        if selector & ~3 != 0 { selector |= 3 }
        let loaded = GuestEntry.loadUserGS(selector)
        if !loaded || selector & ~3 == 0 { CPU.writeMSR(MSR.kernelGSBase, 0) }
        PV.vcpu.pointee.gsBaseUser = CPU.readMSR(MSR.kernelGSBase)
        return 0
    }

    /// The assists Xen offers a 64-bit PV guest.
    static let validAssists: UInt64 = (1 << 2) | (1 << 4) | (1 << 5) | (1 << 32)

    static func vmAssist(_ args: HypercallArguments) -> Int64 {
        guard args.a1 < 64, validAssists & (1 << args.a1) != 0 else { return Errno.EINVAL }
        switch Int32(truncatingIfNeeded: args.a0) {
        case VMASST_CMD_enable: PV.current.vmAssist |= 1 << args.a1
        case VMASST_CMD_disable: PV.current.vmAssist &= ~(1 << args.a1)
        default: return Errno.ENOSYS
        }
        return 0
    }
}
