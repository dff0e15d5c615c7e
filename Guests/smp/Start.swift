// Start.swift: the initial context of a secondary vCPU (struct vcpu_guest_context for
// x86-64, VCPUOP_initialise) and vCPU 0's own per-vCPU set-up.
//
// A secondary shares vCPU 0's page tables (ctrlreg[3] = xen_pfn_to_cr3 of the bootstrap
// L4's machine frame, i.e. mfn << 12), starts in kernel mode (VGCF_in_kernel) at
// smp_secondary_entry on its own stack (smp_stacks slot = vCPU number), with rdi = its
// number and rsi = a magic value, flat selectors, its GS base at its record, the
// runtime's exception stubs as its virtual IDT except #BP (smp_breakpoint_entry, DPL 3),
// and the event, failsafe and syscall callbacks in the context. The context is built in
// smp_context (vCPU 0 only, one at a time).
import XenGuest
import XenGuestC
import ApusPublic
import SMPProbes

/// rsi of a secondary's first context, so the guest sees the registers were loaded.
func entryMagic(_ vcpu: Int) -> UInt64 { 0x5350_0000 &+ UInt64(vcpu) }

/// The machine frame of the L4 every vCPU runs on (the bootstrap one).
var rootTableFrame: UInt64 { Pages.machineFrame(ofVirtual: StartOfDay.startInfo.pointee.pt_base) }

/// Fills smp_context for `vcpu` and returns it.
func secondaryContext(_ vcpu: Int, flags: UInt64 = UInt64(VGCF_in_kernel)) -> UnsafeMutablePointer<vcpu_guest_context> {
    let context = smp_context_buffer()!
    let bytes = UnsafeMutableRawPointer(context).assumingMemoryBound(to: UInt8.self)
    for index in 0..<MemoryLayout<vcpu_guest_context>.size { bytes[index] = 0 }
    let top = smp_stack_top(UInt64(vcpu))
    context.pointee.flags = flags
    context.pointee.user_regs.rip = smp_secondary_entry_address()
    context.pointee.user_regs.rsp = top
    context.pointee.user_regs.rdi = UInt64(vcpu)
    context.pointee.user_regs.rsi = entryMagic(vcpu)
    context.pointee.user_regs.cs = UInt16(FLAT_KERNEL_CS)
    context.pointee.user_regs.ss = UInt16(FLAT_KERNEL_SS)
    context.pointee.user_regs.rflags = 0x202
    // The exception vectors the runtime's Traps.install registers for vCPU 0.
    for vector in UInt32(0)..<20 where vector != 2 && vector != 15 {
        smp_context_trap(context, vector).pointee = trap_info(
            vector: UInt8(vector), flags: vector == 4 ? 3 : 0, cs: UInt16(FLAT_KERNEL_CS), _pad: 0,
            address: Traps.entryAddress(vector: UInt8(vector)))
    }
    smp_context_trap(context, 3).pointee = trap_info(vector: 3, flags: 3, cs: UInt16(FLAT_KERNEL_CS), _pad: 0,
                                                     address: smp_breakpoint_entry_address())
    context.pointee.kernel_ss = UInt64(FLAT_KERNEL_SS)
    context.pointee.kernel_sp = top
    context.pointee.ctrlreg.3 = rootTableFrame << 12
    context.pointee.event_callback_eip = smp_event_entry_address()
    context.pointee.failsafe_callback_eip = xg_failsafe_entry_address()
    context.pointee.syscall_callback_eip = xg_syscall_entry_address()
    context.pointee.gs_base_kernel = Record(vcpu: vcpu).base
    return context
}

func initialise(_ vcpu: Int, _ context: UnsafeMutablePointer<vcpu_guest_context>) -> Int64 {
    vcpuOp(VCPUOP_initialise, UInt32(vcpu), UnsafeMutableRawPointer(context))
}

/// Every record's first word is its own address (what %gs:0 reads back).
func prepareRecords() {
    for vcpu in 0..<maxVCPUs { Record(vcpu: vcpu).store(.selfAddress, Record(vcpu: vcpu).base) }
}

/// vCPU 0's GS base at its record and its event callback at smp_event_entry.
func setUpVCPU0() -> (gsBase: Int64, callback: Int64) {
    let gs = HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_KERNEL), Record(vcpu: 0).base)
    let callback = Traps.registerCallback(type: UInt16(CALLBACKTYPE_event), address: smp_event_entry_address(),
                                          maskEvents: true)
    return (gs, callback)
}

/// The number of vCPUs: VCPUOP_is_up answers for 0, 1, ... until the first id that does
/// not exist. Returns that count and the answer for the first missing id.
func probeVCPUs() -> (count: Int, missingAnswer: Int64, downAnswers: Int) {
    var downs = 0
    var id: UInt32 = 1
    while id < 4096 {
        let answer = isUp(id)
        if answer < 0 { return (Int(id), answer, downs) }
        if answer == 0 { downs += 1 }
        id += 1
    }
    return (Int(id), 0, downs)
}
