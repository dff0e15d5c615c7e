// A typed view of the register image boot/entry.S saves for each exception or interrupt.
import X86Shim

public struct TrapFrame {
    let frame: UnsafeMutablePointer<x86_trap_frame>

    public init(_ raw: UnsafeMutableRawPointer) {
        frame = raw.assumingMemoryBound(to: x86_trap_frame.self)
    }

    public var vector: Int { Int(frame.pointee.vector) }
    public var errorCode: UInt64 { frame.pointee.error_code }
    public var rip: UInt64 {
        get { frame.pointee.rip }
        nonmutating set { frame.pointee.rip = newValue }
    }
    public var cs: UInt64 {
        get { frame.pointee.cs }
        nonmutating set { frame.pointee.cs = newValue }
    }
    public var rflags: UInt64 {
        get { frame.pointee.rflags }
        nonmutating set { frame.pointee.rflags = newValue }
    }
    public var rsp: UInt64 {
        get { frame.pointee.rsp }
        nonmutating set { frame.pointee.rsp = newValue }
    }
    public var ss: UInt64 {
        get { frame.pointee.ss }
        nonmutating set { frame.pointee.ss = newValue }
    }
    public var rbp: UInt64 { frame.pointee.rbp }
    public var rax: UInt64 {
        get { frame.pointee.rax }
        nonmutating set { frame.pointee.rax = newValue }
    }
    public var rcx: UInt64 {
        get { frame.pointee.rcx }
        nonmutating set { frame.pointee.rcx = newValue }
    }
    public var r11: UInt64 {
        get { frame.pointee.r11 }
        nonmutating set { frame.pointee.r11 = newValue }
    }
    public var rbx: UInt64 {
        get { frame.pointee.rbx }
        nonmutating set { frame.pointee.rbx = newValue }
    }
    public var rdx: UInt64 {
        get { frame.pointee.rdx }
        nonmutating set { frame.pointee.rdx = newValue }
    }
    /// Hypercall arguments, in the PV ABI's order: rdi, rsi, rdx, r10, r8 (r9 for a sixth).
    public var hypercallArguments: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
        let f = frame.pointee
        return (f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9)
    }
    /// Xen's debug builds poison the argument registers a hypercall used; Apus keeps them.
    public func setArgument(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: frame.pointee.rdi = value
        case 1: frame.pointee.rsi = value
        case 2: frame.pointee.rdx = value
        case 3: frame.pointee.r10 = value
        case 4: frame.pointee.r8 = value
        default: frame.pointee.r9 = value
        }
    }
    /// Did the trap come from ring 0 (Apus itself) rather than a guest?
    public var fromHypervisor: Bool { cs & 3 == 0 }

    /// The general registers in the order Xen prints them.
    public func forEachRegister(_ body: (StaticString, UInt64) -> Void) {
        let f = frame.pointee
        body("rax", f.rax); body("rbx", f.rbx); body("rcx", f.rcx)
        body("rdx", f.rdx); body("rsi", f.rsi); body("rdi", f.rdi)
        body("rbp", f.rbp); body("rsp", f.rsp); body("r8", f.r8)
        body("r9", f.r9); body("r10", f.r10); body("r11", f.r11)
        body("r12", f.r12); body("r13", f.r13); body("r14", f.r14)
        body("r15", f.r15)
    }
}
