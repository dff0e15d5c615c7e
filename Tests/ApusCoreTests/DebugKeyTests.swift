// Debug keys: the table `h` prints (against ../shared/reference/xen-4.17-debugkeys.log),
// `*`'s order, and the pure parts of the dumps in Xen 4.17's format.
import XCTest
@testable import ApusCore

final class DebugKeyTests: XCTestCase {
    /// The reference log's `h` lines, for the keys Apus has.
    func testHandlerListIsXensForTheKeysApusHas() {
        var sink = ByteBufferSink()
        DebugKeyTable.writeHandlers(pressed: 0x68, into: &sink)
        XCTAssertEqual(sink.text, """
            'h' pressed -> showing installed handlers
             key '*' (ascii '2a') => print all diagnostics
             key '0' (ascii '30') => dump Dom0 registers
             key 'R' (ascii '52') => reboot machine
             key 'd' (ascii '64') => dump registers
             key 'e' (ascii '65') => dump evtchn info
             key 'h' (ascii '68') => show this message
             key 'm' (ascii '6d') => memory info
             key 'q' (ascii '71') => dump domain (and guest debug) info
             key 'r' (ascii '72') => dump run queues
             key 't' (ascii '74') => display multi-cpu clock info

            """)
        // Every line must appear verbatim in Xen's own list.
        let reference = """
             key '*' (ascii '2a') => print all diagnostics
             key '0' (ascii '30') => dump Dom0 registers
             key 'R' (ascii '52') => reboot machine
             key 'd' (ascii '64') => dump registers
             key 'e' (ascii '65') => dump evtchn info
             key 'h' (ascii '68') => show this message
             key 'm' (ascii '6d') => memory info
             key 'q' (ascii '71') => dump domain (and guest debug) info
             key 'r' (ascii '72') => dump run queues
             key 't' (ascii '74') => display multi-cpu clock info
            """.split(separator: "\n")
        for line in sink.text.split(separator: "\n").dropFirst() { XCTAssertTrue(reference.contains(line), String(line)) }
    }

    func testLookupAndUnknownKeys() {
        XCTAssertEqual(DebugKeyTable.lookup(0x71)?.description.description, "dump domain (and guest debug) info")
        XCTAssertNil(DebugKeyTable.lookup(0x7A))   // 'z' is Xen's IOAPIC dump, not Apus's
        XCTAssertNil(DebugKeyTable.lookup(0))
        XCTAssertNil(DebugKeyTable.lookup(0xFF))
        var keys: [UInt8] = []
        DebugKeyTable.forEach { keys.append($0.key) }
        XCTAssertEqual(keys, keys.sorted())
        XCTAssertEqual(Set(keys).count, keys.count)
    }

    func testStarRunsInterruptKeysFirstThenTheRestInKeyOrder() {
        var order: [UInt8] = []
        DebugKeyTable.forEachDiagnostic { order.append($0.key) }
        XCTAssertEqual(String(decoding: order, as: UTF8.self), "d0emqrt")
        var sink = ByteBufferSink()
        DebugKeyTable.writeAnnouncement(DebugKeyTable.lookup(0x65)!, into: &sink)
        XCTAssertEqual(sink.text, "[e: dump evtchn info]\n")
    }

    func testCPUListsAndVCPUNames() {
        func list(_ mask: UInt64) -> String { var s = ByteBufferSink(); DebugKeyPrinting.writeCPUList(mask, into: &s); return s.text }
        XCTAssertEqual(list(0), "")
        XCTAssertEqual(list(1), "0")
        XCTAssertEqual(list(0b11), "0-1")
        XCTAssertEqual(list(0b1011), "0-1,3")
        XCTAssertEqual(list(0b1010_1110), "1-3,5,7")
        XCTAssertEqual(list(~0), "0-63")
        XCTAssertEqual(list(1 << 63 | 1), "0,63")
        var name = ByteBufferSink()
        DebugKeyPrinting.writeVCPUName(domain: nil, vcpu: 1, into: &name)
        name.put(0x20)
        DebugKeyPrinting.writeVCPUName(domain: 0, vcpu: 0, into: &name)
        XCTAssertEqual(name.text, "d[IDLE]v1 d0v0")
    }

    func testVCPULineAndTimersAsInTheReference() {
        var sink = ByteBufferSink()
        DebugKeyPrinting.writeVCPUStateLine(vcpu: 0, cpu: 0, running: false, pollingPort: 0, upcallPending: 0,
                                            upcallMask: 0, into: &sink)
        XCTAssertEqual(sink.text, "    VCPU0: CPU0 [has=F] poll=0 upcall_pend=00 upcall_mask=00 ")
        var busy = ByteBufferSink()
        DebugKeyPrinting.writeVCPUStateLine(vcpu: 3, cpu: 1, running: true, pollingPort: 5, upcallPending: 1,
                                            upcallMask: 1, into: &busy)
        XCTAssertEqual(busy.text, "    VCPU3: CPU1 [has=T] poll=5 upcall_pend=01 upcall_mask=01 ")
        var several = ByteBufferSink()
        DebugKeyPrinting.writeVCPUStateLine(vcpu: 0, cpu: 0, running: false, pollingPort: -1, upcallPending: 0,
                                            upcallMask: 1, into: &several)
        XCTAssertEqual(several.text, "    VCPU0: CPU0 [has=F] poll=-1 upcall_pend=00 upcall_mask=01 ")
        func timer(_ ns: UInt64) -> String { var s = ByteBufferSink(); DebugKeyPrinting.writePeriodicTimer(periodNs: ns, into: &s); return s.text }
        XCTAssertEqual(timer(0), "No periodic timer")
        XCTAssertEqual(timer(10_000_000), "100 Hz periodic timer (period 10 ms)")
        XCTAssertEqual(timer(1_000_000), "1000 Hz periodic timer (period 1 ms)")
    }

    func testMemoryInfoByZone() {
        // 1 GiB machine. Xen prints the DMA total when it reaches zone dma_bits - 12 (18 for 30),
        // before adding that zone, so zone 18 counts in the Dom heap line as on Xen.
        var free = [UInt64](repeating: 0, count: 41)
        free[9] = 0x100; free[10] = 0x200; free[18] = 0x20000; free[19] = 0x1FFE0
        var sink = ByteBufferSink()
        DebugKeyPrinting.writeMemoryInfo(zoneCount: 41, dmaBits: 30, freeFrames: { free[$0] }, into: &sink)
        XCTAssertEqual(sink.text, """
            Physical memory information:
                Xen heap: 0kB free
                heap[09]: 1024kB free
                heap[10]: 2048kB free
                DMA heap: 3072kB free
                heap[18]: 524288kB free
                heap[19]: 524160kB free
                Dom heap: 1048448kB free

            """)
        var noDMA = ByteBufferSink()
        free[0] = 1; free[1] = 1
        DebugKeyPrinting.writeMemoryInfo(zoneCount: 41, dmaBits: nil, freeFrames: { free[$0] }, into: &noDMA)
        XCTAssertTrue(noDMA.text.contains("    heap[01]: 8kB free\n"), noDMA.text)
        XCTAssertTrue(noDMA.text.hasSuffix("    Dom heap: 1051528kB free\n"), noDMA.text)
        XCTAssertFalse(noDMA.text.contains("DMA"))
    }

    func testClockSkewStatistics() {
        var record = ClockSkewRecord()
        var sink = ByteBufferSink()
        record.record(stimeSkewNs: 0, cycleSkew: 0)
        record.write(into: &sink)
        XCTAssertEqual(sink.text, """
            Synced stime skew: max=0ns avg=0ns samples=1 current=0ns
            Synced cycles skew: max=0 avg=0 samples=1 current=0

            """)
        record.record(stimeSkewNs: 125, cycleSkew: 300)
        record.record(stimeSkewNs: 50, cycleSkew: 30)
        var after = ByteBufferSink()
        record.write(into: &after)
        XCTAssertEqual(after.text, """
            Synced stime skew: max=125ns avg=58ns samples=3 current=50ns
            Synced cycles skew: max=300 avg=110 samples=3 current=30

            """)
        let readings: [UInt64] = [1000, 1125, 990]
        XCTAssertEqual(readings.withUnsafeBufferPointer { ClockSkewRecord.spread($0) }, 135)
        XCTAssertEqual([UInt64]().withUnsafeBufferPointer { ClockSkewRecord.spread($0) }, 0)
    }

    func testEventChannelDumpInXensFormat() {
        let directory = TestEventDirectory()
        directory.add(0, privileged: true, vcpus: 2)
        let virq = directory.port(.bindVIRQ(virq: VIRQ.console, vcpu: 0), as: 0)
        let unbound = directory.port(.allocUnbound(domain: 0x7FF0, remoteDomain: 0), as: 0)
        let ipi = directory.port(.bindIPI(vcpu: 1), as: 0)
        let local = directory.port(.bindInterdomain(remoteDomain: 0, remotePort: unbound), as: 0)
        XCTAssertEqual([virq, unbound, ipi, local], [1, 2, 3, 4])  // binding the pair marks port 4 pending
        let bitmaps = directory.bitmaps(of: 0)
        _ = bitmaps.testAndSetPending(1)
        _ = bitmaps.testAndSetSelector(vcpu: 0, word: 0)
        bitmaps.setMask(3, true)
        var sink = ByteBufferSink()
        EventChannelDump.write(table: directory[0], bitmaps: bitmaps, pollingVCPUs: 0b10,
                               selectorIsSet: { vcpu, word in bitmaps.selector[Int(vcpu)] & (1 << UInt64(word)) != 0 },
                               into: &sink)
        XCTAssertEqual(sink.text, """
            Event channel information for domain 0:
            Polling vCPUs: {1}
                port [p/m/s]
                   1 [1/0/1]: s=5 n=0 x=0 v=2
                   2 [0/0/1]: s=3 n=0 x=0 d=0 p=4
                   3 [0/1/0]: s=6 n=1 x=0
                   4 [1/0/1]: s=3 n=0 x=0 d=0 p=2

            """)
        _ = directory.run(.close(port: 3), as: 0)
        var closed = ByteBufferSink()
        EventChannelDump.write(table: directory[0], bitmaps: bitmaps, pollingVCPUs: 0, selectorIsSet: { _, _ in false },
                               into: &closed)
        XCTAssertFalse(closed.text.contains("   3 ["), closed.text)
        XCTAssertTrue(closed.text.contains("Polling vCPUs: {}\n"))
    }

    func testIOAPICEntriesAndISARoutes() {
        XCTAssertEqual(IOAPICRedirection(vector: 0x50).rawValue, 0x50)
        XCTAssertEqual(IOAPICRedirection(vector: 0x41, activeLow: true, levelTriggered: true, masked: true,
                                         destinationAPICID: 3).rawValue, 0x0300_0000_0001_A041)
        XCTAssertEqual(IOAPICRedirection.registerIndex(pin: 0), 0x10)
        XCTAssertEqual(IOAPICRedirection.registerIndex(pin: 4), 0x18)
        XCTAssertEqual(IOAPICRedirection.pinCount(versionRegister: 0x0017_0020), 24)
        XCTAssertEqual(ISAInterruptRoute.identity(4), ISAInterruptRoute(gsi: 4, activeLow: false, levelTriggered: false))
        XCTAssertEqual(ISAInterruptRoute.overridden(gsi: 2, intiFlags: 0), ISAInterruptRoute(gsi: 2, activeLow: false, levelTriggered: false))
        XCTAssertEqual(ISAInterruptRoute.overridden(gsi: 9, intiFlags: 0xD), ISAInterruptRoute(gsi: 9, activeLow: false, levelTriggered: true))
        XCTAssertEqual(ISAInterruptRoute.overridden(gsi: 20, intiFlags: 0xF), ISAInterruptRoute(gsi: 20, activeLow: true, levelTriggered: true))
        XCTAssertEqual(ISAInterruptRoute.overridden(gsi: 5, intiFlags: 0x5), ISAInterruptRoute(gsi: 5, activeLow: false, levelTriggered: false))
    }
}
