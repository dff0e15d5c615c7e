// Every event_channel_op command: its success and each refusal with Xen 4.17's errno, in
// Xen's order when several checks fail.
import XCTest
@testable import ApusCore

final class EventChannelOperationTests: XCTestCase {
    private let dom0: UInt16 = 0
    private let domU: UInt16 = 1
    private let other: UInt16 = 2
    private let me = EventChannelLimits.domidSelf

    private func twoDomains() -> TestEventDirectory {
        let directory = TestEventDirectory()
        directory.add(0, privileged: true, vcpus: 2)
        directory.add(1, vcpus: 2)
        return directory
    }

    func testErrnoValuesAreXens() {
        XCTAssertEqual(EventChannelError.notPermitted.xenErrno, 1)
        XCTAssertEqual(EventChannelError.noSuchVCPU.xenErrno, 2)
        XCTAssertEqual(EventChannelError.noSuchDomain.xenErrno, 3)
        XCTAssertEqual(EventChannelError.alreadyBound.xenErrno, 17)
        XCTAssertEqual(EventChannelError.invalid.xenErrno, 22)
        XCTAssertEqual(EventChannelError.noFreePort.xenErrno, 28)
        XCTAssertEqual(EventChannelError.notImplemented.xenErrno, 38)
    }

    func testFreshTableReservesPortZeroAndOneBucket() {
        let d = twoDomains()
        XCTAssertEqual(d[0].port(0).binding, .reserved)
        XCTAssertEqual(d[0].validPorts, 64)
        XCTAssertEqual(d[0].activePorts, 0)
        XCTAssertEqual(d.run(.status(domain: me, port: 0), as: dom0).reply?.status,
                       EventChannelStatus(binding: .reserved, vcpu: 0))
        XCTAssertEqual(d.run(.status(domain: me, port: 0), as: dom0).reply?.status?.statusCode, 0)
        XCTAssertEqual(d.run(.close(port: 0), as: dom0).error, .invalid)
        XCTAssertEqual(d.run(.send(port: 0), as: dom0).error, .invalid)
    }

    // MARK: alloc_unbound

    func testAllocUnboundGivesLowestFreePortAndResolvesSelf() {
        let d = twoDomains()
        XCTAssertEqual(d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0), 1)
        XCTAssertEqual(d.port(.allocUnbound(domain: me, remoteDomain: me), as: dom0), 2)
        XCTAssertEqual(d[0].port(1), EventChannelPort(binding: .unbound(remoteDomain: 1), notifyVCPU: 0))
        XCTAssertEqual(d[0].port(2).binding, .unbound(remoteDomain: 0))
        // Privileged, in another domain: remote DOMID_SELF means the caller, not the target.
        XCTAssertEqual(d.port(.allocUnbound(domain: domU, remoteDomain: me), as: dom0), 1)
        XCTAssertEqual(d[1].port(1).binding, .unbound(remoteDomain: 0))
        // The remote domain need not exist.
        XCTAssertEqual(d.port(.allocUnbound(domain: me, remoteDomain: 77), as: domU), 2)
        // A freed port is reused first.
        XCTAssertNil(d.run(.close(port: 1), as: dom0).error)
        XCTAssertEqual(d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0), 1)
    }

    func testAllocUnboundRefusals() {
        let d = twoDomains()
        XCTAssertEqual(d.run(.allocUnbound(domain: 9, remoteDomain: 0), as: domU).error, .noSuchDomain)
        XCTAssertEqual(d.run(.allocUnbound(domain: dom0, remoteDomain: domU), as: domU).error, .notPermitted)
        XCTAssertEqual(d[0].activePorts, 0)
        // Xen takes the free port before it asks the policy: a full table says -ENOSPC first.
        let small = TestEventDirectory()
        small.add(0, privileged: true, vcpus: 1, capacity: 2)
        small.add(1, vcpus: 1, capacity: 2)
        XCTAssertEqual(small.port(.allocUnbound(domain: me, remoteDomain: 1), as: 0), 1)
        XCTAssertEqual(small.run(.allocUnbound(domain: me, remoteDomain: 1), as: 0).error, .noFreePort)
        XCTAssertEqual(small.port(.allocUnbound(domain: me, remoteDomain: 0), as: 1), 1)
        XCTAssertEqual(small.run(.allocUnbound(domain: 0, remoteDomain: 1), as: 1).error, .noFreePort)
    }

    func testPortLimitIs4096AndValidRangeGrowsByBuckets() {
        let d = TestEventDirectory()
        d.add(0, privileged: true, vcpus: 1)
        XCTAssertEqual(d.run(.status(domain: me, port: 63), as: 0).reply?.status?.binding, .free)
        XCTAssertEqual(d.run(.status(domain: me, port: 64), as: 0).error, .invalid)
        XCTAssertEqual(d.run(.unmask(port: 64), as: 0).error, .invalid)
        for expected in UInt32(1)...63 { XCTAssertEqual(d.port(.bindIPI(vcpu: 0), as: 0), expected) }
        XCTAssertEqual(d[0].validPorts, 64)
        XCTAssertEqual(d.port(.bindIPI(vcpu: 0), as: 0), 64)
        XCTAssertEqual(d[0].validPorts, 128)
        XCTAssertEqual(d.run(.status(domain: me, port: 127), as: 0).reply?.status?.binding, .free)
        XCTAssertEqual(d.run(.status(domain: me, port: 128), as: 0).error, .invalid)
        for expected in UInt32(65)...4095 { XCTAssertEqual(d.port(.bindIPI(vcpu: 0), as: 0), expected) }
        XCTAssertEqual(d[0].validPorts, 4096)
        XCTAssertEqual(d.run(.bindIPI(vcpu: 0), as: 0).error, .noFreePort)
        XCTAssertEqual(d.run(.allocUnbound(domain: me, remoteDomain: 0), as: 0).error, .noFreePort)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: 0).error, .noFreePort)
        XCTAssertEqual(d.run(.status(domain: me, port: 4096), as: 0).error, .invalid)
        XCTAssertEqual(d.run(.send(port: 4096), as: 0).error, .invalid)
        XCTAssertEqual(d.run(.close(port: UInt32.max), as: 0).error, .invalid)
        // Closing does not shrink the valid range.
        XCTAssertNil(d.run(.close(port: 4095), as: 0).error)
        XCTAssertEqual(d[0].validPorts, 4096)
        XCTAssertEqual(d.run(.status(domain: me, port: 4095), as: 0).reply?.status?.binding, .free)
        XCTAssertEqual(d.port(.bindIPI(vcpu: 0), as: 0), 4095)
    }

    // MARK: bind_interdomain

    func testBindInterdomainConnectsBothEndsAndMarksTheNewPortPending() {
        let d = twoDomains()
        d.bitmaps(of: 1).acknowledge(vcpu: 0)
        let remote = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        XCTAssertNil(d.run(.bindVCPU(port: remote, vcpu: 1), as: dom0).error)
        let result = d.run(.bindInterdomain(remoteDomain: dom0, remotePort: remote), as: domU)
        XCTAssertEqual(result.reply?.port, 1)
        XCTAssertEqual(d[1].port(1), EventChannelPort(binding: .interdomain(remoteDomain: 0, remotePort: remote), notifyVCPU: 0))
        XCTAssertEqual(d[0].port(remote), EventChannelPort(binding: .interdomain(remoteDomain: 1, remotePort: 1), notifyVCPU: 1))
        // Xen marks the local port pending in case the peer sent while it was unbound.
        XCTAssertTrue(d.bitmaps(of: 1).isPending(1))
        XCTAssertEqual(d.bitmaps(of: 1).selector[0], 1)
        XCTAssertEqual(d.bitmaps(of: 1).upcallPending[0], 1)
        XCTAssertEqual(result.reply?.kick, EventKick(domain: 1, vcpu: 0))
        XCTAssertFalse(d.bitmaps(of: 0).isPending(remote))
        XCTAssertEqual(d.run(.status(domain: me, port: 1), as: domU).reply?.status,
                       EventChannelStatus(binding: .interdomain(remoteDomain: 0, remotePort: remote), vcpu: 0))
    }

    func testBindInterdomainLoopback() {
        let d = twoDomains()
        let a = d.port(.allocUnbound(domain: me, remoteDomain: me), as: domU)
        let b = d.port(.bindInterdomain(remoteDomain: me, remotePort: a), as: domU)
        XCTAssertEqual(b, 2)
        XCTAssertEqual(d[1].port(a).binding, .interdomain(remoteDomain: 1, remotePort: b))
        XCTAssertEqual(d[1].port(b).binding, .interdomain(remoteDomain: 1, remotePort: a))
        d.bitmaps(of: 1).pending[0] = 0
        XCTAssertNil(d.run(.send(port: a), as: domU).error)
        XCTAssertTrue(d.bitmaps(of: 1).isPending(b))
        XCTAssertFalse(d.bitmaps(of: 1).isPending(a))
    }

    func testBindInterdomainRefusals() {
        let d = twoDomains()
        let forDom0 = d.port(.allocUnbound(domain: me, remoteDomain: me), as: dom0)
        let forDomU = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: 5, remotePort: forDomU), as: domU).error, .noSuchDomain)
        // Not offered to the caller, wrong state, out of range, reserved, free: all -EINVAL.
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: forDom0), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: 64), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: 0), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: 30), as: domU).error, .invalid)
        let ipi = d.port(.bindIPI(vcpu: 0), as: dom0)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: ipi), as: domU).error, .invalid)
        XCTAssertEqual(d[1].activePorts, 0)
        // Already connected: the remote port is no longer unbound.
        XCTAssertEqual(d.port(.bindInterdomain(remoteDomain: dom0, remotePort: forDomU), as: domU), 1)
        XCTAssertEqual(d.run(.bindInterdomain(remoteDomain: dom0, remotePort: forDomU), as: domU).error, .invalid)
        // A full caller says -ENOSPC before the remote port is looked at.
        let small = TestEventDirectory()
        small.add(0, privileged: true, vcpus: 1)
        small.add(1, vcpus: 1, capacity: 1)
        XCTAssertEqual(small.run(.bindInterdomain(remoteDomain: 0, remotePort: 999), as: 1).error, .noFreePort)
    }

    // MARK: bind_virq

    func testBindVIRQPerVCPUAndGlobal() {
        let d = twoDomains()
        let timer0 = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: domU)
        let timer1 = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: domU)
        XCTAssertNotEqual(timer0, timer1)
        XCTAssertEqual(d[1].port(timer1), EventChannelPort(binding: .virq(VIRQ.timer), notifyVCPU: 1))
        XCTAssertEqual(d[1].virqPort(VIRQ.timer, vcpu: 0), timer0)
        XCTAssertEqual(d[1].virqPort(VIRQ.timer, vcpu: 1), timer1)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: domU).error, .alreadyBound)
        XCTAssertEqual(d.port(.bindVIRQ(virq: VIRQ.debug, vcpu: 1), as: domU), 3)
        let console = d.port(.bindVIRQ(virq: VIRQ.console, vcpu: 0), as: dom0)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.console, vcpu: 0), as: dom0).error, .alreadyBound)
        XCTAssertEqual(d.run(.status(domain: me, port: console), as: dom0).reply?.status,
                       EventChannelStatus(binding: .virq(VIRQ.console), vcpu: 0))
        // Per-vCPU and global by Xen's list: the arch VIRQs are global on x86.
        for virq in UInt32(0)..<VIRQ.count {
            XCTAssertEqual(VIRQ.isGlobal(virq), ![0, 1, 7, 13].contains(virq), "VIRQ \(virq)")
        }
        XCTAssertEqual(d.port(.bindVIRQ(virq: 23, vcpu: 0), as: domU), 4)
    }

    func testBindVIRQRefusalsInXensOrder() {
        let d = twoDomains()
        XCTAssertEqual(d.run(.bindVIRQ(virq: 24, vcpu: 0), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVIRQ(virq: 0x8000_0000, vcpu: 99), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.console, vcpu: 1), as: dom0).error, .invalid)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.console, vcpu: 99), as: dom0).error, .invalid)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.timer, vcpu: 2), as: domU).error, .noSuchVCPU)
        XCTAssertEqual(d.run(.bindVIRQ(virq: VIRQ.timer, vcpu: UInt32.max), as: domU).error, .noSuchVCPU)
        XCTAssertEqual(d[1].activePorts, 0)
        // -EEXIST wins over a full table.
        let small = TestEventDirectory()
        small.add(0, privileged: true, vcpus: 1, capacity: 2)
        XCTAssertEqual(small.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: 0), 1)
        XCTAssertEqual(small.run(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: 0).error, .alreadyBound)
        XCTAssertEqual(small.run(.bindVIRQ(virq: VIRQ.debug, vcpu: 0), as: 0).error, .noFreePort)
    }

    // MARK: bind_ipi, bind_pirq

    func testBindIPI() {
        let d = twoDomains()
        let port = d.port(.bindIPI(vcpu: 1), as: domU)
        XCTAssertEqual(d[1].port(port), EventChannelPort(binding: .ipi, notifyVCPU: 1))
        XCTAssertEqual(d.run(.status(domain: me, port: port), as: domU).reply?.status,
                       EventChannelStatus(binding: .ipi, vcpu: 1))
        XCTAssertEqual(d.run(.status(domain: me, port: port), as: domU).reply?.status?.statusCode, 5)
        XCTAssertEqual(d.run(.bindIPI(vcpu: 2), as: domU).error, .noSuchVCPU)
        XCTAssertEqual(d.run(.bindIPI(vcpu: 0xFFFF_FFFF), as: domU).error, .noSuchVCPU)
    }

    func testBindPIRQIsRefusedWithoutTouchingPorts() {
        let d = twoDomains()
        XCTAssertEqual(d.run(.bindPIRQ(pirq: 3, flags: 0), as: dom0).error, .invalid)
        XCTAssertEqual(d[0].activePorts, 0)
    }

    // MARK: close

    func testCloseEachStateFreesThePortAndClearsItsPendingBit() {
        let d = twoDomains()
        let unbound = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        let virq = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: dom0)
        let ipi = d.port(.bindIPI(vcpu: 1), as: dom0)
        for port in [unbound, virq, ipi] {
            _ = d.bitmaps(of: 0).testAndSetPending(port)
            d.bitmaps(of: 0).setMask(port, true)
            XCTAssertNil(d.run(.close(port: port), as: dom0).error)
            XCTAssertEqual(d[0].port(port), .free)
            XCTAssertFalse(d.bitmaps(of: 0).isPending(port))
            XCTAssertTrue(d.bitmaps(of: 0).isMasked(port), "the mask is the guest's")
            XCTAssertEqual(d.run(.close(port: port), as: dom0).error, .invalid)
            XCTAssertEqual(d.run(.status(domain: me, port: port), as: dom0).reply?.status,
                           EventChannelStatus(binding: .free, vcpu: 0))
        }
        XCTAssertEqual(d[0].virqPort(VIRQ.timer, vcpu: 1), 0)
        XCTAssertEqual(d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: dom0), 1)
        XCTAssertEqual(d.run(.close(port: 5), as: dom0).error, .invalid)
        XCTAssertEqual(d.run(.close(port: 64), as: dom0).error, .invalid)
    }

    func testClosingOneEndOfAPairLeavesThePeerUnboundToUs() {
        let d = twoDomains()
        let p0 = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        XCTAssertNil(d.run(.bindVCPU(port: p0, vcpu: 1), as: dom0).error)
        let p1 = d.port(.bindInterdomain(remoteDomain: dom0, remotePort: p0), as: domU)
        XCTAssertNil(d.run(.send(port: p1), as: domU).error)
        XCTAssertTrue(d.bitmaps(of: 0).isPending(p0))
        XCTAssertNil(d.run(.close(port: p1), as: domU).error)
        XCTAssertEqual(d[1].port(p1), .free)
        XCTAssertFalse(d.bitmaps(of: 1).isPending(p1))
        // The peer keeps its vCPU and its pending event, and waits for domU to bind again.
        XCTAssertEqual(d[0].port(p0), EventChannelPort(binding: .unbound(remoteDomain: 1), notifyVCPU: 1))
        XCTAssertTrue(d.bitmaps(of: 0).isPending(p0))
        XCTAssertNil(d.run(.send(port: p0), as: dom0).error, "send on unbound is dropped, not refused")
        XCTAssertEqual(d.port(.bindInterdomain(remoteDomain: dom0, remotePort: p0), as: domU), p1)
    }

    func testAnotherDomainsPortCannotBeClosedSentOrUnmasked() {
        let d = twoDomains()
        let p0 = d.port(.bindIPI(vcpu: 0), as: dom0)
        // domU has no port p0: the same number names its own (free) port.
        XCTAssertEqual(d.run(.close(port: p0), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.send(port: p0), as: domU).error, .invalid)
        XCTAssertNil(d.run(.unmask(port: p0), as: domU).error)
        XCTAssertEqual(d.run(.bindVCPU(port: p0, vcpu: 0), as: domU).error, .invalid)
        XCTAssertEqual(d[0].port(p0).binding, .ipi)
        XCTAssertEqual(d.bitmaps(of: 0).snapshot.pending, [UInt64](repeating: 0, count: 64))
    }

    // MARK: send

    func testSendByState() {
        let d = twoDomains()
        let ipi = d.port(.bindIPI(vcpu: 1), as: domU)
        let reply = d.run(.send(port: ipi), as: domU)
        XCTAssertEqual(reply.reply?.kick, EventKick(domain: 1, vcpu: 1))
        XCTAssertTrue(d.bitmaps(of: 1).isPending(ipi))
        XCTAssertEqual(d.bitmaps(of: 1).selector[1], 1)
        XCTAssertEqual(d.bitmaps(of: 1).upcallPending, [0, 1])
        let virq = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: domU)
        XCTAssertEqual(d.run(.send(port: virq), as: domU).error, .invalid)
        let unbound = d.port(.allocUnbound(domain: me, remoteDomain: dom0), as: domU)
        XCTAssertNil(d.run(.send(port: unbound), as: domU).error)
        XCTAssertFalse(d.bitmaps(of: 1).isPending(unbound))
        XCTAssertEqual(d.run(.send(port: 63), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.send(port: 64), as: domU).error, .invalid)
    }

    func testSendInterdomainMarksOnlyThePeersPortOnItsVCPU() {
        let d = twoDomains()
        let p0 = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        XCTAssertNil(d.run(.bindVCPU(port: p0, vcpu: 1), as: dom0).error)
        let p1 = d.port(.bindInterdomain(remoteDomain: dom0, remotePort: p0), as: domU)
        let before1 = d.bitmaps(of: 1).snapshot
        let reply = d.run(.send(port: p1), as: domU)
        XCTAssertEqual(reply.reply?.kick, EventKick(domain: 0, vcpu: 1))
        XCTAssertTrue(d.bitmaps(of: 0).isPending(p0))
        XCTAssertEqual(d.bitmaps(of: 0).upcallPending, [0, 1])
        XCTAssertEqual(d.bitmaps(of: 1).snapshot, before1, "the sender's own words are untouched")
        // A second send while pending changes nothing and kicks nobody.
        let again = d.bitmaps(of: 0).snapshot
        XCTAssertNil(d.run(.send(port: p1), as: domU).reply?.kick)
        XCTAssertEqual(d.bitmaps(of: 0).snapshot, again)
    }

    // MARK: status

    func testStatusOfEveryStateAndRefusals() {
        let d = twoDomains()
        let unbound = d.port(.allocUnbound(domain: me, remoteDomain: 7), as: domU)
        XCTAssertEqual(d.run(.status(domain: me, port: unbound), as: domU).reply?.status,
                       EventChannelStatus(binding: .unbound(remoteDomain: 7), vcpu: 0))
        // dom0 may look at domU's ports; domU may not look at dom0's.
        XCTAssertEqual(d.run(.status(domain: domU, port: unbound), as: dom0).reply?.status?.statusCode, 1)
        XCTAssertEqual(d.run(.status(domain: dom0, port: 1), as: domU).error, .notPermitted)
        XCTAssertEqual(d.run(.status(domain: other, port: 1), as: domU).error, .noSuchDomain)
        // Xen checks the port before the policy.
        XCTAssertEqual(d.run(.status(domain: dom0, port: 64), as: domU).error, .invalid)
    }

    // MARK: bind_vcpu

    func testBindVCPUByState() {
        let d = twoDomains()
        let unbound = d.port(.allocUnbound(domain: me, remoteDomain: dom0), as: domU)
        let global = d.port(.bindVIRQ(virq: VIRQ.console, vcpu: 0), as: domU)
        let timer = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 0), as: domU)
        let ipi = d.port(.bindIPI(vcpu: 0), as: domU)
        XCTAssertNil(d.run(.bindVCPU(port: unbound, vcpu: 1), as: domU).error)
        XCTAssertNil(d.run(.bindVCPU(port: global, vcpu: 1), as: domU).error)
        XCTAssertEqual(d[1].port(unbound).notifyVCPU, 1)
        XCTAssertEqual(d[1].port(global).notifyVCPU, 1)
        XCTAssertEqual(d[1].virqPort(VIRQ.console, vcpu: 0), global, "the VIRQ stays bound on vCPU 0")
        XCTAssertEqual(d.run(.bindVCPU(port: timer, vcpu: 1), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVCPU(port: ipi, vcpu: 1), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVCPU(port: 20, vcpu: 1), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVCPU(port: 0, vcpu: 1), as: domU).error, .invalid)
        XCTAssertEqual(d.run(.bindVCPU(port: 64, vcpu: 1), as: domU).error, .invalid)
        // The vCPU is checked first.
        XCTAssertEqual(d.run(.bindVCPU(port: 64, vcpu: 2), as: domU).error, .noSuchVCPU)
        XCTAssertEqual(d.run(.bindVCPU(port: unbound, vcpu: 2), as: domU).error, .noSuchVCPU)
        // A global VIRQ rebound to vCPU 1 is raised there.
        d.globalHandler = domU
        XCTAssertEqual(EventChannelOperations.sendGlobalVIRQ(VIRQ.console, directory: d), EventKick(domain: 1, vcpu: 1))
        XCTAssertEqual(d.bitmaps(of: 1).upcallPending, [0, 1])
    }

    // MARK: unmask

    func testUnmaskRules() {
        let d = twoDomains()
        let ipi = d.port(.bindIPI(vcpu: 1), as: domU)
        let bitmaps = d.bitmaps(of: 1)
        bitmaps.setMask(ipi, true)
        XCTAssertNil(d.run(.send(port: ipi), as: domU).reply?.kick)
        XCTAssertTrue(bitmaps.isPending(ipi))
        XCTAssertEqual(bitmaps.selector, [0, 0])
        XCTAssertEqual(bitmaps.upcallPending, [0, 0])
        XCTAssertEqual(d.run(.unmask(port: ipi), as: domU).reply?.kick, EventKick(domain: 1, vcpu: 1))
        XCTAssertFalse(bitmaps.isMasked(ipi))
        XCTAssertEqual(bitmaps.selector, [0, 1])
        XCTAssertEqual(bitmaps.upcallPending, [0, 1])
        // Unmasking an unmasked port does nothing, even if it is pending.
        bitmaps.acknowledge(vcpu: 1)
        XCTAssertNil(d.run(.unmask(port: ipi), as: domU).reply?.kick)
        XCTAssertEqual(bitmaps.upcallPending, [0, 0])
        // A free port in the valid range: accepted, and its mask bit is left alone.
        bitmaps.setMask(40, true)
        XCTAssertNil(d.run(.unmask(port: 40), as: domU).error)
        XCTAssertTrue(bitmaps.isMasked(40))
        XCTAssertEqual(d.run(.unmask(port: 64), as: domU).error, .invalid)
    }

    // MARK: reset

    func testResetClosesEveryPortOfTheDomain() {
        let d = twoDomains()
        let p0 = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        let p1 = d.port(.bindInterdomain(remoteDomain: dom0, remotePort: p0), as: domU)
        _ = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: domU)
        _ = d.port(.bindIPI(vcpu: 0), as: domU)
        XCTAssertEqual(d[1].activePorts, 3)
        XCTAssertNil(d.run(.reset(domain: me), as: domU).error)
        XCTAssertEqual(d[1].activePorts, 0)
        XCTAssertEqual(d[1].virqPort(VIRQ.timer, vcpu: 1), 0)
        XCTAssertEqual(d[1].port(0).binding, .reserved)
        XCTAssertEqual(d[0].port(p0).binding, .unbound(remoteDomain: 1))
        XCTAssertFalse(d.bitmaps(of: 1).isPending(p1))
        XCTAssertNil(d.run(.reset(domain: domU), as: domU).error, "an empty table resets too")
    }

    func testResetRefusals() {
        let d = twoDomains()
        _ = d.port(.bindIPI(vcpu: 0), as: domU)
        XCTAssertEqual(d.run(.reset(domain: other), as: dom0).error, .noSuchDomain)
        XCTAssertEqual(d.run(.reset(domain: dom0), as: domU).error, .notPermitted)
        // Privileged, but the other domain is running: -EINVAL.
        XCTAssertEqual(d.run(.reset(domain: domU), as: dom0).error, .invalid)
        XCTAssertEqual(d[1].activePorts, 1)
        d.paused.insert(domU)
        XCTAssertNil(d.run(.reset(domain: domU), as: dom0).error)
        XCTAssertEqual(d[1].activePorts, 0)
    }

    // MARK: VIRQ delivery and teardown

    func testVIRQDelivery() {
        let d = twoDomains()
        XCTAssertNil(EventChannelOperations.sendVCPUVIRQ(VIRQ.timer, vcpu: 1, domain: domU, directory: d))
        XCTAssertNil(EventChannelOperations.sendGlobalVIRQ(VIRQ.console, directory: d))
        XCTAssertEqual(d.bitmaps(of: 1).snapshot, ArrayEventBitmaps(vcpuCount: 2).snapshot)
        let timer = d.port(.bindVIRQ(virq: VIRQ.timer, vcpu: 1), as: domU)
        XCTAssertEqual(EventChannelOperations.sendVCPUVIRQ(VIRQ.timer, vcpu: 1, domain: domU, directory: d),
                       EventKick(domain: 1, vcpu: 1))
        XCTAssertTrue(d.bitmaps(of: 1).isPending(timer))
        XCTAssertNil(EventChannelOperations.sendVCPUVIRQ(VIRQ.timer, vcpu: 0, domain: domU, directory: d))
        // A global VIRQ bound by domU is not raised while dom0 handles it.
        _ = d.port(.bindVIRQ(virq: VIRQ.domainException, vcpu: 0), as: domU)
        XCTAssertNil(EventChannelOperations.sendGlobalVIRQ(VIRQ.domainException, directory: d))
        let dom0Port = d.port(.bindVIRQ(virq: VIRQ.domainException, vcpu: 0), as: dom0)
        XCTAssertEqual(EventChannelOperations.sendGlobalVIRQ(VIRQ.domainException, directory: d),
                       EventKick(domain: 0, vcpu: 0))
        XCTAssertTrue(d.bitmaps(of: 0).isPending(dom0Port))
    }

    func testCloseAllUnbindsPeers() {
        let d = twoDomains()
        let p0 = d.port(.allocUnbound(domain: me, remoteDomain: domU), as: dom0)
        _ = d.port(.bindInterdomain(remoteDomain: dom0, remotePort: p0), as: domU)
        EventChannelOperations.closeAll(domain: domU, directory: d)
        XCTAssertEqual(d[1].activePorts, 0)
        XCTAssertEqual(d[0].port(p0).binding, .unbound(remoteDomain: 1))
    }

    func testUnknownCallerIsNoSuchDomain() {
        let d = twoDomains()
        XCTAssertEqual(d.run(.bindIPI(vcpu: 0), as: 42).error, .noSuchDomain)
    }
}
