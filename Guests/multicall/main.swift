// multicall: a batch of hypercalls in one trap, with per-entry results.
//
// What Xen 4.17 does (Apus must do the same):
//  - entries run in order; each entry's result is what the call alone would return,
//    failures included (a bad pointer in one entry is -EFAULT there, nothing else);
//  - the multicall itself returns 0, also for an empty batch;
//  - an entry that is itself a multicall gets -EINVAL (no nesting);
//  - an unknown hypercall number in an entry gets -ENOSYS;
//  - when the array runs into unmapped memory, the entries before run (results written)
//    and the multicall returns -EFAULT.
import XenGuest
import XenGuestC
import ApusPublic

private func entry(_ op: Int32, _ a0: UInt64 = 0, _ a1: UInt64 = 0, _ a2: UInt64 = 0) -> multicall_entry {
    multicall_entry(op: UInt64(op), result: 0xDEAD_BEEF, args: (a0, a1, a2, 0, 0, 0))
}

private func address(_ text: StaticString) -> UInt64 { UInt64(UInt(bitPattern: text.utf8Start)) }

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "multicall")
    Console.flush()
    let entries = Scratch.cleared(64 * 64).assumingMemoryBound(to: multicall_entry.self)
    let first: StaticString = "multicall: entry 0 writes this line\n"
    let third: StaticString = "multicall: entry 3 writes this line\n"

    entries[0] = entry(__HYPERVISOR_console_io, UInt64(CONSOLEIO_write), UInt64(first.utf8CodeUnitCount), address(first))
    entries[1] = entry(__HYPERVISOR_xen_version, UInt64(XENVER_version))
    entries[2] = entry(__HYPERVISOR_console_io, UInt64(CONSOLEIO_write), 8, 0) // NULL buffer
    entries[3] = entry(__HYPERVISOR_console_io, UInt64(CONSOLEIO_write), UInt64(third.utf8CodeUnitCount), address(third))
    entries[4] = entry(__HYPERVISOR_xen_version, UInt64(XENVER_pagesize))
    entries[5] = entry(11) // no such hypercall
    entries[6] = entry(__HYPERVISOR_multicall, 0, 0)
    entries[7] = entry(__HYPERVISOR_vcpu_op, UInt64(VCPUOP_is_up), 0, 0)
    report.expect("batch of 8 returns", HYPERVISOR_multicall(entries, 8), equals: 0)
    report.expect("entry 0 console write", Int64(bitPattern: entries[0].result), equals: 0)
    report.expect("entry 1 xen_version", Int64(bitPattern: entries[1].result), equals: (4 << 16) | 17)
    report.expect("entry 2 console write from NULL", Int64(bitPattern: entries[2].result), equals: -Int64(XEN_EFAULT))
    report.expect("entry 3 runs after a failed entry", Int64(bitPattern: entries[3].result), equals: 0)
    report.expect("entry 4 pagesize", Int64(bitPattern: entries[4].result), equals: 4096)
    report.expect("entry 5 unknown hypercall", Int64(bitPattern: entries[5].result), equals: -Int64(XEN_ENOSYS))
    report.expect("entry 6 nested multicall", Int64(bitPattern: entries[6].result), equals: -Int64(XEN_EINVAL))
    report.expect("entry 7 vcpu_op is_up", Int64(bitPattern: entries[7].result), equals: 1)
    report.expect("op and args are left as they were", Int64(entries[1].op), equals: Int64(__HYPERVISOR_xen_version))

    report.expect("empty batch", HYPERVISOR_multicall(entries, 0), equals: 0)

    for index in 0..<64 { entries[index] = entry(__HYPERVISOR_xen_version, UInt64(XENVER_pagesize)) }
    report.expect("batch of 64", HYPERVISOR_multicall(entries, 64), equals: 0)
    var allPages = true
    for index in 0..<64 where entries[index].result != 4096 { allPages = false }
    report.check("all 64 results are 4096", allPages)

    // An array whose second entry lies in unmapped memory: the first still runs.
    var regionEnd = PageWalk.virtualBase
    while PageWalk.lookup(regionEnd).present { regionEnd += 4096 }
    let edge = UnsafeMutablePointer<multicall_entry>(bitPattern: UInt(regionEnd - 64))!
    edge[0] = entry(__HYPERVISOR_xen_version, UInt64(XENVER_pagesize))
    report.expect("batch running off the mapping", HYPERVISOR_multicall(edge, 2), equals: -Int64(XEN_EFAULT))
    report.expect("  its first entry ran", Int64(bitPattern: edge[0].result), equals: 4096)
    report.finish()
}
