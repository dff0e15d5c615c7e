// memmap: memory_op's maps and reservations, as dom0 sees them.
//
// guest-tests.sh boots with dom0_mem=64M,max:64M on a 1 GiB QEMU machine. What Xen
// 4.17 returns is recorded next to each check; Apus must return the same.
import XenGuest
import XenGuestC
import ApusPublic

private func memoryOp(_ cmd: Int32, _ arg: UnsafeMutableRawPointer?) -> Int64 {
    HYPERVISOR_memory_op(UInt64(cmd), arg)
}

private func printMap(_ entries: UnsafePointer<xen_e820_entry>, count: Int) {
    for index in 0..<count {
        let entry = entries[index]
        Console.write("  info e820 ")
        Console.write(hex: entry.addr)
        Console.write(" + ")
        Console.write(hex: entry.size)
        Console.write(" type ")
        Console.write(unsigned: UInt64(entry.type))
        Console.newline()
    }
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "memmap")
    let info = StartOfDay.startInfo.pointee
    var selfDomain = domid_t(DOMID_SELF)
    var domainZero = domid_t(0)
    var noSuchDomain = domid_t(1234)

    // Reservations.
    report.expect("current_reservation(DOMID_SELF)",
                  memoryOp(XENMEM_current_reservation, &selfDomain), equals: Int64(info.nr_pages))
    report.expect("current_reservation(0) from dom0",
                  memoryOp(XENMEM_current_reservation, &domainZero), equals: Int64(info.nr_pages))
    report.expect("maximum_reservation is max:64M",
                  memoryOp(XENMEM_maximum_reservation, &selfDomain), equals: 16384)
    report.expect("current_reservation of a missing domain",
                  memoryOp(XENMEM_current_reservation, &noSuchDomain), equals: -Int64(XEN_ESRCH))
    report.expect("current_reservation with a NULL domid",
                  memoryOp(XENMEM_current_reservation, nil), equals: -Int64(XEN_EFAULT))
    // For a PV domain Xen 4.17 answers maximum_gpfn from shared_info.arch.max_pfn, which
    // the guest itself maintains (Linux sets it); at boot it is 0.
    report.expect("maximum_gpfn of a fresh PV domain", memoryOp(XENMEM_maximum_gpfn, &selfDomain), equals: 0)

    // The machine's RAM, highest frame first.
    let maximumRAMPage = memoryOp(XENMEM_maximum_ram_page, nil)
    report.info("maximum_ram_page", hex: UInt64(maximumRAMPage))
    var highestOwned: UInt64 = 0
    for pfn in 0..<info.nr_pages {
        highestOwned = max(highestOwned, StartOfDay.machineFrame(ofPseudoPhysical: pfn))
    }
    report.check("maximum_ram_page is above every frame dom0 owns", UInt64(maximumRAMPage) > highestOwned)

    // M2P placement.
    var mapping = xen_machphys_mapping(v_start: 0, v_end: 0, max_mfn: 0)
    report.expect("machphys_mapping result", memoryOp(XENMEM_machphys_mapping, &mapping), equals: 0)
    report.check("machphys_mapping starts at MACH2PHYS_VIRT_START", mapping.v_start == MACH2PHYS_VIRT_START)
    report.check("machphys_mapping ends inside the M2P range",
                 mapping.v_end > mapping.v_start && mapping.v_end <= MACH2PHYS_VIRT_END)
    report.info("machphys_mapping v_end", hex: mapping.v_end)
    report.info("machphys_mapping max_mfn", hex: mapping.max_mfn)
    // maximum_ram_page is one past the highest RAM frame (Xen's max_page), and
    // machphys_mapping.max_mfn the highest frame itself.
    report.expect("machphys_mapping.max_mfn is maximum_ram_page - 1", Int64(mapping.max_mfn),
                  equals: maximumRAMPage - 1)

    // dom0's own pseudo-physical map: Xen 4.17 keeps none for a PV dom0 (it is set by
    // the toolstack for domUs), so the call is refused with -ENOSYS and Linux falls back
    // to nr_pages of RAM.
    let entries = Scratch.cleared(64 * 20 + 64)
    var map = xen_memory_map(nr_entries: 64, _pad: 0, buffer: xen_guest_handle_t(p: UInt64(UInt(bitPattern: entries))))
    let ownMap = memoryOp(XENMEM_memory_map, &map)
    report.expect("memory_map for a PV dom0", ownMap, equals: -Int64(XEN_ENOSYS))

    // The host's map (privileged).
    map = xen_memory_map(nr_entries: 64, _pad: 0, buffer: xen_guest_handle_t(p: UInt64(UInt(bitPattern: entries))))
    report.expect("machine_memory_map result", memoryOp(XENMEM_machine_memory_map, &map), equals: 0)
    let count = Int(map.nr_entries)
    report.info("machine map entries", Int64(count))
    let e820 = UnsafePointer<xen_e820_entry>(OpaquePointer(entries))
    printMap(e820, count: min(count, 64))
    report.check("machine map has at least 3 entries", count >= 3 && count <= 64)
    var sorted = true, typesKnown = true
    var ram: UInt64 = 0, ramEnd: UInt64 = 0, lowRAM = false, highRAM = false
    for index in 0..<min(count, 64) {
        let entry = e820[index]
        if index > 0 && entry.addr < e820[index - 1].addr + e820[index - 1].size { sorted = false }
        if entry.type < 1 || entry.type > 5 { typesKnown = false }
        if entry.type == 1 {
            ram += entry.size
            ramEnd = max(ramEnd, entry.addr + entry.size)
            if entry.addr == 0 { lowRAM = true }
            if entry.addr == 0x10_0000 { highRAM = true }
        }
    }
    report.check("machine map sorted and non-overlapping", sorted)
    report.check("machine map types are e820 types", typesKnown)
    report.check("machine map has RAM at 0 and at 1 MiB", lowRAM && highRAM)
    report.info("machine RAM bytes", Int64(ram))
    report.check("machine RAM is about 1 GiB", ram > 1000 << 20 && ram <= 1 << 30)
    report.expect("maximum_ram_page is the end of the last RAM entry in pages", maximumRAMPage,
                  equals: Int64(ramEnd >> 12))

    map = xen_memory_map(nr_entries: 2, _pad: 0, buffer: xen_guest_handle_t(p: UInt64(UInt(bitPattern: entries))))
    report.expect("machine_memory_map with too little room", memoryOp(XENMEM_machine_memory_map, &map),
                  equals: -Int64(XEN_EINVAL))
    report.expect("  leaves nr_entries alone", Int64(map.nr_entries), equals: 2)
    map = xen_memory_map(nr_entries: 64, _pad: 0, buffer: xen_guest_handle_t(p: 0))
    // A NULL buffer is a size query: 0, and nr_entries set to the map's length.
    report.expect("machine_memory_map into NULL (size query)", memoryOp(XENMEM_machine_memory_map, &map),
                  equals: 0)
    report.expect("  reports the entry count", Int64(map.nr_entries), equals: Int64(count))
    map = xen_memory_map(nr_entries: 64, _pad: 0, buffer: xen_guest_handle_t(p: 0x7FFF_FFFF_F000))
    report.expect("machine_memory_map into unmapped memory", memoryOp(XENMEM_machine_memory_map, &map),
                  equals: -Int64(XEN_EFAULT))
    report.expect("machine_memory_map with a NULL argument", memoryOp(XENMEM_machine_memory_map, nil),
                  equals: -Int64(XEN_EFAULT))
    report.expect("unknown memory_op", memoryOp(63, Scratch.raw), equals: -Int64(XEN_ENOSYS))
    report.finish()
}
