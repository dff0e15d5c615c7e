// References.swift: how long a frame stays a page table. The test asks one question
// each time: may the frame be mapped writable now? A frame is a table while any entry
// or pin references it; when the last one goes, it is a plain page again.
import XenGuest
import XenGuestC
import ApusPublic

func references(_ report: inout TestReport) {
    let table = T.other
    let frame = T.otherFrame
    let entry = frame << 12 | PTE.table
    report.group("two references")
    xg_write64(table, T.aFrame << 12 | PTE.leafRO)
    report.expect("make a second L1 read-only (entry 0 maps A)", Pages.protect(table, writable: false), equals: 0)
    report.expect("L2[5] = it (validated on the way)", setEntry(T.l2Frame, 5, entry), equals: 0)
    report.expect("L2[6] = it too", setEntry(T.l2Frame, 6, entry), equals: 0)
    expectRead(&report, "  both map A (L2[6])", TestVA.at(l2: 6), markerA)
    report.expect("  maps writable", Frames.mapsWritable(frame), equals: errno(XEN_EBUSY))
    report.expect("L2[5] = 0", setEntry(T.l2Frame, 5, 0), equals: 0)
    report.expect("  maps writable (one reference left)", Frames.mapsWritable(frame), equals: errno(XEN_EBUSY))
    report.expect("L2[6] = 0", setEntry(T.l2Frame, 6, 0), equals: 0)
    report.expect("  maps writable (none left)", Frames.mapsWritable(frame), equals: 0)
    report.expect("UNPIN_TABLE of it (never pinned)", unpin(frame), equals: errno(XEN_EINVAL))

    report.group("pinned, last entry gone")
    report.expect("PIN_L1_TABLE", pin(1, frame), equals: 0)
    report.expect("L2[5] = it", setEntry(T.l2Frame, 5, entry), equals: 0)
    report.expect("L2[5] = 0", setEntry(T.l2Frame, 5, 0), equals: 0)
    report.expect("  maps writable (still pinned)", Frames.mapsWritable(frame), equals: errno(XEN_EBUSY))
    report.expect("UNPIN_TABLE", unpin(frame), equals: 0)
    report.expect("  maps writable (nothing references it)", Frames.mapsWritable(frame), equals: 0)

    report.group("unpinned while referenced")
    report.expect("PIN_L1_TABLE", pin(1, frame), equals: 0)
    report.expect("L2[5] = it", setEntry(T.l2Frame, 5, entry), equals: 0)
    report.expect("UNPIN_TABLE", unpin(frame), equals: 0)
    report.expect("  maps writable (L2[5] still references it)", Frames.mapsWritable(frame), equals: errno(XEN_EBUSY))
    report.expect("  UNPIN_TABLE again", unpin(frame), equals: errno(XEN_EINVAL))
    report.expect("  PIN_L2_TABLE (it is an L1)", pin(2, frame), equals: errno(XEN_EINVAL))
    report.expect("L2[5] = 0", setEntry(T.l2Frame, 5, 0), equals: 0)
    report.expect("  maps writable", Frames.mapsWritable(frame), equals: 0)
    report.expect("  PIN_L2_TABLE now (entry 0 maps A read-only: no valid L2)", pin(2, frame), equals: errno(XEN_EINVAL))

    report.group("typed by reference")
    let blank = Frames.spare()
    report.expect("L2[7] = a zeroed frame nobody maps writable", setEntry(T.l2Frame, 7, blank << 12 | PTE.table),
                  equals: 0)
    report.expect("  it is an L1 now: maps writable", Frames.mapsWritable(blank), equals: errno(XEN_EBUSY))
    report.expect("  PIN_L2_TABLE of it", pin(2, blank), equals: errno(XEN_EINVAL))
    report.expect("  PIN_L1_TABLE of it", pin(1, blank), equals: 0)
    report.expect("  UNPIN_TABLE", unpin(blank), equals: 0)
    report.expect("L2[7] = 0", setEntry(T.l2Frame, 7, 0), equals: 0)
    report.expect("  maps writable again", Frames.mapsWritable(blank), equals: 0)
    report.expect("  and as an L2 it pins now (all zero)", pin(2, blank), equals: 0)
    report.expect("  UNPIN_TABLE", unpin(blank), equals: 0)
    report.expect("L2[7] = a frame mapped writable (the window's)", setEntry(T.l2Frame, 7, Frames.windowFrame << 12
                  | PTE.table), equals: errno(XEN_EINVAL))
    _ = flushLocal()
}
