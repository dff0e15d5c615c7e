import XCTest
@testable import ApusCore

final class PVBounceTests: XCTestCase {
    let kernelStack: UInt64 = 0xFFFF_FFFF_8040_0000

    func context(cs: UInt64, rsp: UInt64, rflags: UInt64 = 0x202) -> InterruptedContext {
        InterruptedContext(rip: 0x4000_1234, cs: cs, rflags: rflags, rsp: rsp, ss: 0xE02B, rcx: 0x11, r11: 0x22)
    }

    func testUserModeFaultGoesToTheRegisteredKernelStack() throws {
        let frame = try Bounce.make(
            interrupted: context(cs: 0xE033, rsp: 0x7FFF_0000_1008), inKernelMode: false,
            kernelStackPointer: kernelStack + 8, upcallMask: 0, iopl: 0,
            request: BounceRequest(handler: 0xFFFF_FFFF_8100_0000, errorCode: 6, masksEvents: false))
        XCTAssertTrue(frame.switchesToKernelMode)
        XCTAssertEqual(frame.wordCount, 8)
        XCTAssertEqual(frame.stackPointer, kernelStack - 64)  // aligned down, then 8 words
        let words = (0..<frame.wordCount).map { frame.words[$0] }
        XCTAssertEqual(words, [0x11, 0x22, 6, 0x4000_1234, 0xE033, 0x202, 0x7FFF_0000_1008, 0xE02B])
        XCTAssertEqual(frame.resume.rip, 0xFFFF_FFFF_8100_0000)
        XCTAssertEqual(frame.resume.cs, 0xE033)
        XCTAssertEqual(frame.resume.ss, 0xE02B)
        XCTAssertEqual(frame.resume.rsp, frame.stackPointer)
        XCTAssertEqual(frame.upcallMaskAfter, 0)
    }

    func testKernelModeFaultStaysOnItsStackAndShowsRPL0() throws {
        let frame = try Bounce.make(
            interrupted: context(cs: 0xE033, rsp: kernelStack - 0x100, rflags: 0x10202), inKernelMode: true,
            kernelStackPointer: 0, upcallMask: 1, iopl: 0,
            request: BounceRequest(handler: 0xFFFF_FFFF_8100_0040, masksEvents: true))
        XCTAssertFalse(frame.switchesToKernelMode)
        XCTAssertEqual(frame.wordCount, 7)
        XCTAssertEqual(frame.stackPointer, kernelStack - 0x100 - 56)
        XCTAssertEqual(frame.words[3], 0xE030 | (1 << 32), "RPL 0 and the saved mask in bits 32-39")
        XCTAssertEqual(frame.words[4] & (1 << 9), 0, "IF shows the events were masked")
        XCTAssertEqual(frame.resume.rflags & (1 << 16), 0, "RF cleared on delivery")
        XCTAssertEqual(frame.upcallMaskAfter, 1)
    }

    func testRefusesMissingHandlersAndStacksInApusSlot() {
        XCTAssertThrowsError(try Bounce.make(
            interrupted: context(cs: 0xE033, rsp: 0x1000), inKernelMode: true, kernelStackPointer: 0,
            upcallMask: 0, iopl: 0, request: BounceRequest(handler: 0, masksEvents: false))) {
            XCTAssertEqual($0 as? BounceError, .noHandler)
        }
        XCTAssertThrowsError(try Bounce.make(
            interrupted: context(cs: 0xE033, rsp: 0x1000), inKernelMode: false,
            kernelStackPointer: 0xFFFF_8300_0000_1000, upcallMask: 0, iopl: 0,
            request: BounceRequest(handler: 0xFFFF_FFFF_8100_0000, masksEvents: false))) {
            XCTAssertEqual($0 as? BounceError, .badStack(0xFFFF_8300_0000_1000))
        }
        XCTAssertThrowsError(try Bounce.make(
            interrupted: context(cs: 0xE033, rsp: 0x20), inKernelMode: true, kernelStackPointer: 0,
            upcallMask: 0, iopl: 0, request: BounceRequest(handler: 0xFFFF_FFFF_8100_0000, masksEvents: false)))
    }

    func testIretRestoresUserContextAndEventMask() {
        var words = InlineArray<9, UInt64>(repeating: 0)
        let values: [UInt64] = [0x99, 0x22, 0x11, 0, 0x4000_1234, 0xE033, 0x202, 0x7FFF_0000_1008, 0xE02B]
        for (i, v) in values.enumerated() { words[i] = v }
        let result = Iret.decode(words, iopl: 0)
        XCTAssertEqual(result.rax, 0x99)
        XCTAssertTrue(result.toUserMode)
        XCTAssertEqual(result.rcx, 0x11)
        XCTAssertEqual(result.r11, 0x22)
        XCTAssertEqual(result.upcallMask, 0)
        words[3] = Iret.inSyscallFlag
        words[5] = 0xE030
        words[6] = 0x002
        let fromSyscall = Iret.decode(words, iopl: 0)
        XCTAssertNil(fromSyscall.rcx)
        XCTAssertFalse(fromSyscall.toUserMode)
        XCTAssertEqual(fromSyscall.cs, 0xE033)
        XCTAssertEqual(fromSyscall.upcallMask, 1)
        XCTAssertNotEqual(fromSyscall.rflags & (1 << 9), 0, "real IF stays on")
    }

    func testGuestAddressRanges() {
        XCTAssertTrue(GuestAddress.isAccessible(0, length: 4096))
        XCTAssertTrue(GuestAddress.isAccessible(0x7FFF_FFFF_F000, length: 0x1000))
        XCTAssertFalse(GuestAddress.isAccessible(0x7FFF_FFFF_F000, length: 0x1001))
        XCTAssertFalse(GuestAddress.isAccessible(0xFFFF_8000_0000_0000, length: 1))
        XCTAssertFalse(GuestAddress.isAccessible(0xFFFF_87FF_FFFF_FFF0, length: 0x20))
        XCTAssertTrue(GuestAddress.isAccessible(0xFFFF_8800_0000_0000, length: 1))
        XCTAssertTrue(GuestAddress.isAccessible(0xFFFF_FFFF_FFFF_F000, length: 0x1000))
        XCTAssertFalse(GuestAddress.isAccessible(0xFFFF_FFFF_FFFF_F000, length: 0x1001))
        XCTAssertTrue(GuestAddress.isAccessible(0xFFFF_8000_0000_0000, length: 0))
    }

    func testTrapTableFixesSelectorsAndRefusesApusAddresses() {
        var table = GuestTrapTable()
        XCTAssertTrue(table.set(vector: 14, flags: 4, codeSelector: 0xE030, address: 0xFFFF_FFFF_8100_0000))
        XCTAssertEqual(table[14].codeSelector, 0xE033)
        XCTAssertTrue(table[14].masksEvents)
        XCTAssertTrue(table.set(vector: 13, flags: 0, codeSelector: 0xE033, address: 0xFFFF_82D0_4020_0000),
                      "Xen 4.17 takes a handler in its own range (the guest faults when it is used)")
        XCTAssertFalse(table.set(vector: 13, flags: 0, codeSelector: 0xE033, address: 0x0000_8000_0000_0000),
                       "non-canonical: -EINVAL")
        XCTAssertEqual(table[13].address, 0xFFFF_82D0_4020_0000, "the refused record changed nothing")
        table.clear()
        XCTAssertFalse(table[14].isSet)
    }
}
