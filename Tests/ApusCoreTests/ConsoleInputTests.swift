// The serial console's input side: conswitch switching as Xen 4.17 does it, and the ring
// dom0 reads with CONSOLEIO_read.
import XCTest
@testable import ApusCore

final class ConsoleInputTests: XCTestCase {
    private func setting(_ text: String) -> ConsoleSwitch {
        guard case .value(let value) = withByteText(text, { ConsoleSwitch.parse($0) }) else {
            preconditionFailure("bad conswitch \(text)")
        }
        return value
    }

    private func feed(_ router: inout ConsoleInputRouter, _ bytes: [UInt8]) -> [ConsoleInputAction] {
        var actions: [ConsoleInputAction] = []
        for byte in bytes { router.receive(byte) { actions.append($0) } }
        return actions
    }

    private func message(_ router: ConsoleInputRouter, _ target: ConsoleInputTarget) -> String {
        var sink = ByteBufferSink()
        router.writeSwitchMessage(for: target, into: &sink)
        return sink.text
    }

    func testBootInputIsApusAndEndOfBootHandsItToDom0() {
        var router = ConsoleInputRouter(setting: ConsoleSwitch())
        XCTAssertEqual(feed(&router, [0x68]), [.debugKey(0x68)])
        XCTAssertEqual(router.endOfBoot(dom0Present: true), .dom0)
        XCTAssertEqual(message(router, .dom0), "*** Serial input to DOM0 (type 'CTRL-a' three times to switch input)")
        XCTAssertEqual(feed(&router, [0x6C, 0x73]), [.guestInput(0x6C), .guestInput(0x73)])
    }

    func testThreeControlCodesSwitchBothWays() {
        var router = ConsoleInputRouter(setting: ConsoleSwitch())
        _ = router.endOfBoot(dom0Present: true)
        XCTAssertEqual(feed(&router, [1, 1, 1]), [.switched(to: .hypervisor)])
        XCTAssertEqual(message(router, .hypervisor), "*** Serial input to Xen (type 'CTRL-a' three times to switch input)")
        XCTAssertEqual(feed(&router, [0x71]), [.debugKey(0x71)])
        XCTAssertEqual(feed(&router, [1, 1, 1, 0x78]), [.switched(to: .dom0), .guestInput(0x78)])
        // Six in a row: two switches, back where it was.
        XCTAssertEqual(feed(&router, [1, 1, 1, 1, 1, 1]), [.switched(to: .hypervisor), .switched(to: .dom0)])
    }

    func testFewerThanThreeCodesArePassedOnBeforeTheNextByte() {
        var router = ConsoleInputRouter(setting: ConsoleSwitch())
        _ = router.endOfBoot(dom0Present: true)
        XCTAssertEqual(feed(&router, [1]), [])
        XCTAssertEqual(router.pendingSwitchCodes, 1)
        XCTAssertEqual(feed(&router, [0x41]), [.guestInput(1), .guestInput(0x41)])
        XCTAssertEqual(feed(&router, [1, 1, 0x0D]), [.guestInput(1), .guestInput(1), .guestInput(0x0D)])
        XCTAssertEqual(router.target, .dom0)
        // Another control code is ordinary input and does not reset the count.
        XCTAssertEqual(feed(&router, [1, 2, 1, 1]), [.guestInput(1), .guestInput(2)])
        XCTAssertEqual(router.pendingSwitchCodes, 2)
    }

    func testXSuffixKeepsInputWithApusAndSaysSo() {
        var router = ConsoleInputRouter(setting: setting("ax"))
        XCTAssertEqual(router.endOfBoot(dom0Present: true), .hypervisor)
        XCTAssertEqual(message(router, .hypervisor), "*** Serial input to Xen (type 'CTRL-a' three times to switch input)")
        XCTAssertEqual(feed(&router, [0x65]), [.debugKey(0x65)])
        XCTAssertEqual(feed(&router, [1, 1, 1]), [.switched(to: .dom0)])
    }

    func testOtherSwitchCharacterAndDisabledSwitching() {
        var router = ConsoleInputRouter(setting: setting("b"))
        _ = router.endOfBoot(dom0Present: true)
        XCTAssertEqual(feed(&router, [1, 1, 1]), [.guestInput(1), .guestInput(1), .guestInput(1)])
        XCTAssertEqual(feed(&router, [2, 2, 2]), [.switched(to: .hypervisor)])
        XCTAssertEqual(message(router, .hypervisor), "*** Serial input to Xen (type 'CTRL-b' three times to switch input)")

        var off = ConsoleInputRouter(setting: setting("`"))
        XCTAssertEqual(off.endOfBoot(dom0Present: true), .dom0)
        XCTAssertEqual(message(off, .dom0), "*** Serial input to DOM0")
        XCTAssertEqual(feed(&off, [1, 1, 1, 0]), [.guestInput(1), .guestInput(1), .guestInput(1), .guestInput(0)])
        XCTAssertEqual(off.target, .dom0)
    }

    func testWithoutDom0ASwitchStaysWithApus() {
        var router = ConsoleInputRouter(setting: ConsoleSwitch())
        XCTAssertEqual(router.endOfBoot(dom0Present: false), .hypervisor)
        XCTAssertEqual(feed(&router, [1, 1, 1, 0x68]), [.switched(to: .hypervisor), .debugKey(0x68)])
    }

    func testBitSevenIsStrippedAndSharedLinesFilter() {
        var plain = ConsoleInputRouter(setting: ConsoleSwitch())
        XCTAssertEqual(feed(&plain, [0xE8, 0x81, 0x81, 0x81]), [.debugKey(0x68), .switched(to: .hypervisor)])
        var high = ConsoleInputRouter(setting: ConsoleSwitch(), highBit: .set)
        XCTAssertEqual(feed(&high, [0x68, 0xE8]), [.debugKey(0x68)])
        var low = ConsoleInputRouter(setting: ConsoleSwitch(), highBit: .clear)
        XCTAssertEqual(feed(&low, [0xE8, 0x71]), [.debugKey(0x71)])
    }

    /// Property: whatever is typed, the router delivers exactly the non-switch bytes plus
    /// the control codes of incomplete triples, in order, and switches once per triple.
    func testRandomInputKeepsEveryByteOrSwitches() {
        var generator = SeededGenerator(seed: 0xC0_5017)
        for _ in 0..<300 {
            var router = ConsoleInputRouter(setting: ConsoleSwitch())
            _ = router.endOfBoot(dom0Present: generator.next() & 1 == 0)
            var typed: [UInt8] = []
            for _ in 0..<Int(generator.next() % 60) {
                typed.append(generator.next() % 3 == 0 ? 1 : UInt8(truncatingIfNeeded: generator.next() & 0x7F))
            }
            let actions = feed(&router, typed)
            var expected: [UInt8] = [], run = 0, switches = 0
            for byte in typed {
                if byte == 1 { run += 1; if run == 3 { run = 0; switches += 1 }; continue }
                expected += [UInt8](repeating: 1, count: run) + [byte]
                run = 0
            }
            var delivered: [UInt8] = [], seenSwitches = 0
            for action in actions {
                switch action {
                case .switched: seenSwitches += 1
                case .debugKey(let b), .guestInput(let b): delivered.append(b)
                }
            }
            XCTAssertEqual(delivered, expected, "typed \(typed)")
            XCTAssertEqual(seenSwitches, switches)
            XCTAssertEqual(router.pendingSwitchCodes, run)
        }
    }

    // MARK: the ring

    private func read(_ ring: inout ConsoleInputRing, _ limit: Int, failAt: Int? = nil) -> (ConsoleReadResult, [UInt8]) {
        var out = [UInt8](repeating: 0, count: max(limit, 0))
        var calls = 0
        let result = ring.read(upTo: limit) { piece, offset in
            defer { calls += 1 }
            if calls == failAt { return false }
            for (i, byte) in piece.enumerated() { out[offset + i] = byte }
            return true
        }
        if case .read(let n) = result { return (result, Array(out[0..<n])) }
        return (result, [])
    }

    func testEmptyRingReadsNothingWithoutTouchingTheBuffer() {
        var ring = ConsoleInputRing()
        var called = false
        XCTAssertEqual(ring.read(upTo: 16) { _, _ in called = true; return false }, .read(0))
        XCTAssertFalse(called)
        ring.append(0x41)
        XCTAssertEqual(ring.read(upTo: 0) { _, _ in called = true; return false }, .read(0))
        XCTAssertFalse(called)
        XCTAssertEqual(ring.count, 1)
    }

    func testReadTakesUpToCountOldestFirst() {
        var ring = ConsoleInputRing()
        for byte in Array("hello".utf8) { ring.append(byte) }
        let (first, bytes) = read(&ring, 3)
        XCTAssertEqual(first, .read(3)); XCTAssertEqual(bytes, Array("hel".utf8))
        let (second, rest) = read(&ring, 100)
        XCTAssertEqual(second, .read(2)); XCTAssertEqual(rest, Array("lo".utf8))
        XCTAssertTrue(ring.isEmpty)
    }

    func testFullRingDropsAndWrapsInTwoPieces() {
        var ring = ConsoleInputRing()
        for i in 0..<100 { ring.append(UInt8(i)) }
        _ = read(&ring, 90)
        for i in 100..<250 { ring.append(UInt8(i)) }   // 10 + 150 > 128: 32 dropped
        XCTAssertTrue(ring.isFull)
        XCTAssertEqual(ring.dropped, 32)
        var pieces: [Int] = []
        var out: [UInt8] = []
        XCTAssertEqual(ring.read(upTo: 200) { piece, offset in
            XCTAssertEqual(offset, out.count); pieces.append(piece.count); out += piece; return true
        }, .read(128))
        XCTAssertEqual(pieces, [38, 90])
        XCTAssertEqual(out, (90..<218).map { UInt8($0) })
    }

    func testFaultKeepsTheFailedPiece() {
        var ring = ConsoleInputRing()
        for i in 0..<120 { ring.append(UInt8(i)) }
        _ = read(&ring, 100)
        for i in 120..<140 { ring.append(UInt8(i)) }  // wraps: pieces of 28 and 12
        XCTAssertEqual(read(&ring, 64, failAt: 1).0, .fault)
        XCTAssertEqual(ring.count, 12)
        XCTAssertEqual(read(&ring, 64, failAt: 0).0, .fault)
        XCTAssertEqual(read(&ring, 64).1, (128..<140).map { UInt8($0) })
    }

    /// Property: the ring behaves as a bounded FIFO queue under random appends and reads.
    func testRandomTrafficMatchesAQueue() {
        var generator = SeededGenerator(seed: 0x5E_21A1)
        var ring = ConsoleInputRing()
        var model: [UInt8] = []
        for _ in 0..<5000 {
            if generator.next() % 3 != 0 {
                let byte = UInt8(truncatingIfNeeded: generator.next())
                XCTAssertEqual(ring.append(byte), model.count < 128)
                if model.count < 128 { model.append(byte) }
            } else {
                let limit = Int(generator.next() % 140)
                let (result, bytes) = read(&ring, limit)
                let n = min(limit, model.count)
                XCTAssertEqual(result, .read(n))
                XCTAssertEqual(bytes, Array(model.prefix(n)))
                model.removeFirst(n)
            }
            XCTAssertEqual(ring.count, model.count)
        }
    }
}
