// The hypercall table: one place that maps a hypercall number to its handler.
//
// A 64-bit PV guest kernel makes a hypercall with `syscall` from its hypercall page:
// number in rax, arguments in rdi, rsi, rdx, r10, r8, result in rax (a negative errno on
// failure). Every handler has the same shape, `(arguments) -> Int64`; handlers decode and
// check their arguments before changing anything, and anything they cannot do returns
// Xen's errno. An unknown number returns -ENOSYS, as Xen does. `iret` is the one call
// that rewrites the whole register frame rather than returning a value.
import ApusCore
import ApusPublic
import ArchX86

struct HypercallArguments {
    var a0: UInt64, a1: UInt64, a2: UInt64, a3: UInt64, a4: UInt64, a5: UInt64

    init(_ t: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) {
        a0 = t.0; a1 = t.1; a2 = t.2; a3 = t.3; a4 = t.4; a5 = t.5
    }
}

enum Errno {
    static func result(_ errno: Int32) -> Int64 { -Int64(errno) }
    static let ENOSYS = result(XEN_ENOSYS), EFAULT = result(XEN_EFAULT), EINVAL = result(XEN_EINVAL)
    static let EPERM = result(XEN_EPERM), ENOENT = result(XEN_ENOENT), ESRCH = result(XEN_ESRCH)
    static let E2BIG = result(XEN_E2BIG), EBUSY = result(XEN_EBUSY), ENOMEM = result(XEN_ENOMEM)
    static let EOPNOTSUPP = result(XEN_EOPNOTSUPP), EEXIST = result(XEN_EEXIST)
}

enum Hypercalls {
    /// Called from the syscall path when the guest was in kernel mode.
    static func dispatch(_ frame: TrapFrame) {
        let number = frame.rax
        if number == UInt64(__HYPERVISOR_iret) {
            GuestIret.perform(frame)
            return
        }
        let result = perform(number: number, HypercallArguments(frame.hypercallArguments), frame: frame)
        if Continuations.apply(to: frame, number: number) { return }
        frame.rax = UInt64(bitPattern: result)
    }

    /// `frame` is nil inside a multicall (calls that need the caller's registers refuse).
    static func perform(number: UInt64, _ args: HypercallArguments, frame: TrapFrame?) -> Int64 {
        guard number < 64 else { return Errno.ENOSYS }
        switch Int32(truncatingIfNeeded: number) {
        case __HYPERVISOR_console_io: return ConsoleHypercall.perform(args)
        case __HYPERVISOR_xen_version: return VersionHypercall.perform(args)
        case __HYPERVISOR_sched_op: return SchedHypercall.perform(args)
        case __HYPERVISOR_set_trap_table: return CPUHypercalls.setTrapTable(args)
        case __HYPERVISOR_stack_switch: return CPUHypercalls.stackSwitch(args)
        case __HYPERVISOR_set_callbacks: return CPUHypercalls.setCallbacks(args)
        case __HYPERVISOR_callback_op: return CPUHypercalls.callbackOp(args)
        case __HYPERVISOR_fpu_taskswitch: return CPUHypercalls.fpuTaskSwitch(args)
        case __HYPERVISOR_set_segment_base: return CPUHypercalls.setSegmentBase(args)
        case __HYPERVISOR_vm_assist: return CPUHypercalls.vmAssist(args)
        case __HYPERVISOR_vcpu_op: return VCPUHypercalls.vcpuOp(args)
        case __HYPERVISOR_multicall: return Multicall.perform(args)
        case __HYPERVISOR_memory_op: return MemoryHypercalls.memoryOp(args)
        case __HYPERVISOR_update_va_mapping: return MemoryHypercalls.updateVAMapping(args)
        case __HYPERVISOR_update_va_mapping_otherdomain: return MemoryHypercalls.updateVAMappingOtherDomain(args)
        case __HYPERVISOR_domctl: return Domctl.perform(args)
        case __HYPERVISOR_mmuext_op: return MemoryHypercalls.mmuextOp(args)
        case __HYPERVISOR_mmu_update: return MMUUpdateHypercall.perform(args)
        case __HYPERVISOR_physdev_op: return PhysdevHypercall.perform(args)
        case __HYPERVISOR_event_channel_op: return Events.hypercall(args)
        case __HYPERVISOR_grant_table_op: return GrantTable.perform(args)
        case __HYPERVISOR_set_gdt: return SegmentDescriptors.setGDT(args)
        case __HYPERVISOR_set_timer_op: return GuestTimers.setTimerOp(args)
        case __HYPERVISOR_update_descriptor: return SegmentDescriptors.updateDescriptor(args)
        default: return Errno.ENOSYS
        }
    }
}

/// A batch of hypercalls: an array of multicall_entry {op, result, args[6]} in guest
/// memory. Each entry's result is written back; the batch itself returns 0, or -EFAULT if
/// the array cannot be read. A nested multicall or an iret inside one is refused.
enum Multicall {
    static let entrySize = MemoryLayout<multicall_entry>.size

    static func perform(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, count = args.a1
        // No bound on the count but the guest's memory: the first entry Apus cannot read
        // ends the call with -EFAULT, as on Xen. Entries run to completion: a continuation could not resume inside the list.
        Continuations.allowed = false
        defer { Continuations.allowed = true }
        var index: UInt64 = 0
        while index < count {
            let address = list &+ index &* UInt64(entrySize)
            guard var entry = GuestMemory.read(multicall_entry.self, at: address) else { return Errno.EFAULT }
            let callArgs = HypercallArguments((entry.args.0, entry.args.1, entry.args.2, entry.args.3,
                                               entry.args.4, entry.args.5))
            let result: Int64
            if entry.op == UInt64(__HYPERVISOR_multicall) || entry.op == UInt64(__HYPERVISOR_iret) {
                result = Errno.EINVAL
            } else {
                result = Hypercalls.perform(number: entry.op, callArgs, frame: nil)
            }
            entry.result = UInt64(bitPattern: result)
            guard GuestMemory.write(entry.result, to: address + UInt64(MemoryLayout<multicall_entry>.offset(of: \.result)!))
            else { return Errno.EFAULT }
            index += 1
        }
        return 0
    }
}
