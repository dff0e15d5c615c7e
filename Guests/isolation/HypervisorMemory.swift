// HypervisorMemory.swift: attempts to reach memory that is not the guest's: the
// hypervisor's own frames (found through the live L4's hypervisor slots, whose
// entries name the hypervisor's page-table frames; the load addresses of Xen and
// Apus; a sample of every RAM frame dom0 does not own), frames past RAM, the local
// APIC and IOAPIC pages, and a free frame found through the M2P table. Every route a
// PV guest has is tried: update_va_mapping, mmu_update, a pinned L1, MMUEXT_COPY_PAGE
// and CLEAR_PAGE, MMU_MACHPHYS_UPDATE, set_gdt, update_descriptor, NEW_BASEPTR,
// register_vcpu_info and the FIFO event control block.
import XenGuest
import XenGuestC
import ApusPublic

/// The routes into one frame that must all be refused (fixed check names, so the
/// number of checks does not depend on which frame it is).
private func everyRoute(_ report: inout TestReport, _ mfn: UInt64) {
    attempt(&report, "  update_va_mapping read-only", Own.mapWindow(mfn, PTE.leafRO), equals: errno(XEN_EBUSY))
    attempt(&report, "  update_va_mapping read-write", Own.mapWindow(mfn, PTE.leafRW), equals: errno(XEN_EBUSY))
    let windowL1 = Own.tableFrame(of: Own.window, level: 1)
    let result = mmuUpdate(windowL1 << 12 | ((Own.window >> 12) & 0x1FF) << 3, mfn << 12 | PTE.leafRO)
    Own.restoreWindow()
    attempt(&report, "  mmu_update of the window's entry", result, equals: errno(XEN_EBUSY))
    attempt(&report, "  COPY_PAGE from it", mmuext(MMUEXT_COPY_PAGE, mfn: Own.scratchFrame, arg2: mfn),
            equals: errno(XEN_EINVAL))
    attempt(&report, "  COPY_PAGE into it", mmuext(MMUEXT_COPY_PAGE, mfn: mfn, arg2: Own.scratchFrame),
            equals: errno(XEN_EINVAL))
    attempt(&report, "  CLEAR_PAGE of it", mmuext(MMUEXT_CLEAR_PAGE, mfn: mfn), equals: errno(XEN_EINVAL))
    attempt(&report, "  PIN_L1_TABLE of it", mmuext(MMUEXT_PIN_L1_TABLE, mfn: mfn), equals: errno(XEN_EINVAL))
    attempt(&report, "  NEW_BASEPTR to it", mmuext(MMUEXT_NEW_BASEPTR, mfn: mfn), equals: errno(XEN_EINVAL))
    attempt(&report, "  mmu_update with ptr in it", mmuUpdate(mfn << 12 | 0x40, 0), equals: errno(XEN_EINVAL))
    attempt(&report, "  MACHPHYS_UPDATE of it", mmuUpdate(mfn << 12 | UInt64(MMU_MACHPHYS_UPDATE), 0),
            equals: errno(XEN_EINVAL))
    let list = Scratch.cleared(64).bindMemory(to: UInt64.self, capacity: 2)
    list[0] = mfn
    attempt(&report, "  set_gdt with it", HYPERVISOR_set_gdt(list, 16), equals: errno(XEN_EINVAL))
    attempt(&report, "  update_descriptor into it", HYPERVISOR_update_descriptor(mfn << 12 | 0x80, 0x00CF_F300_0000_FFFF),
            equals: errno(XEN_EINVAL))
}

/// The same number of passing checks where there is no frame to try.
private func noRoute(_ report: inout TestReport) {
    for _ in 0..<24 { report.check("  (nothing there)", true) }
}

func hypervisorMemory(_ report: inout TestReport) {
    report.group("hypervisor slots")
    // Each non-empty hypervisor slot of the live L4 names a frame of the hypervisor's
    // own page tables (slot 258 of Xen's is the L4 itself: the guest's own frame).
    for slot in UInt64(256)..<272 {
        let entry = Own.l4Entry(slot)
        let mfn = PTE.frame(entry)
        if entry & PTE.present == 0 || mfn == Own.l4 || Own.owns(mfn) {
            noRoute(&report)
            continue
        }
        report.info("slot", Int64(slot))
        report.info("  frame", hex: mfn)
        everyRoute(&report, mfn)
    }

    report.group("load addresses")
    // Xen 4.17 loads itself at 0x3f800000 on this 1 GiB machine (its log says so);
    // Apus's image starts at 2 MiB. Whichever runs, neither frame is dom0's.
    let loadFrames: InlineArray<4, UInt64> = [0x3F800, 0x3F900, 0x200, 0x280]
    for index in loadFrames.indices {
        let mfn = loadFrames[index]
        report.info("frame", hex: mfn)
        if Own.owns(mfn) { noRoute(&report) } else { everyRoute(&report, mfn) }
    }

    report.group("RAM not dom0's")
    // Every 4096th frame of each RAM region of the machine memory map above 1 MiB that
    // dom0 does not own (the M2P and p2m say so) must be refused read-only mapping.
    let map = Scratch.cleared(64 * 20 + 64)
    var request = xen_memory_map(nr_entries: 64, _pad: 0, buffer: xen_guest_handle_t(p: address(map + 64)))
    report.expect("machine_memory_map", HYPERVISOR_memory_op(UInt64(XENMEM_machine_memory_map), &request), equals: 0)
    var sampled: Int64 = 0, mapped: Int64 = 0, owned: Int64 = 0
    let entries = (map + 64).bindMemory(to: xen_e820_entry.self, capacity: 64)
    for index in 0..<Int(min(request.nr_entries, 64)) where entries[index].type == UInt32(XEN_E820_RAM) {
        var mfn = max(entries[index].addr >> 12, 0x100)
        let end = (entries[index].addr + entries[index].size) >> 12
        while mfn < end {
            if Own.owns(mfn) {
                owned += 1
            } else {
                sampled += 1
                if Own.mapWindow(mfn, PTE.leafRO) != errno(XEN_EBUSY) {
                    mapped += 1
                    report.info("  mapped, or refused otherwise", hex: mfn)
                }
            }
            mfn += 0x1000
        }
    }
    report.info("frames tried", sampled)
    report.info("frames skipped (dom0's)", owned)
    report.check("at least 32 frames tried", sampled >= 32)
    report.expect("frames not refused with -EBUSY", mapped, equals: 0)
    report.check("  still answers, nothing changed", Own.intact())

    report.group("free frame")
    var free: UInt64 = 0x10000
    while Own.owns(free) { free += 0x111 }
    report.info("a frame dom0 does not own", hex: free)
    everyRoute(&report, free)
    // A pinned L1 whose entry maps it.
    if let l1 = Pages.allocate() {
        xg_write64(l1 + 8, free << 12 | PTE.leafRO)
        report.expect("make an L1 mapping it read-only", Pages.protect(l1, writable: false), equals: 0)
        attempt(&report, "PIN_L1_TABLE of that L1", mmuext(MMUEXT_PIN_L1_TABLE, mfn: Pages.machineFrame(ofVirtual: l1)),
                equals: errno(XEN_EBUSY))
        report.expect("  the L1 maps writable again (no type left)", Pages.protect(l1, writable: true), equals: 0)
    } else {
        report.check("page pool has a page", false)
    }
    var info = vcpu_register_vcpu_info(mfn: free, offset: 0, rsvd: 0)
    attempt(&report, "VCPUOP_register_vcpu_info on it", HYPERVISOR_vcpu_op(UInt32(VCPUOP_register_vcpu_info), 0, &info),
            equals: errno(XEN_EINVAL))
    var control = evtchn_init_control()
    control.control_gfn = free
    attempt(&report, "EVTCHNOP_init_control on it",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_init_control), &control), equals: errno(XEN_EINVAL))

    report.group("past RAM and devices")
    var noDomain: UInt64 = 0
    let maximumRAMPage = UInt64(HYPERVISOR_memory_op(UInt64(XENMEM_maximum_ram_page), &noDomain))
    attempt(&report, "a frame past RAM read-only (I/O: dom0 may)", Own.mapWindow(maximumRAMPage + 0x100, PTE.leafRO),
            equals: 0)
    attempt(&report, "a frame past RAM read-write", Own.mapWindow(maximumRAMPage + 0x100, PTE.leafRW), equals: 0)
    attempt(&report, "the reserved range at 0xfd00000000", Own.mapWindow(0xFD0_0000, PTE.leafRO),
            equals: errno(XEN_EPERM))
    attempt(&report, "mfn 2^40 - 1", Own.mapWindow((1 << 40) - 1, PTE.leafRO), equals: errno(XEN_EINVAL))
    attempt(&report, "mfn 2^39 (pte bit 51)", Own.mapWindow(1 << 39, PTE.leafRO), equals: errno(XEN_EPERM))
    let device = PTE.leafRO | PTE.pcd | PTE.pwt
    attempt(&report, "the local APIC read-only", Own.mapWindow(0xFEE00, device), equals: errno(XEN_EPERM))
    attempt(&report, "the local APIC read-write", Own.mapWindow(0xFEE00, device | PTE.rw), equals: errno(XEN_EPERM))
    // The IOAPIC asked for read-write is mapped read-only: a store faults.
    let ioapic = HYPERVISOR_update_va_mapping(Own.window, 0xFEC00 << 12 | device | PTE.rw, UInt64(UVMF_INVLPG))
    report.expect("the IOAPIC asked for read-write", ioapic, equals: 0)
    if ioapic == 0 {
        let register = UnsafePointer<UInt32>(bitPattern: UInt(Own.window))!
        let select = UInt64(register.pointee)
        report.check("  the entry is read-only", !PageWalk.lookup(Own.window).writable)
        // A store of another index: if it reached the device, IOREGSEL would read it back.
        let stored = Traps.write(Own.window, select ^ 1)
        report.check("  a store to IOREGSEL does not fault (the store is dropped)", stored)
        report.expect("  IOREGSEL unchanged", hex: UInt64(register.pointee), equals: select)
    } else {
        for _ in 0..<3 { report.check("  (not mapped)", false) }
    }
    Own.restoreWindow()
    report.check("  still answers, nothing changed", Own.intact())
}
