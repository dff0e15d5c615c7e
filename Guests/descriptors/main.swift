// descriptors: a PV kernel's own GDT (set_gdt), single descriptor writes
// (update_descriptor) and LDT (MMUEXT_SET_LDT), and the segment loads that use them.
//
// The guest builds a GDT in a page of its own, makes the page read-only, installs it,
// rewrites entries by machine address, then loads selectors into %ds, %es, %fs and
// %cs (lretq) and checks lar/lsl and memory reads through them. Refusals are checked
// by their exact errno; faulting loads by vector and error code.
//
// Facts Xen 4.17 showed (the spec Apus must meet):
// Before set_gdt the guest part of the GDT (entries 0-7167) reads as zeros: loading
//   0x13 is #GP(0x10). Xen's own flat selectors (0xe02b data, 0xe033 code) load; its
//   ring-0 data selector 0xe010 is #GP(0xe010).
// set_gdt(frames, entries):
//   0: one read-only own page with 16 entries; entries 0 (drops the guest GDT: its
//     selectors are #GP again and the page maps writable again);
//   -EINVAL (-22): the page still mapped writable; entries 7169 (> 14 pages); a frame
//     dom0 does not own; a page-table frame (the L4); a page holding a 64-bit TSS
//     descriptor or a call gate to 0xe030; two frames (entries 513) whose second is
//     writable (the first one's type reference is dropped: it maps writable again);
//   -EFAULT (-14): an unmapped frame list.
//   Validation rewrites the page in place: a DPL-0 code or data descriptor reads back
//   with DPL 3 (byte 5 0x9b -> 0xfb, 0x93 -> 0xf3); a call gate gets DPL 0 and its
//   target selector's RPL becomes the gate's DPL (3): 0x8000ec00e0331000 ->
//   0x80008c00e0331000. Not-present descriptors are kept as they are.
//   While the page is the GDT, mapping it writable is -EBUSY (-16).
//   The entry count only decides how many frames are used: a valid descriptor past
//   `entries` in the same page loads (entry 20 of 16); entry 512 (no second frame)
//   reads as zero: #GP(0x1000).
// update_descriptor(machine address, descriptor), 0 when accepted:
//   0: flat data and 64-bit code DPL 3, and DPL 0 (stored as DPL 3); a call gate to a
//     guest GDT selector (stored with DPL 0, target 0x08 -> 0x0b); a not-present
//     descriptor with any other bits (stored unchanged); the zero descriptor; an
//     ordinary writable page of the guest's own (not a GDT or LDT: Xen writes it);
//   -EINVAL: a 64-bit TSS or LDT descriptor; an interrupt or trap gate; a call gate
//     to 0xe008 (Xen's ring-0 code) or 0xe030 (only a guest selector, an LDT selector
//     or exactly FLAT_KERNEL_CS 0xe033 may be a gate's target) or with bits 32-39
//     set; an address not 8-byte aligned; a frame dom0 does not own; a page-table
//     frame (the L4). A refused descriptor is checked before the frame: a TSS into
//     an ordinary page is -EINVAL too.
// Loads (CPL 3): data DPL 3, readable code, a former DPL-0 data descriptor and an
//   RPL-0 selector of a DPL-3 descriptor load and read back as loaded; a not-present
//   one is #NP (vector 11) with error code = selector & ~3; an execute-only code
//   segment, a call gate and a zero entry are #GP(selector & ~3). An FS selector
//   takes its descriptor's 32-bit base (0x1000 here: %fs:(x - 0x1000) reads x). lretq
//   into the GDT's 64-bit code selector (and the former DPL-0 one) runs there with
//   %cs = that selector; lretq to a data selector is #GP(selector & ~3). lar gives
//   0x00c0f300 for flat data (also when not present: 0x00c07300), 0x00a0fb00 for
//   64-bit code, ZF clear for a zero entry; lsl 0xffffffff.
// MMUEXT_SET_LDT (arg1 linear base, arg2 entries):
//   -EINVAL: a base not page-aligned; 8193 entries; a base in Xen's range
//     (0xffff830000000000) or non-canonical (0x0000800000000000);
//   0: a page-aligned base of a writable page (nothing is checked until use);
//   loading an LDT selector then makes Xen map the page: while it is writable (or
//     holds an invalid descriptor, a TSS) that fails and the guest gets #PF with
//     error code 0 and cr2 = base + (selector & ~7); read-only, the selector loads
//     (an FS selector with its descriptor's base); an index at or past the entry
//     count is #GP(selector & ~3);
//   while the LDT page is in use, mapping it writable is -EBUSY; update_descriptor
//     into it is 0 and the next load sees the new descriptor; SET_LDT(0, 0) is 0,
//     releases it (then mapping writable is 0) and LDT selectors are #GP(index|4).
// (Xen logs "d0v0 Error mfn 3f800: rd=d0 od=NULL ..." for the frame dom0 does not own.)
import XenGuest
import XenGuestC
import ApusPublic
import DescriptorProbes

private func errno(_ value: Int32) -> Int64 { -Int64(value) }

// Descriptors (8 bytes): limit 0-15, base 16-39, type 40-43, S 44, DPL 45-46, P 47,
// limit 48-51, AVL 52, L 53, D/B 54, G 55, base 56-63. All have the accessed bit set
// so that the CPU never writes them.
private let code64: UInt64 = 0x00AF_FB00_0000_FFFF          // 64-bit code, DPL 3
private let data: UInt64 = 0x00CF_F300_0000_FFFF            // flat read/write data, DPL 3
private let dataBase4K: UInt64 = 0x00CF_F300_1000_FFFF      // the same, base 0x1000
private let dataDPL0: UInt64 = 0x00CF_9300_0000_FFFF
private let code64DPL0: UInt64 = 0x00AF_9B00_0000_FFFF
private let dataNotPresent: UInt64 = 0x00CF_7300_0000_FFFF
private let codeExecuteOnly: UInt64 = 0x00AF_F900_0000_FFFF // type 9: execute-only, accessed
private let tss64: UInt64 = 0x0000_8900_0000_0067           // 64-bit TSS (available), low half
private let ldt64: UInt64 = 0x0000_8200_0000_0FFF           // LDT descriptor, low half
private let garbageNotPresent: UInt64 = 0x1234_7F56_789A_BCDE // P clear, every other bit set somewhere

/// A 64-bit call gate's low half (type 0xC) to selector:offset with this DPL.
private func callGate(selector: UInt64, offset: UInt64, dpl: UInt64, byte4: UInt64 = 0) -> UInt64 {
    ((offset >> 16) & 0xFFFF) << 48 | (0x8C | dpl << 5) << 40 | byte4 << 32 | selector << 16 | (offset & 0xFFFF)
}
/// An interrupt (0xE) or trap (0xF) gate's low half, DPL 3.
private func gate(type: UInt64) -> UInt64 { (0xE0 | type) << 40 | UInt64(FLAT_KERNEL_CS) << 16 }

/// GDT entries the guest installs (selector = index << 3 | RPL).
private enum Entry {
    static let code: UInt64 = 1
    static let data: UInt64 = 2
    static let dataBase4K: UInt64 = 3
    static let dataDPL0: UInt64 = 4
    static let notPresent: UInt64 = 5
    static let executeOnly: UInt64 = 6
    static let callGate: UInt64 = 7      // 7 and 8 (a 64-bit gate is 16 bytes)
    static let codeDPL0: UInt64 = 9
    static let pastEntries: UInt64 = 20  // beyond the 16 entries set_gdt is given
    static let written: UInt64 = 10      // filled later by update_descriptor
    static let count: UInt32 = 16
}

private func selector(_ index: UInt64, rpl: UInt64 = 3, ldt: Bool = false) -> UInt64 {
    index << 3 | (ldt ? 4 : 0) | rpl
}

/// What one probe did: its value, and the trap if it faulted.
private struct Attempt {
    var faulted: Bool
    var value: UInt64
    var record: TrapRecord
}

private func attempt(fault: UInt64, fixup: UInt64 = seg_fixup_address(), _ body: () -> UInt64) -> Attempt {
    let before = Traps.count
    Traps.arm(faultAt: fault, resumeAt: fixup)
    let value = body()
    Traps.disarm()
    let faulted = Traps.count != before
    return Attempt(faulted: faulted, value: value, record: faulted ? Traps.last : TrapRecord.empty)
}

private func loadDS(_ value: UInt64) -> Attempt { attempt(fault: seg_load_ds_fault_address()) { seg_load_ds(value) } }
private func loadES(_ value: UInt64) -> Attempt { attempt(fault: seg_load_es_fault_address()) { seg_load_es(value) } }
private func loadFS(_ value: UInt64) -> Attempt { attempt(fault: seg_load_fs_fault_address()) { seg_load_fs(value) } }

/// A load that must work; the register then reads back the selector.
private func expectLoad(_ report: inout TestReport, _ name: StaticString, _ result: Attempt, reads: UInt64,
                        now: UInt64) {
    report.check(name, !result.faulted)
    if result.faulted {
        report.info("  unexpected vector", Int64(result.record.vector))
        report.info("  error code", hex: result.record.errorCode)
    }
    report.expect("  selector reads back", hex: now, equals: reads)
}

/// A load that must fault with this vector and error code.
private func expectLoadFault(_ report: inout TestReport, _ name: StaticString, _ result: Attempt, vector: UInt8,
                             errorCode: UInt64) {
    report.check(name, result.faulted)
    report.expect("  vector", Int64(result.faulted ? Int64(result.record.vector) : -1), equals: Int64(vector))
    report.expect("  error code", hex: result.faulted ? result.record.errorCode : ~0, equals: errorCode)
}

private func mmuextSetLDT(linear: UInt64, entries: UInt32) -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(MMUEXT_SET_LDT)
    op.arg1.linear_addr = linear
    op.arg2.nr_ents = entries
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

/// set_gdt with a frame list (one or two frames) in Scratch.
private func setGDT(_ frame: UInt64, _ second: UInt64 = 0, entries: UInt32) -> Int64 {
    let list = Scratch.cleared(16 * 8).bindMemory(to: UInt64.self, capacity: 16)
    list[0] = frame
    list[1] = second
    return HYPERVISOR_set_gdt(list, entries)
}

private func ownsFrame(_ mfn: UInt64) -> Bool {
    let pages = StartOfDay.startInfo.pointee.nr_pages
    var pfn: UInt64 = 0
    while pfn < pages {
        if StartOfDay.machineFrame(ofPseudoPhysical: pfn) == mfn { return true }
        pfn += 1
    }
    return false
}

private let marker: UInt64 = 0x5E6D_E5C0_0000_0001

nonisolated(unsafe) private var gdt: UInt64 = 0
nonisolated(unsafe) private var gdtFrame: UInt64 = 0
private func gdtEntry(_ index: UInt64) -> UInt64 { xg_read64(gdt &+ index &* 8) }
private func gdtMachine(_ index: UInt64) -> UInt64 { gdtFrame << 12 | index << 3 }

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "descriptors")
    report.expect("install the trap table", Traps.install(guest: "descriptors"), equals: 0)
    guard let gdtPage = Pages.allocate(), let second = Pages.allocate(), let bad = Pages.allocate(),
          let plain = Pages.allocate(), let ldt = Pages.allocate()
    else {
        report.check("page pool has 5 pages", false)
        report.finish()
    }
    gdt = gdtPage
    gdtFrame = Pages.machineFrame(ofVirtual: gdt)
    let secondFrame = Pages.machineFrame(ofVirtual: second)
    let badFrame = Pages.machineFrame(ofVirtual: bad)
    let plainFrame = Pages.machineFrame(ofVirtual: plain)
    let l4Frame = Pages.machineFrame(ofVirtual: StartOfDay.startInfo.pointee.pt_base)
    let markerAt = plain &+ 0x800
    xg_write64(markerAt, marker)

    // --- Before any guest GDT ---
    report.group("no guest GDT")
    expectLoadFault(&report, "load 0x13 (guest part is zeros)", loadDS(0x13), vector: 13, errorCode: 0x10)
    expectLoad(&report, "load Xen's flat data 0xe02b", loadDS(UInt64(FLAT_RING3_DS32)), reads: 0xE02B,
               now: seg_read_ds())
    expectLoadFault(&report, "load Xen's ring-0 data 0xe010", loadDS(0xE010), vector: 13, errorCode: 0xE010)
    _ = loadDS(0)

    // --- set_gdt ---
    report.group("set_gdt")
    xg_write64(gdt &+ Entry.code * 8, code64)
    xg_write64(gdt &+ Entry.data * 8, data)
    xg_write64(gdt &+ Entry.dataBase4K * 8, dataBase4K)
    xg_write64(gdt &+ Entry.dataDPL0 * 8, dataDPL0)
    xg_write64(gdt &+ Entry.notPresent * 8, dataNotPresent)
    xg_write64(gdt &+ Entry.executeOnly * 8, codeExecuteOnly)
    let gateToKernel = callGate(selector: UInt64(FLAT_KERNEL_CS), offset: 0xFFFF_FFFF_8000_1000, dpl: 3)
    xg_write64(gdt &+ Entry.callGate * 8, gateToKernel)
    xg_write64(gdt &+ (Entry.callGate + 1) * 8, 0xFFFF_FFFF)   // upper half: offset 63-32, type 0
    xg_write64(gdt &+ Entry.codeDPL0 * 8, code64DPL0)
    xg_write64(gdt &+ Entry.pastEntries * 8, data)
    report.expect("the page still writable", setGDT(gdtFrame, entries: Entry.count), equals: errno(XEN_EINVAL))
    report.expect("make the page read-only", Pages.protect(gdt, writable: false), equals: 0)
    report.expect("7169 entries", setGDT(gdtFrame, entries: 7169), equals: errno(XEN_EINVAL))
    var foreign: UInt64 = 0x3F800
    while ownsFrame(foreign) { foreign += 0x101 }
    report.expect("a frame dom0 does not own", setGDT(foreign, entries: Entry.count), equals: errno(XEN_EINVAL))
    report.expect("the L4 page-table frame", setGDT(l4Frame, entries: Entry.count), equals: errno(XEN_EINVAL))
    xg_write64(bad &+ 8, tss64)
    report.expect("make a TSS page read-only", Pages.protect(bad, writable: false), equals: 0)
    report.expect("a page holding a 64-bit TSS descriptor", setGDT(badFrame, entries: Entry.count),
                  equals: errno(XEN_EINVAL))
    report.expect("2 frames, the second writable", setGDT(gdtFrame, secondFrame, entries: 513),
                  equals: errno(XEN_EINVAL))
    report.expect("  the first frame maps writable again", Pages.protect(gdt, writable: true), equals: 0)
    report.expect("  and read-only", Pages.protect(gdt, writable: false), equals: 0)
    xg_write64(second, callGate(selector: 0xE030, offset: 0x1000, dpl: 3))
    report.expect("make a page with a call gate to 0xe030 read-only", Pages.protect(second, writable: false),
                  equals: 0)
    report.expect("a page holding a call gate to 0xe030", setGDT(secondFrame, entries: 1),
                  equals: errno(XEN_EINVAL))
    report.expect("an unmapped frame list", HYPERVISOR_set_gdt(UnsafePointer<UInt64>(bitPattern: 0xDEAD000), 16),
                  equals: errno(XEN_EFAULT))
    report.expect("one read-only page, 16 entries", setGDT(gdtFrame, entries: Entry.count), equals: 0)
    report.expect("  data DPL 0 now reads DPL 3", hex: gdtEntry(Entry.dataDPL0), equals: data)
    report.expect("  code DPL 0 now reads DPL 3", hex: gdtEntry(Entry.codeDPL0), equals: code64)
    report.expect("  call gate: DPL 0, target RPL 3", hex: gdtEntry(Entry.callGate),
                  equals: callGate(selector: UInt64(FLAT_KERNEL_CS), offset: 0xFFFF_FFFF_8000_1000, dpl: 0))
    report.expect("  flat data unchanged", hex: gdtEntry(Entry.data), equals: data)
    report.expect("  not-present unchanged", hex: gdtEntry(Entry.notPresent), equals: dataNotPresent)
    report.expect("mapping the GDT page writable", Pages.protect(gdt, writable: true), equals: errno(XEN_EBUSY))

    // --- Loads from the new GDT ---
    report.group("GDT loads")
    expectLoad(&report, "ds = data", loadDS(selector(Entry.data)), reads: selector(Entry.data), now: seg_read_ds())
    report.expect("  read through ds", hex: seg_read_via_ds(markerAt), equals: marker)
    expectLoad(&report, "es = data", loadES(selector(Entry.data)), reads: selector(Entry.data), now: seg_read_es())
    report.expect("  read through es", hex: seg_read_via_es(markerAt), equals: marker)
    expectLoad(&report, "fs = data (base 0)", loadFS(selector(Entry.data)), reads: selector(Entry.data),
               now: seg_read_fs())
    report.expect("  read through fs", hex: seg_read_via_fs(markerAt), equals: marker)
    expectLoad(&report, "fs = data with base 0x1000", loadFS(selector(Entry.dataBase4K)),
               reads: selector(Entry.dataBase4K), now: seg_read_fs())
    report.expect("  read through fs at marker - 0x1000", hex: seg_read_via_fs(markerAt &- 0x1000), equals: marker)
    expectLoad(&report, "ds = RPL 0 selector of DPL-3 data", loadDS(selector(Entry.data, rpl: 0)),
               reads: selector(Entry.data, rpl: 0), now: seg_read_ds())
    expectLoad(&report, "ds = former DPL-0 data", loadDS(selector(Entry.dataDPL0)), reads: selector(Entry.dataDPL0),
               now: seg_read_ds())
    expectLoad(&report, "ds = readable 64-bit code", loadDS(selector(Entry.code)), reads: selector(Entry.code),
               now: seg_read_ds())
    expectLoad(&report, "ds = past the entry count, same page", loadDS(selector(Entry.pastEntries)),
               reads: selector(Entry.pastEntries), now: seg_read_ds())
    expectLoadFault(&report, "ds = not present", loadDS(selector(Entry.notPresent)), vector: 11,
                    errorCode: Entry.notPresent << 3)
    expectLoadFault(&report, "ds = execute-only code", loadDS(selector(Entry.executeOnly)), vector: 13,
                    errorCode: Entry.executeOnly << 3)
    expectLoadFault(&report, "ds = call gate", loadDS(selector(Entry.callGate)), vector: 13,
                    errorCode: Entry.callGate << 3)
    expectLoadFault(&report, "ds = zero entry 15", loadDS(selector(15)), vector: 13, errorCode: 15 << 3)
    expectLoadFault(&report, "ds = entry 512 (no second frame)", loadDS(selector(512)), vector: 13,
                    errorCode: 512 << 3)
    expectLoad(&report, "ds = Xen's flat 0xe02b still", loadDS(UInt64(FLAT_RING3_DS32)), reads: 0xE02B,
               now: seg_read_ds())
    report.expect("lar data", hex: seg_lar(selector(Entry.data)), equals: 0x00C0_F300)
    report.expect("lsl data", hex: seg_lsl(selector(Entry.data)), equals: 0xFFFF_FFFF)
    report.expect("lar code", hex: seg_lar(selector(Entry.code)), equals: 0x00A0_FB00)
    report.expect("lar not present", hex: seg_lar(selector(Entry.notPresent)), equals: 0x00C0_7300)
    report.expect("lar zero entry (ZF clear)", hex: seg_lar(selector(15)), equals: ~0)
    let visit = attempt(fault: seg_visit_cs_fault_address(), fixup: seg_visit_fixup_address()) {
        seg_visit_cs(selector(Entry.code))
    }
    report.check("lretq into the GDT's 64-bit code", !visit.faulted)
    report.expect("  %cs there", hex: visit.value, equals: selector(Entry.code))
    let visitDPL0 = attempt(fault: seg_visit_cs_fault_address(), fixup: seg_visit_fixup_address()) {
        seg_visit_cs(selector(Entry.codeDPL0))
    }
    report.check("lretq into the former DPL-0 code", !visitDPL0.faulted)
    report.expect("  %cs there", hex: visitDPL0.value, equals: selector(Entry.codeDPL0))
    let visitData = attempt(fault: seg_visit_cs_fault_address(), fixup: seg_visit_fixup_address()) {
        seg_visit_cs(selector(Entry.data))
    }
    report.check("lretq to a data selector faults", visitData.faulted)
    report.expect("  vector", Int64(visitData.record.vector), equals: 13)
    report.expect("  error code", hex: visitData.record.errorCode, equals: Entry.data << 3)
    _ = loadDS(0)
    _ = loadES(0)
    _ = loadFS(0)

    // --- update_descriptor ---
    report.group("update_descriptor")
    report.expect("flat data DPL 3 into entry 10", HYPERVISOR_update_descriptor(gdtMachine(Entry.written), data),
                  equals: 0)
    report.expect("  reads back", hex: gdtEntry(Entry.written), equals: data)
    expectLoad(&report, "  ds loads it", loadDS(selector(Entry.written)), reads: selector(Entry.written),
               now: seg_read_ds())
    _ = loadDS(0)
    report.expect("64-bit code DPL 0 into entry 11",
                  HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 1), code64DPL0), equals: 0)
    report.expect("  reads back DPL 3", hex: gdtEntry(Entry.written + 1), equals: code64)
    report.expect("data DPL 0 into entry 12", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 2), dataDPL0),
                  equals: 0)
    report.expect("  reads back DPL 3", hex: gdtEntry(Entry.written + 2), equals: data)
    report.expect("not present, other bits set", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 3),
                  garbageNotPresent), equals: 0)
    report.expect("  reads back unchanged", hex: gdtEntry(Entry.written + 3), equals: garbageNotPresent)
    report.expect("call gate to a guest selector (0x08)",
                  HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 4),
                                               callGate(selector: 0x08, offset: 0x1000, dpl: 3)), equals: 0)
    report.expect("  reads back DPL 0, target 0x0b", hex: gdtEntry(Entry.written + 4),
                  equals: callGate(selector: 0x0B, offset: 0x1000, dpl: 0))
    report.expect("the zero descriptor", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 4), 0), equals: 0)
    report.expect("  reads back 0", hex: gdtEntry(Entry.written + 4), equals: 0)
    report.expect("64-bit TSS", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5), tss64),
                  equals: errno(XEN_EINVAL))
    report.expect("LDT descriptor", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5), ldt64),
                  equals: errno(XEN_EINVAL))
    report.expect("interrupt gate", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5), gate(type: 0xE)),
                  equals: errno(XEN_EINVAL))
    report.expect("trap gate", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5), gate(type: 0xF)),
                  equals: errno(XEN_EINVAL))
    report.expect("call gate to Xen's 0xe008",
                  HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5),
                                               callGate(selector: 0xE008, offset: 0x1000, dpl: 3)),
                  equals: errno(XEN_EINVAL))
    report.expect("call gate to 0xe030 (Xen's flat code with RPL 0)",
                  HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5),
                                               callGate(selector: 0xE030, offset: 0x1000, dpl: 3)),
                  equals: errno(XEN_EINVAL))
    report.expect("call gate with bits 32-39 set",
                  HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5),
                                               callGate(selector: 0x08, offset: 0x1000, dpl: 3, byte4: 1)),
                  equals: errno(XEN_EINVAL))
    report.expect("  refused entries stay zero", hex: gdtEntry(Entry.written + 5), equals: 0)
    report.expect("address not 8-byte aligned", HYPERVISOR_update_descriptor(gdtMachine(Entry.written + 5) + 4, data),
                  equals: errno(XEN_EINVAL))
    report.expect("a frame dom0 does not own", HYPERVISOR_update_descriptor(foreign << 12 | 0x80, data),
                  equals: errno(XEN_EINVAL))
    report.expect("the L4 page-table frame", HYPERVISOR_update_descriptor(l4Frame << 12 | 0x800, data),
                  equals: errno(XEN_EINVAL))
    report.expect("an ordinary page of the guest", HYPERVISOR_update_descriptor(plainFrame << 12 | 0x18, data),
                  equals: 0)
    report.expect("  the page holds it", hex: xg_read64(plain &+ 0x18), equals: data)
    report.expect("  TSS into it", HYPERVISOR_update_descriptor(plainFrame << 12 | 0x20, tss64),
                  equals: errno(XEN_EINVAL))

    // --- LDT ---
    report.group("LDT")
    xg_write64(ldt, data)
    xg_write64(ldt &+ 8, code64)
    xg_write64(ldt &+ 16, dataBase4K)
    report.expect("base not page-aligned", mmuextSetLDT(linear: ldt &+ 8, entries: 3), equals: errno(XEN_EINVAL))
    report.expect("8193 entries", mmuextSetLDT(linear: ldt, entries: 8193), equals: errno(XEN_EINVAL))
    report.expect("base in Xen's range", mmuextSetLDT(linear: 0xFFFF_8300_0000_0000, entries: 3),
                  equals: errno(XEN_EINVAL))
    report.expect("non-canonical base", mmuextSetLDT(linear: 0x0000_8000_0000_0000, entries: 3),
                  equals: errno(XEN_EINVAL))
    report.expect("a writable page, 3 entries", mmuextSetLDT(linear: ldt, entries: 3), equals: 0)
    let writableLoad = loadDS(selector(0, ldt: true))
    expectLoadFault(&report, "  ds = LDT 0 while writable", writableLoad, vector: 14, errorCode: 0)
    report.expect("  cr2", hex: writableLoad.record.cr2, equals: ldt)
    let writableLoad2 = loadFS(selector(2, ldt: true))
    expectLoadFault(&report, "  fs = LDT 2 while writable", writableLoad2, vector: 14, errorCode: 0)
    report.expect("  cr2", hex: writableLoad2.record.cr2, equals: ldt &+ 16)
    report.expect("make the LDT page read-only", Pages.protect(ldt, writable: false), equals: 0)
    expectLoad(&report, "ds = LDT 0", loadDS(selector(0, ldt: true)), reads: selector(0, ldt: true),
               now: seg_read_ds())
    report.expect("  read through ds", hex: seg_read_via_ds(markerAt), equals: marker)
    expectLoad(&report, "fs = LDT 2 (base 0x1000)", loadFS(selector(2, ldt: true)), reads: selector(2, ldt: true),
               now: seg_read_fs())
    report.expect("  read through fs at marker - 0x1000", hex: seg_read_via_fs(markerAt &- 0x1000), equals: marker)
    report.expect("lar LDT 1 (code)", hex: seg_lar(selector(1, ldt: true)), equals: 0x00A0_FB00)
    expectLoadFault(&report, "ds = LDT 3 (past the 3 entries)", loadDS(selector(3, ldt: true)), vector: 13,
                    errorCode: 3 << 3 | 4)
    report.expect("mapping the LDT page writable", Pages.protect(ldt, writable: true), equals: errno(XEN_EBUSY))
    let ldtFrame = Pages.machineFrame(ofVirtual: ldt)
    report.expect("update_descriptor LDT entry 1 to data", HYPERVISOR_update_descriptor(ldtFrame << 12 | 8, data),
                  equals: 0)
    expectLoad(&report, "  es = LDT 1", loadES(selector(1, ldt: true)), reads: selector(1, ldt: true),
               now: seg_read_es())
    _ = loadDS(0)
    _ = loadES(0)
    _ = loadFS(0)
    report.expect("SET_LDT(0, 0)", mmuextSetLDT(linear: 0, entries: 0), equals: 0)
    expectLoadFault(&report, "  ds = LDT 0 with no LDT", loadDS(selector(0, ldt: true)), vector: 13, errorCode: 4)
    report.expect("  the page maps writable again", Pages.protect(ldt, writable: true), equals: 0)
    report.expect("an LDT page holding a TSS descriptor (read-only)", mmuextSetLDT(linear: bad, entries: 4),
                  equals: 0)
    let badLoad = loadDS(selector(0, ldt: true))
    expectLoadFault(&report, "  ds = its entry 0", badLoad, vector: 14, errorCode: 0)
    report.expect("  cr2", hex: badLoad.record.cr2, equals: bad)
    report.expect("SET_LDT(0, 0) again", mmuextSetLDT(linear: 0, entries: 0), equals: 0)

    // --- Tear down ---
    report.group(nil)
    report.expect("set_gdt with 0 entries", setGDT(gdtFrame, entries: 0), equals: 0)
    expectLoadFault(&report, "  ds = data is gone", loadDS(selector(Entry.data)), vector: 13,
                    errorCode: Entry.data << 3)
    report.expect("  the page maps writable again", Pages.protect(gdt, writable: true), equals: 0)
    report.expect("no event upcalls", Int64(Traps.eventCount), equals: 0)
    report.finish()
}
