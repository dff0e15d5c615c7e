// Decoding event_channel_op arguments from the C structures of event_channel.h and
// writing replies back into them.
import XCTest
import ApusPublic
@testable import ApusCore

final class EventChannelRequestTests: XCTestCase {
    private func decode<T>(_ command: Int32, _ value: T) -> EventChannelRequest? {
        withUnsafeBytes(of: value) { EventChannelRequest.decode(command: UInt32(command), bytes: $0) }
    }

    func testArgumentSizesAreTheHeaders() {
        let sizes: [(Int32, Int)] = [
            (EVTCHNOP_bind_interdomain, MemoryLayout<evtchn_bind_interdomain>.size),
            (EVTCHNOP_bind_virq, MemoryLayout<evtchn_bind_virq>.size),
            (EVTCHNOP_bind_pirq, MemoryLayout<evtchn_bind_pirq>.size),
            (EVTCHNOP_close, MemoryLayout<evtchn_close>.size),
            (EVTCHNOP_send, MemoryLayout<evtchn_send>.size),
            (EVTCHNOP_status, MemoryLayout<evtchn_status>.size),
            (EVTCHNOP_alloc_unbound, MemoryLayout<evtchn_alloc_unbound>.size),
            (EVTCHNOP_bind_ipi, MemoryLayout<evtchn_bind_ipi>.size),
            (EVTCHNOP_bind_vcpu, MemoryLayout<evtchn_bind_vcpu>.size),
            (EVTCHNOP_unmask, MemoryLayout<evtchn_unmask>.size),
            (EVTCHNOP_reset, MemoryLayout<evtchn_reset>.size),
            (EVTCHNOP_reset_cont, MemoryLayout<evtchn_reset>.size),
        ]
        for (command, size) in sizes {
            XCTAssertEqual(EventChannelRequest.argumentSize(command: UInt32(command)), size, "command \(command)")
        }
        for command in [EVTCHNOP_init_control, EVTCHNOP_expand_array, EVTCHNOP_set_priority, 15, 99] {
            XCTAssertNil(EventChannelRequest.argumentSize(command: UInt32(command)), "command \(command)")
            XCTAssertNil(decode(command, UInt64(0)))
        }
        XCTAssertNil(EventChannelRequest.argumentSize(command: UInt32.max))
    }

    func testDecodeEveryCommand() {
        XCTAssertEqual(decode(EVTCHNOP_bind_interdomain, evtchn_bind_interdomain(remote_dom: 7, _pad: 0xFFFF, remote_port: 99, local_port: 5)),
                       .bindInterdomain(remoteDomain: 7, remotePort: 99))
        XCTAssertEqual(decode(EVTCHNOP_bind_virq, evtchn_bind_virq(virq: 2, vcpu: 1, port: 8)), .bindVIRQ(virq: 2, vcpu: 1))
        XCTAssertEqual(decode(EVTCHNOP_bind_pirq, evtchn_bind_pirq(pirq: 9, flags: 1, port: 0)), .bindPIRQ(pirq: 9, flags: 1))
        XCTAssertEqual(decode(EVTCHNOP_close, evtchn_close(port: 12)), .close(port: 12))
        XCTAssertEqual(decode(EVTCHNOP_send, evtchn_send(port: 4095)), .send(port: 4095))
        var status = evtchn_status()
        status.dom = 0x7FF0; status.port = 3
        XCTAssertEqual(decode(EVTCHNOP_status, status), .status(domain: 0x7FF0, port: 3))
        XCTAssertEqual(decode(EVTCHNOP_alloc_unbound, evtchn_alloc_unbound(dom: 0x7FF0, remote_dom: 4, port: 0)),
                       .allocUnbound(domain: 0x7FF0, remoteDomain: 4))
        XCTAssertEqual(decode(EVTCHNOP_bind_ipi, evtchn_bind_ipi(vcpu: 3, port: 0)), .bindIPI(vcpu: 3))
        XCTAssertEqual(decode(EVTCHNOP_bind_vcpu, evtchn_bind_vcpu(port: 6, vcpu: 2)), .bindVCPU(port: 6, vcpu: 2))
        XCTAssertEqual(decode(EVTCHNOP_unmask, evtchn_unmask(port: 77)), .unmask(port: 77))
        XCTAssertEqual(decode(EVTCHNOP_reset, evtchn_reset(dom: 1)), .reset(domain: 1))
        XCTAssertEqual(decode(EVTCHNOP_reset_cont, evtchn_reset(dom: 0x7FF0)), .reset(domain: 0x7FF0))
    }

    func testCompatArgumentDecodesAfterTheCommandWord() {
        var op = evtchn_op()
        op.cmd = UInt32(EVTCHNOP_bind_virq)
        op.u.bind_virq = evtchn_bind_virq(virq: 0, vcpu: 1, port: 0)
        let request = withUnsafeBytes(of: op) { bytes in
            EventChannelRequest.decode(command: bytes.load(as: UInt32.self),
                                       bytes: UnsafeRawBufferPointer(rebasing: bytes[4...]))
        }
        XCTAssertEqual(request, .bindVIRQ(virq: 0, vcpu: 1))
    }

    func testEncodeWritesOnlyOutFields() {
        var bind = evtchn_bind_interdomain(remote_dom: 7, _pad: 0xABCD, remote_port: 99, local_port: 0)
        withUnsafeMutableBytes(of: &bind) {
            EventChannelReply(port: 42).encode(command: UInt32(EVTCHNOP_bind_interdomain), into: $0)
        }
        XCTAssertEqual(bind.local_port, 42)
        XCTAssertEqual(bind.remote_dom, 7)
        XCTAssertEqual(bind._pad, 0xABCD)
        XCTAssertEqual(bind.remote_port, 99)

        var virq = evtchn_bind_virq(virq: 1, vcpu: 1, port: 0)
        withUnsafeMutableBytes(of: &virq) { EventChannelReply(port: 5).encode(command: UInt32(EVTCHNOP_bind_virq), into: $0) }
        XCTAssertEqual(virq.port, 5)
        var alloc = evtchn_alloc_unbound(dom: 0x7FF0, remote_dom: 1, port: 0)
        withUnsafeMutableBytes(of: &alloc) { EventChannelReply(port: 6).encode(command: UInt32(EVTCHNOP_alloc_unbound), into: $0) }
        XCTAssertEqual(alloc.port, 6)
        XCTAssertEqual(alloc.dom, 0x7FF0)
        var ipi = evtchn_bind_ipi(vcpu: 1, port: 0)
        withUnsafeMutableBytes(of: &ipi) { EventChannelReply(port: 7).encode(command: UInt32(EVTCHNOP_bind_ipi), into: $0) }
        XCTAssertEqual(ipi.port, 7)
        XCTAssertEqual(ipi.vcpu, 1)
        var unmask = evtchn_unmask(port: 9)
        withUnsafeMutableBytes(of: &unmask) { EventChannelReply(port: 1).encode(command: UInt32(EVTCHNOP_unmask), into: $0) }
        XCTAssertEqual(unmask.port, 9)
    }

    func testEncodeStatusPerBinding() {
        func encoded(_ binding: EventChannelBinding, vcpu: UInt32) -> evtchn_status {
            var status = evtchn_status()
            status.dom = 0x7FF0; status.port = 3; status.u.pirq = 0xDEAD_BEEF
            withUnsafeMutableBytes(of: &status) {
                EventChannelReply(status: EventChannelStatus(binding: binding, vcpu: vcpu))
                    .encode(command: UInt32(EVTCHNOP_status), into: $0)
            }
            return status
        }
        let interdomain = encoded(.interdomain(remoteDomain: 4, remotePort: 300), vcpu: 2)
        XCTAssertEqual(interdomain.status, UInt32(EVTCHNSTAT_interdomain))
        XCTAssertEqual(interdomain.vcpu, 2)
        XCTAssertEqual(interdomain.u.interdomain.dom, 4)
        XCTAssertEqual(interdomain.u.interdomain.port, 300)
        XCTAssertEqual(interdomain.dom, 0x7FF0)
        XCTAssertEqual(interdomain.port, 3)
        let unbound = encoded(.unbound(remoteDomain: 9), vcpu: 0)
        XCTAssertEqual(unbound.status, UInt32(EVTCHNSTAT_unbound))
        XCTAssertEqual(unbound.u.unbound.dom, 9)
        XCTAssertEqual(encoded(.virq(1), vcpu: 1).u.virq, 1)
        XCTAssertEqual(encoded(.virq(1), vcpu: 1).status, UInt32(EVTCHNSTAT_virq))
        XCTAssertEqual(encoded(.pirq(33), vcpu: 0).u.pirq, 33)
        XCTAssertEqual(encoded(.pirq(33), vcpu: 0).status, UInt32(EVTCHNSTAT_pirq))
        // Closed and IPI leave the union as the guest passed it, as Xen does.
        XCTAssertEqual(encoded(.ipi, vcpu: 1).status, UInt32(EVTCHNSTAT_ipi))
        XCTAssertEqual(encoded(.ipi, vcpu: 1).u.pirq, 0xDEAD_BEEF)
        XCTAssertEqual(encoded(.free, vcpu: 0).status, UInt32(EVTCHNSTAT_closed))
        XCTAssertEqual(encoded(.reserved, vcpu: 0).status, UInt32(EVTCHNSTAT_closed))
        XCTAssertEqual(encoded(.reserved, vcpu: 0).u.pirq, 0xDEAD_BEEF)
    }

    func testOnlyCommandsWithOutFieldsWriteBack() {
        let writing = [EVTCHNOP_alloc_unbound, EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_bind_pirq,
                       EVTCHNOP_bind_ipi, EVTCHNOP_status]
        for command in UInt32(0)...20 {
            XCTAssertEqual(EventChannelRequest.writesBack(command: command), writing.contains(Int32(command)), "\(command)")
        }
    }

    func testHandleDecodesPerformsAndEncodes() throws {
        let directory = TestEventDirectory()
        directory.add(0, privileged: true, vcpus: 2)
        var ipi = evtchn_bind_ipi(vcpu: 1, port: 0xFFFF)
        let reply = try withUnsafeMutableBytes(of: &ipi) { bytes in
            try EventChannelOperations.handle(command: UInt32(EVTCHNOP_bind_ipi), bytes: bytes, caller: 0, directory: directory)
        }
        XCTAssertEqual(reply.port, 1)
        XCTAssertEqual(ipi.port, 1)
        var status = evtchn_status()
        status.dom = UInt16(DOMID_SELF); status.port = 1
        _ = try withUnsafeMutableBytes(of: &status) { bytes in
            try EventChannelOperations.handle(command: UInt32(EVTCHNOP_status), bytes: bytes, caller: 0, directory: directory)
        }
        XCTAssertEqual(status.status, UInt32(EVTCHNSTAT_ipi))
        XCTAssertEqual(status.vcpu, 1)
        // A refusal writes nothing.
        var bad = evtchn_bind_ipi(vcpu: 7, port: 0xFFFF)
        XCTAssertThrowsError(try withUnsafeMutableBytes(of: &bad) { bytes in
            try EventChannelOperations.handle(command: UInt32(EVTCHNOP_bind_ipi), bytes: bytes, caller: 0, directory: directory)
        }) { XCTAssertEqual($0 as? EventChannelError, .noSuchVCPU) }
        XCTAssertEqual(bad.port, 0xFFFF)
        var control = evtchn_init_control()
        XCTAssertThrowsError(try withUnsafeMutableBytes(of: &control) { bytes in
            try EventChannelOperations.handle(command: UInt32(EVTCHNOP_init_control), bytes: bytes, caller: 0, directory: directory)
        }) { XCTAssertEqual(($0 as? EventChannelError)?.xenErrno, 38) }
    }

    func testTwoLevelLimitMatchesTheHeader() {
        XCTAssertEqual(EventChannelLimits.twoLevelPorts, Int(EVTCHN_2L_NR_CHANNELS))
        XCTAssertEqual(EventChannelLimits.domidSelf, UInt16(DOMID_SELF))
    }
}
