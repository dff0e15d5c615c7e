// Refusals.swift: entries the hypervisor will not write (a frame of the wrong type, a
// superpage, flags a PV guest may not set, the hypervisor's L4 slots), the linear
// (self-referencing) entries it does accept read-only, and pins it refuses.
import XenGuest
import XenGuestC
import ApusPublic

func refusals(_ report: inout TestReport) {
    let l4 = Bootstrap.l4
    report.group("wrong type")
    report.expect("L2[3] = a data page mapped writable", setEntry(T.l2Frame, 3, T.aFrame << 12 | PTE.table),
                  equals: errno(XEN_EINVAL))
    report.expect("L2[3] = the pinned L3", setEntry(T.l2Frame, 3, T.l3Frame << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L2[3] = the live L4", setEntry(T.l2Frame, 3, l4 << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L3[3] = the pinned L1", setEntry(T.l3Frame, 3, T.l1Frame << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L3[3] = the live L4", setEntry(T.l3Frame, 3, l4 << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L4[33] = the pinned L2", setEntry(l4, 33, T.l2Frame << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L4[33] = the pinned L1", setEntry(l4, 33, T.l1Frame << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("L4[33] = a data page mapped writable", setEntry(l4, 33, T.aFrame << 12 | PTE.table),
                  equals: errno(XEN_EINVAL))
    report.expect("L1[3] = the pinned L2 read-write", setEntry(T.l1Frame, 3, T.l2Frame << 12 | PTE.leafRW),
                  equals: errno(XEN_EBUSY))
    report.expect("L1[3] = the live L4 read-write", setEntry(T.l1Frame, 3, l4 << 12 | PTE.leafRW), equals: errno(XEN_EBUSY))
    report.expect("L1[3] = the pinned L2 read-only", setEntry(T.l1Frame, 3, T.l2Frame << 12 | PTE.leafRO), equals: 0)
    expectRead(&report, "  reads L2[0] through it", TestVA.at(l1: 3), T.entry(T.l2, 0))
    report.expect("L1[3] = 0", setEntry(T.l1Frame, 3, 0), equals: 0)
    report.expect("a writable mapping of the pinned L2 through the image's L1",
                  mmuUpdate(entryAddress(Bootstrap.l1Frame(of: T.l2), (T.l2 >> 12) & 0x1FF), T.l2Frame << 12 | PTE.leafRW),
                  equals: errno(XEN_EBUSY))
    report.expect("  the pinned L2 is still read-only there", hex: PageWalk.lookup(T.l2).writable ? 1 : 0, equals: 0)
    report.check("  every refused entry stayed empty", T.entry(T.l2, 3) | T.entry(T.l3, 3) | Bootstrap.l4Entry(33) == 0)
    _ = flushLocal()

    report.group("linear entries")
    report.expect("L2[3] = the L2 itself read-write", setEntry(T.l2Frame, 3, T.l2Frame << 12 | PTE.table),
                  equals: errno(XEN_EINVAL))
    report.expect("L2[3] = the L2 itself read-only", setEntry(T.l2Frame, 3, T.l2Frame << 12 | PTE.leafRO), equals: 0)
    expectRead(&report, "  its page 0 is the L1 (reads L1[0])", TestVA.at(l2: 3, l1: 0), T.entry(T.l1, 0))
    expectFault(&report, "  writing there faults", TestVA.at(l2: 3, l1: 0), write: true, errorCode: 3)
    report.expect("L2[3] = 0", setEntry(T.l2Frame, 3, 0), equals: 0)
    report.expect("live L4[33] = the live L4 read-write", setEntry(l4, 33, l4 << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("live L4[33] = the live L4 read-only", setEntry(l4, 33, l4 << 12 | PTE.leafRO), equals: 0)
    let selfVA = UInt64(33) << 39 | UInt64(33) << 30 | UInt64(33) << 21 | UInt64(33) << 12
    expectRead(&report, "  the L4 seen through itself: its slot 511", selfVA + 511 * 8, Bootstrap.l4Entry(511))
    expectRead(&report, "  the private L3 through it: L3[0]", UInt64(33) << 39 | UInt64(33) << 30 | UInt64(33) << 21
               | TestVA.l4Slot << 12, T.entry(T.l3, 0))
    expectFault(&report, "  writing there faults", selfVA, write: true, errorCode: 3)
    report.expect("live L4[33] = 0", setEntry(l4, 33, 0), equals: 0)
    _ = flushLocal()

    report.group("flags")
    report.expect("L2[4] = a 2 MiB superpage (PSE)", setEntry(T.l2Frame, 4, 0x200 << 12 | PTE.table | PTE.pse),
                  equals: errno(XEN_EINVAL))
    report.expect("L3[4] = a 1 GiB superpage (PSE)", setEntry(T.l3Frame, 4, 0x40000 << 12 | PTE.table | PTE.pse),
                  equals: errno(XEN_EINVAL))
    report.expect("L4[34] with PSE", setEntry(l4, 34, T.l3Frame << 12 | PTE.table | PTE.pse), equals: errno(XEN_EINVAL))
    report.expect("L2[4] = the L1 with PCD", setEntry(T.l2Frame, 4, T.l1Frame << 12 | PTE.table | PTE.pcd),
                  equals: errno(XEN_EINVAL))
    report.expect("L2[4] = the L1 with global", setEntry(T.l2Frame, 4, T.l1Frame << 12 | PTE.table | PTE.global),
                  equals: errno(XEN_EINVAL))
    report.expect("L1[3] = A with global", setEntry(T.l1Frame, 3, T.aFrame << 12 | PTE.leafRO | PTE.global), equals: 0)
    report.info("  reads back", hex: T.entry(T.l1, 3))
    report.expect("L1[3] = A with NX and the available bits 9-11, 52-62",
                  setEntry(T.l1Frame, 3, T.aFrame << 12 | PTE.leafRO | 0xE00 | 0xFFF0_0000_0000_0000), equals: 0)
    report.info("  reads back", hex: T.entry(T.l1, 3))
    report.expect("L1[3] = A with PCD|PWT (dom0 may choose caching)", setEntry(T.l1Frame, 3,
                  T.aFrame << 12 | PTE.leafRO | PTE.pcd | PTE.pwt), equals: 0)
    report.expect("L1[3] = 0", setEntry(T.l1Frame, 3, 0), equals: 0)
    report.check("  every refused entry stayed empty", T.entry(T.l2, 4) | T.entry(T.l3, 4) | Bootstrap.l4Entry(34) == 0)

    report.group("hypervisor slots")
    report.expect("live L4[256] = 0", setEntry(l4, 256, 0), equals: errno(XEN_EINVAL))
    report.expect("live L4[260] = the L3", setEntry(l4, 260, T.l3Frame << 12 | PTE.table), equals: errno(XEN_EINVAL))
    report.expect("live L4[271] = 0", setEntry(l4, 271, 0), equals: errno(XEN_EINVAL))
    report.expect("live L4[271] as it is", setEntry(l4, 271, Bootstrap.l4Entry(271)), equals: errno(XEN_EINVAL))
    report.expect("live L4[255] = the L3", setEntry(l4, 255, T.l3Frame << 12 | PTE.table), equals: 0)
    expectRead(&report, "  0x7f8000000000 maps A", UInt64(255) << 39, markerA)
    report.expect("live L4[255] = 0", setEntry(l4, 255, 0), equals: 0)
    report.expect("live L4[272] = the L3", setEntry(l4, 272, T.l3Frame << 12 | PTE.table), equals: 0)
    expectRead(&report, "  0xffff880000000000 maps A", 0xFFFF_8800_0000_0000, markerA)
    report.expect("live L4[272] = 0", setEntry(l4, 272, 0), equals: 0)
    _ = flushLocal()
    expectFault(&report, "  and is gone", 0xFFFF_8800_0000_0000, write: false, errorCode: 0)

    report.group("pins")
    report.expect("PIN_L3_TABLE of the pinned L3", pin(3, T.l3Frame), equals: errno(XEN_EINVAL))
    report.expect("UNPIN_TABLE of a data page", unpin(T.aFrame), equals: errno(XEN_EINVAL))
    report.expect("UNPIN_TABLE of a frame dom0 does not own", unpin(Frames.foreign(from: 0x10000)),
                  equals: errno(XEN_EINVAL))
    let foreign = Frames.foreign(from: 0x10000)
    func pinSpare(_ name: StaticString, level: Int, entry: UInt64, _ expected: Int64) {
        let frame = Frames.spare()
        Frames.fill(frame) { words in words[9] = entry }
        report.expect(name, pin(level, frame), equals: expected)
        // A pin that was made holds a type reference: unpinning drops it.
        report.expect("  UNPIN_TABLE", unpin(frame), equals: expected == 0 ? 0 : errno(XEN_EINVAL))
        report.expect("  the frame maps writable afterwards", Frames.mapsWritable(frame), equals: 0)
    }
    pinSpare("PIN_L1 of a page mapping a frame dom0 does not own", level: 1, entry: foreign << 12 | PTE.leafRO,
             errno(XEN_EBUSY))
    pinSpare("PIN_L1 of a page mapping the live L4 read-write", level: 1, entry: l4 << 12 | PTE.leafRW, errno(XEN_EBUSY))
    pinSpare("PIN_L1 of a page mapping the live L4 read-only", level: 1, entry: l4 << 12 | PTE.leafRO, 0)
    pinSpare("PIN_L1 of a page with mfn bit 39 set (pte bit 51)", level: 1, entry: 1 << 51 | T.aFrame << 12 | PTE.leafRO,
             errno(XEN_EPERM))
    pinSpare("PIN_L2 of a page with a superpage entry", level: 2, entry: 0x200 << 12 | PTE.table | PTE.pse,
             errno(XEN_EINVAL))
    pinSpare("PIN_L2 of a page pointing at the pinned L2", level: 2, entry: T.l2Frame << 12 | PTE.table,
             errno(XEN_EINVAL))
    pinSpare("PIN_L3 of a page pointing at the pinned L1", level: 3, entry: T.l1Frame << 12 | PTE.table,
             errno(XEN_EINVAL))
    pinSpare("PIN_L3 of a page pointing at the pinned L2", level: 3, entry: T.l2Frame << 12 | PTE.table, 0)
    pinSpare("PIN_L4 of a page pointing at the pinned L3 (slot 9)", level: 4, entry: T.l3Frame << 12 | PTE.table, 0)
    pinSpare("PIN_L4 of a page with a garbage entry in slot 9", level: 4, entry: 0x7FF_FFFF_FFFF_F027, errno(XEN_EINVAL))
}
