// OwnTables.swift: attempts to get write access to the guest's own page tables and
// descriptor tables, the pages that hold the hypervisor's trust: writable mappings
// (update_va_mapping, mmu_update, an L1 that maps them, a writable linear entry),
// MMUEXT_COPY_PAGE / CLEAR_PAGE onto them, mmu_update "entries" written into a GDT,
// and plain stores through their read-only mappings.
import XenGuest
import XenGuestC
import ApusPublic
import IsolationProbes

func ownTables(_ report: inout TestReport) {
    report.group("page tables")
    let anchor = Own.canary
    let l4 = Own.l4
    let l3 = Own.tableFrame(of: anchor, level: 3)
    let l2 = Own.tableFrame(of: anchor, level: 2)
    let l1 = Own.tableFrame(of: anchor, level: 1)
    report.info("bootstrap L4 frame", hex: l4)
    report.info("  L3", hex: l3)
    report.info("  L2", hex: l2)
    report.info("  L1 (maps the canary page)", hex: l1)
    attempt(&report, "update_va_mapping the L4 read-write", Own.mapWindow(l4, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "update_va_mapping the L3 read-write", Own.mapWindow(l3, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "update_va_mapping the L2 read-write", Own.mapWindow(l2, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "update_va_mapping the L1 read-write", Own.mapWindow(l1, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "update_va_mapping the L1 read-only (allowed)", Own.mapWindow(l1, PTE.leafRO), equals: 0)
    let windowL1 = Own.tableFrame(of: Own.window, level: 1)
    let windowSlot = windowL1 << 12 | ((Own.window >> 12) & 0x1FF) << 3
    let viaUpdate = mmuUpdate(windowSlot, l2 << 12 | PTE.leafRW)
    Own.restoreWindow()
    attempt(&report, "mmu_update the window's entry = the L2 read-write", viaUpdate, equals: errno(XEN_EBUSY))
    let viaPreserve = mmuUpdate(windowSlot | UInt64(MMU_PT_UPDATE_PRESERVE_AD), l4 << 12 | PTE.leafRW)
    Own.restoreWindow()
    attempt(&report, "  the same with PRESERVE_AD (the L4)", viaPreserve, equals: errno(XEN_EBUSY))
    // A free L2 slot pointing back at its own L2, read-write: a writable view of it.
    var slot: UInt64 = 511
    let l2Address = PageWalk.virtualAddress(ofMachineFrame: l2)
    while slot > 0 && xg_read64(l2Address + slot * 8) != 0 { slot -= 1 }
    attempt(&report, "a free L2 slot = the L2 itself read-write", mmuUpdate(l2 << 12 | slot << 3, l2 << 12 | PTE.table),
            equals: errno(XEN_EINVAL))
    attempt(&report, "the live L4 slot 100 = the live L4 read-write", mmuUpdate(l4 << 12 | 100 << 3, l4 << 12 | PTE.table),
            equals: errno(XEN_EINVAL))
    if let page = Pages.allocate() {
        xg_write64(page, l2 << 12 | PTE.leafRW)
        report.expect("make an L1 mapping the L2 read-write read-only", Pages.protect(page, writable: false), equals: 0)
        attempt(&report, "PIN_L1_TABLE of it", mmuext(MMUEXT_PIN_L1_TABLE, mfn: Pages.machineFrame(ofVirtual: page)),
                equals: errno(XEN_EBUSY))
    } else {
        report.check("page pool has a page", false)
    }
    attempt(&report, "COPY_PAGE into the L4", mmuext(MMUEXT_COPY_PAGE, mfn: l4, arg2: Own.scratchFrame),
            equals: errno(XEN_EINVAL))
    attempt(&report, "COPY_PAGE into the L1", mmuext(MMUEXT_COPY_PAGE, mfn: l1, arg2: Own.scratchFrame),
            equals: errno(XEN_EINVAL))
    attempt(&report, "CLEAR_PAGE of the L3", mmuext(MMUEXT_CLEAR_PAGE, mfn: l3), equals: errno(XEN_EINVAL))
    attemptStore(&report, "store into the L4 (slot 100)", Own.l4Address + 800, l4 << 12 | PTE.table)
    attemptStore(&report, "store into the L2 (its last free slot)", l2Address + slot * 8, l2 << 12 | PTE.table)
    let l1Address = PageWalk.virtualAddress(ofMachineFrame: l1)
    let l1Slot = l1Address + ((Own.canary >> 12) & 0x1FF) * 8
    attemptStore(&report, "store into the L1 an entry mapping the L4 read-write", l1Slot, l4 << 12 | PTE.leafRW)

    report.group("descriptor tables")
    guard let gdt = Pages.allocate(), let ldt = Pages.allocate() else {
        report.check("page pool has 2 pages", false)
        return
    }
    let gdtFrame = Pages.machineFrame(ofVirtual: gdt)
    let ldtFrame = Pages.machineFrame(ofVirtual: ldt)
    xg_write64(gdt + 8, 0x00CF_F300_0000_FFFF)
    xg_write64(ldt, 0x00CF_F300_0000_FFFF)
    report.expect("make a GDT page read-only", Pages.protect(gdt, writable: false), equals: 0)
    let frames = Scratch.cleared(16).bindMemory(to: UInt64.self, capacity: 2)
    frames[0] = gdtFrame
    report.expect("set_gdt with it", HYPERVISOR_set_gdt(frames, 16), equals: 0)
    attempt(&report, "update_va_mapping the GDT read-write", Own.mapWindow(gdtFrame, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "COPY_PAGE into the GDT", mmuext(MMUEXT_COPY_PAGE, mfn: gdtFrame, arg2: Own.scratchFrame),
            equals: errno(XEN_EINVAL))
    attempt(&report, "CLEAR_PAGE of the GDT", mmuext(MMUEXT_CLEAR_PAGE, mfn: gdtFrame), equals: errno(XEN_EINVAL))
    attempt(&report, "mmu_update with ptr in the GDT", mmuUpdate(gdtFrame << 12 | 0x10, 0x00CF_9B00_0000_FFFF),
            equals: errno(XEN_EINVAL))
    attempt(&report, "PIN_L1_TABLE of the GDT", mmuext(MMUEXT_PIN_L1_TABLE, mfn: gdtFrame), equals: errno(XEN_EINVAL))
    attemptStore(&report, "store a DPL-0 code descriptor into the GDT", gdt + 16, 0x00AF_9B00_0000_FFFF)
    report.expect("make the LDT page read-only", Pages.protect(ldt, writable: false), equals: 0)
    report.expect("MMUEXT_SET_LDT on it", mmuext(MMUEXT_SET_LDT, linear: ldt, arg2: 4), equals: 0)
    report.expect("load LDT selector 0x7 into %fs (Xen maps the LDT)", Int64(loadFS(0x7)), equals: 0)
    attempt(&report, "update_va_mapping the LDT read-write", Own.mapWindow(ldtFrame, PTE.leafRW), equals: errno(XEN_EBUSY))
    attempt(&report, "COPY_PAGE into the LDT", mmuext(MMUEXT_COPY_PAGE, mfn: ldtFrame, arg2: Own.scratchFrame),
            equals: errno(XEN_EINVAL))
    _ = loadFS(0)
    report.expect("SET_LDT(0, 0)", mmuext(MMUEXT_SET_LDT, linear: 0, arg2: 0), equals: 0)
    report.expect("  the LDT page maps writable again", Pages.protect(ldt, writable: true), equals: 0)
    report.expect("set_gdt with 0 entries", HYPERVISOR_set_gdt(frames, 0), equals: 0)
    report.expect("  the GDT page maps writable again", Pages.protect(gdt, writable: true), equals: 0)
}

/// Loads %fs (0 when it loaded, 1 when it faulted).
func loadFS(_ selector: UInt64) -> UInt64 {
    let before = Traps.count
    Traps.arm(faultAt: iso_load_fs_fault_address(), resumeAt: iso_load_fs_fixup_address())
    let result = iso_load_fs(selector)
    Traps.disarm()
    return Traps.count == before ? result : 1
}
