// grantmap: dom0 mapping, copying and flushing its own grants (map_grant_ref,
// unmap_grant_ref, unmap_and_replace, copy, cache_flush, version 2 status frames),
// with the exact results Xen 4.17 gives.
//
// Booted with Guests/grantmap/CMDLINE (dom0_mem=64M,max:65M: room for the one page the
// balloon case takes). The table's first frame (setup_table) is mapped at the runtime's
// window; entries 10-18 grant pool page A (or another frame) to domain 0 itself. Host
// mappings go over pool pages B and C, which the bootstrap L1 maps to their own frames
// (so each map replaces a live entry, and each unmap is followed by a remap). Results
// are checked by value: the hypercall's return, the GNTST_* status, what is written back
// (pre-filled with sentinels), the grant entry's flags, the L1 entry, and the data seen
// through the mappings.
// Facts Xen 4.17 showed (the spec Apus must meet):
// map_grant_ref (one op per call here; the call returns 0, the op its status; argument
//   NULL: -EFAULT; count 0: 0)
//   dom must be dom0's own id 0: DOMID_SELF and 1234 give bad_domain (-2), handle
//     untouched. ref 512 (past one frame of 512 v1 entries) and 2^32 - 1: bad_gntref
//     (-3); flags with neither host_map nor device_map: bad_gntref.
//   general_error (-1), the entry's flags left as they were: an invalid entry, one
//     granted to domain 5, an accept_transfer entry, a read-only grant mapped writable
//     (not permission_denied), host_addr with no L1 (0x1000, 0) or in Xen's range (not
//     bad_virt_addr). A granted frame dom0 does not own (free): bad_page (-9), Xen logs
//     "d0v0 Error mfn 10000: rd=d0 od=NULL caf=8c00000000000000 taf=0".
//   host_map at B: okay; handles count from 0 (first 0, second 1); dev_bus_addr is the
//     frame's machine address even without device_map; B's L1 entry becomes frame << 12
//     | 0x8010000000000067 (NX, bit 52 and user added as for every kernel entry;
//     read-only: ...065); the replaced entry's TLB entry is NOT flushed (the old frame
//     stays visible until the guest invalidates the va, which this guest does after each
//     map); current_reservation unchanged. Entry flags while mapped writable:
//     permit_access | reading | writing (0x19); a second, read-only map of the same grant
//     leaves 0x19; back to 0x01 after the last unmap. A read-only grant mapped read-only:
//     0x0d while mapped (0x05 after), writes through it #PF with error code 3.
//   device_map alone: okay, dev_bus_addr = frame << 12, flags 0x19. host_map |
//     device_map: unmapping the host part (dev_bus_addr 0) keeps 0x19 until the device
//     part is unmapped too (host_addr 0, dev_bus_addr).
//   a granted page-table frame (the L4): host_map or device_map writable: general_error;
//     host_map read-only: okay (the L4 readable through it).
//   GNTMAP_contains_pte with host_addr = the machine address of C's L1 entry: okay, the
//     same entry value as a linear map; its unmap must name that machine address too
//     (C's linear address: general_error); a misaligned address (+4), an address in a
//     data frame (no L1) or in a frame dom0 does not own: general_error.
// unmap_grant_ref: okay, the L1 entry is cleared (the va is left unmapped, reads fault)
//   and flushed; the same handle again and handle 9999: bad_handle (-4); a host_addr
//   other than the mapping's: general_error, nothing changed; device part with a wrong
//   dev_bus_addr: bad_dev_addr (-6).
// unmap_and_replace(B, new_addr D): okay, B now maps what D mapped and D's entry is
//   cleared; new_addr 0: okay, B's entry cleared (a plain unmap); handle 9999:
//   bad_handle; a handle once replaced is free (unmapping it: bad_handle).
// copy (call returns 0, each op its status; argument NULL: -EFAULT)
//   okay: gref 10 to an own frame, an own frame to gref 10, a gref named by DOMID_SELF,
//     gref to the same gref, a read-only grant as source, frame to frame with no grant,
//     len 0; two ops in one call get one status each. The entry's flags are 0x01 after
//     every copy (reading/writing are held only during it).
//   permission_denied (-8): a frame (no gref flag) named with domid 0 instead of
//     DOMID_SELF, nothing copied. bad_copy_arg (-10): offset + len > 4096 on either side.
//     bad_gntref: gref 600. general_error: a read-only grant as destination, a grant to
//     domain 5, an invalid entry. bad_domain: domid 1234 (gref or frame). bad_page: a
//     frame dom0 does not own, a frame past RAM.
// cache_flush (an errno, no status): GNTTAB_CACHE_CLEAN by bus address: 0; INVAL:
//   -EOPNOTSUPP (-95); op 0: 0; GNTTAB_CACHE_SOURCE_GREF, offset + length > 4096, op bit
//   4: -EINVAL; a frame dom0 does not own: -EPERM; argument NULL: -EFAULT.
// decrease_reservation of a frame reachable only through a grant mapping: 1,
//   current_reservation unchanged, still readable through the mapping; the unmap frees
//   it (current - 1); mapping that grant again: bad_page.
// ending a grant while mapped: the guest zeroes entry 18 while B maps it; B keeps
//   working, a second map of ref 18 (at C) succeeds (an active grant is not checked
//   again), the entry's flags stay 0 throughout; after both unmaps a new map:
//   general_error.
// version 2: get_status_frames in version 1: 0 with status general_error; set_version 2
//   while a grant is mapped: -EBUSY, version out 1; once unmapped: 0. get_status_frames
//   of 1 frame: okay, a frame dom0 may map read-only; of 2 (one exists): general_error;
//   of domain 1234: bad_domain. A v2 entry (header flags permit_access, domid 0; frame
//   at byte 8) maps okay; the header's flags stay 0x01 while the entry's status word
//   (one uint16 per entry in the status frame) reads reading | writing (0x18), 0 after
//   the unmap. set_version 1 again (status frame unmapped): 0.
import XenGuest
import XenGuestC
import ApusPublic

private let window = xg_map_window_address()
private let sentinel: UInt64 = 0xDEAD_BEEF_DEAD_BEEF
private let selfDomain = domid_t(DOMID_SELF)
private let xenRangeAddress: UInt64 = 0xFFFF_8300_0000_0000
private let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000
private let markerA: UInt64 = 0xAAAA_0000_0000_AAAA
private let markerB: UInt64 = 0xBBBB_0000_0000_BBBB
private let markerC: UInt64 = 0xCCCC_0000_0000_CCCC
private let markerD: UInt64 = 0xDDDD_0000_0000_DDDD

// Grant references this guest fills (the first 8 are reserved for the toolstack).
private let refWritable: UInt32 = 10
private let refReadOnly: UInt32 = 11
private let refOtherDomain: UInt32 = 12
private let refInvalid: UInt32 = 13
private let refForeignFrame: UInt32 = 14
private let refPageTable: UInt32 = 15
private let refTransfer: UInt32 = 16
private let refBalloon: UInt32 = 17
private let refEnded: UInt32 = 18

private func errno(_ value: Int32) -> Int64 { -Int64(value) }

private func gnttab(_ cmd: Int32, _ args: UnsafeMutableRawPointer?, count: UInt32 = 1) -> Int64 {
    HYPERVISOR_grant_table_op(UInt32(bitPattern: cmd), args, count)
}

private func flagsWord(_ ref: UInt32) -> UInt64 { xg_read64(window + UInt64(ref) * 8) & 0xFFFF }

/// A v1 grant entry (flags, domid, frame) written as one word at the window, which maps
/// the table's first frame.
private func grant(_ ref: UInt32, flags: Int32, domid: UInt64 = 0, frame: UInt64) {
    xg_write64(window + UInt64(ref) * 8, UInt64(flags) | (domid << 16) | (frame << 32))
}

private struct Mapping {
    var result: Int64
    var status: Int64
    var handle: UInt32
    var devBusAddress: UInt64
}

/// Maps a grant. Xen does not flush the TLB entry of the mapping a host map replaces,
/// so after a successful one the guest invalidates the va itself (as a kernel mapping
/// over a live entry must); `invalidate` names the va for a GNTMAP_contains_pte map.
private func mapGrant(_ ref: UInt32, at hostAddress: UInt64, flags: Int32, dom: domid_t = 0,
                      invalidate: UInt64? = nil) -> Mapping {
    var op = gnttab_map_grant_ref(host_addr: hostAddress, flags: UInt32(flags), ref: ref, dom: dom, status: 99,
                                  handle: 0xAAAA_AAAA, dev_bus_addr: sentinel)
    let result = gnttab(GNTTABOP_map_grant_ref, &op)
    if result == 0 && op.status == GNTST_okay && flags & GNTMAP_host_map != 0 {
        invalidatePage(invalidate ?? hostAddress)
    }
    return Mapping(result: result, status: Int64(op.status), handle: op.handle, devBusAddress: op.dev_bus_addr)
}

private func invalidatePage(_ va: UInt64) {
    var op = mmuext_op()
    op.cmd = UInt32(MMUEXT_INVLPG_LOCAL)
    op.arg1.linear_addr = va
    var done: UInt32 = 0
    _ = HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

private func unmapGrant(_ handle: UInt32, at hostAddress: UInt64, devBusAddress: UInt64 = 0)
    -> (result: Int64, status: Int64) {
    var op = gnttab_unmap_grant_ref(host_addr: hostAddress, dev_bus_addr: devBusAddress, handle: handle, status: 99)
    let result = gnttab(GNTTABOP_unmap_grant_ref, &op)
    return (result, Int64(op.status))
}

private func unmapAndReplace(_ handle: UInt32, at hostAddress: UInt64, newAddress: UInt64)
    -> (result: Int64, status: Int64) {
    var op = gnttab_unmap_and_replace(host_addr: hostAddress, new_addr: newAddress, handle: handle, status: 99)
    let result = gnttab(GNTTABOP_unmap_and_replace, &op)
    return (result, Int64(op.status))
}

private func copyPointer(ref: UInt32? = nil, gmfn: UInt64 = 0, domid: domid_t = selfDomain,
                         offset: UInt16) -> gnttab_copy_ptr {
    var pointer = gnttab_copy_ptr()
    if let ref { pointer.u.ref = ref } else { pointer.u.gmfn = gmfn }
    pointer.domid = domid
    pointer.offset = offset
    return pointer
}

private func copy(_ source: gnttab_copy_ptr, _ dest: gnttab_copy_ptr, length: UInt16, flags: Int32)
    -> (result: Int64, status: Int64) {
    var op = gnttab_copy(source: source, dest: dest, len: length, flags: UInt16(flags), status: 99)
    let result = gnttab(GNTTABOP_copy, &op)
    return (result, Int64(op.status))
}

private func cacheFlush(address: UInt64, offset: UInt16, length: UInt16, op: UInt32) -> Int64 {
    var request = gnttab_cache_flush()
    request.a.dev_bus_addr = address
    request.offset = offset
    request.length = length
    request.op = op
    return gnttab(GNTTABOP_cache_flush, &request)
}

private func cacheFlush(ref: UInt32, offset: UInt16, length: UInt16, op: UInt32) -> Int64 {
    var request = gnttab_cache_flush()
    request.a.ref = ref
    request.offset = offset
    request.length = length
    request.op = op
    return gnttab(GNTTABOP_cache_flush, &request)
}

/// The L1 entry of a bootstrap-mapped va: its machine address and its value.
private func l1Entry(_ va: UInt64) -> (machineAddress: UInt64, value: UInt64) {
    var table = StartOfDay.startInfo.pointee.pt_base
    var level = 4
    while level > 1 {
        let index = (va >> UInt64(12 + 9 * (level - 1))) & 0x1FF
        let mfn = (xg_read64(table + index * 8) & frameMask) >> 12
        table = PageWalk.virtualAddress(ofMachineFrame: mfn)
        if level == 2 {
            let slot = ((va >> 12) & 0x1FF) * 8
            return ((mfn << 12) | slot, xg_read64(table + slot))
        }
        level -= 1
    }
    return (0, 0)
}

/// Remaps an image page onto its own frame, writable (after a grant mapping replaced
/// or cleared its entry).
@discardableResult
private func restore(_ va: UInt64) -> Int64 { Pages.protect(va, writable: true) }

private func readOrZero(_ address: UInt64) -> UInt64 { Traps.read(address) ?? 0 }

private func current() -> Int64 {
    var domain = selfDomain
    return HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), &domain)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "grantmap")
    report.expect("install the trap table", Traps.install(guest: "grantmap"), equals: 0)
    let info = StartOfDay.startInfo.pointee
    guard let pageA = Pages.allocate(), let pageB = Pages.allocate(), let pageC = Pages.allocate(),
          let pageD = Pages.allocate(), let pageE = Pages.allocate()
    else {
        report.check("page pool has 5 pages", false)
        report.finish()
    }
    xg_write64(pageA, markerA)
    xg_write64(pageB, markerB)
    xg_write64(pageC, markerC)
    xg_write64(pageD, markerD)
    let frameA = Pages.machineFrame(ofVirtual: pageA)
    let frameB = Pages.machineFrame(ofVirtual: pageB)
    let frameD = Pages.machineFrame(ofVirtual: pageD)
    let l4Frame = Pages.machineFrame(ofVirtual: info.pt_base)
    let windowFrame = Pages.machineFrame(ofVirtual: window)
    var noArgument: UInt64 = 0
    let maximumRAMPage = UInt64(HYPERVISOR_memory_op(UInt64(XENMEM_maximum_ram_page), &noArgument))

    // --- the table and the entries ---
    report.group("setup")
    var setup = gnttab_setup_table()
    setup.dom = selfDomain
    setup.nr_frames = 1
    setup.status = 99
    let frameList = Scratch.cleared(64).bindMemory(to: UInt64.self, capacity: 8)
    setup.frame_list.p = UInt64(UInt(bitPattern: frameList))
    report.expect("setup_table, 1 frame", gnttab(GNTTABOP_setup_table, &setup), equals: 0)
    report.expect("  status", Int64(setup.status), equals: Int64(GNTST_okay))
    let tableFrame = frameList[0]
    var query = gnttab_query_size(dom: selfDomain, _pad: 0, nr_frames: 0, max_nr_frames: 0, status: 99, _pad1: 0)
    report.expect("query_size", gnttab(GNTTABOP_query_size, &query), equals: 0)
    report.expect("  nr_frames (512 v1 entries)", Int64(query.nr_frames), equals: 1)
    report.expect("map the table frame at the window", Pages.map(window, machineFrame: tableFrame,
                  flags: Pages.pteWritable), equals: 0)
    // A RAM frame that is not dom0's (free or another owner's) for the negative cases.
    var foreignFrame: UInt64 = 0x10000
    while Pages.map(pageE, machineFrame: foreignFrame, flags: Pages.pteReadOnly) == 0 { foreignFrame += 0x111 }
    restore(pageE)
    grant(refWritable, flags: GTF_permit_access, frame: frameA)
    grant(refReadOnly, flags: GTF_permit_access | GTF_readonly, frame: frameA)
    grant(refOtherDomain, flags: GTF_permit_access, domid: 5, frame: frameA)
    grant(refInvalid, flags: GTF_invalid, frame: frameA)
    grant(refForeignFrame, flags: GTF_permit_access, frame: foreignFrame)
    grant(refPageTable, flags: GTF_permit_access, frame: l4Frame)
    grant(refTransfer, flags: GTF_accept_transfer, frame: frameA)
    grant(refEnded, flags: GTF_permit_access, frame: frameA)
    let startPages = current()

    // --- a writable host mapping over an existing one ---
    report.group("map host")
    let first = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map)
    report.expect("ref 10 at B, dom 0", first.result, equals: 0)
    report.expect("  status", first.status, equals: Int64(GNTST_okay))
    report.expect("  handle (the first)", Int64(first.handle), equals: 0)
    report.expect("  dev_bus_addr (host_map only)", hex: first.devBusAddress, equals: frameA << 12)
    report.expect("  B reads A's marker", hex: readOrZero(pageB), equals: markerA)
    report.check("  write through B", Traps.write(pageB + 8, 0x1111))
    report.expect("  A sees it", hex: xg_read64(pageA + 8), equals: 0x1111)
    report.expect("  entry flags: permit_access | reading | writing", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access | GTF_reading | GTF_writing))
    let entryB = l1Entry(pageB)
    report.expect("  B's L1 entry: NX, bit 52, user, dirty, accessed, rw", hex: entryB.value,
                  equals: (frameA << 12) | 0x8010_0000_0000_0067)
    report.expect("  current_reservation unchanged", current(), equals: startPages)
    let second = mapGrant(refWritable, at: pageC, flags: GNTMAP_host_map | GNTMAP_readonly)
    report.expect("ref 10 again at C, read-only", second.result, equals: 0)
    report.expect("  status", second.status, equals: Int64(GNTST_okay))
    report.expect("  handle", Int64(second.handle), equals: 1)
    report.expect("  C reads A's marker", hex: readOrZero(pageC), equals: markerA)
    report.check("  a write through C faults", !Traps.write(pageC, 0x2222))
    report.expect("  #PF error code", hex: Traps.last.errorCode, equals: 3)
    report.expect("  C's L1 entry: read-only", hex: l1Entry(pageC).value, equals: (frameA << 12) | 0x8010_0000_0000_0065)
    var unmapped = unmapGrant(second.handle, at: pageC)
    report.expect("unmap C", unmapped.result, equals: 0)
    report.expect("  status", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  C's L1 entry is cleared", hex: l1Entry(pageC).value, equals: 0)
    report.expect("  entry flags still reading | writing", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access | GTF_reading | GTF_writing))
    unmapped = unmapGrant(first.handle, at: pageB)
    report.expect("unmap B", unmapped.result, equals: 0)
    report.expect("  status", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags back to permit_access", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access))
    report.check("  a read of B faults", Traps.read(pageB) == nil)
    report.expect("  restore B", restore(pageB), equals: 0)
    report.expect("  B reads its own marker", hex: xg_read64(pageB), equals: markerB)
    unmapped = unmapGrant(first.handle, at: pageB)
    report.expect("unmap the same handle again", unmapped.result, equals: 0)
    report.expect("  status bad_handle", unmapped.status, equals: Int64(GNTST_bad_handle))
    unmapped = unmapGrant(9999, at: pageB)
    report.expect("unmap handle 9999", unmapped.result, equals: 0)
    report.expect("  status bad_handle", unmapped.status, equals: Int64(GNTST_bad_handle))
    report.expect("  B still maps its own frame", hex: xg_read64(pageB), equals: markerB)

    // --- refusals ---
    report.group("map refused")
    var refused = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map, dom: selfDomain)
    report.expect("dom DOMID_SELF", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_domain))
    report.expect("  handle untouched", hex: UInt64(refused.handle), equals: 0xAAAA_AAAA)
    refused = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map, dom: 1234)
    report.expect("dom 1234", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_domain))
    refused = mapGrant(512, at: pageB, flags: GNTMAP_host_map)
    report.expect("ref 512 (past the one frame)", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_gntref))
    refused = mapGrant(0xFFFF_FFFF, at: pageB, flags: GNTMAP_host_map)
    report.expect("ref 2^32 - 1", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_gntref))
    refused = mapGrant(refWritable, at: pageB, flags: 0)
    report.expect("flags 0 (neither host nor device)", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_gntref))
    refused = mapGrant(refInvalid, at: pageB, flags: GNTMAP_host_map)
    report.expect("an invalid entry", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refOtherDomain, at: pageB, flags: GNTMAP_host_map)
    report.expect("an entry granted to domain 5", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    report.expect("  entry flags unchanged", hex: flagsWord(refOtherDomain), equals: UInt64(GTF_permit_access))
    refused = mapGrant(refTransfer, at: pageB, flags: GNTMAP_host_map)
    report.expect("an accept_transfer entry", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refForeignFrame, at: pageB, flags: GNTMAP_host_map)
    report.expect("a frame dom0 does not own", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_page))
    report.expect("  entry flags unchanged", hex: flagsWord(refForeignFrame), equals: UInt64(GTF_permit_access))
    refused = mapGrant(refReadOnly, at: pageB, flags: GNTMAP_host_map)
    report.expect("a read-only grant mapped writable", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    report.expect("  entry flags unchanged", hex: flagsWord(refReadOnly),
                  equals: UInt64(GTF_permit_access | GTF_readonly))
    refused = mapGrant(refWritable, at: 0x1000, flags: GNTMAP_host_map)
    report.expect("host_addr 0x1000 (no L1)", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    report.expect("  entry flags back to permit_access", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access))
    refused = mapGrant(refWritable, at: xenRangeAddress, flags: GNTMAP_host_map)
    report.expect("host_addr in Xen's range", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refWritable, at: 0, flags: GNTMAP_host_map)
    report.expect("host_addr 0", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    report.expect("  B still maps its own frame", hex: xg_read64(pageB), equals: markerB)
    report.expect("argument NULL", gnttab(GNTTABOP_map_grant_ref, nil), equals: errno(XEN_EFAULT))
    report.expect("count 0", gnttab(GNTTABOP_map_grant_ref, Scratch.raw, count: 0), equals: 0)

    // --- read-only grants, device mappings, page tables ---
    report.group("map kinds")
    var mapping = mapGrant(refReadOnly, at: pageB, flags: GNTMAP_host_map | GNTMAP_readonly)
    report.expect("a read-only grant, read-only", mapping.result, equals: 0)
    report.expect("  status", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags: permit_access | readonly | reading", hex: flagsWord(refReadOnly),
                  equals: UInt64(GTF_permit_access | GTF_readonly | GTF_reading))
    report.expect("  B reads A's marker", hex: readOrZero(pageB), equals: markerA)
    report.check("  a write through B faults", !Traps.write(pageB, 0x3333))
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags after", hex: flagsWord(refReadOnly), equals: UInt64(GTF_permit_access | GTF_readonly))
    restore(pageB)

    mapping = mapGrant(refWritable, at: 0, flags: GNTMAP_device_map)
    report.expect("device_map only", mapping.result, equals: 0)
    report.expect("  status", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  dev_bus_addr is A's machine address", hex: mapping.devBusAddress, equals: frameA << 12)
    report.expect("  entry flags: permit_access | reading | writing", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access | GTF_reading | GTF_writing))
    unmapped = unmapGrant(mapping.handle, at: 0, devBusAddress: (frameA + 1) << 12)
    report.expect("  unmap with the wrong dev_bus_addr", unmapped.result, equals: 0)
    report.expect("    status", unmapped.status, equals: Int64(GNTST_bad_dev_addr))
    unmapped = unmapGrant(mapping.handle, at: 0, devBusAddress: frameA << 12)
    report.expect("  unmap", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags after", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))

    mapping = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map | GNTMAP_device_map)
    report.expect("host_map | device_map", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  dev_bus_addr", hex: mapping.devBusAddress, equals: frameA << 12)
    report.expect("  B reads A's marker", hex: readOrZero(pageB), equals: markerA)
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap the host part only", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags: still in use by the device part", hex: flagsWord(refWritable),
                  equals: UInt64(GTF_permit_access | GTF_reading | GTF_writing))
    unmapped = unmapGrant(mapping.handle, at: 0, devBusAddress: frameA << 12)
    report.expect("  unmap the device part", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags after", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))
    restore(pageB)

    refused = mapGrant(refPageTable, at: pageB, flags: GNTMAP_host_map)
    report.expect("the L4, writable", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refPageTable, at: 0, flags: GNTMAP_device_map)
    report.expect("the L4, device_map writable", refused.status, equals: Int64(GNTST_general_error))
    mapping = mapGrant(refPageTable, at: pageB, flags: GNTMAP_host_map | GNTMAP_readonly)
    report.expect("the L4, read-only", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  B reads the L4's last entry", hex: readOrZero(pageB + 4088), equals: xg_read64(info.pt_base + 4088))
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap", unmapped.status, equals: Int64(GNTST_okay))
    restore(pageB)

    // --- GNTMAP_contains_pte: host_addr is the machine address of an L1 entry ---
    report.group("contains_pte")
    let entryC = l1Entry(pageC)
    mapping = mapGrant(refWritable, at: entryC.machineAddress, flags: GNTMAP_host_map | GNTMAP_contains_pte,
                       invalidate: pageC)
    report.expect("C's L1 entry by machine address", mapping.result, equals: 0)
    report.expect("  status", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  C reads A's marker", hex: readOrZero(pageC), equals: markerA)
    report.expect("  C's L1 entry (as a linear map's)", hex: l1Entry(pageC).value,
                  equals: (frameA << 12) | 0x8010_0000_0000_0067)
    unmapped = unmapGrant(mapping.handle, at: pageC)
    report.expect("  unmap by the linear address (taken as a machine address)", unmapped.status,
                  equals: Int64(GNTST_general_error))
    unmapped = unmapGrant(mapping.handle, at: entryC.machineAddress)
    report.expect("  unmap by the entry's machine address", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  C's L1 entry is cleared", hex: l1Entry(pageC).value, equals: 0)
    restore(pageC)
    refused = mapGrant(refWritable, at: entryC.machineAddress + 4, flags: GNTMAP_host_map | GNTMAP_contains_pte)
    report.expect("a misaligned entry address", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refWritable, at: frameD << 12, flags: GNTMAP_host_map | GNTMAP_contains_pte)
    report.expect("an address in a frame that is no L1", refused.status, equals: Int64(GNTST_general_error))
    refused = mapGrant(refWritable, at: foreignFrame << 12, flags: GNTMAP_host_map | GNTMAP_contains_pte)
    report.expect("an address in a frame dom0 does not own", refused.status, equals: Int64(GNTST_general_error))
    report.expect("  C still maps its own frame", hex: xg_read64(pageC), equals: markerC)

    // --- unmap mismatches and unmap_and_replace ---
    report.group("unmap")
    mapping = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map)
    report.expect("map at B", mapping.status, equals: Int64(GNTST_okay))
    unmapped = unmapGrant(mapping.handle, at: pageC)
    report.expect("unmap naming C instead", unmapped.result, equals: 0)
    report.expect("  status", unmapped.status, equals: Int64(GNTST_general_error))
    report.expect("  C still maps its own frame", hex: xg_read64(pageC), equals: markerC)
    report.expect("  B still maps A", hex: readOrZero(pageB), equals: markerA)
    var replaced = unmapAndReplace(mapping.handle, at: pageB, newAddress: pageD)
    report.expect("unmap_and_replace B with D's mapping", replaced.result, equals: 0)
    report.expect("  status", replaced.status, equals: Int64(GNTST_okay))
    report.expect("  B now reads D's marker", hex: readOrZero(pageB), equals: markerD)
    report.check("  D's va is unmapped", Traps.read(pageD) == nil)
    report.expect("  entry flags after", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))
    report.expect("  restore B", restore(pageB), equals: 0)
    report.expect("  restore D", restore(pageD), equals: 0)
    mapping = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map)
    replaced = unmapAndReplace(mapping.handle, at: pageB, newAddress: 0)
    report.expect("unmap_and_replace with new_addr 0", replaced.result, equals: 0)
    report.expect("  status", replaced.status, equals: Int64(GNTST_okay))
    report.expect("  B's L1 entry is cleared", hex: l1Entry(pageB).value, equals: 0)
    replaced = unmapAndReplace(9999, at: pageB, newAddress: pageD)
    report.expect("unmap_and_replace handle 9999", replaced.result, equals: 0)
    report.expect("  status", replaced.status, equals: Int64(GNTST_bad_handle))
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("unmap the replaced handle", unmapped.status, equals: Int64(GNTST_bad_handle))
    restore(pageB)
    restore(pageD)
    report.expect("  entry flags after", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))

    // --- copy ---
    report.group("copy")
    xg_write64(pageA + 64, 0x0123_4567_89AB_CDEF)
    var copied = copy(copyPointer(ref: refWritable, domid: 0, offset: 64),
                      copyPointer(gmfn: frameB, offset: 128), length: 8, flags: GNTCOPY_source_gref)
    report.expect("gref 10 to B's frame", copied.result, equals: 0)
    report.expect("  status", copied.status, equals: Int64(GNTST_okay))
    report.expect("  B has the bytes", hex: xg_read64(pageB + 128), equals: 0x0123_4567_89AB_CDEF)
    report.expect("  entry flags after", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))
    xg_write64(pageB + 256, 0x7777_6666_5555_4444)
    copied = copy(copyPointer(gmfn: frameB, offset: 256), copyPointer(ref: refWritable, domid: 0, offset: 512),
                  length: 8, flags: GNTCOPY_dest_gref)
    report.expect("B's frame to gref 10", copied.status, equals: Int64(GNTST_okay))
    report.expect("  A has the bytes", hex: xg_read64(pageA + 512), equals: 0x7777_6666_5555_4444)
    copied = copy(copyPointer(ref: refWritable, domid: selfDomain, offset: 64),
                  copyPointer(gmfn: frameB, offset: 136), length: 8, flags: GNTCOPY_source_gref)
    report.expect("gref of DOMID_SELF", copied.status, equals: Int64(GNTST_okay))
    report.expect("  B has the bytes", hex: xg_read64(pageB + 136), equals: 0x0123_4567_89AB_CDEF)
    copied = copy(copyPointer(ref: refWritable, domid: 0, offset: 64),
                  copyPointer(gmfn: frameB, domid: 0, offset: 144), length: 8, flags: GNTCOPY_source_gref)
    report.expect("a frame named with domain 0 (not DOMID_SELF)", copied.status,
                  equals: Int64(GNTST_permission_denied))
    report.expect("  B unchanged", hex: xg_read64(pageB + 144), equals: 0)
    copied = copy(copyPointer(ref: refWritable, domid: 0, offset: 0), copyPointer(ref: refWritable, domid: 0,
                  offset: 2048), length: 16, flags: GNTCOPY_source_gref | GNTCOPY_dest_gref)
    report.expect("gref to gref (the same one)", copied.status, equals: Int64(GNTST_okay))
    report.expect("  A's marker copied within A", hex: xg_read64(pageA + 2048), equals: markerA)
    copied = copy(copyPointer(ref: refReadOnly, domid: 0, offset: 0), copyPointer(gmfn: frameB, offset: 1024),
                  length: 8, flags: GNTCOPY_source_gref)
    report.expect("a read-only grant as the source", copied.status, equals: Int64(GNTST_okay))
    copied = copy(copyPointer(gmfn: frameB, offset: 0), copyPointer(ref: refReadOnly, domid: 0, offset: 0),
                  length: 8, flags: GNTCOPY_dest_gref)
    report.expect("a read-only grant as the destination", copied.result, equals: 0)
    report.expect("  status", copied.status, equals: Int64(GNTST_general_error))
    copied = copy(copyPointer(ref: refWritable, domid: 0, offset: 4000), copyPointer(gmfn: frameB, offset: 0),
                  length: 200, flags: GNTCOPY_source_gref)
    report.expect("source offset + len past the page", copied.status, equals: Int64(GNTST_bad_copy_arg))
    copied = copy(copyPointer(gmfn: frameB, offset: 0), copyPointer(gmfn: frameD, offset: 4095), length: 2, flags: 0)
    report.expect("dest offset + len past the page", copied.status, equals: Int64(GNTST_bad_copy_arg))
    copied = copy(copyPointer(gmfn: frameB, offset: 0), copyPointer(gmfn: frameD, offset: 0), length: 0, flags: 0)
    report.expect("len 0", copied.status, equals: Int64(GNTST_okay))
    copied = copy(copyPointer(gmfn: frameB, offset: 0), copyPointer(gmfn: frameD, offset: 8), length: 8, flags: 0)
    report.expect("frame to frame (no grant)", copied.status, equals: Int64(GNTST_okay))
    report.expect("  D has B's marker", hex: xg_read64(pageD + 8), equals: markerB)
    copied = copy(copyPointer(ref: 600, domid: 0, offset: 0), copyPointer(gmfn: frameB, offset: 0), length: 8,
                  flags: GNTCOPY_source_gref)
    report.expect("gref 600 (past the table)", copied.status, equals: Int64(GNTST_bad_gntref))
    copied = copy(copyPointer(ref: refOtherDomain, domid: 0, offset: 0), copyPointer(gmfn: frameB, offset: 0),
                  length: 8, flags: GNTCOPY_source_gref)
    report.expect("a grant to domain 5", copied.status, equals: Int64(GNTST_general_error))
    copied = copy(copyPointer(ref: refInvalid, domid: 0, offset: 0), copyPointer(gmfn: frameB, offset: 0),
                  length: 8, flags: GNTCOPY_source_gref)
    report.expect("an invalid entry", copied.status, equals: Int64(GNTST_general_error))
    copied = copy(copyPointer(ref: refWritable, domid: 1234, offset: 0), copyPointer(gmfn: frameB, offset: 0),
                  length: 8, flags: GNTCOPY_source_gref)
    report.expect("domain 1234", copied.status, equals: Int64(GNTST_bad_domain))
    copied = copy(copyPointer(gmfn: foreignFrame, offset: 0), copyPointer(gmfn: frameB, offset: 0), length: 8,
                  flags: 0)
    report.expect("a source frame dom0 does not own", copied.status, equals: Int64(GNTST_bad_page))
    copied = copy(copyPointer(gmfn: maximumRAMPage + 0x100, offset: 0), copyPointer(gmfn: frameB, offset: 0),
                  length: 8, flags: 0)
    report.expect("a source frame past RAM", copied.status, equals: Int64(GNTST_bad_page))
    copied = copy(copyPointer(gmfn: frameB, offset: 0), copyPointer(gmfn: frameB, domid: 1234, offset: 0),
                  length: 8, flags: 0)
    report.expect("a frame of domain 1234", copied.status, equals: Int64(GNTST_bad_domain))
    report.expect("argument NULL", gnttab(GNTTABOP_copy, nil), equals: errno(XEN_EFAULT))
    let batch = (Scratch.raw + 256).bindMemory(to: gnttab_copy.self, capacity: 2)
    batch[0] = gnttab_copy(source: copyPointer(gmfn: frameB, offset: 0), dest: copyPointer(gmfn: frameD, offset: 16),
                           len: 8, flags: 0, status: 99)
    batch[1] = gnttab_copy(source: copyPointer(gmfn: frameB, offset: 4090), dest: copyPointer(gmfn: frameD,
                           offset: 0), len: 8, flags: 0, status: 99)
    report.expect("two in one call (the second bad)", gnttab(GNTTABOP_copy, batch, count: 2), equals: 0)
    report.expect("  first status", Int64(batch[0].status), equals: Int64(GNTST_okay))
    report.expect("  second status", Int64(batch[1].status), equals: Int64(GNTST_bad_copy_arg))
    report.expect("  entry flags after all", hex: flagsWord(refWritable), equals: UInt64(GTF_permit_access))

    // --- cache_flush ---
    report.group("cache_flush")
    report.expect("clean A by bus address", cacheFlush(address: frameA << 12, offset: 0, length: 64,
                  op: UInt32(GNTTAB_CACHE_CLEAN)), equals: 0)
    report.expect("invalidate A by bus address", cacheFlush(address: frameA << 12, offset: 0, length: 64,
                  op: UInt32(GNTTAB_CACHE_INVAL)), equals: errno(XEN_EOPNOTSUPP))
    report.expect("clean by grant ref (SOURCE_GREF)", cacheFlush(ref: refWritable, offset: 0, length: 64,
                  op: UInt32(GNTTAB_CACHE_CLEAN) | GNTTAB_CACHE_SOURCE_GREF), equals: errno(XEN_EINVAL))
    report.expect("op 0", cacheFlush(address: frameA << 12, offset: 0, length: 64, op: 0), equals: 0)
    report.expect("offset + length past the page", cacheFlush(address: frameA << 12, offset: 4095, length: 2,
                  op: UInt32(GNTTAB_CACHE_CLEAN)), equals: errno(XEN_EINVAL))
    report.expect("an unknown op bit", cacheFlush(address: frameA << 12, offset: 0, length: 64, op: 4),
                  equals: errno(XEN_EINVAL))
    report.expect("a frame dom0 does not own", cacheFlush(address: foreignFrame << 12, offset: 0, length: 64,
                  op: UInt32(GNTTAB_CACHE_CLEAN)), equals: errno(XEN_EPERM))
    report.expect("argument NULL", gnttab(GNTTABOP_cache_flush, nil), equals: errno(XEN_EFAULT))

    // --- a grant-mapped frame given back with decrease_reservation ---
    report.group("balloon")
    var extents = Scratch.cleared(64).bindMemory(to: UInt64.self, capacity: 8)
    var reservation = xen_memory_reservation(extent_start: xen_guest_handle_t(p: UInt64(UInt(bitPattern: extents))),
                                             nr_extents: 1, extent_order: 0, mem_flags: 0, domid: selfDomain,
                                             _pad: (0, 0, 0))
    report.expect("increase by one page", HYPERVISOR_memory_op(UInt64(XENMEM_increase_reservation), &reservation),
                  equals: 1)
    let loose = extents[0]
    grant(refBalloon, flags: GTF_permit_access, frame: loose)
    mapping = mapGrant(refBalloon, at: pageB, flags: GNTMAP_host_map)
    report.expect("map it by grant at B", mapping.status, equals: Int64(GNTST_okay))
    report.check("  write through B", Traps.write(pageB, 0x4242))
    let mappedPages = current()
    extents = Scratch.raw.bindMemory(to: UInt64.self, capacity: 8)
    extents[0] = loose
    report.expect("decrease it while grant-mapped", HYPERVISOR_memory_op(UInt64(XENMEM_decrease_reservation),
                  &reservation), equals: 1)
    report.expect("  current_reservation unchanged", current(), equals: mappedPages)
    report.expect("  still readable through B", hex: readOrZero(pageB), equals: 0x4242)
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  now current_reservation - 1", current(), equals: mappedPages - 1)
    refused = mapGrant(refBalloon, at: pageB, flags: GNTMAP_host_map)
    report.expect("map the grant of the freed frame", refused.result, equals: 0)
    report.expect("  status", refused.status, equals: Int64(GNTST_bad_page))
    restore(pageB)

    // --- ending a grant while it is mapped ---
    report.group("ended while mapped")
    mapping = mapGrant(refEnded, at: pageB, flags: GNTMAP_host_map)
    report.expect("map ref 18 at B", mapping.status, equals: Int64(GNTST_okay))
    grant(refEnded, flags: GTF_invalid, frame: 0)
    report.expect("clear the entry: B still maps A", hex: readOrZero(pageB), equals: markerA)
    let again = mapGrant(refEnded, at: pageC, flags: GNTMAP_host_map)
    report.expect("map the cleared ref again while it is in use", again.result, equals: 0)
    report.expect("  status", again.status, equals: Int64(GNTST_okay))
    report.expect("  C reads A's marker", hex: readOrZero(pageC), equals: markerA)
    report.expect("  entry flags", hex: flagsWord(refEnded), equals: 0)
    unmapped = unmapGrant(again.handle, at: pageC)
    report.expect("  unmap C", unmapped.status, equals: Int64(GNTST_okay))
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap B", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  entry flags", hex: flagsWord(refEnded), equals: 0)
    refused = mapGrant(refEnded, at: pageB, flags: GNTMAP_host_map)
    report.expect("map it once nothing uses it", refused.status, equals: Int64(GNTST_general_error))
    restore(pageB)
    restore(pageC)

    // --- version 2 and its status frames ---
    report.group("version 2")
    var status = gnttab_get_status_frames(nr_frames: 1, dom: selfDomain, status: 99,
                                          frame_list: xen_guest_handle_t(p: UInt64(UInt(bitPattern: frameList))))
    frameList[0] = sentinel
    report.expect("get_status_frames in version 1", gnttab(GNTTABOP_get_status_frames, &status), equals: 0)
    report.expect("  status", Int64(status.status), equals: Int64(GNTST_general_error))
    mapping = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map)
    var version = gnttab_set_version(version: 2)
    report.expect("set_version 2 while a grant is mapped", gnttab(GNTTABOP_set_version, &version),
                  equals: errno(XEN_EBUSY))
    report.expect("  version out", Int64(version.version), equals: 1)
    unmapped = unmapGrant(mapping.handle, at: pageB)
    restore(pageB)
    version.version = 2
    report.expect("set_version 2 once unmapped", gnttab(GNTTABOP_set_version, &version), equals: 0)
    status.status = 99
    report.expect("get_status_frames, 1 frame", gnttab(GNTTABOP_get_status_frames, &status), equals: 0)
    report.expect("  status", Int64(status.status), equals: Int64(GNTST_okay))
    let statusFrame = frameList[0]
    report.info("  frame", hex: statusFrame)
    status.nr_frames = 2
    report.expect("get_status_frames, 2 frames (only 1 exists)", gnttab(GNTTABOP_get_status_frames, &status),
                  equals: 0)
    report.expect("  status", Int64(status.status), equals: Int64(GNTST_general_error))
    status.nr_frames = 1
    status.dom = 1234
    report.expect("get_status_frames of domain 1234", gnttab(GNTTABOP_get_status_frames, &status), equals: 0)
    report.expect("  status", Int64(status.status), equals: Int64(GNTST_bad_domain))
    // A v2 entry: header (flags, domid) then the frame at byte 8.
    let v2Entry = window + UInt64(refWritable) * 16
    xg_write64(v2Entry + 8, frameA)
    xg_write64(v2Entry, UInt64(GTF_permit_access))
    report.expect("map the status frame at E read-only", Pages.map(pageE, machineFrame: statusFrame,
                  flags: Pages.pteReadOnly), equals: 0)
    mapping = mapGrant(refWritable, at: pageB, flags: GNTMAP_host_map)
    report.expect("map a v2 grant at B", mapping.status, equals: Int64(GNTST_okay))
    report.expect("  B reads A's marker", hex: readOrZero(pageB), equals: markerA)
    report.expect("  the header's flags stay permit_access", hex: xg_read64(v2Entry) & 0xFFFF,
                  equals: UInt64(GTF_permit_access))
    let statusWord = UnsafePointer<UInt16>(bitPattern: UInt(pageE))! + Int(refWritable)
    report.expect("  the status word: reading | writing", hex: UInt64(statusWord.pointee),
                  equals: UInt64(GTF_reading | GTF_writing))
    unmapped = unmapGrant(mapping.handle, at: pageB)
    report.expect("  unmap", unmapped.status, equals: Int64(GNTST_okay))
    report.expect("  the status word after", hex: UInt64(statusWord.pointee), equals: 0)
    restore(pageB)
    restore(pageE)
    version.version = 1
    report.expect("set_version 1", gnttab(GNTTABOP_set_version, &version), equals: 0)

    report.group(nil)
    report.expect("restore the window", Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable),
                  equals: 0)
    report.expect("traps: the four checked faults", Int64(Traps.count), equals: 4)
    report.finish()
}
