// ptwrite: writable page tables (XENFEAT_writable_page_tables). A PV kernel may write an
// entry of one of its own L1 page tables with an ordinary store, although the hypervisor
// keeps that page read-only: the store faults into the hypervisor, which checks the new
// entry as it checks an mmu_update and, if it is acceptable, performs it and resumes the
// guest after the store. The guest uses the runtime's map window: its L1 entry lives in a
// bootstrap L1 table, which the initial mapping shows read-only.
//
// Facts Xen 4.17 showed (the spec Apus must meet; the instruction forms other than the
// runtime's 8-byte store are covered by ApusCore's PTEWriteDecoder tests):
//   - a store of an entry mapping an own frame read-write, or read-only, into the L1
//     page through its read-only mapping succeeds (no fault reaches the guest) and takes
//     effect once the guest invalidates the window's TLB entry; the entry reads back
//     adjusted as Xen adjusts a 64-bit PV guest's L1 entries (no XPTI on this CPU): one
//     with the user bit gains the global bit (0x100); one without gains the user bit and
//     Xen's guest-kernel mark, bit 52 (and no global bit);
//   - storing the value the entry already has succeeds;
//   - a store that would map a page table (this very L1) writable, one with a frame
//     beyond the CPU's physical address width, and one with a RAM frame dom0 does not
//     own (the hypervisor's own) are refused: the guest gets the #PF of its store, error
//     code 3 (present|write), cr2 the entry's address, and the entry is unchanged;
//   - a write through the window while it maps a data page read-only is an ordinary
//     #PF (code 3).
import XenGuest
import XenGuestC
import ApusPublic

private let window = xg_map_window_address()
private let markerA: UInt64 = 0xA1A1_0000_0000_A1A1
private let markerB: UInt64 = 0xB2B2_0000_0000_B2B2
private let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000

private func invalidateWindow() -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(MMUEXT_INVLPG_LOCAL)
    op.arg1.linear_addr = window
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

/// The virtual address of the window's L1 entry (in a bootstrap L1, mapped read-only).
private func windowEntryAddress() -> UInt64? {
    var table = StartOfDay.startInfo.pointee.pt_base
    for level in stride(from: 4, to: 1, by: -1) {
        let index = (window >> UInt64(12 + 9 * (level - 1))) & 0x1FF
        let entry = xg_read64(table &+ index &* 8)
        guard entry & 1 != 0, entry & 0x80 == 0 else { return nil }
        table = PageWalk.virtualAddress(ofMachineFrame: (entry & frameMask) >> 12)
    }
    return table &+ ((window >> 12) & 0x1FF) &* 8
}

private func expectRefused(_ report: inout TestReport, _ name: StaticString, _ entryAddress: UInt64, _ value: UInt64) {
    let before = xg_read64(entryAddress)
    report.check(name, !Traps.write(entryAddress, value))
    report.expect("  #PF error code", hex: Traps.last.errorCode, equals: 3)
    report.expect("  #PF cr2", hex: Traps.last.cr2, equals: entryAddress)
    report.expect("  entry unchanged", hex: xg_read64(entryAddress), equals: before)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "ptwrite")
    report.expect("install the trap table", Traps.install(guest: "ptwrite"), equals: 0)
    guard let entryAddress = windowEntryAddress(), let pageA = Pages.allocate(), let pageB = Pages.allocate() else {
        report.check("find the window's L1 entry and two pool pages", false)
        report.finish()
    }
    UnsafeMutablePointer<UInt64>(bitPattern: UInt(pageA))!.pointee = markerA
    UnsafeMutablePointer<UInt64>(bitPattern: UInt(pageB))!.pointee = markerB
    let frameA = Pages.machineFrame(ofVirtual: pageA), frameB = Pages.machineFrame(ofVirtual: pageB)
    let original = xg_read64(entryAddress)
    let l1Frame = Pages.machineFrame(ofVirtual: entryAddress & ~0xFFF)
    report.check("the L1 page is mapped read-only", !PageWalk.lookup(entryAddress).writable)

    // Accepted stores.
    report.check("store: the window maps A read-write", Traps.write(entryAddress, frameA << 12 | Pages.pteWritable))
    report.expect("  entry reads back (global added)", hex: xg_read64(entryAddress),
                  equals: frameA << 12 | Pages.pteWritable | 0x100)
    report.expect("  invlpg", invalidateWindow(), equals: 0)
    report.expect("  read through the window", hex: Traps.read(window) ?? 0, equals: markerA)
    report.check("  write through the window", Traps.write(window, markerA ^ 1))
    report.expect("  the write landed in A", hex: xg_read64(pageA), equals: markerA ^ 1)
    report.check("store: the window maps B read-only", Traps.write(entryAddress, frameB << 12 | Pages.pteReadOnly))
    report.expect("  invlpg", invalidateWindow(), equals: 0)
    report.expect("  read through the window", hex: Traps.read(window) ?? 0, equals: markerB)
    report.check("  a write through it faults", !Traps.write(window, 1))
    report.expect("    #PF error code", hex: Traps.last.errorCode, equals: 3)
    report.check("store: the same value again", Traps.write(entryAddress, frameB << 12 | Pages.pteReadOnly))
    report.check("store: without the user bit", Traps.write(entryAddress, frameA << 12 | 0x63))
    report.expect("  entry reads back with user and bit 52", hex: xg_read64(entryAddress),
                  equals: 1 << 52 | frameA << 12 | 0x67)

    // Refused stores: the guest's own #PF.
    expectRefused(&report, "store: this L1 mapped writable", entryAddress, l1Frame << 12 | Pages.pteWritable)
    expectRefused(&report, "store: a frame past the physical address width", entryAddress,
                  (1 << 51) | Pages.pteReadOnly)

    report.check("store: the original entry back", Traps.write(entryAddress, original))
    report.expect("  invlpg", invalidateWindow(), equals: 0)
    report.finish()
}
