// The 2-level delivery bits: what a port becoming pending or being unmasked does to
// shared_info, and when a vCPU must be kicked.
import XCTest
@testable import ApusCore

final class EventChannelDeliveryTests: XCTestCase {
    private func set(_ port: UInt32, vcpu: UInt16 = 0, _ b: ArrayEventBitmaps) -> EventKick? {
        EventDelivery.setPending(port, vcpu: vcpu, domain: 3, bitmaps: b)
    }

    func testUnmaskedPortRaisesSelectorAndUpcallOnTheNotifyVCPU() {
        let b = ArrayEventBitmaps(vcpuCount: 2)
        XCTAssertEqual(set(130, vcpu: 1, b), EventKick(domain: 3, vcpu: 1))
        XCTAssertEqual(b.pending[2], 1 << 2)
        XCTAssertEqual(b.selector, [0, 1 << 2])
        XCTAssertEqual(b.upcallPending, [0, 1])
        XCTAssertTrue(EventDelivery.isUpcallDue(vcpu: 1, bitmaps: b))
        XCTAssertFalse(EventDelivery.isUpcallDue(vcpu: 0, bitmaps: b))
    }

    func testAlreadyPendingPortChangesNothing() {
        let b = ArrayEventBitmaps(vcpuCount: 1)
        _ = b.testAndSetPending(5)
        XCTAssertNil(set(5, b))
        XCTAssertEqual(b.selector, [0])
        XCTAssertEqual(b.upcallPending, [0])
    }

    func testMaskedPortOnlyBecomesPending() {
        let b = ArrayEventBitmaps(vcpuCount: 1)
        b.setMask(4095, true)
        XCTAssertNil(set(4095, b))
        XCTAssertEqual(b.pending[63], 1 << 63)
        XCTAssertEqual(b.selector, [0])
        XCTAssertEqual(b.upcallPending, [0])
    }

    func testASetSelectorBitSwallowsTheUpcall() {
        // The guest cleared upcall_pending but not yet the selector: Xen does not re-raise.
        let b = ArrayEventBitmaps(vcpuCount: 1)
        XCTAssertNotNil(set(1, b))
        b.upcallPending[0] = 0
        XCTAssertNil(set(2, b))
        XCTAssertEqual(b.upcallPending, [0])
        // Another word does raise it.
        XCTAssertNotNil(set(64, b))
        XCTAssertEqual(b.selector, [0b11])
        XCTAssertEqual(b.upcallPending, [1])
    }

    func testUpcallAlreadyPendingMeansNoKick() {
        let b = ArrayEventBitmaps(vcpuCount: 1)
        XCTAssertNotNil(set(1, b))
        XCTAssertNil(set(200, b))
        XCTAssertEqual(b.selector, [0b1001])
    }

    func testUpcallMaskDoesNotStopMarking() {
        // As Xen 4.17 did for the callbacks guest: an IPI sent with events masked sets the
        // port's bit, upcall_pending and selector bit 0, and the upcall waits for the unmask.
        let directory = TestEventDirectory()
        directory.add(0, privileged: true, vcpus: 1)
        let b = directory.bitmaps(of: 0)
        b.upcallMask[0] = 1
        let port = directory.port(.bindIPI(vcpu: 0), as: 0)
        XCTAssertEqual(port, 1)
        XCTAssertEqual(directory.run(.send(port: port), as: 0).reply?.kick, EventKick(domain: 0, vcpu: 0))
        XCTAssertEqual(b.pending[0], 1 << 1)
        XCTAssertEqual(b.selector, [1])
        XCTAssertEqual(b.upcallPending, [1])
        XCTAssertFalse(EventDelivery.isUpcallDue(vcpu: 0, bitmaps: b))
        b.upcallMask[0] = 0
        XCTAssertTrue(EventDelivery.isUpcallDue(vcpu: 0, bitmaps: b))
    }

    func testUnmaskProtocol() {
        let b = ArrayEventBitmaps(vcpuCount: 2)
        // Not masked: nothing, even when pending.
        _ = b.testAndSetPending(9)
        XCTAssertNil(EventDelivery.unmask(9, vcpu: 1, domain: 3, bitmaps: b))
        XCTAssertEqual(b.selector, [0, 0])
        // Masked, not pending: only the mask bit clears.
        b.setMask(10, true)
        XCTAssertNil(EventDelivery.unmask(10, vcpu: 1, domain: 3, bitmaps: b))
        XCTAssertFalse(b.isMasked(10))
        XCTAssertEqual(b.selector, [0, 0])
        // Masked and pending: re-raised on the given vCPU.
        b.setMask(9, true)
        XCTAssertEqual(EventDelivery.unmask(9, vcpu: 1, domain: 3, bitmaps: b), EventKick(domain: 3, vcpu: 1))
        XCTAssertEqual(b.selector, [0, 1])
        XCTAssertEqual(b.upcallPending, [0, 1])
    }

    func testClearPending() {
        let b = ArrayEventBitmaps(vcpuCount: 1)
        _ = b.testAndSetPending(77)
        EventDelivery.clearPending(77, bitmaps: b)
        XCTAssertEqual(b.pending[1], 0)
    }

    /// Many random sends and unmasks on one domain: the selector/upcall words are exactly
    /// what Xen's rules imply, checked against a direct model.
    func testRandomSequencesAgreeWithTheRules() {
        var rng = SeededGenerator(seed: 0x2_1e7e1)
        for _ in 0..<200 {
            let b = ArrayEventBitmaps(vcpuCount: 3)
            for _ in 0..<200 {
                let port = UInt32.random(in: 1..<4096, using: &rng)
                let vcpu = UInt16.random(in: 0..<3, using: &rng)
                let before = b.snapshot
                let word = Int(port / 64), bit = UInt64(1) << UInt64(port % 64)
                switch Int.random(in: 0..<6, using: &rng) {
                case 0, 1:
                    let kick = set(port, vcpu: vcpu, b)
                    let wasPending = before.pending[word] & bit != 0
                    let masked = before.mask[word] & bit != 0
                    let selBefore = before.selector[Int(vcpu)] & (1 << UInt64(word)) != 0
                    let raise = !wasPending && !masked && !selBefore
                    XCTAssertEqual(kick != nil, raise && before.upcallPending[Int(vcpu)] == 0)
                    XCTAssertEqual(b.pending[word], before.pending[word] | bit)
                    XCTAssertEqual(b.selector[Int(vcpu)] != before.selector[Int(vcpu)], raise)
                    if masked || wasPending {
                        XCTAssertEqual(b.selector, before.selector)
                        XCTAssertEqual(b.upcallPending, before.upcallPending)
                    }
                case 2:
                    let kick = EventDelivery.unmask(port, vcpu: vcpu, domain: 3, bitmaps: b)
                    let raise = before.mask[word] & bit != 0 && before.pending[word] & bit != 0
                        && before.selector[Int(vcpu)] & (1 << UInt64(word)) == 0
                    XCTAssertEqual(b.mask[word], before.mask[word] & ~bit)
                    XCTAssertEqual(kick != nil, raise && before.upcallPending[Int(vcpu)] == 0)
                    XCTAssertEqual(b.pending, before.pending)
                case 3: b.setMask(port, true)
                case 4: _ = b.testAndClearPending(port)
                default: b.acknowledge(vcpu: Int(vcpu))
                }
                // Never an upcall for a vCPU without a selector bit it was given.
                for v in 0..<3 where b.upcallPending[v] > before.upcallPending[v] {
                    XCTAssertNotEqual(b.selector[v], 0)
                }
            }
        }
    }
}
