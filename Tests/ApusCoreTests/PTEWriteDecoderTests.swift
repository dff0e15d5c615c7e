import XCTest
@testable import ApusCore

final class PTEWriteDecoderTests: XCTestCase {
    var registers = [UInt64](repeating: 0, count: 16)

    func decode(_ bytes: [UInt8], address: UInt64 = 0x1000, entry: UInt64 = 0x1111_0000_0000_2067) -> PTEWriteEffect? {
        let regs = registers
        return bytes.withUnsafeBytes { PTEWriteDecoder.decode($0, address: address, entry: entry, register: { regs[$0] }) }
    }

    func testMoves() {
        registers[6] = 0xABC0_0000_5067                                  // rsi
        XCTAssertEqual(decode([0x48, 0x89, 0x37])?.newEntry, 0xABC0_0000_5067, "mov [rdi], rsi")
        XCTAssertEqual(decode([0x48, 0x89, 0x37])?.length, 3)
        XCTAssertEqual(decode([0x48, 0x89, 0x77, 0x08], address: 0x1008)?.length, 4, "mov [rdi+8], rsi")
        XCTAssertEqual(decode([0x48, 0x89, 0xB7, 0, 1, 0, 0])?.length, 7, "disp32")
        XCTAssertEqual(decode([0x48, 0x89, 0x35, 0, 0, 0, 0])?.length, 7, "rip-relative")
        XCTAssertEqual(decode([0x48, 0x89, 0x34, 0x24])?.length, 4, "SIB, rsp base")
        XCTAssertEqual(decode([0x48, 0x89, 0x04, 0x25, 0, 0x10, 0, 0])?.length, 8, "SIB, no base: disp32")
        registers[8] = 0x1234                                             // r8
        XCTAssertEqual(decode([0x4C, 0x89, 0x07])?.newEntry, 0x1234, "REX.R: r8")
        XCTAssertEqual(decode([0x48, 0xC7, 0x07, 0x67, 0x20, 0, 0])?.newEntry, 0x2067, "mov qword [rdi], imm32")
        XCTAssertEqual(decode([0x48, 0xC7, 0x07, 0, 0, 0, 0x80])?.newEntry, 0xFFFF_FFFF_8000_0000, "imm32 sign-extended")
        // A 4-byte write to the upper half keeps the lower half.
        registers[0] = 0xDEAD_BEEF_0000_0042
        XCTAssertEqual(decode([0x89, 0x47, 0x04], address: 0x1004)?.newEntry, 0x0000_0042_0000_2067)
        // One byte: with REX, index 6 is sil; without, ah.
        registers[6] = 0x66
        XCTAssertEqual(decode([0x40, 0x88, 0x37])?.newEntry, 0x1111_0000_0000_2066)
        registers[0] = 0x4500
        XCTAssertEqual(decode([0x88, 0x27])?.newEntry, 0x1111_0000_0000_2045, "mov [rdi], ah")
        XCTAssertEqual(decode([0xF0, 0x65, 0x48, 0x89, 0x37])?.length, 5, "prefixes")
    }

    func testAtomicsReportRegistersAndFlags() {
        registers[2] = 0x9067                                             // rdx
        let xchg = decode([0x48, 0x87, 0x17])
        XCTAssertEqual(xchg?.newEntry, 0x9067)
        XCTAssertEqual(xchg?.register?.index, 2)
        XCTAssertEqual(xchg?.register?.value, 0x1111_0000_0000_2067)
        // cmpxchg that matches: the entry changes, ZF set, rax untouched.
        registers[0] = 0x1111_0000_0000_2067
        let hit = decode([0xF0, 0x48, 0x0F, 0xB1, 0x17])
        XCTAssertEqual(hit?.newEntry, 0x9067)
        XCTAssertNil(hit?.register)
        XCTAssertEqual((hit?.flags ?? 0) & (1 << 6), 1 << 6)
        // cmpxchg that misses: the entry stays, rax gets it, ZF clear.
        registers[0] = 5
        let miss = decode([0xF0, 0x48, 0x0F, 0xB1, 0x17])
        XCTAssertEqual(miss?.newEntry, 0x1111_0000_0000_2067)
        XCTAssertEqual(miss?.register?.value, 0x1111_0000_0000_2067)
        XCTAssertEqual((miss?.flags ?? 1) & (1 << 6), 0)
        // lock btr qword [rdi], 1 (clear the write bit): CF = old bit.
        let btr = decode([0xF0, 0x48, 0x0F, 0xBA, 0x37, 0x01])
        XCTAssertEqual(btr?.newEntry, 0x1111_0000_0000_2065)
        XCTAssertEqual(btr?.flags, 1)
        XCTAssertEqual(btr?.length, 6)
        // and qword [rdi], ~0x20 (clear accessed) via imm8.
        XCTAssertEqual(decode([0x48, 0x83, 0x27, 0xDF])?.newEntry, 0x1111_0000_0000_2047)
        registers[1] = 0x40
        XCTAssertEqual(decode([0x48, 0x09, 0x0F])?.newEntry, 0x1111_0000_0000_2067, "or: already set")
    }

    func testWhatIsNotEmulated() {
        XCTAssertNil(decode([0x48, 0x89, 0x37], address: 0x1004), "8 bytes not aligned")
        XCTAssertNil(decode([0x48, 0x89, 0xF7]), "register destination")
        XCTAssertNil(decode([0x48, 0x8B, 0x37]), "a load")
        XCTAssertNil(decode([0x48, 0x89]), "cut short")
        registers[6] = 0x66
        XCTAssertNil(decode([0x48, 0x0F, 0xAB, 0x37]), "bts with a register index past the word (rsi = 0x66)")
        XCTAssertNil(decode([0xF3, 0x48, 0xA5]), "rep movs")
        XCTAssertNil(decode([UInt8](repeating: 0xF0, count: 20)), "prefixes only")
    }

    /// Random bytes never crash the decoder, never report more than 15 bytes, and a write
    /// never touches bytes of the entry outside the operand.
    func testRandomBytes() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...16, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            for i in 0..<16 { registers[i] = UInt64.random(in: 0...UInt64.max, using: &generator) }
            let address = 0x1000 + UInt64.random(in: 0..<8, using: &generator)
            let entry = UInt64.random(in: 0...UInt64.max, using: &generator)
            guard let effect = decode(bytes, address: address, entry: entry) else { continue }
            XCTAssertLessThanOrEqual(effect.length, min(15, count))
            let low = (address & 7) * 8
            if low > 0 { XCTAssertEqual(effect.newEntry & ((1 << low) - 1), entry & ((1 << low) - 1)) }
        }
    }
}
