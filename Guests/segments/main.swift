// segments: set_segment_base for the FS base, the kernel and user GS bases and the
// user GS selector, checked through memory reads (%fs:x, %gs:x) in kernel mode and in
// user mode, never with rdfsbase or rdmsr.
//
// The kernel reads through %fs and %gs itself; for the user GS base (inactive in
// kernel mode) it enters user mode with a separate user page table (code page at
// 0x400000, data page at 0x401000) where a small program reads %fs:x and %gs:x at
// offsets the kernel chose and reports the values and the selectors with an exit
// `syscall`.
//
// Facts Xen 4.17 showed (the spec Apus must meet):
// set_segment_base(which, base):
//   SEGBASE_FS (0): 0; the kernel's %fs:0 reads the page at base; the same base is in
//     force in user mode (Xen does not switch FS between the guest's modes);
//   SEGBASE_GS_KERNEL (2): 0; the kernel's %gs:0 reads there; user mode does not see it;
//   SEGBASE_GS_USER (1): 0; the kernel's %gs is unchanged; in user mode %gs:0 reads
//     the user base; back in the kernel the kernel GS base is in force again;
//   a non-canonical base (0x0000800000000000) for any of the three: -EINVAL (-22),
//     and the base keeps its value;
//   SEGBASE_GS_USER_SEL (3), base[15:0] = selector, always 0:
//     null selector 0: %gs reads 0 and the user GS base becomes 0 (user %gs:x reads x);
//     0xe02b (FLAT_RING3_DS32): %gs reads 0xe02b, user base 0;
//     0xe028 (RPL 0): Xen sets the RPL to 3, %gs reads 0xe02b;
//     a selector of the guest's GDT whose descriptor has base 0x1000: the user base
//     becomes 0x1000 (user %gs:(x - 0x1000) reads x);
//     0x0002 (null with RPL 2): %gs reads 2; 0x1e02b: bits 16-63 are ignored (0xe02b);
//     a selector that cannot be loaded (0x0010 with no guest GDT): still 0; Xen loads
//     the null selector instead, %gs reads 0 and the user base is 0 (it was not);
//     the kernel GS base survives every one of them (%gs:0 in the kernel).
//   which 4 and 0xffff: -EINVAL.
// User mode starts with the %fs and %gs selectors the kernel had (0 here).
import XenGuest
import XenGuestC
import ApusPublic
import SegmentProbes

private func errno(_ value: Int32) -> Int64 { -Int64(value) }
private let nonCanonical: UInt64 = 0x0000_8000_0000_0000

private let kernelMarkerFS: UInt64 = 0xF5F5_0000_0000_0001
private let kernelMarkerGS: UInt64 = 0x6565_0000_0000_0002
private let userMarker0: UInt64 = 0x0505_0000_0000_0010
private let userMarker1: UInt64 = 0x0505_0000_0000_0011
private let userMarker2: UInt64 = 0x0505_0000_0000_0012

/// What the user program reported.
private struct UserView {
    var fsValue: UInt64
    var gsValue: UInt64
    var fsSelector: UInt64
    var gsSelector: UInt64
    var exited: Bool
}

nonisolated(unsafe) private var exitFrame = xg_trap_frame()
nonisolated(unsafe) private var userFaults = 0

private let userHook: TrapHook = { frame in
    let record = Traps.last
    if record.vector == UInt32(XG_VECTOR_SYSCALL) && frame.pointee.rax == UInt64(USER_CALL_EXIT) {
        exitFrame = frame.pointee
        Traps.returnToKernel(frame, result: UInt64(USER_CALL_EXIT))
        return true
    }
    if record.cs & 3 == 3 {
        // A fault in user mode (a wrong base): end the trip, the checks will say.
        userFaults += 1
        Traps.returnToKernel(frame, result: 0)
        return true
    }
    return false
}

nonisolated(unsafe) private var dataPage: UInt64 = 0

/// One trip to user mode reading %fs:fsOffset and %gs:gsOffset.
private func visitUser(fsOffset: UInt64, gsOffset: UInt64) -> UserView {
    xg_write64(dataPage &+ (UInt64(USER_FS_OFFSET_VA) - UInt64(USER_DATA_VA)), fsOffset)
    xg_write64(dataPage &+ (UInt64(USER_GS_OFFSET_VA) - UInt64(USER_DATA_VA)), gsOffset)
    exitFrame = xg_trap_frame()
    let result = xg_enter_user(UInt64(USER_CODE_VA) &+ user_entry_offset(), UInt64(USER_STACK_TOP), 0x202)
    return UserView(fsValue: exitFrame.rdi, gsValue: exitFrame.rsi, fsSelector: exitFrame.r8,
                    gsSelector: exitFrame.r9, exited: result == UInt64(USER_CALL_EXIT))
}

private func readFS(_ offset: UInt64) -> UInt64 {
    Traps.arm(faultAt: seg_read_via_fs_fault_address(), resumeAt: seg_fixup_address())
    defer { Traps.disarm() }
    return seg_read_via_fs(offset)
}

private func readGS(_ offset: UInt64) -> UInt64 {
    Traps.arm(faultAt: seg_read_via_gs_fault_address(), resumeAt: seg_fixup_address())
    defer { Traps.disarm() }
    return seg_read_via_gs(offset)
}

private func setBase(_ which: Int32, _ base: UInt64) -> Int64 {
    HYPERVISOR_set_segment_base(UInt32(which), base)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "segments")
    report.group("setup")
    report.expect("install the trap table", Traps.install(guest: "segments"), equals: 0)
    report.expect("syscall callback", Traps.registerSyscallCallback(maskEvents: true), equals: 0)
    report.expect("stack_switch", Traps.switchStack(), equals: 0)
    Traps.hook = userHook
    guard let l4 = Pages.allocate(), let l3 = Pages.allocate(), let l2 = Pages.allocate(),
          let l1 = Pages.allocate(), let data = Pages.allocate(), let kernelPage = Pages.allocate(),
          let gdt = Pages.allocate()
    else {
        report.check("page pool has 7 pages", false)
        report.finish()
    }
    dataPage = data
    report.check("the user program fits its page", user_end_offset() <= Pages.size)
    xg_write64(kernelPage, kernelMarkerFS)
    xg_write64(kernelPage &+ 8, kernelMarkerGS)
    xg_write64(data, userMarker0)
    xg_write64(data &+ 8, userMarker1)
    xg_write64(data &+ 16, userMarker2)

    // The user page table: L4[0] -> L3[0] -> L2[2] -> L1: 0x400000 code (read-only),
    // 0x401000 data (read-write).
    let tableFlags = Pages.ptePresent | Pages.pteRW | Pages.pteUser | Pages.pteAccessed
    xg_write64(l4, (Pages.machineFrame(ofVirtual: l3) << 12) | tableFlags)
    xg_write64(l3, (Pages.machineFrame(ofVirtual: l2) << 12) | tableFlags)
    xg_write64(l2 &+ 2 &* 8, (Pages.machineFrame(ofVirtual: l1) << 12) | tableFlags)
    xg_write64(l1, (Pages.machineFrame(ofVirtual: user_page_address()) << 12) | Pages.pteReadOnly)
    xg_write64(l1 &+ 8, (Pages.machineFrame(ofVirtual: data) << 12) | Pages.pteWritable)
    report.expect("L4 read-only", Pages.protect(l4, writable: false), equals: 0)
    report.expect("L3 read-only", Pages.protect(l3, writable: false), equals: 0)
    report.expect("L2 read-only", Pages.protect(l2, writable: false), equals: 0)
    report.expect("L1 read-only", Pages.protect(l1, writable: false), equals: 0)
    var baseptr = mmuext_op()
    baseptr.cmd = UInt32(MMUEXT_NEW_USER_BASEPTR)
    baseptr.arg1.mfn = Pages.machineFrame(ofVirtual: l4)
    var done: UInt32 = 0
    report.expect("NEW_USER_BASEPTR", HYPERVISOR_mmuext_op(&baseptr, 1, &done, UInt32(DOMID_SELF)), equals: 0)
    report.expect("%fs selector at start", hex: seg_fs_selector(), equals: 0)
    report.expect("%gs selector at start", hex: seg_gs_selector(), equals: 0)

    // --- Kernel-mode bases ---
    report.group("FS")
    report.expect("set FS base", setBase(SEGBASE_FS, kernelPage), equals: 0)
    report.expect("  %fs:0", hex: readFS(0), equals: kernelMarkerFS)
    report.expect("  %fs:8", hex: readFS(8), equals: kernelMarkerGS)
    report.expect("non-canonical FS base", setBase(SEGBASE_FS, nonCanonical), equals: errno(XEN_EINVAL))
    report.expect("  %fs:0 unchanged", hex: readFS(0), equals: kernelMarkerFS)
    report.expect("FS base 0", setBase(SEGBASE_FS, 0), equals: 0)
    report.expect("  %fs:(page)", hex: readFS(kernelPage), equals: kernelMarkerFS)

    report.group("GS kernel")
    report.expect("set GS kernel base", setBase(SEGBASE_GS_KERNEL, kernelPage &+ 8), equals: 0)
    report.expect("  %gs:0", hex: readGS(0), equals: kernelMarkerGS)
    report.expect("non-canonical GS kernel base", setBase(SEGBASE_GS_KERNEL, nonCanonical),
                  equals: errno(XEN_EINVAL))
    report.expect("  %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)

    report.group("GS user")
    report.expect("set GS user base", setBase(SEGBASE_GS_USER, UInt64(USER_DATA_VA) + 8), equals: 0)
    report.expect("  kernel %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)
    report.expect("non-canonical GS user base", setBase(SEGBASE_GS_USER, nonCanonical), equals: errno(XEN_EINVAL))
    report.expect("FS base = the user data page", setBase(SEGBASE_FS, UInt64(USER_DATA_VA)), equals: 0)
    var view = visitUser(fsOffset: 0, gsOffset: 0)
    report.check("user mode ran to its exit call", view.exited)
    report.expect("  user %fs:0 (FS base shared with the kernel)", hex: view.fsValue, equals: userMarker0)
    report.expect("  user %gs:0 (the user GS base)", hex: view.gsValue, equals: userMarker1)
    report.expect("  user %fs selector", hex: view.fsSelector, equals: 0)
    report.expect("  user %gs selector", hex: view.gsSelector, equals: 0)
    report.expect("kernel %gs:0 after user mode", hex: readGS(0), equals: kernelMarkerGS)
    report.expect("kernel %fs:(page - data) after user mode (same FS base)",
                  hex: readFS(kernelPage &- UInt64(USER_DATA_VA)), equals: kernelMarkerFS)

    // --- SEGBASE_GS_USER_SEL ---
    report.group("GS user selector")
    report.expect("null selector", setBase(SEGBASE_GS_USER_SEL, 0), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: 0)
    report.expect("  kernel %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)
    view = visitUser(fsOffset: 8, gsOffset: UInt64(USER_DATA_VA) + 16)
    report.check("  user mode ran", view.exited)
    report.expect("  user %gs:(data + 16) (base 0)", hex: view.gsValue, equals: userMarker2)
    report.expect("  user %gs selector", hex: view.gsSelector, equals: 0)
    report.expect("  user %fs:8", hex: view.fsValue, equals: userMarker1)

    report.expect("0xe02b (flat data)", setBase(SEGBASE_GS_USER_SEL, UInt64(FLAT_RING3_DS32)), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: UInt64(FLAT_RING3_DS32))
    report.expect("  kernel %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)
    view = visitUser(fsOffset: 0, gsOffset: UInt64(USER_DATA_VA) + 8)
    report.check("  user mode ran", view.exited)
    report.expect("  user %gs:(data + 8) (base 0)", hex: view.gsValue, equals: userMarker1)
    report.expect("  user %gs selector", hex: view.gsSelector, equals: UInt64(FLAT_RING3_DS32))

    report.expect("0xe028 (RPL 0)", setBase(SEGBASE_GS_USER_SEL, 0xE028), equals: 0)
    report.expect("  %gs reads (RPL 3)", hex: seg_gs_selector(), equals: 0xE02B)

    report.expect("0x0002 (null, RPL 2)", setBase(SEGBASE_GS_USER_SEL, 2), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: 2)
    report.expect("0x1e02b (bits above 15 ignored)", setBase(SEGBASE_GS_USER_SEL, 0x1_E02B), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: 0xE02B)

    report.expect("GS user base = data + 8 first", setBase(SEGBASE_GS_USER, UInt64(USER_DATA_VA) + 8), equals: 0)
    report.expect("0x0010 with no guest GDT", setBase(SEGBASE_GS_USER_SEL, 0x10), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: 0)
    report.expect("  kernel %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)
    view = visitUser(fsOffset: 0, gsOffset: UInt64(USER_DATA_VA) + 16)
    report.check("  user mode ran", view.exited)
    report.expect("  user %gs:(data + 16) (base 0)", hex: view.gsValue, equals: userMarker2)

    // A guest GDT entry 2 with base 0x1000: the user base comes from the descriptor.
    xg_write64(gdt &+ 16, 0x00CF_F300_1000_FFFF)
    report.expect("GDT page read-only", Pages.protect(gdt, writable: false), equals: 0)
    let frames = Scratch.cleared(8).bindMemory(to: UInt64.self, capacity: 1)
    frames[0] = Pages.machineFrame(ofVirtual: gdt)
    report.expect("set_gdt", HYPERVISOR_set_gdt(frames, 16), equals: 0)
    report.expect("0x0013 (data, base 0x1000)", setBase(SEGBASE_GS_USER_SEL, 0x13), equals: 0)
    report.expect("  %gs reads", hex: seg_gs_selector(), equals: 0x13)
    report.expect("  kernel %gs:0 unchanged", hex: readGS(0), equals: kernelMarkerGS)
    view = visitUser(fsOffset: 0, gsOffset: UInt64(USER_DATA_VA) + 16 - 0x1000)
    report.check("  user mode ran", view.exited)
    report.expect("  user %gs:(data + 16 - 0x1000)", hex: view.gsValue, equals: userMarker2)
    report.expect("  user %gs selector", hex: view.gsSelector, equals: 0x13)
    report.expect("GS user base again (data + 8)", setBase(SEGBASE_GS_USER, UInt64(USER_DATA_VA) + 8), equals: 0)
    view = visitUser(fsOffset: 0, gsOffset: 0)
    report.check("  user mode ran", view.exited)
    report.expect("  user %gs:0", hex: view.gsValue, equals: userMarker1)
    report.expect("back to the null selector", setBase(SEGBASE_GS_USER_SEL, 0), equals: 0)

    report.group(nil)
    report.expect("which 4", setBase(4, 0), equals: errno(XEN_EINVAL))
    report.expect("which 0xffff", setBase(0xFFFF, 0), equals: errno(XEN_EINVAL))
    report.expect("no faults in user mode", Int64(userFaults), equals: 0)
    report.expect("no event upcalls", Int64(Traps.eventCount), equals: 0)
    report.finish()
}
