import XCTest
@testable import ApusCore

final class FirmwareAMLTests: XCTestCase {
    private let s5Name: [UInt8] = [0x5F, 0x53, 0x35, 0x5F]

    private func find(_ aml: [UInt8], state: Int = 5) -> ACPISleepType? {
        withWindow(ACPIBuilder.dsdt(aml)) { ACPISleepType.find(state: state, in: $0) }
    }

    /// `Name(_S5_, Package(n){elements})` with a one-byte PkgLength.
    private func s5(_ elements: [UInt8], count: UInt8? = nil, root: Bool = false) -> [UInt8] {
        let body = [count ?? 4] + elements
        return [0x08] + (root ? [0x5C] : []) + s5Name + [0x12, UInt8(1 + body.count)] + body
    }

    func testEncodingsOfTheValues() {
        XCTAssertEqual(find(s5([0x00, 0x00, 0x00, 0x00])), ACPISleepType(typeA: 0, typeB: 0))        // QEMU
        XCTAssertEqual(find(s5([0x0A, 0x05, 0x0A, 0x07, 0x00, 0x00])), ACPISleepType(typeA: 5, typeB: 7))
        XCTAssertEqual(find(s5([0x01, 0x0A, 0x07], count: 2)), ACPISleepType(typeA: 1, typeB: 7))
        XCTAssertEqual(find(s5([0x0B, 0x07, 0x00, 0x0C, 0x06, 0, 0, 0])), ACPISleepType(typeA: 7, typeB: 6))
        XCTAssertEqual(find(s5([0x0E, 3, 0, 0, 0, 0, 0, 0, 0, 0x01])), ACPISleepType(typeA: 3, typeB: 1))
        XCTAssertEqual(find(s5([0x0A, 0x05, 0x0A, 0x05], root: true)), ACPISleepType(typeA: 5, typeB: 5))
        // A single element packs SLP_TYPa in its low byte and SLP_TYPb in the next.
        XCTAssertEqual(find(s5([0x0B, 0x05, 0x07], count: 1)), ACPISleepType(typeA: 5, typeB: 7))
    }

    func testMultiBytePkgLength() {
        // PkgLength 0x41 0x01: two bytes, length = 1 | (1 << 4) = 17 (counting its own two bytes).
        let package = [0x08] + s5Name + [0x12, 0x41, 0x01, 0x04, 0x0A, 0x05, 0x0A, 0x05] + [UInt8](repeating: 0, count: 10)
        XCTAssertEqual(find(package), ACPISleepType(typeA: 5, typeB: 5))
        XCTAssertNil(find(Array(package.dropLast())))                       // one byte short of its length
        withWindow([0x41, 0x01, 0xC2, 0x34, 0x12, 0x56]) { window in
            XCTAssertTrue(ACPISleepType.pkgLength(at: 0, in: window)! == (17, 2))
            XCTAssertTrue(ACPISleepType.pkgLength(at: 2, in: window)! == (2 | 0x34 << 4 | 0x12 << 12 | 0x56 << 20, 4))
            XCTAssertTrue(ACPISleepType.pkgLength(at: 4, in: window)! == (0x12, 1))
            XCTAssertNil(ACPISleepType.pkgLength(at: 6, in: window))
        }
        withWindow([0xC2, 0x34]) { XCTAssertNil(ACPISleepType.pkgLength(at: 0, in: $0)) }
    }

    func testFalseMatchesAreSkipped() {
        // "_S5_" used as a method call argument (no NameOp before it), then the real object.
        let aml: [UInt8] = [0x70] + s5Name + [0x60] + s5([0x0A, 0x05, 0x0A, 0x05])
        XCTAssertEqual(find(aml), ACPISleepType(typeA: 5, typeB: 5))
        // Even when what follows the stray name looks like a package.
        let lookalike: [UInt8] = [0x70] + s5Name + [0x12, 0x06, 0x04, 0x0A, 0x01, 0x0A, 0x01, 0x00, 0x00]
        XCTAssertEqual(find(lookalike + s5([0x0A, 0x05, 0x0A, 0x05])), ACPISleepType(typeA: 5, typeB: 5))
        // A NameOp "_S5_" that is not a package (a plain integer) does not count.
        XCTAssertNil(find([0x08] + s5Name + [0x0A, 0x05]))
        // Other states are other names.
        XCTAssertNil(find(s5([0, 0, 0, 0]), state: 3))
        XCTAssertEqual(find([0x08, 0x5F, 0x53, 0x33, 0x5F, 0x12, 0x06, 0x04, 0x01, 0x01, 0x00, 0x00], state: 3),
                       ACPISleepType(typeA: 1, typeB: 1))
        XCTAssertNil(find(s5([0, 0, 0, 0]), state: 9))
    }

    func testTruncatedAndOversizedPackages() {
        // PkgLength running past the end of the table.
        XCTAssertNil(find([0x08] + s5Name + [0x12, 0x3F, 0x04, 0x00, 0x00]))
        // The package ends before the second element.
        XCTAssertNil(find([0x08] + s5Name + [0x12, 0x04, 0x04, 0x0A, 0x05] + [0x0A, 0x05, 0, 0]))
        // NumElements zero, an unknown element opcode, a BytePrefix cut by the table end.
        XCTAssertNil(find(s5([], count: 0)))
        XCTAssertNil(find(s5([0x5B, 0x00, 0x00, 0x00])))
        XCTAssertNil(find([0x08] + s5Name + [0x12, 0x06, 0x04, 0x0A]))
        // The name right at the end of the table.
        XCTAssertNil(find([0x08] + s5Name))
        XCTAssertNil(find([]))
        // A table length field shorter than the AML hides it.
        var bytes = ACPIBuilder.dsdt(s5([0, 0, 0, 0]))
        bytes.fwSetLE32(40, at: 4)
        XCTAssertNil(withWindow(bytes) { ACPISleepType.find(state: 5, in: $0) })
    }

    func testPM1ControlValues() {
        let qemu = ACPISleepType(typeA: 0, typeB: 0)
        XCTAssertEqual(qemu.pm1aControlValue(), 0x2000)
        let typical = ACPISleepType(typeA: 7, typeB: 5)
        XCTAssertEqual(typical.pm1aControlValue(), 0x3C00)
        XCTAssertEqual(typical.pm1bControlValue(), 0x3400)
        // SCI_EN (bit 0) and other bits are kept, old SLP_TYP/SLP_EN replaced.
        XCTAssertEqual(typical.pm1aControlValue(current: 0x1401), 0x3C01)
        XCTAssertEqual(typical.pm1aControlValue(current: 0x2001, enable: false), 0x1C01)
        // Values wider than the 3-bit field are cut to it.
        XCTAssertEqual(ACPISleepType.pm1ControlValue(sleepType: 0xFF), 0x3C00)
    }

    /// Random AML around a real _S5_ object: the search never traps and, when the object is
    /// intact and first, finds it.
    func testRandomAMLNeverTraps() {
        var random = SeededGenerator(seed: 0xA31)
        for _ in 0..<2000 {
            var aml = (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...0x20, using: &random) }
            let hasObject = Bool.random(using: &random)
            if hasObject { aml += s5([0x0A, 0x05, 0x0A, 0x06]) }
            aml += (0..<Int.random(in: 0...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let corrupt = Bool.random(using: &random) && !aml.isEmpty
            if corrupt { aml[Int.random(in: 0..<aml.count, using: &random)] = UInt8.random(in: 0...255, using: &random) }
            let found = find(aml)
            if hasObject && !corrupt { XCTAssertEqual(found, ACPISleepType(typeA: 5, typeB: 6)) }
            if let found {
                XCTAssertEqual(found.pm1aControlValue() & ~ACPISleepType.sleepTypeMask, ACPISleepType.sleepEnable)
            }
        }
    }
}
