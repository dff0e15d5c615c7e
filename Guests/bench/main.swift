// bench: the dom0 micro-benchmarks (scripts/bench-dom0.sh runs them on Apus and Xen).
//
// Meant for QEMU's -icount shift=0, where one TSC tick is one instruction retired, so a
// TSC delta counts the instructions the guest and the hypervisor executed between two
// rdtsc, and a run repeats (nearly) exactly. Elsewhere the numbers are TSC ticks of
// whatever speed the emulator had.
//
// Each metric runs its loop (loops.S) and the loop's empty twin for `iterations`
// iterations, `rounds` times; per round the cost of one operation is
// (loop TSC - empty TSC) / iterations, which removes the loop overhead. The reported
// figure is the smallest round: the rounds differ only by the hypervisor's own timer
// interrupts that happened to land in them. Every round is printed raw as well.
//   null-hypercall    xen_version(XENVER_version, NULL): on Xen 4.17 and on Apus it reads
//                     no argument and returns a constant (4 << 16 | 17), the cheapest
//                     real hypercall both have; it includes the hypercall page's stub
//   enosys-hypercall  hypercall 11, which neither has: entry, dispatch, -ENOSYS, exit
//   multicall-8       one multicall of 8 xen_version(XENVER_version) entries
//   mmu-update-va     update_va_mapping of one L1 entry with UVMF_INVLPG, the page
//                     alternating between two frames of the guest (so every call really
//                     changes the entry: reference counts move, the TLB entry is flushed)
//   trap-bounce       ud2 -> #UD bounced to a minimal handler (loops.S) -> HYPERVISOR_iret
//   mmu-update-1      mmu_update of one entry of a pinned private L1, the entry alternating
//                     between two writable frames (counts move every call)
//   mmu-update-512    one mmu_update of all 512 entries of that L1, alternating the same way
//                     (per batch, not per entry)
//   pin-unpin-l4-tree one mmuext_op of two ops: pin a private L4 -> L3 -> L2 -> L1 tree as
//                     an L4 (validating the whole tree) and unpin it (devalidating it)
//   grant-map-unmap   map one of its own grants (dom0 grants a pool page to itself) over a
//                     pool page's address, then unmap it: two grant_table_op calls
// Output, for scripts (values in instructions, one decimal):
//   APUS-BENCH <metric> <per operation>
//   APUS-BENCH-RAW <metric> round <r> iterations <n> loop-tsc <t> empty-tsc <e>
// plus `APUS-BENCH loop-overhead` (the null loop's empty twin per iteration),
// `rdtsc-delta` (rdtsc, mov, rdtsc: 2 means rdtsc is not trapped) and `entry-tsc` (the
// TSC when guest_main started: under icount, virtual ns since QEMU started). Then the
// usual verdict line (the checks are that every operation succeeded) and power-off.
import XenGuest
import XenGuestC
import ApusPublic
import BenchLoops

private let iterations: UInt64 = 10_000
private let rounds = 5

private typealias Loop = @convention(c) (UInt64, UInt64, UInt64, UInt64) -> UInt64

/// Writes tenths as "<whole>.<tenth>".
private func writeTenths(_ tenths: UInt64) {
    Console.write(unsigned: tenths / 10)
    Console.put(0x2E)
    Console.write(unsigned: tenths % 10)
}

/// Runs a loop and its twin `rounds` times; prints the raw rounds and the result line;
/// returns the smallest per-operation cost in tenths of an instruction.
@discardableResult
private func measure(_ name: StaticString, _ loop: Loop, _ empty: Loop,
                     _ a: UInt64 = 0, _ b: UInt64 = 0, _ c: UInt64 = 0,
                     results: inout UInt64) -> UInt64 {
    var best = UInt64.max
    results = 0
    for round in 1...rounds {
        let loopTSC = loop(iterations, a, b, c)
        results |= bench_read_result_or()
        let emptyTSC = empty(iterations, a, b, c)
        Console.write("APUS-BENCH-RAW ")
        Console.write(name)
        Console.write(" round ")
        Console.write(unsigned: UInt64(round))
        Console.write(" iterations ")
        Console.write(unsigned: iterations)
        Console.write(" loop-tsc ")
        Console.write(unsigned: loopTSC)
        Console.write(" empty-tsc ")
        Console.write(unsigned: emptyTSC)
        Console.newline()
        let difference = loopTSC > emptyTSC ? loopTSC - emptyTSC : 0
        best = min(best, (difference * 10 + iterations / 2) / iterations)
    }
    Console.write("APUS-BENCH ")
    Console.write(name)
    Console.put(0x20)
    writeTenths(best)
    Console.newline()
    return best
}

private func errno(_ code: Int32) -> UInt64 { UInt64(bitPattern: -Int64(code)) }

/// A pool page made read-only (so that it may become a page table), zeroed first.
private func tablePage() -> UInt64? {
    guard let page = Pages.allocate(), Pages.protect(page, writable: false) == 0 else { return nil }
    return page
}

private func pin(_ command: Int32, _ frame: UInt64) -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(command)
    op.arg1.mfn = frame
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

/// The issue 5 page-table benchmarks: mmu_update of one entry and of 512, pin/unpin of a tree.
private func measureMMU(_ report: inout TestReport, frameA: UInt64, frameB: UInt64) {
    var results: UInt64 = 0
    guard let l1 = tablePage(), let arrayA = Pages.allocate(), let arrayA2 = Pages.allocate(),
          let arrayB = Pages.allocate(), let arrayB2 = Pages.allocate() else {
        report.check("pages for the mmu_update benchmarks", false)
        return
    }
    _ = (arrayA2, arrayB2)  // the second page of each 8 KiB request array
    let l1Frame = Pages.machineFrame(ofVirtual: l1)
    guard report.expect("pin the private L1", pin(MMUEXT_PIN_L1_TABLE, l1Frame), equals: 0) else { return }
    let a = UnsafeMutablePointer<mmu_update>(bitPattern: UInt(arrayA))!
    let b = UnsafeMutablePointer<mmu_update>(bitPattern: UInt(arrayB))!
    for index in 0..<512 {
        let ptr = (l1Frame << 12 + UInt64(index) * 8) | UInt64(MMU_NORMAL_PT_UPDATE)
        a[index] = mmu_update(ptr: ptr, val: frameA << 12 | Pages.pteWritable)
        b[index] = mmu_update(ptr: ptr, val: frameB << 12 | Pages.pteWritable)
    }
    measure("mmu-update-1", bench_mmu1, bench_mmu1_empty, 0, arrayA, arrayB, results: &results)
    report.expect("mmu-update-1: every call returned 0", hex: results, equals: 0)
    measure("mmu-update-512", bench_mmu512, bench_mmu512_empty, 0, arrayA, arrayB, results: &results)
    report.expect("mmu-update-512: every call returned 0", hex: results, equals: 0)
    report.expect("  entry 511 maps frame B (an even number of calls)", hex: xg_read64(l1 + 511 * 8) & 0x000F_FFFF_FFFF_F000,
                  equals: frameB << 12)

    guard let l4 = tablePage(), let l3 = tablePage(), let l2 = tablePage(), let leaf = tablePage() else {
        report.check("pages for the tree", false)
        return
    }
    let frame = { (page: UInt64) in Pages.machineFrame(ofVirtual: page) }
    let link = Pages.ptePresent | Pages.pteRW | Pages.pteUser | Pages.pteAccessed
    let updates = (Scratch.raw + 4096 + 2048).bindMemory(to: mmu_update.self, capacity: 4)
    updates[0] = mmu_update(ptr: frame(l4) << 12, val: frame(l3) << 12 | link)
    updates[1] = mmu_update(ptr: frame(l3) << 12, val: frame(l2) << 12 | link)
    updates[2] = mmu_update(ptr: frame(l2) << 12, val: frame(leaf) << 12 | link)
    updates[3] = mmu_update(ptr: frame(leaf) << 12, val: frameA << 12 | Pages.pteReadOnly)
    // The tree's pages are not tables yet: these are plain writes (Xen allows them).
    var done: UInt32 = 0
    report.expect("fill the tree (plain writes into read-only pages)",
                  HYPERVISOR_mmu_update(updates, 4, &done, UInt32(DOMID_SELF)), equals: 0)
    let ops = (Scratch.raw + 4096 + 1024).bindMemory(to: mmuext_op.self, capacity: 2)
    ops[0] = mmuext_op(); ops[0].cmd = UInt32(MMUEXT_PIN_L4_TABLE); ops[0].arg1.mfn = frame(l4)
    ops[1] = mmuext_op(); ops[1].cmd = UInt32(MMUEXT_UNPIN_TABLE); ops[1].arg1.mfn = frame(l4)
    measure("pin-unpin-l4-tree", bench_mmuext2, bench_mmuext2_empty, UInt64(UInt(bitPattern: ops)), results: &results)
    report.expect("pin-unpin-l4-tree: every call returned 0", hex: results, equals: 0)
    report.expect("unpin the private L1", pin(MMUEXT_UNPIN_TABLE, l1Frame), equals: 0)
    measureGrantMaps(&report, grantedFrame: frameA)
}

/// grant-map-unmap: dom0 grants frame A to itself (entry 10) and maps it over a pool page.
private func measureGrantMaps(_ report: inout TestReport, grantedFrame: UInt64) {
    var results: UInt64 = 0
    guard let tableWindow = Pages.allocate(), let host = Pages.allocate() else {
        report.check("pages for the grant benchmark", false)
        return
    }
    var setup = gnttab_setup_table()
    var tableFrame: UInt64 = 0
    setup.dom = UInt16(DOMID_SELF)
    setup.nr_frames = 1
    withUnsafeMutablePointer(to: &tableFrame) { setup.frame_list.p = UInt64(UInt(bitPattern: $0)) }
    guard report.expect("setup_table", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_setup_table), &setup, 1), equals: 0),
          report.expect("map the table frame", Pages.map(tableWindow, machineFrame: tableFrame, flags: Pages.pteWritable),
                        equals: 0) else { return }
    // v1 entry 10: flags permit_access, domid 0, frame.
    xg_write64(tableWindow + 10 * 8, 1 | UInt64(grantedFrame & 0xFFFF_FFFF) << 32)
    let ops = (Scratch.raw + 4096 + 2560).bindMemory(to: UInt8.self, capacity: 64)
    let map = UnsafeMutableRawPointer(ops).bindMemory(to: gnttab_map_grant_ref.self, capacity: 1)
    map.pointee = gnttab_map_grant_ref()
    map.pointee.host_addr = host
    map.pointee.flags = UInt32(GNTMAP_host_map)
    map.pointee.ref = 10
    map.pointee.dom = 0
    let unmap = UnsafeMutableRawPointer(ops + 32).bindMemory(to: gnttab_unmap_grant_ref.self, capacity: 1)
    unmap.pointee = gnttab_unmap_grant_ref()
    unmap.pointee.host_addr = host
    unmap.pointee.handle = 0   // the loop copies each map's handle here
    measure("grant-map-unmap", bench_gntmap, bench_gntmap_empty, UInt64(UInt(bitPattern: map)),
            UInt64(UInt(bitPattern: unmap)), results: &results)
    report.expect("grant-map-unmap: every call returned 0", hex: results, equals: 0)
    report.expect("  last map status", Int64(map.pointee.status), equals: 0)
    report.expect("  last unmap status", Int64(unmap.pointee.status), equals: 0)
}

@c(guest_main)
public func guestMain() {
    let entryTSC = bench_rdtsc()
    var report = TestReport(guest: "bench")
    report.expect("install the trap table and callbacks", Traps.install(guest: "bench"), equals: 0)
    let version = UInt64(bitPattern: HYPERVISOR_xen_version(UInt32(XENVER_version), nil))
    report.check("xen_version(XENVER_version) is a version", version > 0 && version < 0x1_0000_0000)

    Console.write("APUS-BENCH entry-tsc ")
    Console.write(unsigned: entryTSC)
    Console.newline()
    Console.write("APUS-BENCH rdtsc-delta ")
    Console.write(unsigned: bench_rdtsc_pair())
    Console.newline()
    Console.flush()

    var results: UInt64 = 0
    measure("null-hypercall", bench_null, bench_null_empty, results: &results)
    report.expect("null-hypercall: every call returned the version", hex: results, equals: version)
    let overhead = bench_null_empty(iterations, 0, 0, 0)
    Console.write("APUS-BENCH loop-overhead ")
    writeTenths((overhead * 10 + iterations / 2) / iterations)
    Console.newline()

    measure("enosys-hypercall", bench_enosys, bench_enosys_empty, results: &results)
    report.expect("enosys-hypercall: every call returned -ENOSYS", hex: results, equals: errno(XEN_ENOSYS))

    // The entries live in the second half of Scratch (install() used the first half).
    let entries = (Scratch.raw + 4096).bindMemory(to: multicall_entry.self, capacity: Int(BENCH_MULTICALL_ENTRIES))
    for index in 0..<Int(BENCH_MULTICALL_ENTRIES) {
        entries[index] = multicall_entry(op: UInt64(__HYPERVISOR_xen_version), result: 0,
                                         args: (UInt64(XENVER_version), 0, 0, 0, 0, 0))
    }
    measure("multicall-8", bench_multicall, bench_multicall_empty, UInt64(UInt(bitPattern: entries)),
            results: &results)
    report.expect("multicall-8: every batch returned 0", hex: results, equals: 0)
    var entriesOK = true
    for index in 0..<Int(BENCH_MULTICALL_ENTRIES) where entries[index].result != version { entriesOK = false }
    report.check("multicall-8: every entry returned the version", entriesOK)

    let window = xg_map_window_address()
    if let pageA = Pages.allocate(), let pageB = Pages.allocate() {
        let pteA = (Pages.machineFrame(ofVirtual: pageA) << 12) | Pages.pteWritable
        let pteB = (Pages.machineFrame(ofVirtual: pageB) << 12) | Pages.pteWritable
        xg_write64(pageA, 0xA)
        xg_write64(pageB, 0xB)
        measure("mmu-update-va", bench_uva, bench_uva_empty, window, pteA, pteB, results: &results)
        report.expect("mmu-update-va: every call returned 0", hex: results, equals: 0)
        // An even number of calls per loop: the last one mapped frame B.
        report.expect("mmu-update-va: the window shows frame B", hex: xg_read64(window), equals: 0xB)
        report.expect("restore the window", Pages.protect(window, writable: true), equals: 0)
        measureMMU(&report, frameA: Pages.machineFrame(ofVirtual: pageA), frameB: Pages.machineFrame(ofVirtual: pageB))
    } else {
        report.check("two pages from the pool", false)
    }

    // Vector 6 to the minimal handler; the other vectors keep the runtime's stubs.
    let table = Scratch.raw.bindMemory(to: trap_info.self, capacity: 2)
    table[0] = trap_info(vector: Traps.invalidOpcode, flags: 0, cs: UInt16(FLAT_KERNEL_CS), _pad: 0,
                         address: bench_ud_entry_address())
    table[1] = trap_info(vector: 0, flags: 0, cs: 0, _pad: 0, address: 0)
    if report.expect("point #UD at the minimal handler", HYPERVISOR_set_trap_table(table), equals: 0) {
        let before = Traps.count
        measure("trap-bounce", bench_trap, bench_trap_empty, results: &results)
        report.expect("trap-bounce: every ud2 reached the handler", Int64(bench_read_ud_count()),
                      equals: Int64(iterations) * Int64(rounds))
        report.expect("trap-bounce: none reached the runtime's handler", Int64(Traps.count - before), equals: 0)
    }
    report.finish()
}
