import XCTest
@testable import ApusCore

final class DescriptorRulesTests: XCTestCase {
    /// Values the descriptors guest saw Xen 4.17 store or refuse.
    func testXensFixupsAndRefusals() {
        // DPL-0 code and data read back with DPL 3 (byte 5: 0x9b -> 0xfb, 0x93 -> 0xf3).
        XCTAssertEqual(DescriptorRules.check(0x00AF_9B00_0000_FFFF), 0x00AF_FB00_0000_FFFF)
        XCTAssertEqual(DescriptorRules.check(0x00CF_9300_0000_FFFF), 0x00CF_F300_0000_FFFF)
        XCTAssertEqual(DescriptorRules.check(0x00CF_F300_0000_FFFF), 0x00CF_F300_0000_FFFF)
        // A call gate to FLAT_KERNEL_CS: DPL 0, the old DPL (3) in the selector's RPL.
        XCTAssertEqual(DescriptorRules.check(0x8000_EC00_E033_1000), 0x8000_8C00_E033_1000)
        // A call gate to a guest GDT selector: 0x08 becomes 0x0b.
        XCTAssertEqual(DescriptorRules.check(0x0000_EC00_0008_1000), 0x0000_8C00_000B_1000)
        // Not present: kept whatever it holds. Zero: kept.
        XCTAssertEqual(DescriptorRules.check(0x1234_0900_5678_9ABC), 0x1234_0900_5678_9ABC)
        XCTAssertEqual(DescriptorRules.check(0), 0)
        // Refused: 64-bit TSS, LDT, interrupt and trap gates, gates to Xen's selectors,
        // gates with reserved bits.
        XCTAssertNil(DescriptorRules.check(0x0000_8900_0000_0067))
        XCTAssertNil(DescriptorRules.check(0x0000_8200_0000_0FFF))
        XCTAssertNil(DescriptorRules.check(0x0000_EE00_E033_1000))
        XCTAssertNil(DescriptorRules.check(0x0000_EF00_E033_1000))
        XCTAssertNil(DescriptorRules.check(0x0000_EC00_E008_1000))
        XCTAssertNil(DescriptorRules.check(0x0000_EC00_E030_1000))
        XCTAssertNil(DescriptorRules.check(0x0000_EC01_E033_1000))
        XCTAssertNil(DescriptorRules.check(0x0000_EC00_0000_1000), "a gate to the null selector")
        XCTAssertNotNil(DescriptorRules.check(0x0000_EC00_0004_1000), "a gate to an LDT selector")
    }

    /// Whatever is accepted and present is either ring-3 code/data, a gate that traps
    /// (DPL 0) to a guest selector, or a type-0 half: never anything more privileged.
    func testRandomDescriptorsNeverGainPrivilege() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<20_000 {
            let raw = UInt64.random(in: .min ... .max, using: &generator)
            guard let stored = DescriptorRules.check(raw) else { continue }
            let high = UInt32(truncatingIfNeeded: stored >> 32)
            guard high & (1 << 15) != 0 else { XCTAssertEqual(stored, raw); continue }
            if high & (1 << 12) != 0 {
                XCTAssertEqual((high >> 13) & 3, 3)
            } else {
                let type = (high >> 8) & 0xF
                XCTAssertTrue(type == 0 || type == 0xC)
                if type == 0xC {
                    XCTAssertEqual((high >> 13) & 3, 0)
                    XCTAssertTrue(DescriptorRules.gateSelectorIsGuests(UInt16(truncatingIfNeeded: stored >> 16)))
                }
            }
        }
    }
}
