// The hardware side of running a PV guest: the syscall MSRs, the stack Apus takes when a
// guest traps, entering a guest with a full register image, and fault-safe copies of
// guest memory. Policy (what a hypercall does, where a fault is bounced) is in Apus.
import ApusCore
import X86Shim

public enum GuestEntry {
    /// Syscalls arrive at apus_syscall_entry on Apus's code selector; sysret (unused yet)
    /// and the CPU's selector arithmetic give FLAT_RING3_CS64/SS64 (STAR[63:48] = 0xe023).
    public static func installSyscall(cpu: Int) {
        CPU.writeMSR(MSR.efer, CPU.readMSR(MSR.efer) | 1)  // SCE
        CPU.writeMSR(MSR.star, UInt64(Selector.ring3Code32) << 48 | UInt64(Selector.hypervisorCode64) << 32)
        CPU.writeMSR(MSR.lstar, x86_syscall_entry(UInt32(cpu)))
        CPU.writeMSR(MSR.cstar, x86_syscall32_entry(UInt32(cpu)))
        // Interrupts, traps, direction, alignment checks and nested-task off on entry.
        CPU.writeMSR(MSR.fmask, (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18) | (1 << 14))
    }

    /// The stack a trap from ring 3 (TSS.RSP0) and a syscall both start on.
    public static func setEntryStack(top: UInt64, cpu: Int) {
        DescriptorTables.setKernelStack(top, cpu: cpu)
        x86_set_guest_entry_stack(UInt32(cpu), top)
    }

    /// Loads every register from `registers` and irets into the guest. The frame is built
    /// at the top of the entry stack, where the guest's next trap will put its own.
    public static func enter(_ registers: GuestRegisters, entryStackTop: UInt64) -> Never {
        let frame = UnsafeMutablePointer<x86_trap_frame>(
            bitPattern: UInt(entryStackTop) - UInt(MemoryLayout<x86_trap_frame>.size)).unsafelyUnwrapped
        registers.store(into: frame)
        apus_enter_guest(frame)
    }

    /// Copies `count` bytes between Apus and guest memory with the guest's page tables
    /// loaded. Returns the number of bytes NOT copied (a fault stops the copy).
    public static func copy(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, count: Int) -> Int {
        Int(apus_copy_guest(destination, source, UInt64(count)))
    }

    /// Loads the guest's user %gs selector (its base becomes the user GS base). False
    /// when the selector could not be loaded and the null selector was loaded instead.
    public static func loadUserGS(_ selector: UInt16) -> Bool { apus_load_user_gs(selector) }

    /// Address of the iretq every return to a guest goes through.
    public static var guestIretAddress: UInt64 { x86_guest_iret() }

    /// If a #GP or #NP hit the user-%gs load, where to resume instead.
    public static func segmentLoadFixup(for rip: UInt64) -> UInt64? {
        rip == x86_load_gs_insn() ? x86_load_gs_fault() : nil
    }

    /// If a page fault hit inside the guest-copy routine, where to resume instead.
    public static func copyFaultFixup(for rip: UInt64) -> UInt64? {
        if rip == x86_copy_guest_quads() { return x86_copy_guest_quads_fault() }
        if rip == x86_copy_guest_bytes() { return x86_copy_guest_bytes_fault() }
        return nil
    }
}

/// A full set of guest registers, as saved on a trap and restored on entry.
public struct GuestRegisters {
    public var rax: UInt64 = 0, rbx: UInt64 = 0, rcx: UInt64 = 0, rdx: UInt64 = 0
    public var rsi: UInt64 = 0, rdi: UInt64 = 0, rbp: UInt64 = 0, rsp: UInt64 = 0
    public var r8: UInt64 = 0, r9: UInt64 = 0, r10: UInt64 = 0, r11: UInt64 = 0
    public var r12: UInt64 = 0, r13: UInt64 = 0, r14: UInt64 = 0, r15: UInt64 = 0
    public var rip: UInt64 = 0, cs: UInt64 = 0, rflags: UInt64 = 0, ss: UInt64 = 0

    public init() {}

    func store(into frame: UnsafeMutablePointer<x86_trap_frame>) {
        frame.pointee = x86_trap_frame(
            r15: r15, r14: r14, r13: r13, r12: r12, r11: r11, r10: r10, r9: r9, r8: r8,
            rbp: rbp, rdi: rdi, rsi: rsi, rdx: rdx, rcx: rcx, rbx: rbx, rax: rax,
            vector: 0, error_code: 0, rip: rip, cs: cs, rflags: rflags, rsp: rsp, ss: ss)
    }
}

/// The CPU state a guest vCPU owns beyond its registers, saved and loaded when a CPU
/// switches between vCPUs: FPU/SSE (boot/guest_state.S) and the data selectors.
public enum GuestCPUState {
    /// fxsave into the 16-byte-aligned 512-byte area at `area` (CR0.TS cleared first).
    public static func saveFPU(_ area: UInt64) {
        CPU.clearTaskSwitched()
        apus_fpu_save(UnsafeMutableRawPointer(bitPattern: UInt(area)))
    }

    public static func restoreFPU(_ area: UInt64) {
        CPU.clearTaskSwitched()
        apus_fpu_restore(UnsafeRawPointer(bitPattern: UInt(area)))
    }

    /// A fresh FPU: FCW 0x37f, MXCSR 0x1f80, empty stack.
    public static func resetFPU() {
        CPU.clearTaskSwitched()
        apus_fpu_reset()
    }

    public static var dataSelectors: (ds: UInt16, es: UInt16, fs: UInt16, gs: UInt16) {
        (x86_read_ds(), x86_read_es(), x86_read_fs(), x86_read_gs())
    }

    /// Loads ds, es, fs, gs (fs/gs bases must be written afterwards: a load resets them).
    public static func loadDataSelectors(_ s: (ds: UInt16, es: UInt16, fs: UInt16, gs: UInt16)) {
        apus_load_data_selectors(s.ds, s.es, s.fs, s.gs)
    }

    /// A #GP/#NP/#SS at one of the selector loads: make that selector null and retry.
    public static func selectorLoadFixup(_ frame: TrapFrame) -> Bool {
        let rip = frame.rip, start = x86_selector_loads_start()
        guard rip >= start && rip < x86_selector_loads_end() else { return false }
        switch (rip - start) / 5 {
        case 0: frame.frame.pointee.rdi = 0
        case 1: frame.frame.pointee.rsi = 0
        case 2: frame.frame.pointee.rdx = 0
        default: frame.frame.pointee.rcx = 0
        }
        return true
    }
}
