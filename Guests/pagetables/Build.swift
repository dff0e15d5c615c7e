// Build.swift: the guest's private L1, L2 and L3 (pool pages), pinned one by one,
// linked with mmu_update at every level and hooked into the live L4's slot 32; then
// the new mapping is used. The tables stay hooked for the sections after this one;
// Teardown.swift takes them down.
import XenGuest
import XenGuestC
import ApusPublic

let markerA: UInt64 = 0xA1A1_0000_0000_A1A1
let markerB: UInt64 = 0xB2B2_0000_0000_B2B2

/// The pool pages the sections share (virtual addresses) and their frames.
enum T {
    nonisolated(unsafe) static var l1: UInt64 = 0
    nonisolated(unsafe) static var l2: UInt64 = 0
    nonisolated(unsafe) static var l3: UInt64 = 0
    nonisolated(unsafe) static var l4: UInt64 = 0
    nonisolated(unsafe) static var dataA: UInt64 = 0
    nonisolated(unsafe) static var dataB: UInt64 = 0
    nonisolated(unsafe) static var scratch: UInt64 = 0
    nonisolated(unsafe) static var other: UInt64 = 0

    static var l1Frame: UInt64 { Pages.machineFrame(ofVirtual: l1) }
    static var l2Frame: UInt64 { Pages.machineFrame(ofVirtual: l2) }
    static var l3Frame: UInt64 { Pages.machineFrame(ofVirtual: l3) }
    static var l4Frame: UInt64 { Pages.machineFrame(ofVirtual: l4) }
    static var aFrame: UInt64 { Pages.machineFrame(ofVirtual: dataA) }
    static var bFrame: UInt64 { Pages.machineFrame(ofVirtual: dataB) }
    static var scratchFrame: UInt64 { Pages.machineFrame(ofVirtual: scratch) }
    static var otherFrame: UInt64 { Pages.machineFrame(ofVirtual: other) }

    /// Allocates the pool pages; false when the pool is too small.
    static func allocate() -> Bool {
        guard let l1p = Pages.allocate(), let l2p = Pages.allocate(), let l3p = Pages.allocate(),
              let l4p = Pages.allocate(), let a = Pages.allocate(), let b = Pages.allocate(),
              let s = Pages.allocate(), let o = Pages.allocate()
        else { return false }
        l1 = l1p; l2 = l2p; l3 = l3p; l4 = l4p; dataA = a; dataB = b; scratch = s; other = o
        return true
    }

    static func entry(_ table: UInt64, _ index: UInt64) -> UInt64 { xg_read64(table &+ index &* 8) }
    /// A leaf entry of the private L1 without the bits Xen adds (PTE.stored).
    static func leaf(_ index: UInt64) -> UInt64 { PTE.stored(entry(l1, index)) }
}

func buildAndHook(_ report: inout TestReport) {
    report.group("build")
    xg_write64(T.dataA, markerA)
    xg_write64(T.dataB, markerB)
    xg_write64(T.l1, T.aFrame << 12 | PTE.leafRW)
    xg_write64(T.l1 + 8, T.bFrame << 12 | PTE.leafRO)

    // Every level refuses a page that is still mapped writable.
    report.expect("PIN_L1_TABLE while mapped writable", pin(1, T.l1Frame), equals: errno(XEN_EINVAL))
    report.expect("PIN_L2_TABLE while mapped writable", pin(2, T.l2Frame), equals: errno(XEN_EINVAL))
    report.expect("PIN_L3_TABLE while mapped writable", pin(3, T.l3Frame), equals: errno(XEN_EINVAL))
    report.expect("PIN_L4_TABLE while mapped writable", pin(4, T.l4Frame), equals: errno(XEN_EINVAL))

    report.expect("make the L1 read-only", Pages.protect(T.l1, writable: false), equals: 0)
    report.expect("PIN_L1_TABLE", pin(1, T.l1Frame), equals: 0)
    report.expect("make the (empty) L2 read-only", Pages.protect(T.l2, writable: false), equals: 0)
    report.expect("PIN_L2_TABLE", pin(2, T.l2Frame), equals: 0)
    report.expect("make the (empty) L3 read-only", Pages.protect(T.l3, writable: false), equals: 0)
    report.expect("PIN_L3_TABLE", pin(3, T.l3Frame), equals: 0)
    report.expect("the pinned L1 maps writable", Pages.protect(T.l1, writable: true), equals: errno(XEN_EBUSY))
    report.expect("the pinned L2 maps writable", Pages.protect(T.l2, writable: true), equals: errno(XEN_EBUSY))
    report.expect("the pinned L3 maps writable", Pages.protect(T.l3, writable: true), equals: errno(XEN_EBUSY))

    // Link them with mmu_update: L2[0] -> L1, L3[0] -> L2, live L4[32] -> L3.
    report.expect("mmu_update L2[0] = the L1", setEntry(T.l2Frame, 0, T.l1Frame << 12 | PTE.table), equals: 0)
    report.expect("  L2[0] reads back", hex: T.entry(T.l2, 0), equals: T.l1Frame << 12 | PTE.table)
    report.expect("mmu_update L3[0] = the L2", setEntry(T.l3Frame, 0, T.l2Frame << 12 | PTE.table), equals: 0)
    report.expect("  L3[0] reads back", hex: T.entry(T.l3, 0), equals: T.l2Frame << 12 | PTE.table)
    report.expect("the live L4's slot 32 is empty", hex: Bootstrap.l4Entry(TestVA.l4Slot), equals: 0)
    report.expect("mmu_update live L4[32] = the L3", setEntry(Bootstrap.l4, TestVA.l4Slot, T.l3Frame << 12 | PTE.table),
                  equals: 0)
    report.expect("  L4[32] reads back", hex: Bootstrap.l4Entry(TestVA.l4Slot), equals: T.l3Frame << 12 | PTE.table)

    // Use the new mapping.
    let va = TestVA.at()
    expectRead(&report, "read A at 0x100000000000", va, markerA)
    expectRead(&report, "read B at 0x100000001000", va + 4096, markerB)
    report.check("write through the read-write entry", Traps.write(va, markerA ^ 0xFF))
    report.expect("  A sees the write", hex: xg_read64(T.dataA), equals: markerA ^ 0xFF)
    xg_write64(T.dataA, markerA)
    expectFault(&report, "write through the read-only entry", va + 4096, write: true, errorCode: 3)
    expectFault(&report, "read past the L1's entries (entry 2 empty)", va + 8192, write: false, errorCode: 0)
    report.info("L1[0] after the accesses", hex: T.entry(T.l1, 0))

    // An entry written without the user bit reads back as the hypervisor stores it.
    report.expect("mmu_update L1[2] = A present only (no user, no accessed)",
                  setEntry(T.l1Frame, 2, T.aFrame << 12 | PTE.present), equals: 0)
    report.info("  L1[2] reads back", hex: T.entry(T.l1, 2))
    expectRead(&report, "  read A through it", va + 8192, markerA)
    report.expect("mmu_update L1[2] = 0", setEntry(T.l1Frame, 2, 0), equals: 0)
    _ = flushLocal()
}
