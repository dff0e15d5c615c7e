// logdirty: log-dirty tracking through XEN_DOMCTL_shadow_op, the interface the
// save/restore and live-migration tools read a guest's dirty pages through.
//
// Xen refuses shadow operations a domain asks for itself: on Xen 4.17 (and on Apus
// without its test option) ENABLE_LOGDIRTY on dom0's own id is -EINVAL, and that is all
// this guest checks there. The boot test `shadow_logdirty` boots Apus with
// `apus_dom0_shadow` (dom0 on shadow page tables, shadow_op on itself allowed) and the
// command-line word `logdirty`: then the guest turns log-dirty on, cleans the bitmap,
// writes a chosen set of its pool pages, and checks that PEEK shows exactly those pool
// pages dirty (and the untouched ones clean), that CLEAN resets the bitmap and protects
// again, that a page is marked once however often it is written, and that reads never
// mark anything. Pages outside the pool (its stack, its data) may be dirty too: only the
// pool pages' bits are judged.
//
// Facts Xen 4.17 showed: domctl with interface version 0x15 and shadow_op
// ENABLE_LOGDIRTY on domain 0 from dom0 itself: -EINVAL (-22); with version 0x14: -EACCES.
import XenGuest
import XenGuestC
import ApusPublic

private let poolPages = 12
private var bitmap = InlineArray<512, UInt64>(repeating: 0)   // 32768 pfns

private func domctl(_ op: UInt32, pages: UInt64 = 0, bitmapAddress: UInt64 = 0, version: UInt32 = 0x15,
                    stats: inout xen_domctl_shadow_op_stats) -> Int64 {
    var request = xen_domctl()
    request.cmd = UInt32(XEN_DOMCTL_shadow_op)
    request.interface_version = version
    request.domain = 0
    request.u.shadow_op.op = op
    request.u.shadow_op.pages = pages
    request.u.shadow_op.dirty_bitmap = bitmapAddress
    let result = HYPERVISOR_domctl(&request)
    stats = request.u.shadow_op.stats
    return result
}

private func pfn(ofPage page: UInt64) -> UInt64 { (page &- PageWalk.virtualBase) >> 12 }

/// CLEAN or PEEK into the bitmap; the pool pages' dirty bits as a mask.
private func read(_ op: Int32, _ name: StaticString, _ pool: UnsafePointer<UInt64>, _ report: inout TestReport) -> UInt64 {
    var stats = xen_domctl_shadow_op_stats()
    let address = withUnsafeMutableBytes(of: &bitmap) { UInt64(UInt(bitPattern: $0.baseAddress!)) }
    report.expect(name, domctl(UInt32(op), pages: 512 * 64, bitmapAddress: address, stats: &stats), equals: 0)
    return dirtyMask(pool)
}

private func dirtyMask(_ pool: UnsafePointer<UInt64>) -> UInt64 {
    var mask: UInt64 = 0
    for i in 0..<poolPages {
        let p = pfn(ofPage: pool[i])
        if bitmap[Int(p / 64)] & (1 << (p % 64)) != 0 { mask |= 1 << UInt64(i) }
    }
    return mask
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "logdirty")
    report.expect("install the trap table", Traps.install(guest: "logdirty"), equals: 0)
    var stats = xen_domctl_shadow_op_stats()
    report.expect("shadow_op with a wrong interface version", domctl(UInt32(XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY),
                  version: 0x14, stats: &stats), equals: -Int64(XEN_EACCES))
    guard StartOfDay.commandLineHasWord("logdirty") else {
        report.expect("ENABLE_LOGDIRTY on itself", domctl(UInt32(XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY), stats: &stats),
                      equals: -Int64(XEN_EINVAL))
        report.finish()
    }
    var poolStorage = InlineArray<12, UInt64>(repeating: 0)
    for i in 0..<poolPages {
        guard let page = Pages.allocate() else { report.check("pool pages", false); report.finish() }
        poolStorage[i] = page
    }
    withUnsafePointer(to: &poolStorage) { raw in
        let pool = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt64.self)
        report.expect("ENABLE_LOGDIRTY", domctl(UInt32(XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY), stats: &stats), equals: 0)
        _ = read(XEN_DOMCTL_SHADOW_OP_CLEAN, "CLEAN (start from nothing)", pool, &report)
        // Write pages 1, 4, 5 and 9 (page 4 three times); read pages 0, 2 and 3.
        xg_write64(pool[1] + 8, 0x5A5A_0001)
        for _ in 0..<3 { xg_write64(pool[4] + 8, 0x5A5A_0004) }
        xg_write64(pool[5] + 8, 0x5A5A_0005)
        xg_write64(pool[9] + 8, 0x5A5A_0009)
        let sum = xg_read64(pool[0]) &+ xg_read64(pool[2]) &+ xg_read64(pool[3])
        report.expect("  reads saw zeroed pages", hex: sum, equals: 0)
        var mask = read(XEN_DOMCTL_SHADOW_OP_PEEK, "PEEK", pool, &report)
        report.expect("PEEK: exactly the written pool pages", hex: mask, equals: 1 << 1 | 1 << 4 | 1 << 5 | 1 << 9)
        mask = read(XEN_DOMCTL_SHADOW_OP_PEEK, "PEEK again", pool, &report)
        report.expect("  a second PEEK sees the same", hex: mask, equals: 1 << 1 | 1 << 4 | 1 << 5 | 1 << 9)
        mask = read(XEN_DOMCTL_SHADOW_OP_CLEAN, "CLEAN", pool, &report)
        report.expect("CLEAN returns them and resets", hex: mask, equals: 1 << 1 | 1 << 4 | 1 << 5 | 1 << 9)
        mask = read(XEN_DOMCTL_SHADOW_OP_PEEK, "PEEK", pool, &report)
        report.expect("PEEK after CLEAN: none", hex: mask, equals: 0)
        xg_write64(pool[4], 1)
        xg_write64(pool[11], 2)
        mask = read(XEN_DOMCTL_SHADOW_OP_PEEK, "PEEK", pool, &report)
        report.expect("after writing 4 and 11 again", hex: mask, equals: 1 << 4 | 1 << 11)
        report.expect("  the values landed", hex: xg_read64(pool[4]) &+ xg_read64(pool[11]), equals: 3)
        report.expect("OFF", domctl(UInt32(XEN_DOMCTL_SHADOW_OP_OFF), stats: &stats), equals: 0)
        xg_write64(pool[7], 3)
        report.expect("writes after OFF still work", hex: xg_read64(pool[7]), equals: 3)
    }
    report.finish()
}
