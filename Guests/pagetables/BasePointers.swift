// BasePointers.swift: the builder's own pins, a second L4 made with COPY_PAGE from
// the live one and run on (NEW_BASEPTR), the user base pointer, and the base pointers
// the hypervisor refuses.
import XenGuest
import XenGuestC
import ApusPublic

/// The hypervisor's slots of an L4 (256-271): which ones are non-zero, one bit each.
func hypervisorSlots(_ l4: UInt64) -> UInt64 {
    var filled: UInt64 = 0
    for slot in UInt64(256)..<272 where xg_read64(l4 &+ slot &* 8) != 0 { filled |= 1 << (slot - 256) }
    return filled
}

func basePointers(_ report: inout TestReport) {
    report.group("builder's tables")
    let bootL4 = Bootstrap.l4
    let bootL3 = PTE.frame(Bootstrap.l4Entry(511))
    let imageL1 = Bootstrap.l1Frame(of: T.dataA)
    report.expect("PIN_L4_TABLE of the bootstrap L4 (the builder pinned it)", pin(4, bootL4), equals: errno(XEN_EINVAL))
    report.expect("PIN_L3_TABLE of the bootstrap L3 (in use, not pinned)", pin(3, bootL3), equals: 0)
    report.expect("UNPIN_TABLE of it", unpin(bootL3), equals: 0)
    report.expect("PIN_L1_TABLE of the L1 mapping the image", pin(1, imageL1), equals: 0)
    report.expect("UNPIN_TABLE of it", unpin(imageL1), equals: 0)
    report.expect("PIN_L2_TABLE of the bootstrap L3 (wrong level)", pin(2, bootL3), equals: errno(XEN_EINVAL))
    report.expect("UNPIN_TABLE of the bootstrap L4 (the builder's pin)", unpin(bootL4), equals: 0)
    report.expect("  it still maps writable: no (it is the base pointer)", Frames.mapsWritable(bootL4),
                  equals: errno(XEN_EBUSY))
    report.expect("PIN_L4_TABLE of it again", pin(4, bootL4), equals: 0)

    report.group("second L4")
    report.expect("COPY_PAGE the live L4 into a pool page", mmuext(MMUEXT_COPY_PAGE, mfn: T.l4Frame, arg2: bootL4),
                  equals: 0)
    // Running on an L4 that lacks the kernel's own mapping would end the domain: where
    // the copy did not happen the switches below are not made (and count as failed).
    let copied = report.expect("  slot 511 copied", hex: T.entry(T.l4, 511), equals: Bootstrap.l4Entry(511))
    func switchTo(_ mfn: UInt64) -> Int64 { copied ? mmuext(MMUEXT_NEW_BASEPTR, mfn: mfn) : -9999 }
    report.expect("  slot 32 (the private L3) copied", hex: T.entry(T.l4, 32), equals: Bootstrap.l4Entry(32))
    report.info("hypervisor slots of the live L4 (bit n: 256+n)", hex: hypervisorSlots(Bootstrap.l4Address))
    let garbage = T.aFrame << 12 | PTE.leafRW
    for slot in UInt64(256)..<272 { xg_write64(T.l4 + slot * 8, garbage) }
    report.expect("make it read-only (hypervisor slots all garbage)", Pages.protect(T.l4, writable: false), equals: 0)
    report.expect("PIN_L4_TABLE", pin(4, T.l4Frame), equals: 0)
    var garbageLeft = false
    for slot in UInt64(256)..<272 where T.entry(T.l4, slot) == garbage { garbageLeft = true }
    report.check("  no hypervisor slot holds the garbage any more", !garbageLeft)
    report.info("  hypervisor slots after the pin", hex: hypervisorSlots(T.l4))
    report.expect("  the pinned L4 maps writable", Pages.protect(T.l4, writable: true), equals: errno(XEN_EBUSY))
    report.expect("mmu_update its slot 33 = the private L3 (not in the live L4)",
                  setEntry(T.l4Frame, 33, T.l3Frame << 12 | PTE.table), equals: 0)
    let slot33 = UInt64(33) << 39
    report.expect("NEW_BASEPTR to it", switchTo(T.l4Frame), equals: 0)
    report.expect("  the hypervisor answers (xen_version)", hypervisorVersion(), equals: 4 << 16 | 17)
    expectRead(&report, "  slot 32 maps A", TestVA.at(), markerA)
    expectRead(&report, "  slot 33 maps A too", slot33, markerA)
    report.expect("  the M2P is readable", hex: StartOfDay.pseudoPhysicalFrame(ofMachine: T.aFrame),
                  equals: (T.dataA - PageWalk.virtualBase) >> 12)
    report.info("  hypervisor slots once it is the base pointer", hex: hypervisorSlots(T.l4))
    expectFault(&report, "  a fault is delivered on it", 0x1000, write: false, errorCode: 0)
    report.expect("  UNPIN_TABLE while it is the base pointer", unpin(T.l4Frame), equals: 0)
    report.expect("  still no writable mapping", Pages.protect(T.l4, writable: true), equals: errno(XEN_EBUSY))
    report.expect("NEW_BASEPTR back to the bootstrap L4", mmuext(MMUEXT_NEW_BASEPTR, mfn: bootL4), equals: 0)
    _ = flushLocal()
    expectFault(&report, "  slot 33 is not mapped there", slot33, write: false, errorCode: 0)
    expectRead(&report, "  slot 32 still is", TestVA.at(), markerA)
    report.expect("the second L4, unreferenced now, maps writable", Pages.protect(T.l4, writable: true), equals: 0)
    report.expect("  its slot 33 is as it was", hex: T.entry(T.l4, 33), equals: T.l3Frame << 12 | PTE.table)

    // Validation on the fly: an unpinned, read-only L4 can be the base pointer.
    report.expect("make it read-only", Pages.protect(T.l4, writable: false), equals: 0)
    report.expect("NEW_BASEPTR to the unpinned L4", switchTo(T.l4Frame), equals: 0)
    expectRead(&report, "  slot 33 maps A", slot33, markerA)
    report.expect("  it maps writable: no", Pages.protect(T.l4, writable: true), equals: errno(XEN_EBUSY))
    report.expect("NEW_BASEPTR back", mmuext(MMUEXT_NEW_BASEPTR, mfn: bootL4), equals: 0)
    report.expect("  it maps writable again", Pages.protect(T.l4, writable: true), equals: 0)

    report.group("user base pointer")
    report.expect("NEW_USER_BASEPTR while writable", mmuext(MMUEXT_NEW_USER_BASEPTR, mfn: T.l4Frame),
                  equals: errno(XEN_EINVAL))
    report.expect("make it read-only", Pages.protect(T.l4, writable: false), equals: 0)
    report.expect("NEW_USER_BASEPTR", mmuext(MMUEXT_NEW_USER_BASEPTR, mfn: T.l4Frame), equals: 0)
    report.expect("  it maps writable: no", Pages.protect(T.l4, writable: true), equals: errno(XEN_EBUSY))
    report.expect("NEW_USER_BASEPTR 0", mmuext(MMUEXT_NEW_USER_BASEPTR, mfn: 0), equals: 0)
    report.expect("  it maps writable again", Pages.protect(T.l4, writable: true), equals: 0)

    report.group("refused base pointers")
    report.expect("NEW_BASEPTR to the pinned L3", mmuext(MMUEXT_NEW_BASEPTR, mfn: T.l3Frame), equals: errno(XEN_EINVAL))
    report.expect("NEW_BASEPTR to the pinned L2", mmuext(MMUEXT_NEW_BASEPTR, mfn: T.l2Frame), equals: errno(XEN_EINVAL))
    report.expect("NEW_BASEPTR to a writable data page", mmuext(MMUEXT_NEW_BASEPTR, mfn: T.aFrame),
                  equals: errno(XEN_EINVAL))
    report.expect("NEW_BASEPTR to a frame dom0 does not own",
                  mmuext(MMUEXT_NEW_BASEPTR, mfn: Frames.foreign(from: 0x10000)), equals: errno(XEN_EINVAL))
    report.expect("NEW_USER_BASEPTR to the pinned L3", mmuext(MMUEXT_NEW_USER_BASEPTR, mfn: T.l3Frame),
                  equals: errno(XEN_EINVAL))
    // An L4 with a bad entry in a guest slot is refused as a whole.
    report.expect("COPY_PAGE the live L4 again", mmuext(MMUEXT_COPY_PAGE, mfn: T.l4Frame, arg2: bootL4), equals: 0)
    let copiedAgain = report.expect("  slot 511 copied", hex: T.entry(T.l4, 511), equals: Bootstrap.l4Entry(511))
    report.check("  store slot 34 = a writable data page", Traps.write(T.l4 + 34 * 8, T.aFrame << 12 | PTE.table))
    report.expect("make it read-only (slot 34 = a writable data page)", Pages.protect(T.l4, writable: false), equals: 0)
    report.expect("PIN_L4_TABLE of it", pin(4, T.l4Frame), equals: errno(XEN_EINVAL))
    report.expect("NEW_BASEPTR to it", copiedAgain ? mmuext(MMUEXT_NEW_BASEPTR, mfn: T.l4Frame) : -9999,
                  equals: errno(XEN_EINVAL))
    report.expect("  it maps writable (nothing was left typed)", Pages.protect(T.l4, writable: true), equals: 0)
    report.expect("  still running on the bootstrap L4", hypervisorVersion(), equals: 4 << 16 | 17)
}
