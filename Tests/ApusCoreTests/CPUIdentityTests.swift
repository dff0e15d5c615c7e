import XCTest
@testable import ApusCore

final class CPUIdentityTests: XCTestCase {
    /// The CPU in the reference log: "AMD, Family 15 (0xf), Model 107 (0x6b), Stepping 1 (raw 00060fb1)".
    func testQEMUsDefaultAMDModel() {
        var leaves = CPUIDLeaves()
        leaves.maxBasicLeaf = 0xD
        leaves.vendor = (0x6874_7541, 0x6974_6E65, 0x444D_4163)
        leaves.leaf1.eax = 0x0006_0FB1
        let cpu = CPUIdentity(leaves)
        XCTAssertEqual(cpu.vendor, .amd)
        XCTAssertEqual(cpu.family, 15)
        XCTAssertEqual(cpu.model, 107)
        XCTAssertEqual(cpu.stepping, 1)
        var sink = ByteBufferSink()
        cpu.writeSummary(into: &sink)
        XCTAssertEqual(sink.text, "CPU Vendor: AMD, Family 15 (0xf), Model 107 (0x6b), Stepping 1 (raw 00060fb1)")
    }

    func testIntelFamily6UsesExtendedModel() {
        var leaves = CPUIDLeaves()
        leaves.vendor = (0x756E_6547, 0x4965_6E69, 0x6C65_746E)
        leaves.leaf1.eax = 0x0009_06EA   // Coffee Lake: family 6, model 0x9e, stepping 10
        let cpu = CPUIdentity(leaves)
        XCTAssertEqual(cpu.vendor, .intel)
        XCTAssertEqual(cpu.family, 6)
        XCTAssertEqual(cpu.model, 0x9E)
        XCTAssertEqual(cpu.stepping, 10)
    }

    func testFamily5IgnoresExtendedFields() {
        var leaves = CPUIDLeaves()
        leaves.leaf1.eax = 0x00F5_0543
        let cpu = CPUIdentity(leaves)
        XCTAssertEqual(cpu.family, 5)
        XCTAssertEqual(cpu.model, 4)
        XCTAssertEqual(cpu.vendor, .other)
    }

    func testRequiredFeatures() {
        var leaves = CPUIDLeaves()
        leaves.maxBasicLeaf = 7
        leaves.leaf1.edx = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << 24)
        leaves.leaf1.ecx = 1 << 13
        leaves.extended1.edx = (1 << 11) | (1 << 20) | (1 << 29)
        XCTAssertNil(CPUIdentity(leaves).missingRequiredFeature)
        leaves.extended1.edx &= ~(1 << 20)
        XCTAssertTrue(CPUIdentity(leaves).missingRequiredFeature?.name.description == "nx")
        // Leaf 7 bits do not count when the CPU does not report leaf 7.
        leaves.leaf7.ebx = 1 << 7
        XCTAssertTrue(CPUIdentity(leaves).has(.smep))
        leaves.maxBasicLeaf = 1
        XCTAssertFalse(CPUIdentity(leaves).has(.smep))
    }
}
