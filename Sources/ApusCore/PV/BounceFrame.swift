// Delivering an exception, event or system call to a 64-bit PV guest kernel: the frame
// Apus writes on the guest kernel's stack and the registers the guest resumes with.
//
// The guest kernel runs in ring 3, so the CPU cannot deliver to it directly: Apus takes
// the trap and "bounces" it. The frame (lowest address first) is
//     RCX, R11, [error code,] RIP, CS, RFLAGS, RSP, SS
// as the PV ABI defines it. CS carries the interrupted context's selector with RPL 0
// when the guest was in kernel mode (so the guest tells kernel from user by CS & 3), and
// the vCPU's saved event mask in bits 32-39. RFLAGS.IF shows whether events were
// unmasked. When the guest was in user mode, Apus first switches it to kernel mode
// (page tables included) and uses the kernel stack it registered with stack_switch.
// Pure: the caller writes `words` to the guest stack and loads `resume`.

public struct InterruptedContext: Equatable {
    public var rip: UInt64
    public var cs: UInt64
    public var rflags: UInt64
    public var rsp: UInt64
    public var ss: UInt64
    public var rcx: UInt64
    public var r11: UInt64

    public init(rip: UInt64, cs: UInt64, rflags: UInt64, rsp: UInt64, ss: UInt64, rcx: UInt64, r11: UInt64) {
        self.rip = rip; self.cs = cs; self.rflags = rflags; self.rsp = rsp; self.ss = ss
        self.rcx = rcx; self.r11 = r11
    }
}

public struct BounceRequest: Equatable {
    public var handler: UInt64
    public var errorCode: UInt64?
    /// Mask events while the handler runs (trap_info flag 4, or an event callback).
    public var masksEvents: Bool

    public init(handler: UInt64, errorCode: UInt64? = nil, masksEvents: Bool) {
        self.handler = handler; self.errorCode = errorCode; self.masksEvents = masksEvents
    }
}

public struct BounceFrame {
    /// Where the frame starts on the guest stack (the new RSP).
    public var stackPointer: UInt64
    /// The frame's words, lowest address first (7 or 8 of them).
    public var words: InlineArray<8, UInt64>
    public var wordCount: Int
    /// The guest resumes at the handler, in kernel mode, on the frame.
    public var resume: InterruptedContext
    /// The guest must be switched to kernel mode (it was in user mode).
    public var switchesToKernelMode: Bool
    /// The vCPU's event mask after delivery.
    public var upcallMaskAfter: UInt8
}

public enum BounceError: Error, Equatable {
    /// No handler registered for this vector/callback.
    case noHandler
    /// The stack the frame would go on is in Apus's slot or not canonical.
    case badStack(UInt64)
}

public enum Bounce {
    public static let flatKernelCS: UInt64 = 0xE033
    public static let flatKernelSS: UInt64 = 0xE02B
    static let interruptFlag: UInt64 = 1 << 9
    static let ioplMask: UInt64 = 3 << 12
    /// TF, NT, RF, VM and AC are cleared on delivery, as a CPU does for a trap gate.
    static let clearedOnDelivery: UInt64 = (1 << 8) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 18)

    public static func make(
        interrupted: InterruptedContext, inKernelMode: Bool, kernelStackPointer: UInt64,
        upcallMask: UInt8, iopl: UInt64, request: BounceRequest
    ) throws(BounceError) -> BounceFrame {
        guard request.handler != 0 else { throw .noHandler }
        var stack = inKernelMode ? interrupted.rsp : kernelStackPointer
        stack &= ~0xF
        let size: UInt64 = request.errorCode == nil ? 7 * 8 : 8 * 8
        guard stack >= size, GuestAddress.isAccessible(stack - size, length: size) else {
            throw .badStack(stack)
        }
        let frameCS = (inKernelMode ? interrupted.cs & ~3 : interrupted.cs) & 0xFFFF
        let savedCS = frameCS | UInt64(upcallMask) << 32
        let savedFlags = (interrupted.rflags & ~(interruptFlag | ioplMask))
            | (upcallMask == 0 ? interruptFlag : 0) | (iopl & ioplMask)

        var words = InlineArray<8, UInt64>(repeating: 0)
        var count = 0
        func push(_ word: UInt64) { words[count] = word; count += 1 }
        push(interrupted.rcx)
        push(interrupted.r11)
        if let code = request.errorCode { push(code) }
        push(interrupted.rip)
        push(savedCS)
        push(savedFlags)
        push(interrupted.rsp)
        push(interrupted.ss)

        let newStack = stack - size
        let resume = InterruptedContext(
            rip: request.handler, cs: flatKernelCS,
            rflags: (interrupted.rflags & ~clearedOnDelivery) | interruptFlag,
            rsp: newStack, ss: flatKernelSS, rcx: interrupted.rcx, r11: interrupted.r11)
        return BounceFrame(stackPointer: newStack, words: words, wordCount: count, resume: resume,
                           switchesToKernelMode: !inKernelMode,
                           upcallMaskAfter: request.masksEvents ? 1 : upcallMask)
    }
}
