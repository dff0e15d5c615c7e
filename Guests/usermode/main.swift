// usermode: a PV kernel enters its user mode and is re-entered from it by a system
// call, a software interrupt and a page fault.
//
// Steps:
//  1. Install the trap table, the syscall callback (CALLBACKF_mask_events), a DPL-3
//     gate for int $0x80, and stack_switch(FLAT_KERNEL_SS, kernel stack top): the
//     stack the hypervisor puts frames on when a trap comes from user mode.
//  2. Build a separate user page table from pool pages: L4[0] -> L3[0] -> L2[2] -> L1
//     with L1[0] = the user program's frame read-only at 0x400000 and L1[1] = a stack
//     page read-write at 0x401000. Remap the four table pages read-only, then make the
//     L4 the user base pointer (MMUEXT_NEW_USER_BASEPTR).
//  3. HYPERVISOR_iret to user mode (xg_enter_user: CS FLAT_USER_CS, RPL 3, IF set so
//     events are unmasked in user mode). The program (user.S) makes a `syscall`, an
//     `int $0x80`, reads an unmapped address, then makes an exit `syscall`. The hook
//     records each frame and returns to user mode with HYPERVISOR_iret, except for the
//     exit, which resumes the kernel after xg_enter_user (Traps.returnToKernel).
//  4. Check everything the frames and the results say.
//
// Facts Xen 4.17 showed (the spec Apus must meet):
//  - NEW_USER_BASEPTR with the L4 still mapped writable: -EINVAL; once it is the user
//    base pointer, mapping it writable: -EBUSY. Validation writes the hypervisor's
//    slots into the guest's L4 page: 258, 260, 261, 262 are non-zero afterwards (mask
//    0x74 of slots 256-271), while the bootstrap kernel L4 also has 256, the read-only
//    M2P (0x75). Printed as info: what the slots hold is the hypervisor's business.
//  - A trap from user mode switches to kernel mode and the kernel page table, and puts
//    the frame at the stack_switch stack top (16-byte aligned) minus 7 words, 8 with
//    an error code: RCX, R11, [error], RIP, CS, RFLAGS, RSP, SS. CS is FLAT_USER_CS
//    (0xe033, RPL 3: user mode), SS FLAT_USER_SS (0xe02b), RSP the user rsp.
//  - syscall: RIP = RCX = the instruction after the syscall, R11 = the user rflags;
//    the event mask was 0 in user mode (CS bits 32-39 = 0, RFLAGS.IF = 1) and the
//    callback runs with events masked (CALLBACKF_mask_events). Other registers reach
//    the kernel unchanged; after the iret back, the user sees rax from the handler, and
//    rcx/r11 as the frame gave them.
//  - int $0x80 (DPL 3): vector 0x80, no error code, RIP = after the int; the handler
//    runs with events unmasked (the gate has no TI_MASK_EVENTS).
//  - #PF: error code 4 (user, read, not present), cr2 = the address, RIP = the load.
//  - The iret from the exit handler to kernel mode (CS with RPL 0) keeps the kernel
//    page table and, with IF clear, masks events again.
import XenGuest
import XenGuestC
import ApusPublic
import UserProgram

private func userAddress(_ offset: UInt64) -> UInt64 { UInt64(USER_CODE_VA) &+ offset }

nonisolated(unsafe) private var syscallRecord = TrapRecord.empty
nonisolated(unsafe) private var int80Record = TrapRecord.empty
nonisolated(unsafe) private var faultRecord = TrapRecord.empty
nonisolated(unsafe) private var exitRecord = TrapRecord.empty
nonisolated(unsafe) private var unexpected = 0

private let userHook: TrapHook = { frame in
    let record = Traps.last
    switch record.vector {
    case UInt32(XG_VECTOR_SYSCALL) where frame.pointee.rax == UInt64(USER_CALL_EXIT):
        exitRecord = record
        Traps.returnToKernel(frame, result: UInt64(USER_CALL_EXIT))
    case UInt32(XG_VECTOR_SYSCALL):
        syscallRecord = record
        frame.pointee.rax &+= 1
    case 0x80:
        int80Record = record
        frame.pointee.rax &+= 0x10
    case UInt32(Traps.pageFault) where frame.pointee.rip == userAddress(user_fault_offset()):
        faultRecord = record
        frame.pointee.rip = userAddress(user_fault_next_offset())
    default:
        unexpected += 1
        return false
    }
    return true
}

/// The frame checks every user-mode entry shares.
private func checkUserFrame(_ report: inout TestReport, _ record: TrapRecord, vector: UInt32, rip: UInt64,
                            errorCode: UInt64?, handlerMask: Int64) {
    report.expect("vector", hex: UInt64(record.vector), equals: UInt64(vector))
    report.expect("error code in the frame (1 yes, 0 no)", record.hasErrorCode ? 1 : 0,
                  equals: errorCode != nil ? 1 : 0)
    if let errorCode { report.expect("error code", hex: record.errorCode, equals: errorCode) }
    report.expect("rip", hex: record.rip, equals: rip)
    report.expect("cs (user, RPL 3)", hex: record.cs, equals: Traps.userCS)
    report.expect("saved event mask in cs[32:39]", hex: record.savedUpcallMask, equals: 0)
    report.expect("rflags.IF", hex: record.rflags & Traps.rflagsIF, equals: Traps.rflagsIF)
    report.expect("rsp (the user's)", hex: record.rsp, equals: UInt64(USER_STACK_TOP))
    report.expect("ss", hex: record.ss, equals: UInt64(FLAT_USER_SS))
    report.expect("frame on the stack_switch stack", hex: record.bounceFrameAddress,
                  equals: Traps.kernelStackTop &- (record.hasErrorCode ? 64 : 56))
    report.expect("handler's event mask", Int64(record.upcallMask), equals: handlerMask)
    report.info("rflags", hex: record.rflags)
}

/// Which of an L4's hypervisor slots (256-271) are non-zero: bit n for slot 256 + n.
private func hypervisorSlotsFilled(_ l4: UInt64) -> Int64 {
    var filled: Int64 = 0
    for slot in UInt64(256)..<272 where xg_read64(l4 &+ slot &* 8) != 0 { filled |= 1 << Int64(slot - 256) }
    return filled
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "usermode")
    // 1. Kernel entry points.
    report.group("setup")
    report.expect("install the trap table", Traps.install(guest: "usermode"), equals: 0)
    report.expect("syscall callback (mask events)", Traps.registerSyscallCallback(maskEvents: true), equals: 0)
    report.expect("int 0x80 gate DPL 3", Traps.setGate(vector: 0x80, dpl: 3), equals: 0)
    report.expect("stack_switch", Traps.switchStack(), equals: 0)
    Traps.hook = userHook

    // 2. The user page table.
    guard let l4 = Pages.allocate(), let l3 = Pages.allocate(), let l2 = Pages.allocate(),
          let l1 = Pages.allocate(), let stack = Pages.allocate()
    else {
        report.check("page pool has 5 pages", false)
        report.finish()
    }
    report.check("the user program fits its page", user_end_offset() <= Pages.size)
    let tableFlags = Pages.ptePresent | Pages.pteRW | Pages.pteUser | Pages.pteAccessed
    xg_write64(l4, (Pages.machineFrame(ofVirtual: l3) << 12) | tableFlags)
    xg_write64(l3, (Pages.machineFrame(ofVirtual: l2) << 12) | tableFlags)
    xg_write64(l2 &+ 2 &* 8, (Pages.machineFrame(ofVirtual: l1) << 12) | tableFlags)
    xg_write64(l1, (Pages.machineFrame(ofVirtual: user_page_address()) << 12) | Pages.pteReadOnly)
    xg_write64(l1 &+ 8, (Pages.machineFrame(ofVirtual: stack) << 12) | Pages.pteWritable)
    let l4Frame = Pages.machineFrame(ofVirtual: l4)
    var baseptr = mmuext_op()
    baseptr.cmd = UInt32(MMUEXT_NEW_USER_BASEPTR)
    baseptr.arg1.mfn = l4Frame
    var done: UInt32 = 0
    report.expect("NEW_USER_BASEPTR while the L4 is writable",
                  HYPERVISOR_mmuext_op(&baseptr, 1, &done, UInt32(DOMID_SELF)), equals: -Int64(XEN_EINVAL))
    report.expect("L4 page read-only", Pages.protect(l4, writable: false), equals: 0)
    report.expect("L3 page read-only", Pages.protect(l3, writable: false), equals: 0)
    report.expect("L2 page read-only", Pages.protect(l2, writable: false), equals: 0)
    report.expect("L1 page read-only", Pages.protect(l1, writable: false), equals: 0)
    report.expect("hypervisor slots of the new L4 before", hypervisorSlotsFilled(l4), equals: 0)
    report.expect("NEW_USER_BASEPTR", HYPERVISOR_mmuext_op(&baseptr, 1, &done, UInt32(DOMID_SELF)), equals: 0)
    report.info("hypervisor slots (bit n: 256+n) of the user L4 after validation", hex: UInt64(hypervisorSlotsFilled(l4)))
    report.info("hypervisor slots (bit n: 256+n) of the kernel L4",
                hex: UInt64(hypervisorSlotsFilled(StartOfDay.startInfo.pointee.pt_base)))
    report.expect("the user L4 writable", Pages.protect(l4, writable: true), equals: -Int64(XEN_EBUSY))

    // 3. User mode.
    report.group(nil)
    let result = xg_enter_user(userAddress(user_entry_offset()), UInt64(USER_STACK_TOP), 0x202)
    report.expect("back in the kernel with the exit call's result", hex: result, equals: UInt64(USER_CALL_EXIT))
    report.expect("four traps from user mode", Int64(Traps.count), equals: 4)
    report.expect("none unexpected", Int64(unexpected), equals: 0)
    report.expect("events masked again in the kernel", Int64(SharedInfo.vcpu0.pointee.evtchn_upcall_mask), equals: 1)

    // 4. What the kernel saw.
    report.group("syscall")
    checkUserFrame(&report, syscallRecord, vector: UInt32(XG_VECTOR_SYSCALL),
                   rip: userAddress(user_syscall_next_offset()), errorCode: nil, handlerMask: 1)
    report.expect("rcx is the return address", hex: syscallRecord.frame.rcx,
                  equals: userAddress(user_syscall_next_offset()))
    report.expect("r11 is the user rflags (IF)", hex: syscallRecord.frame.r11 & Traps.rflagsIF,
                  equals: Traps.rflagsIF)
    report.expect("rax", hex: syscallRecord.frame.rax, equals: UInt64(USER_CALL_ECHO))
    report.expect("rdi", hex: syscallRecord.frame.rdi, equals: UInt64(USER_RDI))
    report.expect("rbx", hex: syscallRecord.frame.rbx, equals: UInt64(USER_RBX))

    report.group("int 0x80")
    checkUserFrame(&report, int80Record, vector: 0x80, rip: userAddress(user_int80_next_offset()),
                   errorCode: nil, handlerMask: 0)
    report.expect("rax", hex: int80Record.frame.rax, equals: UInt64(USER_INT80_ECHO))

    report.group("page fault")
    checkUserFrame(&report, faultRecord, vector: UInt32(Traps.pageFault), rip: userAddress(user_fault_offset()),
                   errorCode: 4, handlerMask: 0)
    report.expect("cr2", hex: faultRecord.cr2, equals: UInt64(USER_UNMAPPED_VA))

    report.group("exit")
    checkUserFrame(&report, exitRecord, vector: UInt32(XG_VECTOR_SYSCALL),
                   rip: userAddress(user_exit_next_offset()), errorCode: nil, handlerMask: 1)
    report.expect("user saw the syscall's rax", hex: exitRecord.frame.rdi, equals: UInt64(USER_CALL_ECHO) + 1)
    report.expect("user saw the int 0x80's rax", hex: exitRecord.frame.rsi, equals: UInt64(USER_INT80_ECHO) + 0x10)
    report.expect("user's rbx survived", hex: exitRecord.frame.rdx, equals: UInt64(USER_RBX))
    report.expect("user's rcx after syscall", hex: exitRecord.frame.r8, equals: userAddress(user_syscall_next_offset()))
    report.expect("user's r11 after syscall (IF)", hex: exitRecord.frame.r9 & Traps.rflagsIF, equals: Traps.rflagsIF)
    report.expect("user's rsp at the end", hex: exitRecord.frame.r10, equals: UInt64(USER_STACK_TOP))
    report.group(nil)
    report.finish()
}
