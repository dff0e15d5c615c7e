import XCTest
@testable import ApusCore

final class DescriptorTests: XCTestCase {
    /// The values Xen's boot GDT holds for the same selectors (facts, not code).
    func testFlatSegmentsMatchXensGDT() {
        XCTAssertEqual(SegmentDescriptor.flatCode(dpl: 0, long: true), 0x00AF_9A00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.flatData(dpl: 0), 0x00CF_9200_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.flatCode(dpl: 3, long: false), 0x00CF_FA00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.flatData(dpl: 3), 0x00CF_F200_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.flatCode(dpl: 3, long: true), 0x00AF_FA00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.flatCode(dpl: 0, long: false), 0x00CF_9A00_0000_FFFF)
        XCTAssertEqual(SegmentDescriptor.dpl(of: 0x00AF_FA00_0000_FFFF), 3)
        XCTAssertTrue(SegmentDescriptor.isPresent(0x00AF_FA00_0000_FFFF))
    }

    func testTSSDescriptorSplitsBaseAcrossFields() {
        let d = SystemDescriptor(base: 0xFFFF_82D0_4012_3456, limit: 0x67, type: SystemDescriptor.availableTSS)
        XCTAssertEqual(d.low & 0xFFFF, 0x67)
        XCTAssertEqual((d.low >> 16) & 0xFF_FFFF, 0x12_3456)
        XCTAssertEqual((d.low >> 56) & 0xFF, 0x40)
        XCTAssertEqual((d.low >> 40) & 0xFF, 0x89)  // present, DPL 0, type 9
        XCTAssertEqual(d.high, 0xFFFF_82D0)
    }

    func testGateRoundTripsHandlerAndFields() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let handler = UInt64.random(in: .min ... .max, using: &rng)
            let ist = Int.random(in: 0...7, using: &rng)
            let dpl = Int.random(in: 0...3, using: &rng)
            let gate = GateDescriptor(handler: handler, selector: Selector.hypervisorCode64, ist: ist, kind: .interrupt, dpl: dpl)
            XCTAssertEqual(gate.handler, handler)
            XCTAssertEqual(gate.ist, ist)
            XCTAssertEqual(gate.dpl, dpl)
            XCTAssertEqual((gate.low >> 16) & 0xFFFF, 0xE008)
            XCTAssertEqual((gate.low >> 40) & 0x9F, 0x8E)  // present, interrupt gate
        }
    }

    func testSelectorsIndexTheReservedPage() {
        XCTAssertEqual(Int(Selector.hypervisorCode64 >> 3), Selector.firstReservedEntry + 1)
        XCTAssertEqual(Selector.ring3Code64 & 3, 3)
        XCTAssertEqual(TSSLayout.istOffset(1), 36)
        XCTAssertEqual(TSSLayout.istOffset(7), 84)
    }
}
