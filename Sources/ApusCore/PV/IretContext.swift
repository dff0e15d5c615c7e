// HYPERVISOR_iret: how a PV guest kernel returns from a bounced exception, event or
// system call. Its hypercall-page stub pushes RAX, R11, RCX; with the rest of the frame the
// guest stack then holds Xen's iret_context (lowest address first):
//     RAX, R11, RCX, FLAGS, RIP, CS, RFLAGS, RSP, SS
// FLAGS has VGCF_in_syscall when returning from a system call: then RCX and R11 are the
// guest's to clobber (sysret semantics) and are not restored. The event mask becomes
// the inverse of the saved RFLAGS.IF. Returning to a CS with RPL 3 returns to user mode.
// Pure: the caller reads the nine words from the guest stack.

public struct IretResult: Equatable {
    public var rax: UInt64
    public var rip: UInt64
    public var cs: UInt64
    public var rflags: UInt64
    public var rsp: UInt64
    public var ss: UInt64
    /// nil: keep the registers' current values (VGCF_in_syscall).
    public var rcx: UInt64?
    public var r11: UInt64?
    public var toUserMode: Bool
    public var upcallMask: UInt8
}

public enum Iret {
    public static let frameWords = 9
    public static let inSyscallFlag: UInt64 = 1 << 8   // VGCF_in_syscall

    /// `words`: the nine words at the guest's RSP. `iopl`: the vCPU's virtual IOPL.
    public static func decode(_ words: InlineArray<9, UInt64>, iopl: UInt64) -> IretResult {
        let flags = words[3]
        let savedRflags = words[6]
        let cs = words[5] | 3
        let inSyscall = flags & inSyscallFlag != 0
        return IretResult(
            rax: words[0],
            rip: words[4],
            cs: cs & 0xFFFF,
            rflags: (savedRflags & ~(3 << 12)) | (1 << 9),  // IF always on in the real flags
            rsp: words[7],
            ss: (words[8] | 3) & 0xFFFF,
            rcx: inSyscall ? nil : words[2],
            r11: inSyscall ? nil : words[1],
            toUserMode: words[5] & 3 == 3,
            upcallMask: savedRflags & (1 << 9) != 0 ? 0 : 1)
    }
}
