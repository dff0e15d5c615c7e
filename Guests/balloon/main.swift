// balloon: growing and shrinking dom0 with memory_op, as a PV balloon driver does
// (increase_reservation, populate_physmap, decrease_reservation, exchange), with the
// exact results Xen 4.17 gives.
//
// Booted with Guests/balloon/CMDLINE (dom0_mem=64M,max:96M): 16384 pages and room for
// 8192 more. Each step checks the call's return value, what was written back (lists
// pre-filled with a sentinel), how current_reservation moved across that step alone (so
// one wrong answer does not fail every later count), whether the frames are dom0's (an
// update_va_mapping probe at the runtime's map window: 0 for an own frame, -EBUSY for
// a free or foreign one), their contents and their M2P entries.
// Facts Xen 4.17 showed (the spec Apus must meet):
// reservation queries: current_reservation = nr_pages (16384); maximum_reservation =
//   24576 (max:96M); current_reservation counts frames the domain holds, so it drops
//   only when a released frame is actually freed (see "decrease" below).
// memory_op(increase/decrease_reservation or populate_physmap) returns the number of
//   extents done, never an errno here: a malformed call is "0 done". 0 for: argument
//   NULL or in Xen's range; extent_start in Xen's range (nothing allocated); domid
//   1234 or DOMID_XEN; nr_extents 0; nr_extents 2^26 (too large to encode a
//   continuation: nothing allocated); extent_order 21 (above dom0's maximum order).
//   The continuation encoding is exposed: cmd | (start_extent << 6) starts at that
//   extent, and a start_extent >= nr_extents returns start_extent itself (5 of 3
//   gives 5, nothing done); increase from extent 1 of 2 allocates one extent, writes
//   extent_start[1] only and returns 2; decrease from extent 1 of [a, b, invalid]
//   frees b only and returns 2.
// increase_reservation (PV: extent_start receives machine frames)
//   one page: 1; extent_start[0] = the mfn, extent_start[1] untouched; current + 1;
//     the frame is not in dom0's p2m, its M2P entry is INVALID_M2P_ENTRY (~0), it
//     reads as zeros, and update_va_mapping maps it writable (0) for use.
//   three pages: 3 distinct frames. Orders 1, 2, 10 (4 MiB: dom0 may): 1 each, the
//     first frame aligned to the extent's size, current + 2^order, every frame zeroed,
//     M2P ~0. Order 20 (4 GiB, past the maximum): 0.
//   domid 0 by id: 1. extent_start NULL: 1, nothing written (the frame is dom0's but
//     unknown to it). extent_start unmapped (0x1000): 0, yet one page was allocated
//     (current + 1): the write-back fails after the allocation.
//   mem_flags: XENMEMF_node(5) | exact_node_request (no such node): 0, nothing
//     allocated; XENMEMF_vnode (dom0 has no vNUMA): ignored, 1; address_bits 12: 0;
//     address_bits 32: 1, a frame below 4 GiB.
//   up to the maximum: with R pages of room, R/512 + 1 order-9 extents give R/512,
//     then R%512 + 1 single pages give R%512 (Xen logs "d0v0 Over-allocation for d0:
//     24580 > 24576" and "24577 > 24576"); current_reservation is then exactly 24576;
//     one more page: 0; populate_physmap of one more: 0. Giving them all back (order 9
//     and order 0) returns every extent and current_reservation is as before.
// populate_physmap (PV: extent_start holds pfns in, machine frames out)
//   one page at pfn P: 1, extent_start[0] = the new mfn, [1] untouched, M2P[mfn] = P,
//   zeroed, current + 1; order 1 at P+2: aligned, M2P of its frames P+2 and P+3;
//   extent_start NULL or in Xen's range: 0, nothing allocated; XENMEMF_populate_on_demand
//   on oneself: 0.
// decrease_reservation (PV: extent_start holds machine frames) stops at the first
//   extent it cannot release and returns the number released before it:
//   an own frame nothing maps: 1, current - 1, then no longer mappable (-EBUSY);
//   the same frame again (or any freed frame): 0 (Xen logs "d0v0 Error mfn <mfn>:
//   rd=d0 od=NULL caf=... taf=..."); [own, invalid, own]: 1 (the third stays dom0's);
//   order 1 and order 2 extents named by their first frame: 1 each, current - 2 / - 4;
//   an order-1 extent whose second frame is not dom0's: 0, but its first frame was
//   released all the same (current - 1, no longer mappable);
//   0 and nothing released: an mfn past RAM, mfn 2^40 - 1, mfn 0 (dom_io's), Xen's
//   frame 0x3f800, domid 1234 or DOMID_XEN, extent_start in Xen's range, argument
//   NULL, extent_order 21.
//   Frames still in use are released (1) but stay the domain's until the last use
//   goes: a frame mapped writable by the guest's own L1 gives 1, current unchanged,
//   and it is still readable and writable through that mapping (decreasing it again
//   gives 1 again); once the va is remapped it is freed (current - 1, -EBUSY to map).
//   The same for a frame mapped read-only. A pinned L1 (mapped read-only): 1, current
//   unchanged, and it stays pinned (UNPIN_TABLE then gives 0); unmapping it frees it.
//   The grant table's frame (from setup_table): 1, current unchanged, setup_table
//   still names it, but dom0 can no longer map it (-EBUSY). The shared_info frame:
//   1, current unchanged, 1 again, still mappable (the runtime's mapping holds it).
// exchange (returns 0 or an errno; nr_exchanged written back)
//   one unmapped frame for one page at pfn P: 0, nr_exchanged 1, the out list's pfn
//   replaced by the new mfn, M2P[new] = P, the old frame freed (-EBUSY), the new one
//   dom0's, current unchanged; one order-1 extent for two pages: 0, nr_exchanged 1,
//   both out pfns replaced (M2P set), out[2] untouched, both old frames freed;
//   a frame the guest maps: -EINVAL, nr_exchanged 0; sizes differ (1 x order 0 for
//   1 x order 1), in/out domids differ, nr_exchanged > nr_extents: -EINVAL;
//   extent_order 21: -EPERM; domid 1234: -ESRCH; in list in Xen's range or argument
//   NULL: -EFAULT; nr_exchanged == nr_extents: 0, nothing done.
import XenGuest
import XenGuestC
import ApusPublic

private let window = xg_map_window_address()
private let sentinel: UInt64 = 0xDEAD_BEEF_DEAD_BEEF
private let selfDomain = domid_t(DOMID_SELF)
private let xenRangeAddress: UInt64 = 0xFFFF_8300_0000_0000
private let invalidM2P: UInt64 = ~0
private let maximumPages: Int64 = 96 << 8   // max:96M in 4 KiB pages

private func errno(_ value: Int32) -> Int64 { -Int64(value) }

private func memoryOp(_ cmd: Int32, start: UInt64 = 0, _ arg: UnsafeMutableRawPointer?) -> Int64 {
    HYPERVISOR_memory_op(UInt64(cmd) | (start << 6), arg)
}

private func address(_ pointer: UnsafeMutablePointer<UInt64>) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }

/// Two extent lists of 512 words in Scratch (the runtime's 8 KiB).
private var listA: UnsafeMutablePointer<UInt64> { Scratch.raw.bindMemory(to: UInt64.self, capacity: 1024) }
private var listB: UnsafeMutablePointer<UInt64> { listA + 512 }

private func fill(_ list: UnsafeMutablePointer<UInt64>, _ count: Int = 512) {
    for index in 0..<count { list[index] = sentinel }
}

private func reservation(_ list: UInt64, count: UInt64, order: UInt32 = 0, flags: UInt32 = 0,
                         domid: domid_t = selfDomain) -> xen_memory_reservation {
    xen_memory_reservation(extent_start: xen_guest_handle_t(p: list), nr_extents: count, extent_order: order,
                           mem_flags: flags, domid: domid, _pad: (0, 0, 0))
}

private func reserve(_ cmd: Int32, _ list: UInt64, count: UInt64, order: UInt32 = 0, flags: UInt32 = 0,
                     domid: domid_t = selfDomain, start: UInt64 = 0) -> Int64 {
    var request = reservation(list, count: count, order: order, flags: flags, domid: domid)
    return memoryOp(cmd, start: start, &request)
}

private func increase(_ list: UnsafeMutablePointer<UInt64>, count: UInt64, order: UInt32 = 0) -> Int64 {
    reserve(XENMEM_increase_reservation, address(list), count: count, order: order)
}

private func decrease(_ list: UnsafeMutablePointer<UInt64>, count: UInt64, order: UInt32 = 0) -> Int64 {
    reserve(XENMEM_decrease_reservation, address(list), count: count, order: order)
}

/// Decreases one extent given by its first frame (kept in listB[511]).
private func decreaseOne(_ mfn: UInt64, order: UInt32 = 0, domid: domid_t = selfDomain) -> Int64 {
    listB[511] = mfn
    return reserve(XENMEM_decrease_reservation, address(listB + 511), count: 1, order: order, domid: domid)
}

private func current() -> Int64 {
    var domain = selfDomain
    return memoryOp(XENMEM_current_reservation, &domain)
}

/// current_reservation as last marked: each step checks its own change.
nonisolated(unsafe) private var marked: Int64 = 0
private func mark() { marked = current() }
/// How current_reservation moved since mark(); marks again.
private func change() -> Int64 {
    let now = current()
    defer { marked = now }
    return now - marked
}

/// The M2P entry of a frame the hypervisor named (a fault reads as 0, a failed check).
private func m2p(_ mfn: UInt64) -> UInt64 {
    Traps.read(MACH2PHYS_VIRT_START &+ mfn &* 8) ?? 0
}

private var windowFrame: UInt64 { Pages.machineFrame(ofVirtual: window) }

/// Whether dom0 owns the frame: update_va_mapping accepts it read-only at the window
/// (0), or refuses it as another owner's or free (-EBUSY). The window maps its own
/// frame again afterwards, so the probe leaves no reference behind.
private func mapProbe(_ mfn: UInt64) -> Int64 {
    let result = Pages.map(window, machineFrame: mfn, flags: Pages.pteReadOnly)
    _ = Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable)
    return result
}

/// Maps the frame writable at the window and reports whether all 4096 bytes are zero
/// (the window maps its own frame again afterwards).
private func isZeroed(_ mfn: UInt64) -> Bool {
    defer { _ = Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable) }
    guard Pages.map(window, machineFrame: mfn, flags: Pages.pteWritable) == 0 else { return false }
    for index in 0..<UInt64(512) {
        guard let word = Traps.read(window + index * 8), word == 0 else { return false }
    }
    return true
}

private func inP2M(_ mfn: UInt64) -> Bool {
    let pages = StartOfDay.startInfo.pointee.nr_pages
    var pfn: UInt64 = 0
    while pfn < pages {
        if StartOfDay.machineFrame(ofPseudoPhysical: pfn) == mfn { return true }
        pfn += 1
    }
    return false
}

private func mmuext(_ cmd: Int32, mfn: UInt64) -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(cmd)
    op.arg1.mfn = mfn
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

private func exchange(inList: UInt64, inCount: UInt64, inOrder: UInt32 = 0,
                      outList: UInt64, outCount: UInt64, outOrder: UInt32 = 0,
                      inDomid: domid_t = selfDomain, outDomid: domid_t = selfDomain,
                      exchanged: UInt64 = 0) -> (result: Int64, exchanged: UInt64) {
    var request = xen_memory_exchange(
        in: reservation(inList, count: inCount, order: inOrder, domid: inDomid),
        out: reservation(outList, count: outCount, order: outOrder, domid: outDomid),
        nr_exchanged: exchanged)
    let result = memoryOp(XENMEM_exchange, &request)
    return (result, request.nr_exchanged)
}

/// One extent from increase_reservation: its first frame (the sentinel if none came).
private func increaseOne(order: UInt32 = 0) -> (result: Int64, frame: UInt64) {
    fill(listA, 2)
    let result = increase(listA, count: 1, order: order)
    return (result, listA[0])
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "balloon")
    report.expect("install the trap table", Traps.install(guest: "balloon"), equals: 0)
    let info = StartOfDay.startInfo.pointee
    guard let mappedRW = Pages.allocate(), let mappedRO = Pages.allocate(), let table = Pages.allocate(),
          let reuse = Pages.allocate()
    else {
        report.check("page pool has 4 pages", false)
        report.finish()
    }
    var selfId = selfDomain
    var noArgument: UInt64 = 0
    let maximumRAMPage = UInt64(memoryOp(XENMEM_maximum_ram_page, &noArgument))
    let pastRAM = maximumRAMPage + 0x100

    // --- reservations before ---
    report.group("reservation")
    report.expect("current_reservation is nr_pages", current(), equals: Int64(info.nr_pages))
    report.expect("maximum_reservation is max:96M", memoryOp(XENMEM_maximum_reservation, &selfId),
                  equals: maximumPages)
    mark()

    // --- increase_reservation ---
    report.group("increase")
    fill(listA)
    report.expect("one page", increase(listA, count: 1), equals: 1)
    let single = listA[0]
    report.info("  frame", hex: single)
    report.check("  frame written back", single != sentinel)
    report.expect("  extent_start[1] untouched", hex: listA[1], equals: sentinel)
    report.expect("  current_reservation change", change(), equals: 1)
    report.check("  not in dom0's p2m", !inP2M(single))
    report.expect("  M2P entry", hex: m2p(single), equals: invalidM2P)
    report.check("  zeroed", isZeroed(single))
    report.expect("  map it writable with update_va_mapping", Pages.map(window, machineFrame: single,
                  flags: Pages.pteWritable), equals: 0)
    report.check("  write through the mapping", Traps.write(window + 8, 0x5151_5151))
    report.expect("  read it back", hex: Traps.read(window + 8) ?? 0, equals: 0x5151_5151)
    report.expect("  the window maps its own frame again", Pages.map(window, machineFrame: windowFrame,
                  flags: Pages.pteWritable), equals: 0)

    fill(listA)
    report.expect("three pages in one call", increase(listA, count: 3), equals: 3)
    let triple = (listA[0], listA[1], listA[2])
    report.check("  three distinct frames", triple.0 != triple.1 && triple.1 != triple.2 && triple.0 != triple.2
                 && triple.0 != sentinel && triple.2 != sentinel && triple.0 != single)
    report.expect("  extent_start[3] untouched", hex: listA[3], equals: sentinel)
    report.expect("  current_reservation change", change(), equals: 3)
    report.check("  all zeroed", isZeroed(triple.0) && isZeroed(triple.1) && isZeroed(triple.2))

    var extent = increaseOne(order: 1)
    let pair = extent.frame
    report.expect("an order-1 extent", extent.result, equals: 1)
    report.info("  first frame", hex: pair)
    report.expect("  aligned to 2 frames", Int64(pair & 1), equals: 0)
    report.expect("  current_reservation change", change(), equals: 2)
    report.check("  both frames zeroed", isZeroed(pair) && isZeroed(pair + 1))
    report.expect("  M2P of the second frame", hex: m2p(pair + 1), equals: invalidM2P)
    extent = increaseOne(order: 2)
    let quad = extent.frame
    report.expect("an order-2 extent", extent.result, equals: 1)
    report.info("  first frame", hex: quad)
    report.expect("  aligned to 4 frames", Int64(quad & 3), equals: 0)
    report.expect("  current_reservation change", change(), equals: 4)
    report.check("  all four zeroed", isZeroed(quad) && isZeroed(quad + 1) && isZeroed(quad + 2) && isZeroed(quad + 3))
    extent = increaseOne(order: 10)
    report.expect("an order-10 extent (4 MiB)", extent.result, equals: 1)
    report.expect("  aligned to 1024 frames", Int64(extent.frame & 1023), equals: 0)
    report.expect("  current_reservation change", change(), equals: 1024)
    report.expect("  decrease it as one order-10 extent", extent.result == 1 ? decreaseOne(extent.frame, order: 10)
                  : 0, equals: 1)
    report.expect("  current_reservation change", change(), equals: -1024)

    // --- arguments ---
    report.group("increase arguments")
    fill(listA)
    report.expect("domid 0 by id", reserve(XENMEM_increase_reservation, address(listA), count: 1, domid: 0),
                  equals: 1)
    let byId = listA[0]
    report.expect("  current_reservation change", change(), equals: 1)
    report.expect("extent_start NULL: done but not reported", reserve(XENMEM_increase_reservation, 0, count: 1),
                  equals: 1)
    report.expect("  current_reservation change", change(), equals: 1)
    report.expect("a missing domain (1234)",
                  reserve(XENMEM_increase_reservation, address(listA), count: 1, domid: 1234), equals: 0)
    report.expect("DOMID_XEN", reserve(XENMEM_increase_reservation, address(listA), count: 1,
                                       domid: domid_t(DOMID_XEN)), equals: 0)
    report.expect("extent_start in Xen's range",
                  reserve(XENMEM_increase_reservation, xenRangeAddress, count: 1), equals: 0)
    report.expect("argument NULL", memoryOp(XENMEM_increase_reservation, nil), equals: 0)
    report.expect("argument in Xen's range",
                  memoryOp(XENMEM_increase_reservation, UnsafeMutableRawPointer(bitPattern: UInt(xenRangeAddress))),
                  equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("extent_start unmapped (0x1000)", reserve(XENMEM_increase_reservation, 0x1000, count: 1),
                  equals: 0)
    report.expect("  current_reservation change (allocated before the write-back failed)", change(), equals: 1)
    report.expect("extent_order 21", increase(listA, count: 1, order: 21), equals: 0)
    report.expect("extent_order 20 (4 GiB, over the maximum)", increase(listA, count: 1, order: 20), equals: 0)
    report.expect("nr_extents 0", increase(listA, count: 0), equals: 0)
    report.expect("node 5, exact (no such node)", reserve(XENMEM_increase_reservation, address(listA), count: 1,
                  flags: UInt32((5 + 1) << 8) | UInt32(XENMEMF_exact_node_request)), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    fill(listA)
    report.expect("a virtual node (XENMEMF_vnode; dom0 has no vNUMA: ignored)",
                  reserve(XENMEM_increase_reservation, address(listA), count: 1, flags: UInt32(XENMEMF_vnode)),
                  equals: 1)
    report.expect("  current_reservation change", change(), equals: 1)
    report.expect("address_bits 12", reserve(XENMEM_increase_reservation, address(listA), count: 1, flags: 12),
                  equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    fill(listA)
    report.expect("address_bits 32", reserve(XENMEM_increase_reservation, address(listA), count: 1, flags: 32),
                  equals: 1)
    let low = listA[0]
    report.check("  frame below 4 GiB", low < 1 << 20)
    report.expect("  current_reservation change", change(), equals: 1)

    // The continuation encoding: cmd | start_extent << 6.
    report.group("continuation")
    report.expect("increase from extent 5 of 3", reserve(XENMEM_increase_reservation, address(listA), count: 3,
                                                         start: 5), equals: 5)
    report.expect("  current_reservation change", change(), equals: 0)
    fill(listA)
    report.expect("increase from extent 1 of 2", reserve(XENMEM_increase_reservation, address(listA), count: 2,
                                                         start: 1), equals: 2)
    report.expect("  extent_start[0] untouched", hex: listA[0], equals: sentinel)
    let resumed = listA[1]
    report.check("  extent_start[1] written", resumed != sentinel)
    report.expect("  current_reservation change", change(), equals: 1)
    listA[0] = byId
    listA[1] = resumed
    listA[2] = pastRAM
    report.expect("decrease from extent 1 of 3 (the third invalid)",
                  reserve(XENMEM_decrease_reservation, address(listA), count: 3, start: 1), equals: 2)
    report.expect("  current_reservation change", change(), equals: -1)
    report.expect("  extent 0 was not freed", mapProbe(byId), equals: 0)
    report.expect("  extent 1 was freed", mapProbe(resumed), equals: errno(XEN_EBUSY))
    report.expect("decrease with nr_extents 2^26 - 1 (the second freed already)",
                  reserve(XENMEM_decrease_reservation, address(listA), count: (1 << 26) - 1), equals: 1)
    report.expect("  current_reservation change", change(), equals: -1)

    // --- populate_physmap: pfns in, mfns out, M2P set ---
    report.group("populate_physmap")
    let pfnA = UInt64(info.nr_pages) + 0x40
    listA[0] = pfnA
    listA[1] = sentinel
    report.expect("one page at a pfn past nr_pages", reserve(XENMEM_populate_physmap, address(listA), count: 1),
                  equals: 1)
    let populated = listA[0]
    report.check("  extent_start[0] now holds an mfn", populated != pfnA && populated != sentinel)
    report.expect("  extent_start[1] untouched", hex: listA[1], equals: sentinel)
    report.expect("  M2P entry is the pfn", hex: m2p(populated), equals: pfnA)
    report.check("  zeroed", isZeroed(populated))
    report.expect("  current_reservation change", change(), equals: 1)
    listA[0] = pfnA + 2
    report.expect("an order-1 extent", reserve(XENMEM_populate_physmap, address(listA), count: 1, order: 1),
                  equals: 1)
    let populatedPair = listA[0]
    report.expect("  aligned", Int64(populatedPair & 1), equals: 0)
    report.expect("  M2P of the first frame", hex: m2p(populatedPair), equals: pfnA + 2)
    report.expect("  M2P of the second frame", hex: m2p(populatedPair + 1), equals: pfnA + 3)
    report.expect("  current_reservation change", change(), equals: 2)
    listA[0] = pfnA + 4
    report.expect("populate-on-demand on oneself", reserve(XENMEM_populate_physmap, address(listA), count: 1,
                  flags: UInt32(XENMEMF_populate_on_demand)), equals: 0)
    report.expect("extent_start NULL", reserve(XENMEM_populate_physmap, 0, count: 1), equals: 0)
    report.expect("extent_start in Xen's range", reserve(XENMEM_populate_physmap, xenRangeAddress, count: 1),
                  equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)

    // --- decrease_reservation ---
    report.group("decrease")
    report.expect("the single page", decreaseOne(single), equals: 1)
    report.expect("  current_reservation change", change(), equals: -1)
    report.expect("  no longer mappable", mapProbe(single), equals: errno(XEN_EBUSY))
    report.expect("the same page again", decreaseOne(single), equals: 0)
    listA[0] = triple.0
    listA[1] = pastRAM
    listA[2] = triple.1
    report.expect("three, the second invalid", decrease(listA, count: 3), equals: 1)
    report.expect("  current_reservation change", change(), equals: -1)
    report.expect("  the third is still dom0's", mapProbe(triple.1), equals: 0)
    listA[0] = triple.1
    listA[1] = triple.2
    report.expect("two", decrease(listA, count: 2), equals: 2)
    report.expect("  current_reservation change", change(), equals: -2)
    report.expect("the order-1 extent (order 1)", decreaseOne(pair, order: 1), equals: 1)
    report.expect("  current_reservation change", change(), equals: -2)
    report.expect("the order-2 extent (order 2)", decreaseOne(quad, order: 2), equals: 1)
    report.expect("  current_reservation change", change(), equals: -4)
    // An order-1 extent whose second frame is not dom0's: the first is released, yet
    // the extent is not counted as done.
    var straddle: UInt64 = 0
    for _ in 0..<4 where straddle == 0 {
        let one = increaseOne()
        if one.result == 1 && mapProbe(one.frame + 1) == errno(XEN_EBUSY) { straddle = one.frame }
    }
    report.check("a fresh frame whose successor is not dom0's", straddle != 0)
    mark()
    report.expect("  order 1 from it", straddle == 0 ? -1 : decreaseOne(straddle, order: 1), equals: 0)
    report.expect("  current_reservation change (released all the same)", change(), equals: -1)
    report.expect("  the first frame is gone", mapProbe(straddle), equals: errno(XEN_EBUSY))
    report.expect("nr_extents 0", decrease(listA, count: 0), equals: 0)
    listA[0] = populatedPair
    listA[1] = populatedPair + 1
    report.expect("the populated pair as two order-0 extents", decrease(listA, count: 2), equals: 2)
    report.expect("  current_reservation change", change(), equals: -2)

    report.group("decrease refused")
    report.expect("an mfn past RAM", decreaseOne(pastRAM), equals: 0)
    report.expect("mfn 2^40 - 1", decreaseOne((1 << 40) - 1), equals: 0)
    report.expect("mfn 0 (not dom0's)", decreaseOne(0), equals: 0)
    report.expect("a freed frame", decreaseOne(single), equals: 0)
    // Where Xen 4.17 loads itself on this machine; under Apus some other owner's frame.
    report.expect("the hypervisor's frame 0x3f800", inP2M(0x3F800) ? 0 : decreaseOne(0x3F800), equals: 0)
    report.expect("a missing domain (1234)", decreaseOne(populated, domid: 1234), equals: 0)
    report.expect("DOMID_XEN", decreaseOne(populated, domid: domid_t(DOMID_XEN)), equals: 0)
    report.expect("extent_start in Xen's range", reserve(XENMEM_decrease_reservation, xenRangeAddress, count: 1),
                  equals: 0)
    report.expect("argument NULL", memoryOp(XENMEM_decrease_reservation, nil), equals: 0)
    report.expect("extent_order 21", decreaseOne(populated, order: 21), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  the frame is still dom0's", mapProbe(populated), equals: 0)

    // Frames still in use: each use holds a reference, so the frame leaves the domain
    // (and current_reservation) only when the last use goes.
    report.group("decrease in use")
    let rwFrame = Pages.machineFrame(ofVirtual: mappedRW)
    xg_write64(mappedRW, 0x1234_5678)
    report.expect("a frame mapped writable by the guest's L1", decreaseOne(rwFrame), equals: 1)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  still readable through the mapping", hex: Traps.read(mappedRW) ?? 0, equals: 0x1234_5678)
    report.check("  still writable", Traps.write(mappedRW, 0x8765_4321))
    report.expect("  decrease again", decreaseOne(rwFrame), equals: 1)
    report.expect("  remap the va onto another frame", Pages.map(mappedRW, machineFrame: populated,
                  flags: Pages.pteWritable), equals: 0)
    report.expect("  current_reservation change (now freed)", change(), equals: -1)
    report.expect("  the frame is gone", mapProbe(rwFrame), equals: errno(XEN_EBUSY))

    let roFrame = Pages.machineFrame(ofVirtual: mappedRO)
    report.expect("make a page read-only", Pages.protect(mappedRO, writable: false), equals: 0)
    report.expect("a frame mapped read-only", decreaseOne(roFrame), equals: 1)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  unmap it", HYPERVISOR_update_va_mapping(mappedRO, 0, UInt64(UVMF_INVLPG)), equals: 0)
    report.expect("  current_reservation change (now freed)", change(), equals: -1)

    let tableFrame = Pages.machineFrame(ofVirtual: table)
    report.expect("make a page an L1 (read-only)", Pages.protect(table, writable: false), equals: 0)
    report.expect("  pin it", mmuext(MMUEXT_PIN_L1_TABLE, mfn: tableFrame), equals: 0)
    report.expect("a pinned L1", decreaseOne(tableFrame), equals: 1)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  it is still pinned (UNPIN_TABLE)", mmuext(MMUEXT_UNPIN_TABLE, mfn: tableFrame), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  unmap it", HYPERVISOR_update_va_mapping(table, 0, UInt64(UVMF_INVLPG)), equals: 0)
    report.expect("  current_reservation change (now freed)", change(), equals: -1)

    // --- exchange ---
    report.group("exchange")
    listA[0] = low
    listB[0] = pfnA + 8
    listB[1] = sentinel
    let swapped = exchange(inList: address(listA), inCount: 1, outList: address(listB), outCount: 1)
    report.expect("one unmapped frame for one", swapped.result, equals: 0)
    report.expect("  nr_exchanged", Int64(swapped.exchanged), equals: 1)
    let exchanged = listB[0]
    report.check("  out extent_start[0] now holds an mfn", exchanged != pfnA + 8 && exchanged != low)
    report.expect("  out extent_start[1] untouched", hex: listB[1], equals: sentinel)
    report.expect("  M2P of the new frame is the pfn", hex: m2p(exchanged), equals: pfnA + 8)
    report.expect("  the old frame is gone", mapProbe(low), equals: errno(XEN_EBUSY))
    report.expect("  the new one is dom0's", mapProbe(exchanged), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    listA[0] = Pages.machineFrame(ofVirtual: reuse)
    let mappedExchange = exchange(inList: address(listA), inCount: 1, outList: address(listB), outCount: 1)
    report.expect("a frame the guest maps", mappedExchange.result, equals: errno(XEN_EINVAL))
    report.expect("  nr_exchanged", Int64(mappedExchange.exchanged), equals: 0)
    listA[0] = exchanged
    report.expect("sizes differ (1 x order 0 for 1 x order 1)",
                  exchange(inList: address(listA), inCount: 1, outList: address(listB), outCount: 1, outOrder: 1)
                      .result, equals: errno(XEN_EINVAL))
    report.expect("domids differ", exchange(inList: address(listA), inCount: 1, outList: address(listB),
                                            outCount: 1, outDomid: 0).result, equals: errno(XEN_EINVAL))
    report.expect("nr_exchanged > nr_extents", exchange(inList: address(listA), inCount: 1,
                  outList: address(listB), outCount: 1, exchanged: 2).result, equals: errno(XEN_EINVAL))
    report.expect("extent_order 21", exchange(inList: address(listA), inCount: 1, inOrder: 21,
                  outList: address(listB), outCount: 1, outOrder: 21).result, equals: errno(XEN_EPERM))
    report.expect("a missing domain", exchange(inList: address(listA), inCount: 1, outList: address(listB),
                  outCount: 1, inDomid: 1234, outDomid: 1234).result, equals: errno(XEN_ESRCH))
    report.expect("in list in Xen's range", exchange(inList: xenRangeAddress, inCount: 1,
                  outList: address(listB), outCount: 1).result, equals: errno(XEN_EFAULT))
    report.expect("argument NULL", memoryOp(XENMEM_exchange, nil), equals: errno(XEN_EFAULT))
    let already = exchange(inList: address(listA), inCount: 1, outList: address(listB), outCount: 1, exchanged: 1)
    report.expect("nr_exchanged == nr_extents (nothing left)", already.result, equals: 0)
    report.expect("  nr_exchanged", Int64(already.exchanged), equals: 1)
    report.expect("  the frame is still dom0's", mapProbe(exchanged), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    extent = increaseOne(order: 1)
    report.expect("an order-1 extent to exchange", extent.result, equals: 1)
    report.expect("  current_reservation change", change(), equals: 2)
    listB[0] = pfnA + 16
    listB[1] = pfnA + 20
    listB[2] = sentinel
    let split = exchange(inList: address(listA), inCount: 1, inOrder: 1, outList: address(listB), outCount: 2)
    report.expect("one order-1 extent for two pages", split.result, equals: 0)
    report.expect("  nr_exchanged", Int64(split.exchanged), equals: 1)
    report.expect("  M2P of the first new frame", hex: m2p(listB[0]), equals: pfnA + 16)
    report.expect("  M2P of the second new frame", hex: m2p(listB[1]), equals: pfnA + 20)
    report.expect("  out extent_start[2] untouched", hex: listB[2], equals: sentinel)
    report.check("  the old frames are gone", mapProbe(extent.frame) == errno(XEN_EBUSY)
                 && mapProbe(extent.frame + 1) == errno(XEN_EBUSY))
    report.expect("  current_reservation change", change(), equals: 0)

    // --- up to the maximum and past it ---
    report.group("maximum")
    // With extent_start NULL, so that a hypervisor taking the count would not write
    // frame numbers past the list (it would only grow the domain).
    report.expect("nr_extents 2^26 (too large to continue)", reserve(XENMEM_increase_reservation, 0,
                  count: 1 << 26), equals: 0)
    report.expect("  current_reservation change", change(), equals: 0)
    let before = current()
    let room = maximumPages - before
    report.info("room left (pages)", room)
    let bigExtents = room / 512
    let rest = room % 512
    fill(listB)
    report.expect("order-9 extents: one more than fits", increase(listB, count: UInt64(bigExtents + 1), order: 9),
                  equals: bigExtents)
    fill(listA)
    report.expect("single pages: one more than fits", increase(listA, count: UInt64(rest + 1)), equals: rest)
    report.expect("  current_reservation is the maximum", current(), equals: maximumPages)
    report.expect("one more page: none can be done", increase(listB + 256, count: 1), equals: 0)
    report.expect("populate one more: none", reserve(XENMEM_populate_physmap, address(listB + 256), count: 1),
                  equals: 0)
    report.expect("give the order-9 extents back", decrease(listB, count: UInt64(bigExtents), order: 9),
                  equals: bigExtents)
    report.expect("give the pages back", decrease(listA, count: UInt64(rest)), equals: rest)
    report.expect("  current_reservation as before", current(), equals: before)
    mark()

    // --- frames the hypervisor shares with the domain ---
    report.group("shared frames")
    var setup = gnttab_setup_table()
    setup.dom = selfDomain
    setup.nr_frames = 1
    setup.frame_list.p = address(listA)
    listA[0] = sentinel
    report.expect("grant table frame (setup_table)", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_setup_table),
                  &setup, 1), equals: 0)
    let grantFrame = listA[0]
    report.expect("decrease the grant table frame", decreaseOne(grantFrame), equals: 1)
    report.expect("  current_reservation change", change(), equals: 0)
    listA[0] = sentinel
    report.expect("  setup_table again", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_setup_table), &setup, 1),
                  equals: 0)
    report.expect("    status", Int64(setup.status), equals: Int64(GNTST_okay))
    report.expect("    the same frame", hex: listA[0], equals: grantFrame)
    report.expect("  but no longer mappable", mapProbe(grantFrame), equals: errno(XEN_EBUSY))
    let sharedFrame = info.shared_info >> 12
    report.expect("decrease the shared_info frame", decreaseOne(sharedFrame), equals: 1)
    report.expect("  current_reservation change", change(), equals: 0)
    report.expect("  again", decreaseOne(sharedFrame), equals: 1)
    report.expect("  still mappable", mapProbe(sharedFrame), equals: 0)

    report.group(nil)
    report.expect("restore the window", Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable),
                  equals: 0)
    report.expect("no unexpected traps", Int64(Traps.count), equals: 0)
    report.finish()
}
