// DirectWrites.swift: plain stores into the guest's own page-table pages through
// their read-only mappings (no hypercall). A PV kernel that asks for
// writable_page_tables (the runtime's notes do) may store into its L1 pages: the
// hypervisor takes the page fault, validates the new entry as mmu_update would and
// writes it. Anything it would refuse, and any store into an L2-L4 page, is a page
// fault for the guest, and the entry stays as it was.
import XenGuest
import XenGuestC
import ApusPublic

func directWrites(_ report: inout TestReport) {
    report.group("direct writes")
    let slot: UInt64 = 8
    let roB = T.bFrame << 12 | PTE.leafRO
    report.check("store B read-only into L1[8]", Traps.write(T.l1 + slot * 8, roB))
    report.expect("  L1[8]", hex: T.leaf(slot), equals: roB)
    report.info("  raw", hex: T.entry(T.l1, slot))
    expectRead(&report, "  0x100000008000 maps B", TestVA.at(l1: slot), markerB)
    let raw = T.entry(T.l1, slot)
    report.check("store it again with the accessed bit clear", Traps.write(T.l1 + slot * 8, raw & ~PTE.accessed))
    report.expect("  L1[8]", hex: T.leaf(slot) & ~PTE.accessed, equals: roB & ~PTE.accessed)
    expectFault(&report, "store an entry mapping the live L4 read-write", T.l1 + slot * 8, write: true, errorCode: 3,
                value: Bootstrap.l4 << 12 | PTE.leafRW)
    expectFault(&report, "store an entry mapping a frame dom0 does not own", T.l1 + slot * 8, write: true,
                errorCode: 3, value: Frames.foreign(from: 0x10000) << 12 | PTE.leafRO)
    report.expect("  L1[8] unchanged", hex: T.leaf(slot) | PTE.accessed, equals: roB)
    report.check("store an entry mapping the live L4 read-only", Traps.write(T.l1 + slot * 8,
                 Bootstrap.l4 << 12 | PTE.leafRO))
    report.expect("  L1[8]", hex: T.leaf(slot), equals: Bootstrap.l4 << 12 | PTE.leafRO)
    report.check("store 0", Traps.write(T.l1 + slot * 8, 0))
    report.expect("  L1[8]", hex: T.entry(T.l1, slot), equals: 0)
    _ = flushLocal()
    expectFault(&report, "  0x100000008000 is unmapped", TestVA.at(l1: slot), write: false, errorCode: 0)
    expectFault(&report, "store the L1 into L2[8]", T.l2 + slot * 8, write: true, errorCode: 3,
                value: T.l1Frame << 12 | PTE.table)
    report.expect("  L2[8] unchanged", hex: T.entry(T.l2, slot), equals: 0)
    expectFault(&report, "store the L2 into L3[8]", T.l3 + slot * 8, write: true, errorCode: 3,
                value: T.l2Frame << 12 | PTE.table)
    expectFault(&report, "store the L3 into the live L4's slot 40", Bootstrap.l4Address + 40 * 8, write: true,
                errorCode: 3, value: T.l3Frame << 12 | PTE.table)
    report.expect("  L4[40] unchanged", hex: Bootstrap.l4Entry(40), equals: 0)
}
