// A typed view of the register image boot/entry.S saves for each exception or interrupt.
import X86Shim

public struct TrapFrame {
    let frame: UnsafeMutablePointer<x86_trap_frame>

    public init(_ raw: UnsafeMutableRawPointer) {
        frame = raw.assumingMemoryBound(to: x86_trap_frame.self)
    }

    /// The frame's memory (saving and loading whole register sets on a vCPU switch).
    public var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(frame) }

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
    /// General register `number` in the instruction encoding's order (0 rax, 1 rcx, 2 rdx,
    /// 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8-15 r8-r15), for instruction emulation.
    public func register(_ number: Int) -> UInt64 {
        let f = frame.pointee
        switch number & 15 {
        case 0: return f.rax
        case 1: return f.rcx
        case 2: return f.rdx
        case 3: return f.rbx
        case 4: return f.rsp
        case 5: return f.rbp
        case 6: return f.rsi
        case 7: return f.rdi
        case 8: return f.r8
        case 9: return f.r9
        case 10: return f.r10
        case 11: return f.r11
        case 12: return f.r12
        case 13: return f.r13
        case 14: return f.r14
        default: return f.r15
        }
    }

    public func setRegister(_ number: Int, _ value: UInt64) {
        switch number & 15 {
        case 0: frame.pointee.rax = value
        case 1: frame.pointee.rcx = value
        case 2: frame.pointee.rdx = value
        case 3: frame.pointee.rbx = value
        case 4: frame.pointee.rsp = value
        case 5: frame.pointee.rbp = value
        case 6: frame.pointee.rsi = value
        case 7: frame.pointee.rdi = value
        case 8: frame.pointee.r8 = value
        case 9: frame.pointee.r9 = value
        case 10: frame.pointee.r10 = value
        case 11: frame.pointee.r11 = value
        case 12: frame.pointee.r12 = value
        case 13: frame.pointee.r13 = value
        case 14: frame.pointee.r14 = value
        default: frame.pointee.r15 = value
        }
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
