// Grants.swift: grant references misused: out of range, an unused entry, an entry
// granted to another domain, an entry granting a frame dom0 does not own, a read-only
// grant mapped writable, a domain that does not exist, host addresses the guest may
// not name, a handle never issued, and grant copies to and from frames that are not
// the guest's. Dom0 is the only domain, so its grants are to itself.
import XenGuest
import XenGuestC
import ApusPublic
import IsolationProbes

private func mapGrant(ref: UInt32, dom: UInt16 = 0, host: UInt64,
                      flags: UInt32 = UInt32(ISO_GNTMAP_host_map)) -> (result: Int64, status: Int64, handle: UInt32) {
    var op = iso_gnttab_map_grant_ref(host_addr: host, flags: flags, ref: ref, dom: dom, status: 99, handle: 0xDEAD,
                                      dev_bus_addr: 0)
    let result = HYPERVISOR_grant_table_op(UInt32(GNTTABOP_map_grant_ref), &op, 1)
    return (result, Int64(op.status), op.handle)
}

private func copyGrant(source: iso_gnttab_copy_ptr, dest: iso_gnttab_copy_ptr, length: UInt16,
                       flags: UInt16) -> (result: Int64, status: Int64) {
    var op = iso_gnttab_copy(source: source, dest: dest, len: length, flags: flags, status: 99, _pad: 0)
    let result = HYPERVISOR_grant_table_op(UInt32(GNTTABOP_copy), &op, 1)
    return (result, Int64(op.status))
}

private func frame(_ mfn: UInt64, offset: UInt16 = 0) -> iso_gnttab_copy_ptr {
    iso_gnttab_copy_ptr(ref_or_gmfn: mfn, domid: UInt16(DOMID_SELF), offset: offset, _pad: 0)
}

private func grantRef(_ ref: UInt64, domid: UInt16 = 0) -> iso_gnttab_copy_ptr {
    iso_gnttab_copy_ptr(ref_or_gmfn: ref, domid: domid, offset: 0, _pad: 0)
}

func grants(_ report: inout TestReport) {
    report.group("grants")
    guard let view = Pages.allocate(), let data = Pages.allocate(), let target = Pages.allocate() else {
        report.check("page pool has 3 pages", false)
        return
    }
    let marker: UInt64 = 0x6A6A_0000_0000_6A6A
    xg_write64(data, marker)
    let dataFrame = Pages.machineFrame(ofVirtual: data)
    let targetFrame = Pages.machineFrame(ofVirtual: target)
    var free: UInt64 = 0x10000
    while Own.owns(free) { free += 0x111 }

    var setup = gnttab_setup_table()
    setup.dom = domid_t(DOMID_SELF)
    setup.nr_frames = 1
    let frameList = Scratch.cleared(16).bindMemory(to: UInt64.self, capacity: 2)
    setup.frame_list.p = address(frameList)
    report.expect("setup_table, 1 frame", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_setup_table), &setup, 1), equals: 0)
    report.expect("  status", Int64(setup.status), equals: Int64(GNTST_okay))
    report.expect("map the table frame", Pages.map(view, machineFrame: frameList[0], flags: Pages.pteWritable), equals: 0)
    func entry(_ ref: UInt64, flags: UInt64, domid: UInt64, frame: UInt64) -> Bool {
        Traps.write(view + ref * 8, flags | domid << 16 | frame << 32)
    }
    let permit = UInt64(GTF_permit_access)
    report.check("write grant entries 10, 12, 13, 14", entry(10, flags: permit, domid: 0, frame: dataFrame)
                 && entry(12, flags: permit, domid: 5, frame: dataFrame)
                 && entry(13, flags: permit, domid: 0, frame: free)
                 && entry(14, flags: permit | UInt64(GTF_readonly), domid: 0, frame: dataFrame))

    // Every refused map must leave the target page mapped as it was.
    func targetIntact() -> Bool {
        let mapping = PageWalk.lookup(target)
        return mapping.present && mapping.machineFrame == targetFrame && Own.intact()
    }
    func refusedMap(_ name: StaticString, _ outcome: (result: Int64, status: Int64, handle: UInt32), status: Int32) {
        report.expect(name, outcome.result, equals: 0)
        report.expect("  status", outcome.status, equals: Int64(status))
        report.check("  the target unchanged, still answers, nothing changed", targetIntact())
    }
    let own = mapGrant(ref: 10, host: target)
    report.expect("map an own grant (ref 10, to itself)", own.result, equals: 0)
    report.info("  status", own.status)
    if own.status == Int64(GNTST_okay) {
        // The map does not flush the old translation of the target page: invlpg first.
        _ = mmuext(MMUEXT_INVLPG_LOCAL, linear: target)
        report.expect("  the target reads the granted page", hex: xg_read64(target), equals: marker)
        var unmap = iso_gnttab_unmap_grant_ref(host_addr: target, dev_bus_addr: 0, handle: own.handle, status: 99,
                                               _pad: 0)
        report.expect("  unmap it", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_unmap_grant_ref), &unmap, 1), equals: 0)
        report.expect("  status", Int64(unmap.status), equals: Int64(GNTST_okay))
    } else {
        for _ in 0..<3 { report.check("  (not mapped)", true) }
    }
    report.expect("  target mapped back", Pages.map(target, machineFrame: targetFrame, flags: Pages.pteWritable),
                  equals: 0)
    refusedMap("map ref 100000 (out of range)", mapGrant(ref: 100_000, host: target), status: GNTST_bad_gntref)
    refusedMap("map ref 11 (unused entry)", mapGrant(ref: 11, host: target), status: GNTST_general_error)
    refusedMap("map ref 12 (granted to domain 5)", mapGrant(ref: 12, host: target), status: GNTST_general_error)
    refusedMap("map ref 13 (a frame dom0 does not own)", mapGrant(ref: 13, host: target), status: GNTST_bad_page)
    refusedMap("map ref 14 (read-only) writable", mapGrant(ref: 14, host: target), status: GNTST_general_error)
    refusedMap("map ref 10 of domain 1234", mapGrant(ref: 10, dom: 1234, host: target), status: GNTST_bad_domain)
    refusedMap("map ref 10 at an address in Xen's text", mapGrant(ref: 10, host: Bad.xenText),
               status: GNTST_general_error)
    refusedMap("map ref 10 at a non-canonical address", mapGrant(ref: 10, host: Bad.nonCanonical),
               status: GNTST_general_error)
    refusedMap("map ref 10 with no GNTMAP_host_map", mapGrant(ref: 10, host: target, flags: 0),
               status: GNTST_bad_gntref)
    var unmap = iso_gnttab_unmap_grant_ref(host_addr: target, dev_bus_addr: 0, handle: 0xFFFF, status: 99, _pad: 0)
    report.expect("unmap handle 0xffff (never issued)",
                  HYPERVISOR_grant_table_op(UInt32(GNTTABOP_unmap_grant_ref), &unmap, 1), equals: 0)
    report.expect("  status", Int64(unmap.status), equals: Int64(GNTST_bad_handle))
    report.check("  the target unchanged, still answers, nothing changed", targetIntact())

    let scratchFrame = Own.scratchFrame
    xg_write64(Own.scratch, 0)
    let copied = copyGrant(source: frame(dataFrame), dest: frame(scratchFrame), length: 8, flags: 0)
    report.expect("copy 8 bytes between two own frames", copied.result, equals: 0)
    report.expect("  status", copied.status, equals: Int64(GNTST_okay))
    report.expect("  the bytes arrived", hex: xg_read64(Own.scratch), equals: marker)
    func refusedCopy(_ name: StaticString, _ outcome: (result: Int64, status: Int64), status: Int32) {
        report.expect(name, outcome.result, equals: 0)
        report.expect("  status", outcome.status, equals: Int64(status))
        report.check("  still answers, nothing changed", Own.intact())
    }
    refusedCopy("copy from a frame dom0 does not own", copyGrant(source: frame(free), dest: frame(scratchFrame),
                length: 8, flags: 0), status: GNTST_bad_page)
    refusedCopy("copy into a frame dom0 does not own", copyGrant(source: frame(dataFrame), dest: frame(free),
                length: 8, flags: 0), status: GNTST_bad_page)
    refusedCopy("copy into the live L4", copyGrant(source: frame(dataFrame), dest: frame(Own.l4), length: 8, flags: 0),
                status: GNTST_general_error)
    refusedCopy("copy from ref 100000", copyGrant(source: grantRef(100_000), dest: frame(scratchFrame), length: 8,
                flags: UInt16(ISO_GNTCOPY_source_gref)), status: GNTST_bad_gntref)
    refusedCopy("copy from ref 13 (a frame dom0 does not own)", copyGrant(source: grantRef(13),
                dest: frame(scratchFrame), length: 8, flags: UInt16(ISO_GNTCOPY_source_gref)),
                status: GNTST_bad_page)
    refusedCopy("copy 4097 bytes", copyGrant(source: frame(dataFrame), dest: frame(scratchFrame), length: 4097,
                flags: 0), status: GNTST_bad_copy_arg)
    refusedCopy("copy 16 bytes from offset 4090", copyGrant(source: frame(dataFrame, offset: 4090),
                dest: frame(scratchFrame), length: 16, flags: 0), status: GNTST_bad_copy_arg)
    refusedCopy("copy from domain 1234", copyGrant(source: iso_gnttab_copy_ptr(ref_or_gmfn: dataFrame, domid: 1234,
                offset: 0, _pad: 0), dest: frame(scratchFrame), length: 8, flags: 0), status: GNTST_bad_domain)
    report.expect("the scratch word still holds the first copy", hex: xg_read64(Own.scratch), equals: marker)
    report.check("clear the grant entries", entry(10, flags: 0, domid: 0, frame: 0) && entry(12, flags: 0, domid: 0,
                 frame: 0) && entry(13, flags: 0, domid: 0, frame: 0) && entry(14, flags: 0, domid: 0, frame: 0))
}
