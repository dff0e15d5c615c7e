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
