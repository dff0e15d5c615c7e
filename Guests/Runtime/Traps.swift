// Traps.swift: the guest's virtual IDT and callbacks, and the Swift side of every trap.
//
// install() registers the exception vectors with set_trap_table (all pointing at the
// stubs of traps.S), maps shared_info (for cr2 and the event mask) and registers the
// event and failsafe callbacks so a stray upcall is recorded instead of crashing the
// domain. Each trap lands in dispatch(), which records it (vector, error code, the
// bounce frame, cr2, the registers) and then:
//  1. lets the guest's hook decide, if one is set and it returns true;
//  2. else applies the armed fixup if the trap's rip is the armed one (resume at
//     another rip, like a kernel's exception table);
//  3. else reports the unexpected trap as a FAIL verdict and powers off, so that a
//     wrong trap never loops or hangs a test.
// Single vCPU; a trap inside a handler is a failure. No heap: the hook is a C
// function pointer, the record a struct.
import XenGuestC
import ApusPublic

/// One trap as the handler saw it.
public struct TrapRecord {
    /// The vector (0-255) or XG_VECTOR_EVENT / _SYSCALL / _FAILSAFE.
    public var vector: UInt32
    /// Whether the hypervisor pushed an error code.
    public var hasErrorCode: Bool
    /// The frame as it arrived: registers, error code, rip, cs, rflags, rsp, ss.
    public var frame: xg_trap_frame
    /// vcpu_info.arch.cr2 at entry (0 until shared_info is mapped).
    public var cr2: UInt64
    /// vcpu_info.evtchn_upcall_mask at entry (the handler's own event mask).
    public var upcallMask: UInt8
    /// Address of the bounce frame: where the hypervisor wrote its RCX slot.
    public var bounceFrameAddress: UInt64

    public var errorCode: UInt64 { frame.error_code }
    public var rip: UInt64 { frame.rip }
    /// The selector part of the CS slot.
    public var cs: UInt64 { frame.cs & 0xFFFF }
    /// Bits 32-39 of the CS slot: the event mask before the bounce.
    public var savedUpcallMask: UInt64 { (frame.cs >> 32) & 0xFF }
    public var rflags: UInt64 { frame.rflags }
    public var rsp: UInt64 { frame.rsp }
    public var ss: UInt64 { frame.ss }

    /// No trap (vector 0xFFFF).
    public static let empty = TrapRecord(vector: 0xFFFF, hasErrorCode: false, frame: xg_trap_frame(), cr2: 0,
                                  upcallMask: 0, bounceFrameAddress: 0)
}

public typealias TrapHook = @convention(c) (UnsafeMutablePointer<xg_trap_frame>) -> Bool

public enum Traps {
    public static let divideError: UInt8 = 0
    public static let debug: UInt8 = 1
    public static let breakpoint: UInt8 = 3
    public static let overflow: UInt8 = 4
    public static let invalidOpcode: UInt8 = 6
    public static let generalProtection: UInt8 = 13
    public static let pageFault: UInt8 = 14
    /// Kernel-mode selectors as the bounce frame shows them (RPL cleared) and user ones.
    public static let kernelCS: UInt64 = UInt64(FLAT_KERNEL_CS) & ~3
    public static let userCS: UInt64 = UInt64(FLAT_USER_CS)
    public static let flatSS: UInt64 = UInt64(FLAT_KERNEL_SS)
    public static let rflagsIF: UInt64 = 1 << 9

    nonisolated(unsafe) private static var guest: StaticString = "guest"
    nonisolated(unsafe) private static var depth = 0
    nonisolated(unsafe) private static var armedRIP: UInt64 = 0
    nonisolated(unsafe) private static var resumeRIP: UInt64 = 0
    /// Traps recorded (events excluded) and events received.
    nonisolated(unsafe) public private(set) static var count = 0
    nonisolated(unsafe) public private(set) static var eventCount = 0
    nonisolated(unsafe) public private(set) static var last = TrapRecord.empty
    /// Called first for every trap but events; returning true means "handled".
    nonisolated(unsafe) public static var hook: TrapHook? = nil

    /// The exception vectors install() registers (one bit per vector: 0-1, 3-14,
    /// 16-19; NMI has its own callback, 15 is reserved). #BP and #OF get DPL 3, as a
    /// kernel makes them, so `int3` and `into` work; the rest DPL 0 (hardware only).
    static let exceptionVectors: UInt32 = 0x000F_7FFB
    static func defaultDPL(_ vector: UInt8) -> UInt8 { vector == 3 || vector == 4 ? 3 : 0 }

    /// The stub for a vector (what a trap_info entry points at).
    public static func entryAddress(vector: UInt8) -> UInt64 { xg_trap_entry_address(UInt32(vector)) }

    /// Registers the exception vectors and the event and failsafe callbacks, maps
    /// shared_info. Returns the first non-zero hypercall result, or 0. Like setGate,
    /// it builds the table in Scratch (overwriting what a caller kept there).
    @discardableResult
    public static func install(guest name: StaticString) -> Int64 {
        guest = name
        xg_trap_handler = xgTrapDispatch
        let mapped = SharedInfo.map()
        if mapped != 0 { return mapped }
        let table = Scratch.raw.bindMemory(to: trap_info.self, capacity: 33)
        var index = 0
        for vector in UInt8(0)..<32 where exceptionVectors & (1 << UInt32(vector)) != 0 {
            table[index] = trap_info(vector: vector, flags: defaultDPL(vector), cs: UInt16(FLAT_KERNEL_CS),
                                     _pad: 0, address: entryAddress(vector: vector))
            index += 1
        }
        table[index] = trap_info(vector: 0, flags: 0, cs: 0, _pad: 0, address: 0)
        let result = HYPERVISOR_set_trap_table(table)
        if result != 0 { return result }
        let event = registerCallback(type: UInt16(CALLBACKTYPE_event), address: xg_event_entry_address(),
                                     maskEvents: true)
        if event != 0 { return event }
        return registerCallback(type: UInt16(CALLBACKTYPE_failsafe), address: xg_failsafe_entry_address(),
                                maskEvents: true)
    }

    /// Sets one vector of the virtual IDT (set_trap_table with a one-entry table: the
    /// other vectors keep what they had).
    @discardableResult
    public static func setGate(vector: UInt8, dpl: UInt8, maskEvents: Bool = false) -> Int64 {
        let table = Scratch.raw.bindMemory(to: trap_info.self, capacity: 2)
        table[0] = trap_info(vector: vector, flags: (dpl & UInt8(TI_DPL_MASK)) | (maskEvents ? UInt8(TI_MASK_EVENTS) : 0),
                             cs: UInt16(FLAT_KERNEL_CS), _pad: 0, address: entryAddress(vector: vector))
        table[1] = trap_info(vector: 0, flags: 0, cs: 0, _pad: 0, address: 0)
        return HYPERVISOR_set_trap_table(table)
    }

    @discardableResult
    public static func registerCallback(type: UInt16, address: UInt64, maskEvents: Bool) -> Int64 {
        var request = callback_register(type: type, flags: maskEvents ? UInt16(CALLBACKF_mask_events) : 0,
                                        _pad: 0, address: address)
        return HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), &request)
    }

    /// Registers the syscall callback (user-mode `syscall` lands in xg_syscall_entry).
    @discardableResult
    public static func registerSyscallCallback(maskEvents: Bool) -> Int64 {
        registerCallback(type: UInt16(CALLBACKTYPE_syscall), address: xg_syscall_entry_address(),
                         maskEvents: maskEvents)
    }

    /// The kernel stack the hypervisor switches to when a trap comes from user mode.
    public static var kernelStackTop: UInt64 { xg_kernel_stack_top_address() }

    /// stack_switch(FLAT_KERNEL_SS, kernelStackTop).
    @discardableResult
    public static func switchStack() -> Int64 {
        HYPERVISOR_stack_switch(UInt64(FLAT_KERNEL_SS), kernelStackTop)
    }

    /// The next trap at `faultRIP` resumes at `resumeRIP` (once).
    public static func arm(faultAt faultRIP: UInt64, resumeAt: UInt64) {
        armedRIP = faultRIP
        resumeRIP = resumeAt
    }

    public static func disarm() { armedRIP = 0; resumeRIP = 0 }

    /// Reads 8 bytes that may not be mapped; nil if the read faulted (Traps.last then
    /// describes the fault). Needs install().
    public static func read(_ address: UInt64) -> UInt64? {
        arm(faultAt: xg_try_read_access_address(), resumeAt: xg_try_fixup_address())
        var value: UInt64 = 0
        let faulted = xg_try_read(address, &value) != 0
        disarm()
        return faulted ? nil : value
    }

    /// Writes 8 bytes where a write may fault; false if it faulted. Needs install().
    public static func write(_ address: UInt64, _ value: UInt64) -> Bool {
        arm(faultAt: xg_try_write_access_address(), resumeAt: xg_try_fixup_address())
        let faulted = xg_try_write(address, value) != 0
        disarm()
        return !faulted
    }

    /// For a hook: make the pending iret resume the kernel in xg_enter_user's caller,
    /// which gets `result` as xg_enter_user's return value.
    public static func returnToKernel(_ frame: UnsafeMutablePointer<xg_trap_frame>, result: UInt64) {
        frame.pointee.rax = result
        frame.pointee.rip = xg_user_exit_address()
        frame.pointee.cs = kernelCS
        frame.pointee.rflags &= ~rflagsIF   // events stay masked in the kernel
        frame.pointee.rsp = xg_user_return_rsp
        frame.pointee.ss = flatSS
    }

    static func dispatch(_ frame: UnsafeMutablePointer<xg_trap_frame>) {
        let vector = UInt32(frame.pointee.vector & UInt64(XG_VECTOR_MASK))
        let hasErrorCode = frame.pointee.vector & UInt64(XG_TRAP_HAS_ERROR_CODE) != 0
        if vector == UInt32(XG_VECTOR_EVENT) {
            // Nothing binds event channels here: note the upcall and clear it.
            eventCount += 1
            if SharedInfo.isMapped { SharedInfo.vcpu0.pointee.evtchn_upcall_pending = 0 }
            return
        }
        depth += 1
        if depth > 1 { fail("trap inside a trap handler", frame) }
        let ripSlot = UInt64(UInt(bitPattern: frame)) &+ UInt64(MemoryLayout<xg_trap_frame>.offset(of: \.rip)!)
        var record = TrapRecord(vector: vector, hasErrorCode: hasErrorCode, frame: frame.pointee, cr2: 0,
                                upcallMask: 0, bounceFrameAddress: ripSlot &- (hasErrorCode ? 24 : 16))
        if SharedInfo.isMapped {
            record.cr2 = SharedInfo.vcpu0.pointee.arch.cr2
            record.upcallMask = SharedInfo.vcpu0.pointee.evtchn_upcall_mask
        }
        last = record
        count += 1
        if let hook, hook(frame) {
            depth -= 1
            return
        }
        if armedRIP != 0 && frame.pointee.rip == armedRIP {
            frame.pointee.rip = resumeRIP
            disarm()
            depth -= 1
            return
        }
        fail("unexpected trap", frame)
    }

    private static func fail(_ what: StaticString, _ frame: UnsafeMutablePointer<xg_trap_frame>) -> Never {
        Console.flush()
        Console.write("guest: ")
        Console.write(what)
        Console.write(": vector ")
        Console.write(hex: frame.pointee.vector)
        Console.write(" error ")
        Console.write(hex: frame.pointee.error_code)
        Console.write(" rip ")
        Console.write(hex: frame.pointee.rip)
        Console.write(" cs ")
        Console.write(hex: frame.pointee.cs)
        Console.write(" rsp ")
        Console.write(hex: frame.pointee.rsp)
        Console.write(" cr2 ")
        Console.write(hex: SharedInfo.isMapped ? SharedInfo.vcpu0.pointee.arch.cr2 : 0)
        Console.newline()
        Console.write("APUS-TEST ")
        Console.write(guest)
        Console.write(": FAIL ")
        Console.write(what)
        Console.write(" (vector ")
        Console.write(unsigned: frame.pointee.vector & UInt64(XG_VECTOR_MASK))
        Console.write(")\n")
        Power.off()
    }
}

/// What traps.S calls (through xg_trap_handler) with the frame it built.
func xgTrapDispatch(_ frame: UnsafeMutablePointer<xg_trap_frame>?) {
    Traps.dispatch(frame!)
}
