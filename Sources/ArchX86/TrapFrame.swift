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
    public var cs: UInt64 { frame.pointee.cs }
    public var rflags: UInt64 { frame.pointee.rflags }
    public var rsp: UInt64 { frame.pointee.rsp }
    public var ss: UInt64 { frame.pointee.ss }
    public var rbp: UInt64 { frame.pointee.rbp }
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
