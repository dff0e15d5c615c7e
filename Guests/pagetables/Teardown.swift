// Teardown.swift: the private tables come down in the reverse order: unhooked from the
// live L4, unpinned one level at a time, and each is a plain page again afterwards.
import XenGuest
import XenGuestC
import ApusPublic

func teardown(_ report: inout TestReport) {
    report.group("teardown")
    report.expect("live L4[32] = 0", setEntry(Bootstrap.l4, TestVA.l4Slot, 0), equals: 0)
    report.expect("TLB_FLUSH_LOCAL", flushLocal(), equals: 0)
    expectFault(&report, "0x100000000000 is gone", TestVA.at(), write: false, errorCode: 0)
    report.expect("the L3 maps writable (still pinned)", Pages.protect(T.l3, writable: true), equals: errno(XEN_EBUSY))
    report.expect("UNPIN_TABLE the L3", unpin(T.l3Frame), equals: 0)
    report.expect("  the L3 maps writable", Pages.protect(T.l3, writable: true), equals: 0)
    report.expect("  the L2 maps writable (still pinned)", Pages.protect(T.l2, writable: true), equals: errno(XEN_EBUSY))
    report.expect("UNPIN_TABLE the L2", unpin(T.l2Frame), equals: 0)
    report.expect("  the L2 maps writable", Pages.protect(T.l2, writable: true), equals: 0)
    report.expect("UNPIN_TABLE the L1", unpin(T.l1Frame), equals: 0)
    report.expect("  the L1 maps writable", Pages.protect(T.l1, writable: true), equals: 0)
    report.expect("UNPIN_TABLE the L1 again", unpin(T.l1Frame), equals: errno(XEN_EINVAL))
    report.expect("  its entries are as they were", hex: T.leaf(0), equals: T.aFrame << 12 | PTE.leafRW)
    report.expect("A holds its marker", hex: xg_read64(T.dataA), equals: markerA)
    report.expect("B holds its marker", hex: xg_read64(T.dataB), equals: markerB)
}
