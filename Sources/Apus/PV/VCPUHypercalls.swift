// vcpu_op: bringing a domain's vCPUs up and down (VCPUOP_initialise, up, down, is_up),
// their timers, runstate and vcpu_info placement, with Xen 4.17's answers.
//
// VCPUOP_initialise takes a whole vcpu_guest_context, checks it as Xen's
// arch_set_info_guest does (canonical addresses, a valid L4 for cr3, a user L4 when the
// vCPU starts in user mode, an LDT within bounds, GDT frames that pass the descriptor
// rules) and only then writes the vCPU's record; a vCPU is initialised once (-EEXIST).
// Taking the last vCPU down shuts the domain down, as Xen does.
import ApusCore
import ApusPublic
import ArchX86
import X86Shim

enum VCPUHypercalls {
    static func vcpuOp(_ args: HypercallArguments) -> Int64 {
        let command = Int32(truncatingIfNeeded: args.a0)
        guard args.a1 < UInt64(PV.current.vcpuCount) else { return Errno.ENOENT }
        let v = Int(args.a1)
        let record = PV.vcpu(v)
        let isCaller = v == PerCPU.cpus[PerCPU.index].loadedVCPU
        switch command {
        case VCPUOP_initialise:
            return initialise(v, context: args.a2)
        case VCPUOP_up:
            guard record.pointee.isInitialised else { return Errno.EINVAL }
            if !record.pointee.isUp {
                record.pointee.isUp = true
                GuestTime.update(vcpuInfoMachineAddress: record.pointee.vcpuInfoMachineAddress)
                Scheduling.updateRunnable(v)
            }
            return 0
        case VCPUOP_down:
            var othersUp = false
            for other in 0..<PV.current.vcpuCount where other != v && PV.vcpu(other).pointee.isUp { othersUp = true }
            guard othersUp else { SchedHypercall.shutDownDom0(reason: ShutdownReason.powerOff.rawValue) }
            if record.pointee.isUp {
                record.pointee.isUp = false
                Scheduling.updateRunnable(v)
            }
            return 0
        case VCPUOP_is_up:
            return record.pointee.isUp ? 1 : 0
        case VCPUOP_get_runstate_info:
            var info = vcpu_runstate_info()
            // As Xen keeps it: a vCPU taken down while it waits stays "blocked" until the
            // wait ends; only then does it show offline.
            let waiting: Bool
            if case .none = record.pointee.wait { waiting = false } else { waiting = true }
            if Scheduling.cpuRunning(v) != nil {
                info.state = RUNSTATE_running
            } else if waiting {
                info.state = RUNSTATE_blocked
            } else if !record.pointee.isAwake {
                info.state = RUNSTATE_offline
            } else {
                info.state = RUNSTATE_runnable
            }
            info.state_entry_time = GuestTime.now
            return GuestMemory.write(info, to: args.a2) ? 0 : Errno.EFAULT
        case VCPUOP_set_singleshot_timer:
            guard isCaller else { return Errno.EINVAL }
            return GuestTimers.setSingleShot(v, args.a2)
        case VCPUOP_stop_singleshot_timer:
            guard isCaller else { return Errno.EINVAL }
            return GuestTimers.stopSingleShot(v)
        case VCPUOP_set_periodic_timer: return GuestTimers.setPeriodic(v, args.a2)
        case VCPUOP_stop_periodic_timer: return GuestTimers.stopPeriodic(v)
        case VCPUOP_register_runstate_memory_area:
            guard let area = GuestMemory.read(vcpu_register_runstate_memory_area.self, at: args.a2) else {
                return Errno.EFAULT
            }
            guard area.addr == 0 || GuestAddress.isAccessible(area.addr, length: 48) else { return Errno.EFAULT }
            record.pointee.runstateArea = area.addr
            if isCaller { RunstateArea.update(v) }
            return 0
        case VCPUOP_register_vcpu_info:
            guard let request = GuestMemory.read(vcpu_register_vcpu_info.self, at: args.a2) else { return Errno.EFAULT }
            guard UInt64(request.offset) + 64 <= 4096 else { return Errno.result(XEN_ENXIO) }   // Xen 4.17's answer
            guard PageTypes.isOwnedByCurrent(request.mfn) else { return Errno.EINVAL }
            let newAddress = request.mfn << 12 + UInt64(request.offset)
            let old = DirectMap.pointer(to: record.pointee.vcpuInfoMachineAddress, as: UInt8.self)
            DirectMap.pointer(to: newAddress, as: UInt8.self).update(from: old, count: 64)
            record.pointee.vcpuInfoMachineAddress = newAddress
            return 0
        default:
            return Errno.ENOSYS
        }
    }

    static let contextSize = UInt64(MemoryLayout<vcpu_guest_context>.size)

    /// Reads a field of the guest's vcpu_guest_context at `offset`.
    static func field<T>(_ type: T.Type, _ context: UInt64, _ offset: Int) -> T? {
        GuestMemory.read(type, at: context &+ UInt64(offset))
    }

    static func initialise(_ v: Int, context: UInt64) -> Int64 {
        guard GuestAddress.isAccessible(context, length: contextSize) else { return Errno.EFAULT }
        let record = PV.vcpu(v)
        let o = ContextOffsets.self
        guard let flags = field(UInt64.self, context, o.flags),
              let regs = field(cpu_user_regs.self, context, o.userRegs),
              let ldtBase = field(UInt64.self, context, o.ldtBase),
              let ldtEntries = field(UInt64.self, context, o.ldtEntries),
              let gdtEntries = field(UInt64.self, context, o.gdtEntries),
              let kernelSS = field(UInt64.self, context, o.kernelSS),
              let kernelSP = field(UInt64.self, context, o.kernelSP),
              let cr3 = field(UInt64.self, context, o.ctrlreg + 3 * 8),
              let userCR3 = field(UInt64.self, context, o.ctrlreg + 1 * 8),
              let eventCallback = field(UInt64.self, context, o.eventCallback),
              let failsafeCallback = field(UInt64.self, context, o.failsafeCallback),
              let syscallCallback = field(UInt64.self, context, o.syscallCallback),
              let fsBase = field(UInt64.self, context, o.fsBase),
              let gsBaseKernel = field(UInt64.self, context, o.gsBaseKernel),
              let gsBaseUser = field(UInt64.self, context, o.gsBaseUser)
        else { return Errno.EFAULT }
        guard !record.pointee.isInitialised else { return Errno.EEXIST }

        // arch_set_info_guest's checks, in its order where it matters.
        let canonical = VirtualAddress.isCanonical
        var fail = !canonical(regs.rip) || !canonical(regs.rsp) || !canonical(kernelSP)
        fail = fail || (ldtEntries != 0 && !canonical(ldtBase))
        fail = fail || !canonical(fsBase) || !canonical(gsBaseKernel) || !canonical(gsBaseUser)
        fail = fail || !canonical(eventCallback) || !canonical(syscallCallback) || !canonical(failsafeCallback)
        guard !fail else { return Errno.EINVAL }
        let inKernel = flags & UInt64(VGCF_in_kernel) != 0
        guard inKernel || userCR3 != 0 else { return Errno.EINVAL }
        guard ldtBase & 0xFFF == 0, ldtEntries <= 8192 else { return Errno.EINVAL }
        guard gdtEntries <= UInt64(SegmentDescriptors.guestGDTPages * 512) else { return Errno.EINVAL }
        var gdtFrames = InlineArray<14, UInt64>(repeating: 0)
        let gdtCount = Int((gdtEntries + 511) / 512)
        for index in 0..<gdtCount {
            guard let frame = field(UInt64.self, context, o.gdtFrames + index * 8) else { return Errno.EFAULT }
            gdtFrames[index] = frame
        }
        // The trap table, skipping empty entries (a zero address is "no handler").
        record.pointee.traps.clear()
        for vector in 0..<256 {
            guard let info = field(trap_info.self, context, o.trapContext + vector * 16) else { return Errno.EFAULT }
            guard info.address != 0 else { continue }
            guard canonical(info.address),
                  record.pointee.traps.set(vector: info.vector, flags: info.flags, codeSelector: info.cs,
                                           address: info.address) else { return Errno.EINVAL }
        }
        if flags & UInt64(VGCF_i387_valid) != 0 {
            let area = UnsafeMutableRawPointer(bitPattern: UInt(record.pointee.fpuArea)).unsafelyUnwrapped
            guard GuestMemory.read(area, from: context, count: 512) else { return Errno.EFAULT }
            record.pointee.fpuInitialised = true
        } else {
            record.pointee.fpuInitialised = false
        }

        // The base pointers take type references (as Xen's cr3 does); given back on failure.
        let kernelFrame = cr3 >> 12, userFrame = userCR3 >> 12
        guard PageTypes.isRAM(kernelFrame), PageTypes.isOwnedByCurrent(kernelFrame),
              PageTypes.getType(kernelFrame, level: 4) == 0 else { return Errno.EINVAL }
        if userFrame != 0 {
            guard PageTypes.isRAM(userFrame), PageTypes.isOwnedByCurrent(userFrame),
                  PageTypes.getType(userFrame, level: 4) == 0 else {
                PageTypes.putType(kernelFrame)
                return Errno.EINVAL
            }
        }
        guard SegmentDescriptors.installGDT(frames: gdtFrames, count: gdtCount, on: v) else {
            PageTypes.putType(kernelFrame)
            if userFrame != 0 { PageTypes.putType(userFrame) }
            return Errno.EINVAL
        }

        record.pointee.inKernelMode = inKernel
        record.pointee.kernelTableFrame = kernelFrame
        record.pointee.userTableFrame = userFrame
        Shadows.rootChanged(old: 0, new: kernelFrame)
        Shadows.rootChanged(old: 0, new: userFrame)
        record.pointee.kernelStackSegment = kernelSS & 3 == 0 ? kernelSS | 3 : kernelSS
        record.pointee.kernelStackPointer = kernelSP
        record.pointee.callbacks.event = eventCallback
        record.pointee.callbacks.failsafe = failsafeCallback
        record.pointee.callbacks.syscall = syscallCallback
        record.pointee.callbacks.syscallMasksEvents = flags & UInt64(VGCF_syscall_disables_events) != 0
        record.pointee.fsBase = fsBase
        record.pointee.gsBaseKernel = gsBaseKernel
        record.pointee.gsBaseUser = gsBaseUser
        record.pointee.ldtBase = ldtBase
        record.pointee.ldtEntries = Int(ldtEntries)
        record.pointee.iopl = regs.rflags & 0x3000
        record.pointee.dataSelectors = (ds: regs.ds, es: regs.es, fs: regs.fs, gs: regs.gs)
        // Ring-0 selectors are raised to RPL 3 (the guest kernel runs in ring 3); the real
        // interrupt flag is always on and IOPL 0, the guest's IOPL is virtual.
        let cs = UInt64(regs.cs), ss = UInt64(regs.ss)
        record.pointee.frame = x86_trap_frame(
            r15: regs.r15, r14: regs.r14, r13: regs.r13, r12: regs.r12, r11: regs.r11, r10: regs.r10,
            r9: regs.r9, r8: regs.r8, rbp: regs.rbp, rdi: regs.rdi, rsi: regs.rsi, rdx: regs.rdx, rcx: regs.rcx,
            rbx: regs.rbx, rax: regs.rax, vector: 0, error_code: 0, rip: regs.rip,
            cs: cs & 3 == 0 ? cs | 3 : cs, rflags: (regs.rflags & ~0x3000) | 0x202, rsp: regs.rsp,
            ss: ss & 3 == 0 ? ss | 3 : ss)
        record.pointee.isInitialised = true
        GuestTimers.startDefaultPeriodic(v)
        GuestTime.update(vcpuInfoMachineAddress: record.pointee.vcpuInfoMachineAddress)
        // VGCF_online marks it up without waking it (Xen 4.17 clears "down" and nothing
        // else): it stays offline, VCPUOP_up then has nothing to do, and only a down/up
        // cycle runs it. Without the flag it waits for VCPUOP_up.
        record.pointee.isUp = flags & UInt64(VGCF_online) != 0
        return 0
    }
}

/// Byte offsets in the 64-bit vcpu_guest_context (public/arch-x86/xen-x86_64.h).
enum ContextOffsets {
    static let flags = 512
    static let userRegs = 520
    static let trapContext = 720
    static let ldtBase = 4816
    static let ldtEntries = 4824
    static let gdtFrames = 4832
    static let gdtEntries = 4960
    static let kernelSS = 4968
    static let kernelSP = 4976
    static let ctrlreg = 4984
    static let eventCallback = 5112
    static let failsafeCallback = 5120
    static let syscallCallback = 5128
    static let fsBase = 5144
    static let gsBaseKernel = 5152
    static let gsBaseUser = 5160
}
