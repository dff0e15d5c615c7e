// granttable: the start-of-day grant-table operations a PV kernel makes (query_size,
// get/set_version, setup_table), with the exact results Xen 4.17 gives dom0.
//
// Results are checked by value: the hypercall's return (errno), the GNTST_* status
// written back, the fields written back and the ones left alone (pre-filled with
// sentinels), and the table frames themselves, mapped through the runtime's map window.
// Facts Xen 4.17 showed (the spec Apus must meet):
// grant_table_op(cmd, args, count) in general
//   -ENOSYS (-38): unknown commands 13 and 99 (also with count 0);
//   -EINVAL (-22): bits above the low 12 of cmd (the continuation field: query_size |
//     1 << 12); a count with bit 31 set (2^31), checked before the command;
//   -EFAULT (-14): args NULL or in Xen's range, for every command here.
// query_size (count must be exactly 1: count 0 or 2 is -EINVAL, nothing written)
//   DOMID_SELF and domain 0 by id: 0, status okay, nr_frames 1, max_nr_frames 64 (dom0's
//     defaults), dom written back as passed; after setup_table grows the table,
//     nr_frames follows it (4, then 64), max_nr_frames stays 64;
//   a missing domain (1234, 1), DOMID_XEN, DOMID_IO: 0 with status bad_domain (-2), and
//     the whole structure written back: nr_frames/max_nr_frames as passed in.
// get_version (count not checked: count 0 works)
//   DOMID_SELF and domain 0: 0, version 1 at start of day; a missing domain: -ESRCH
//     (-3), version not written.
// set_version (count not checked: count 0 works; version written back on failure too)
//   1: 0 (already 1); 0 and 3: -EINVAL, version out = the one in force (1, or 2 while
//   in version 2); 2: 0, version out 2 (Debian's Xen 4.17 offers version 2), 2 again 0;
//   back to 1: 0. Once frames are set up (4 frames, v1 entries 0, 8 and 9 written) a
//   switch to 2 succeeds (no grant is in use) and clears every table frame except the
//   8 reserved entries, which are converted: v1 entry 0 {flags 5, domid 0, frame F}
//   becomes v2 entry 0 {header flags 5 domid 0 at byte 0, frame F at byte 8}; v1
//   entries 8 and 9 are gone. nr_frames stays 4 and setup_table returns the same
//   frames in version 2. Back to 1: v1 entry 0 is restored exactly, the rest is zero.
// setup_table (count must be exactly 1: count 2, several structures, and count 0 are
//   -EINVAL with no status and no frame_list written)
//   nr_frames 1: 0, status okay, frame_list[0] = the table's first frame, frame_list[1]
//     untouched. The frame is not in dom0's p2m and its M2P entry is INVALID_M2P_ENTRY
//     (~0), yet dom0 owns it: update_va_mapping maps it writable (0); it starts zeroed;
//     a v1 grant entry written at entry 8 reads back unchanged. Asking again (by
//     DOMID_SELF or domain 0) returns the same frame.
//   nr_frames 4: 0, okay, frame 0 unchanged plus three new distinct frames (on this
//     machine 0x3fd65 then 0x3fc53, 0x3fc52, 0x3fc51: not contiguous with the first),
//     none in the p2m, all with M2P ~0, zeroed, mappable writable; entry 8 survives
//     the growth. nr_frames 2 afterwards: okay, the first two frames, and the table
//     does not shrink (query_size still 4).
//   nr_frames 0: 0, okay, nothing written (frame_list may be NULL).
//   nr_frames 64 (the maximum): okay, 64 frames listed, query_size nr_frames 64.
//   nr_frames 65 (max + 1) and 2^32 - 1: 0 with status general_error (-1), frame_list
//     untouched, the table unchanged (the huge count is not refused as -EFAULT first).
//   frame_list in Xen's range: -EFAULT, status not written, also with nr_frames 0.
//   frame_list at an unmapped guest address (0x1000, or NULL) with nr_frames 1: 0 with
//     status bad_virt_addr (-5).
//   dom = another domain (1234, or DOMID_XEN): 0 with status bad_domain, nothing in
//     frame_list. (Dom0 is the only domain, so no existing foreign domain is tried.)
import XenGuest
import XenGuestC
import ApusPublic

private let window = xg_map_window_address()
private let sentinel: UInt64 = 0xDEAD_BEEF_DEAD_BEEF
private let selfDomain = domid_t(DOMID_SELF)
private let xenRangeAddress: UInt64 = 0xFFFF_8300_0000_0000
private let maxFrames = 64

private func errno(_ value: Int32) -> Int64 { -Int64(value) }

private func gnttab(_ cmd: Int32, _ args: UnsafeMutableRawPointer?, count: UInt32 = 1) -> Int64 {
    HYPERVISOR_grant_table_op(UInt32(bitPattern: cmd), args, count)
}

private func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? {
    UnsafeMutableRawPointer(bitPattern: UInt(address))
}

private func querySize(_ dom: domid_t, count: UInt32 = 1) -> (result: Int64, query: gnttab_query_size) {
    var query = gnttab_query_size(dom: dom, _pad: 0, nr_frames: 77, max_nr_frames: 88, status: 99, _pad1: 0)
    let result = gnttab(GNTTABOP_query_size, &query, count: count)
    return (result, query)
}

private func getVersion(_ dom: domid_t) -> (result: Int64, version: UInt32) {
    var request = gnttab_get_version(dom: dom, pad: 0, version: 99)
    let result = gnttab(GNTTABOP_get_version, &request)
    return (result, request.version)
}

private func setVersion(_ version: UInt32, count: UInt32 = 1) -> (result: Int64, version: UInt32) {
    var request = gnttab_set_version(version: version)
    let result = gnttab(GNTTABOP_set_version, &request, count: count)
    return (result, request.version)
}

/// The frame list setup_table writes: maxFrames + 1 words of Scratch, pre-filled with
/// the sentinel so that a word the hypervisor did not write is recognisable.
private var frameList: UnsafeMutablePointer<UInt64> {
    Scratch.raw.bindMemory(to: UInt64.self, capacity: maxFrames + 1)
}

private func resetFrameList() {
    for index in 0...maxFrames { frameList[index] = sentinel }
}

private func setupTable(_ dom: domid_t, frames: UInt32, list: UInt64? = nil) -> (result: Int64, status: Int64) {
    resetFrameList()
    var request = gnttab_setup_table()
    request.dom = dom
    request.nr_frames = frames
    request.status = 99
    request.frame_list.p = list ?? UInt64(UInt(bitPattern: frameList))
    let result = gnttab(GNTTABOP_setup_table, &request)
    return (result, Int64(request.status))
}

private func ownsFrame(_ mfn: UInt64, pages: UInt64) -> Bool {
    var pfn: UInt64 = 0
    while pfn < pages {
        if StartOfDay.machineFrame(ofPseudoPhysical: pfn) == mfn { return true }
        pfn += 1
    }
    return false
}

/// The M2P entry of a frame the hypervisor named, read so that a wrong frame (a
/// hypervisor without setup_table leaves the sentinel) is a failed check, not a crash.
private func m2p(_ mfn: UInt64) -> UInt64 {
    Traps.read(MACH2PHYS_VIRT_START &+ mfn &* 8) ?? 0
}

/// A v1 grant entry as one little-endian word: flags, domid, frame.
private func entryV1(flags: UInt64, domid: UInt64, frame: UInt64) -> UInt64 {
    flags | (domid << 16) | (frame << 32)
}

private func readWindow(_ report: inout TestReport, _ name: StaticString, offset: UInt64, _ expected: UInt64) {
    if let value = Traps.read(window + offset) {
        report.expect(name, hex: value, equals: expected)
    } else {
        report.check(name, false)
        report.info("  unexpected #PF error code", hex: Traps.last.errorCode)
    }
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "granttable")
    report.expect("install the trap table", Traps.install(guest: "granttable"), equals: 0)
    let info = StartOfDay.startInfo.pointee
    let windowFrame = Pages.machineFrame(ofVirtual: window)
    guard let pageA = Pages.allocate() else {
        report.check("page pool has a page", false)
        report.finish()
    }
    let frameA = Pages.machineFrame(ofVirtual: pageA)

    // --- query_size ---
    report.group("query_size")
    let initial = querySize(selfDomain)
    report.expect("DOMID_SELF", initial.result, equals: 0)
    report.expect("  status", Int64(initial.query.status), equals: Int64(GNTST_okay))
    report.expect("  nr_frames", Int64(initial.query.nr_frames), equals: 1)
    report.expect("  max_nr_frames", Int64(initial.query.max_nr_frames), equals: Int64(maxFrames))
    report.expect("  dom written back unchanged", Int64(initial.query.dom), equals: Int64(DOMID_SELF))
    let dom0 = querySize(0)
    report.expect("domain 0 by id", dom0.result, equals: 0)
    report.expect("  status", Int64(dom0.query.status), equals: Int64(GNTST_okay))
    report.expect("  nr_frames", Int64(dom0.query.nr_frames), equals: 1)
    report.expect("  max_nr_frames", Int64(dom0.query.max_nr_frames), equals: Int64(maxFrames))
    let missing = querySize(1234)
    report.expect("a missing domain (1234)", missing.result, equals: 0)
    report.expect("  status bad_domain", Int64(missing.query.status), equals: Int64(GNTST_bad_domain))
    report.expect("  nr_frames written back as passed in", Int64(missing.query.nr_frames), equals: 77)
    report.expect("  max_nr_frames written back as passed in", Int64(missing.query.max_nr_frames), equals: 88)
    let domainOne = querySize(1)
    report.expect("domain 1 (none)", domainOne.result, equals: 0)
    report.expect("  status bad_domain", Int64(domainOne.query.status), equals: Int64(GNTST_bad_domain))
    let domXen = querySize(domid_t(DOMID_XEN))
    report.expect("DOMID_XEN", domXen.result, equals: 0)
    report.expect("  status bad_domain", Int64(domXen.query.status), equals: Int64(GNTST_bad_domain))
    let domIO = querySize(domid_t(DOMID_IO))
    report.expect("DOMID_IO", domIO.result, equals: 0)
    report.expect("  status bad_domain", Int64(domIO.query.status), equals: Int64(GNTST_bad_domain))
    let countZero = querySize(selfDomain, count: 0)
    report.expect("count 0", countZero.result, equals: errno(XEN_EINVAL))
    report.expect("  status untouched", Int64(countZero.query.status), equals: 99)
    let countTwo = querySize(selfDomain, count: 2)
    report.expect("count 2", countTwo.result, equals: errno(XEN_EINVAL))
    report.expect("  status untouched", Int64(countTwo.query.status), equals: 99)
    report.expect("args NULL", gnttab(GNTTABOP_query_size, nil), equals: errno(XEN_EFAULT))
    report.expect("args in Xen's range", gnttab(GNTTABOP_query_size, pointer(xenRangeAddress)),
                  equals: errno(XEN_EFAULT))

    // --- get_version / set_version (before any setup_table) ---
    report.group("version")
    let startVersion = getVersion(selfDomain)
    report.expect("get_version DOMID_SELF", startVersion.result, equals: 0)
    report.expect("  version", Int64(startVersion.version), equals: 1)
    let dom0Version = getVersion(0)
    report.expect("get_version domain 0", dom0Version.result, equals: 0)
    report.expect("  version", Int64(dom0Version.version), equals: 1)
    let missingVersion = getVersion(1234)
    report.expect("get_version of a missing domain", missingVersion.result, equals: errno(XEN_ESRCH))
    report.expect("  version untouched", Int64(missingVersion.version), equals: 99)
    var versionRequest = gnttab_get_version(dom: selfDomain, pad: 0, version: 99)
    report.expect("get_version with count 0", gnttab(GNTTABOP_get_version, &versionRequest, count: 0), equals: 0)
    report.expect("  version", Int64(versionRequest.version), equals: 1)
    report.expect("get_version args NULL", gnttab(GNTTABOP_get_version, nil), equals: errno(XEN_EFAULT))

    var outcome = setVersion(1)
    report.expect("set_version 1", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 1)
    outcome = setVersion(0)
    report.expect("set_version 0", outcome.result, equals: errno(XEN_EINVAL))
    report.expect("  version out (the one in force)", Int64(outcome.version), equals: 1)
    outcome = setVersion(3)
    report.expect("set_version 3", outcome.result, equals: errno(XEN_EINVAL))
    report.expect("  version out (the one in force)", Int64(outcome.version), equals: 1)
    outcome = setVersion(2)
    report.expect("set_version 2 (offered)", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 2)
    report.expect("  get_version", Int64(getVersion(selfDomain).version), equals: 2)
    outcome = setVersion(2)
    report.expect("set_version 2 again", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 2)
    outcome = setVersion(0)
    report.expect("set_version 0 in version 2", outcome.result, equals: errno(XEN_EINVAL))
    report.expect("  version out (the one in force)", Int64(outcome.version), equals: 2)
    outcome = setVersion(1)
    report.expect("set_version 1 (back)", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 1)
    report.expect("  get_version", Int64(getVersion(selfDomain).version), equals: 1)
    outcome = setVersion(1, count: 0)
    report.expect("set_version 1 with count 0", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 1)
    report.expect("set_version args NULL", gnttab(GNTTABOP_set_version, nil), equals: errno(XEN_EFAULT))
    report.expect("query_size: still 1 frame", Int64(querySize(selfDomain).query.nr_frames), equals: 1)

    // --- setup_table ---
    report.group("setup_table")
    var setup = setupTable(selfDomain, frames: 1)
    report.expect("nr_frames 1", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    let frame0 = frameList[0]
    report.info("  frame_list[0]", hex: frame0)
    report.expect("  frame_list[1] untouched", hex: frameList[1], equals: sentinel)
    report.check("  frame 0 is not in dom0's p2m", !ownsFrame(frame0, pages: info.nr_pages))
    report.expect("  M2P of frame 0 is INVALID_M2P_ENTRY", hex: m2p(frame0),
                  equals: ~0)
    report.expect("  map frame 0 writable", Pages.map(window, machineFrame: frame0, flags: Pages.pteWritable),
                  equals: 0)
    readWindow(&report, "  entry 0 is zero", offset: 0, 0)
    readWindow(&report, "  entry 8 is zero", offset: 64, 0)
    let entry8 = entryV1(flags: UInt64(GTF_permit_access), domid: 0, frame: frameA)
    report.check("  write v1 entry 8", Traps.write(window + 64, entry8))
    readWindow(&report, "  read entry 8 back", offset: 64, entry8)

    setup = setupTable(selfDomain, frames: 1)
    report.expect("nr_frames 1 again", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.expect("  the same frame", hex: frameList[0], equals: frame0)

    setup = setupTable(0, frames: 1)
    report.expect("domain 0 by id", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.expect("  the same frame", hex: frameList[0], equals: frame0)

    setup = setupTable(selfDomain, frames: 4)
    report.expect("nr_frames 4", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.expect("  frame_list[0] is still frame 0", hex: frameList[0], equals: frame0)
    report.expect("  frame_list[4] untouched", hex: frameList[4], equals: sentinel)
    let frames = (frameList[0], frameList[1], frameList[2], frameList[3])
    report.info("  frame_list[1]", hex: frames.1)
    report.info("  frame_list[2]", hex: frames.2)
    report.info("  frame_list[3]", hex: frames.3)
    report.check("  four distinct frames", frames.0 != frames.1 && frames.0 != frames.2 && frames.0 != frames.3
                 && frames.1 != frames.2 && frames.1 != frames.3 && frames.2 != frames.3)
    report.check("  none in dom0's p2m", !ownsFrame(frames.1, pages: info.nr_pages)
                 && !ownsFrame(frames.2, pages: info.nr_pages) && !ownsFrame(frames.3, pages: info.nr_pages))
    readWindow(&report, "  entry 8 survives the growth", offset: 64, entry8)
    report.expect("  M2P of frame 3 is INVALID_M2P_ENTRY", hex: m2p(frames.3),
                  equals: ~0)
    report.expect("  map frame 3 writable", Pages.map(window, machineFrame: frames.3, flags: Pages.pteWritable),
                  equals: 0)
    readWindow(&report, "  frame 3 starts zeroed", offset: 4088, 0)
    report.expect("  map frame 0 again", Pages.map(window, machineFrame: frame0, flags: Pages.pteWritable),
                  equals: 0)
    var query = querySize(selfDomain).query
    report.expect("  query_size nr_frames", Int64(query.nr_frames), equals: 4)
    report.expect("  query_size max_nr_frames", Int64(query.max_nr_frames), equals: Int64(maxFrames))

    setup = setupTable(selfDomain, frames: 2)
    report.expect("nr_frames 2 after 4", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.check("  the first two frames", frameList[0] == frames.0 && frameList[1] == frames.1)
    report.expect("  frame_list[2] untouched", hex: frameList[2], equals: sentinel)
    report.expect("  the table does not shrink", Int64(querySize(selfDomain).query.nr_frames), equals: 4)

    setup = setupTable(selfDomain, frames: 0)
    report.expect("nr_frames 0", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.expect("  frame_list[0] untouched", hex: frameList[0], equals: sentinel)
    setup = setupTable(selfDomain, frames: 0, list: 0)
    report.expect("nr_frames 0, frame_list NULL", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))

    setup = setupTable(selfDomain, frames: UInt32(maxFrames + 1))
    report.expect("nr_frames max + 1", setup.result, equals: 0)
    report.expect("  status general_error", setup.status, equals: Int64(GNTST_general_error))
    report.expect("  frame_list[0] untouched", hex: frameList[0], equals: sentinel)
    report.expect("  still 4 frames", Int64(querySize(selfDomain).query.nr_frames), equals: 4)
    setup = setupTable(selfDomain, frames: 0xFFFF_FFFF)
    report.expect("nr_frames 2^32 - 1", setup.result, equals: 0)
    report.expect("  status general_error", setup.status, equals: Int64(GNTST_general_error))

    setup = setupTable(selfDomain, frames: 1, list: xenRangeAddress)
    report.expect("frame_list in Xen's range", setup.result, equals: errno(XEN_EFAULT))
    report.expect("  status untouched", setup.status, equals: 99)
    setup = setupTable(selfDomain, frames: 0, list: xenRangeAddress)
    report.expect("frame_list in Xen's range, nr_frames 0", setup.result, equals: errno(XEN_EFAULT))
    report.expect("  status untouched", setup.status, equals: 99)
    setup = setupTable(selfDomain, frames: 1, list: 0x1000)
    report.expect("frame_list unmapped (0x1000)", setup.result, equals: 0)
    report.expect("  status bad_virt_addr", setup.status, equals: Int64(GNTST_bad_virt_addr))
    setup = setupTable(selfDomain, frames: 1, list: 0)
    report.expect("frame_list NULL, nr_frames 1", setup.result, equals: 0)
    report.expect("  status bad_virt_addr", setup.status, equals: Int64(GNTST_bad_virt_addr))
    report.expect("args NULL", gnttab(GNTTABOP_setup_table, nil), equals: errno(XEN_EFAULT))
    report.expect("args in Xen's range", gnttab(GNTTABOP_setup_table, pointer(xenRangeAddress)),
                  equals: errno(XEN_EFAULT))

    setup = setupTable(1234, frames: 1)
    report.expect("a missing domain (1234)", setup.result, equals: 0)
    report.expect("  status bad_domain", setup.status, equals: Int64(GNTST_bad_domain))
    report.expect("  frame_list[0] untouched", hex: frameList[0], equals: sentinel)
    setup = setupTable(domid_t(DOMID_XEN), frames: 1)
    report.expect("DOMID_XEN", setup.result, equals: 0)
    report.expect("  status bad_domain", setup.status, equals: Int64(GNTST_bad_domain))

    // Several setup_table structures in one call (count 2 and count 0).
    resetFrameList()
    let pair = (Scratch.raw + 4096).bindMemory(to: gnttab_setup_table.self, capacity: 2)
    for index in 0..<2 {
        pair[index] = gnttab_setup_table()
        pair[index].dom = selfDomain
        pair[index].nr_frames = 1
        pair[index].status = 99
        pair[index].frame_list.p = UInt64(UInt(bitPattern: frameList + index))
    }
    report.expect("count 2", gnttab(GNTTABOP_setup_table, pair, count: 2), equals: errno(XEN_EINVAL))
    report.expect("  first status untouched", Int64(pair[0].status), equals: 99)
    report.expect("  second status untouched", Int64(pair[1].status), equals: 99)
    report.expect("  frame_list untouched", hex: frameList[0], equals: sentinel)
    report.expect("count 0", gnttab(GNTTABOP_setup_table, pair, count: 0), equals: errno(XEN_EINVAL))
    report.expect("  status untouched", Int64(pair[0].status), equals: 99)

    // --- versions once frames are set up: switching clears the table except the 8
    // reserved entries, which are converted ---
    report.group("version after setup")
    let entry0 = entryV1(flags: UInt64(GTF_permit_access | GTF_readonly), domid: 0, frame: frameA)
    report.check("write v1 entry 0 (reserved)", Traps.write(window, entry0))
    report.check("write v1 entry 9", Traps.write(window + 72, entry8))
    outcome = setVersion(2)
    report.expect("set_version 2", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 2)
    readWindow(&report, "  v2 entry 0 header (flags, domid)", offset: 0, UInt64(GTF_permit_access | GTF_readonly))
    readWindow(&report, "  v2 entry 0 frame", offset: 8, frameA)
    readWindow(&report, "  v1 entry 8's bytes cleared", offset: 64, 0)
    readWindow(&report, "  v1 entry 9's bytes cleared", offset: 72, 0)
    report.expect("  query_size nr_frames", Int64(querySize(selfDomain).query.nr_frames), equals: 4)
    setup = setupTable(selfDomain, frames: 4)
    report.expect("  setup_table nr_frames 4", setup.result, equals: 0)
    report.expect("    status", setup.status, equals: Int64(GNTST_okay))
    report.check("    the same frames", frameList[0] == frames.0 && frameList[1] == frames.1
                 && frameList[2] == frames.2 && frameList[3] == frames.3)
    outcome = setVersion(1)
    report.expect("set_version 1", outcome.result, equals: 0)
    report.expect("  version out", Int64(outcome.version), equals: 1)
    readWindow(&report, "  v1 entry 0 restored", offset: 0, entry0)
    readWindow(&report, "  the rest cleared", offset: 8, 0)
    report.expect("  still 4 frames", Int64(querySize(selfDomain).query.nr_frames), equals: 4)

    // --- growing to the maximum ---
    report.group("setup_table")
    setup = setupTable(selfDomain, frames: UInt32(maxFrames))
    report.expect("nr_frames max", setup.result, equals: 0)
    report.expect("  status", setup.status, equals: Int64(GNTST_okay))
    report.check("  frame_list[max - 1] written", frameList[maxFrames - 1] != sentinel)
    report.expect("  frame_list[max] untouched", hex: frameList[maxFrames], equals: sentinel)
    query = querySize(selfDomain).query
    report.expect("  query_size nr_frames", Int64(query.nr_frames), equals: Int64(maxFrames))

    // --- other commands ---
    report.group("grant_table_op")
    report.expect("command 13 (unknown)", gnttab(13, Scratch.cleared(64)), equals: errno(XEN_ENOSYS))
    report.expect("command 99 (unknown)", gnttab(99, Scratch.cleared(64)), equals: errno(XEN_ENOSYS))
    report.expect("command 13 with count 0", gnttab(13, Scratch.cleared(64), count: 0), equals: errno(XEN_ENOSYS))
    var sizeQuery = gnttab_query_size(dom: selfDomain, _pad: 0, nr_frames: 0, max_nr_frames: 0, status: 99, _pad1: 0)
    report.expect("query_size with continuation bits (cmd | 1 << 12)",
                  gnttab(GNTTABOP_query_size | (1 << 12), &sizeQuery), equals: errno(XEN_EINVAL))
    report.expect("query_size with count 2^31", gnttab(GNTTABOP_query_size, &sizeQuery, count: 0x8000_0000),
                  equals: errno(XEN_EINVAL))
    report.expect("  status untouched", Int64(sizeQuery.status), equals: 99)

    report.group(nil)
    report.expect("restore the window", Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable),
                  equals: 0)
    report.expect("no unexpected traps", Int64(Traps.count), equals: 0)
    report.finish()
}
