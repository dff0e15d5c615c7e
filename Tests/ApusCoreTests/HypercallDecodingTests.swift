import XCTest
@testable import ApusCore

final class HypercallDecodingTests: XCTestCase {
    func testConsoleIO() {
        XCTAssertEqual(ConsoleIORequest.decode(command: 0, count: 300), .write(count: 300))
        XCTAssertEqual(ConsoleIORequest.decode(command: 0, count: 0), .write(count: 0))
        XCTAssertEqual(ConsoleIORequest.decode(command: 1, count: 16), .read(count: 16))
        XCTAssertEqual(ConsoleIORequest.decode(command: 0, count: 0xFFFF_FFFF), .invalidCount, "int -1")
        XCTAssertEqual(ConsoleIORequest.decode(command: 0, count: 0x1_0000_0005), .write(count: 5), "an int: upper bits ignored")
        XCTAssertEqual(ConsoleIORequest.decode(command: 2, count: 1), .unknown)
        XCTAssertEqual(ConsoleIORequest.decode(command: 0xFFFF_FFFF_0000_0000, count: 1), .write(count: 1))
    }

    func testSchedOps() {
        XCTAssertEqual(SchedRequest.decode(command: 0, argument: 0), .yield)
        XCTAssertEqual(SchedRequest.decode(command: 2, argument: 0x1000), .shutdown(argument: 0x1000))
        XCTAssertEqual(SchedRequest.decode(command: 4, argument: 8), .remoteShutdown(argument: 8))
        XCTAssertEqual(SchedRequest.decode(command: 7, argument: 0), .unknown)
        XCTAssertEqual(SchedRequest.decode(command: 99, argument: 0), .unknown)
        XCTAssertEqual(ShutdownReason(rawValue: 3), .crash)
        XCTAssertNil(ShutdownReason(rawValue: 6))
    }

    func testUpdateVAFlags() {
        XCTAssertEqual(UpdateVAFlags.decode(0), UpdateVAFlags(flush: .none, scope: .local))
        XCTAssertEqual(UpdateVAFlags.decode(2), UpdateVAFlags(flush: .onePage, scope: .local))
        XCTAssertEqual(UpdateVAFlags.decode(2 | 4), UpdateVAFlags(flush: .onePage, scope: .allVCPUs))
        XCTAssertEqual(UpdateVAFlags.decode(1 | 0xFFFF_8800_0000_1000),
                       UpdateVAFlags(flush: .wholeTLB, scope: .vcpuMask(pointer: 0xFFFF_8800_0000_1000)))
        XCTAssertEqual(UpdateVAFlags.decode(3), UpdateVAFlags(flush: .none, scope: .local), "Xen 4.17 flushes nothing")
    }

    func testMMUExtOps() {
        XCTAssertEqual(MMUExtRequest.decode(command: 0, argument1: 0x123, argument2: 0), .pin(level: 1, frame: 0x123))
        XCTAssertEqual(MMUExtRequest.decode(command: 3, argument1: 0x124, argument2: 0), .pin(level: 4, frame: 0x124))
        XCTAssertEqual(MMUExtRequest.decode(command: 5, argument1: 7, argument2: 0), .newBasePointer(frame: 7))
        XCTAssertEqual(MMUExtRequest.decode(command: 15, argument1: 0, argument2: 0), .newUserBasePointer(frame: 0))
        XCTAssertEqual(MMUExtRequest.decode(command: 10, argument1: 0, argument2: 0), .flushTLB)
        XCTAssertEqual(MMUExtRequest.decode(command: 11, argument1: 0x4000, argument2: 0), .invalidatePage(address: 0x4000))
        XCTAssertEqual(MMUExtRequest.decode(command: 13, argument1: 0x10000, argument2: 16), .setLDT(base: 0x10000, entries: 16))
        XCTAssertEqual(MMUExtRequest.decode(command: 13, argument1: 0x10008, argument2: 16), .invalid, "base not page-aligned")
        XCTAssertEqual(MMUExtRequest.decode(command: 13, argument1: 0x10000, argument2: 8193), .invalid)
        XCTAssertEqual(MMUExtRequest.decode(command: 13, argument1: 0, argument2: 0), .setLDT(base: 0, entries: 0))
        XCTAssertEqual(MMUExtRequest.decode(command: 14, argument1: 0, argument2: 0), .unknown, "unused command 14")
        XCTAssertEqual(MMUExtRequest.decode(command: 0xFFFF_FFFF, argument1: 0, argument2: 0), .unknown)
    }

    /// Every 32-bit command decodes to something, and only the documented ones are known.
    func testEveryCommandDecodes() {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<10_000 {
            let command = UInt32.random(in: 0...UInt32.max, using: &generator)
            let request = MMUExtRequest.decode(command: command, argument1: .random(in: 0...UInt64.max, using: &generator),
                                               argument2: .random(in: 0...UInt64.max, using: &generator))
            if command > 15 || command == 12 || command == 14 {
                XCTAssertEqual(request, .unknown, "\(command)")
            } else {
                XCTAssertNotEqual(request, .unknown, "\(command)")
            }
        }
    }
}
