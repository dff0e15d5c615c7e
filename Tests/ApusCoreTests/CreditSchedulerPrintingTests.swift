// The credit scheduler's `r` debug-key output in Xen 4.17's format
// (../shared/reference/xen-4.17-debugkeys.log shows the idle case).
import XCTest
@testable import ApusCore

final class CreditSchedulerPrintingTests: XCTestCase {
    func name(_ v: Int) -> (domain: Int, vcpu: Int) { (v / 4, v % 4) }

    func testIdleMachinePrintsXensInfoBlock() {
        let bed = CreditTestBed(cpus: 2)
        var sink = ByteBufferSink()
        bed.scheduler.writeInfo(into: &sink, name: name)
        XCTAssertEqual(sink.text, """
            info:
            \tncpus              = 2
            \tmaster             = 0
            \tcredit             = 600
            \tcredit balance     = 0
            \tweight             = 0
            \trunq_sort          = 0
            \tdefault-weight     = 256
            \ttslice             = 30ms
            \tratelimit          = 1000us
            \tcredits per msec   = 10
            \tticks per tslice   = 3
            \tmigration delay    = 0us
            idlers: 3
            active units:

            """)
        var cpu = ByteBufferSink()
        bed.scheduler.writeRunQueueSummary(cpu: 1, into: &cpu)
        bed.scheduler.writeRunQueue(cpu: 1, into: &cpu, name: name)
        XCTAssertEqual(cpu.text, "nr_run=0, sort=0")
    }

    func testBusyMachinePrintsRunningAndQueuedVCPUs() throws {
        let bed = CreditTestBed(cpus: 1, vcpuSlots: 8, domainSlots: 2)
        try bed.scheduler.addDomain(0, weight: 256, cap: 0)
        try bed.scheduler.addDomain(1, weight: 512, cap: 50)
        try bed.scheduler.addVCPU(0, domain: 0, affinity: .all, now: 0)
        try bed.scheduler.addVCPU(5, domain: 1, affinity: .all, now: 0)
        _ = bed.scheduler.wake(0, now: 0)
        _ = bed.scheduler.wake(5, now: 0)
        XCTAssertEqual(bed.scheduler.pickNext(cpu: 0, now: 0).vcpu, 0)
        _ = bed.scheduler.tick(cpu: 0, now: 10_000_000)
        var sink = ByteBufferSink()
        bed.scheduler.writeRunQueueSummary(cpu: 0, into: &sink)
        sink.newline()
        bed.scheduler.writeRunQueue(cpu: 0, into: &sink, name: name)
        XCTAssertEqual(sink.text, """
            nr_run=2, sort=0
            \trun: [0.0] pri=-2 flags=0 cpu=0 credit=-100 [w=256,cap=0]
            \t  1: [1.1] pri=0 flags=0 cpu=0 credit=0 [w=512,cap=50]

            """)
        var info = ByteBufferSink()
        bed.scheduler.writeInfo(into: &info, name: name)
        XCTAssertTrue(info.text.contains("\tweight             = 256\n"), info.text)
        XCTAssertTrue(info.text.hasSuffix("idlers: 0\nactive units:\n\t  1: [0.0] pri=-2 flags=0 cpu=0 credit=-100 [w=256,cap=0]\n"), info.text)
    }
}
