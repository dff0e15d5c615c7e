// Writable page tables (XENFEAT_writable_page_tables): a PV guest may write its L1 page
// tables with ordinary instructions; the page is mapped read-only, the write faults, and
// the hypervisor emulates it after checking the new entry like an mmu_update. This file
// decodes the faulting instruction, as pure logic: which value the page-table entry
// would hold afterwards, and what the instruction does to registers and flags.
//
// Covered (what kernels use on page-table entries): MOV r/m,r and MOV r/m,imm (1, 2, 4, 8
// bytes), XCHG r/m,r, CMPXCHG r/m,r, OR/AND/XOR r/m,r and r/m,imm, BTS/BTR/BTC r/m,imm8
// and r/m,r, with operand-size, REX, LOCK and segment prefixes. The write must lie in the
// naturally aligned 8-byte entry that holds the faulting address and be naturally aligned
// itself (Xen's rule); anything else is not emulated (nil), and the guest gets its #PF.
// Imports nothing.

public struct PTEWriteEffect: Equatable {
    /// Instruction length: the guest resumes after it.
    public var length: Int
    /// The entry's value if the write takes effect.
    public var newEntry: UInt64
    /// A general register (0 rax ... 15 r15, the ModRM numbering) and its new full value.
    public var register: (index: Int, value: UInt64)?
    /// RFLAGS bits to replace (`flagsMask`) with `flags`.
    public var flagsMask: UInt64
    public var flags: UInt64

    public static func == (a: PTEWriteEffect, b: PTEWriteEffect) -> Bool {
        a.length == b.length && a.newEntry == b.newEntry && a.flagsMask == b.flagsMask && a.flags == b.flags
            && a.register?.index == b.register?.index && a.register?.value == b.register?.value
    }
}

public enum PTEWriteDecoder {
    static let carry: UInt64 = 1 << 0, parity: UInt64 = 1 << 2, zero: UInt64 = 1 << 6, sign: UInt64 = 1 << 7
    static let overflow: UInt64 = 1 << 11, adjust: UInt64 = 1 << 4
    static let arithmeticFlags: UInt64 = carry | parity | adjust | zero | sign | overflow

    /// `bytes`: the instruction (up to 15 bytes read at RIP); `address`: the faulting
    /// linear address (CR2); `entry`: the current 8-byte entry at `address & ~7`;
    /// `register(n)`: the guest's general register n (ModRM numbering).
    public static func decode(_ bytes: UnsafeRawBufferPointer, address: UInt64, entry: UInt64,
                              register: (Int) -> UInt64) -> PTEWriteEffect? {
        var at = 0
        var operand16 = false, rex: UInt8 = 0
        func byte() -> UInt8? {
            guard at < bytes.count && at < 15 else { return nil }
            defer { at += 1 }
            return bytes[at]
        }
        // Prefixes: LOCK, segment overrides (CR2 is already the linear address), 0x66.
        var opcode: UInt8 = 0
        prefixes: while true {
            guard let b = byte() else { return nil }
            switch b {
            case 0xF0, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65:
                continue prefixes
            case 0x66:
                operand16 = true
                continue prefixes
            case 0x40...0x4F:
                rex = b   // REX comes last, right before the opcode
                guard let next = byte() else { return nil }
                opcode = next
                break prefixes
            default:
                opcode = b
                break prefixes
            }
        }
        let wide = rex & 0x08 != 0
        var twoByte = false
        if opcode == 0x0F {
            guard let next = byte() else { return nil }
            twoByte = true
            opcode = next
        }
        // ModRM with a memory operand; its length (SIB, displacement) matters, not its address.
        guard let modrm = byte() else { return nil }
        let mod = modrm >> 6, regField = Int((modrm >> 3) & 7), rm = modrm & 7
        guard mod != 3 else { return nil }
        if rm == 4 {
            guard let sib = byte() else { return nil }
            if mod == 0 && sib & 7 == 5 { at += 4 }
        }
        if mod == 0 && rm == 5 { at += 4 }   // RIP-relative
        if mod == 1 { at += 1 }
        if mod == 2 { at += 4 }
        guard at <= bytes.count && at <= 15 else { return nil }
        let regIndex = regField | (rex & 0x04 != 0 ? 8 : 0)

        func immediate(_ size: Int) -> UInt64? {
            var value: UInt64 = 0
            for i in 0..<size {
                guard let b = byte() else { return nil }
                value |= UInt64(b) << UInt64(8 * i)
            }
            // Sign-extend to 64 bits (imm8/imm16/imm32 are signed).
            let shift = UInt64(64 - 8 * size)
            return UInt64(bitPattern: Int64(bitPattern: value << shift) >> Int64(shift))
        }

        let size: Int
        var source: UInt64 = 0
        enum Operation { case move, exchange, compareExchange, or, and, xor, bitSet, bitReset, bitComplement }
        var operation = Operation.move
        var bitIndex: UInt64 = 0
        let fullSize = wide ? 8 : (operand16 ? 2 : 4)
        switch (twoByte, opcode) {
        case (false, 0x88): size = 1; source = registerByte(regIndex, rex: rex, register)
        case (false, 0x89): size = fullSize; source = register(regIndex)
        case (false, 0xC6):
            guard regField == 0, let imm = immediate(1) else { return nil }
            size = 1; source = imm
        case (false, 0xC7):
            guard regField == 0, let imm = immediate(operand16 ? 2 : 4) else { return nil }
            size = fullSize; source = imm
        case (false, 0x87): size = fullSize; source = register(regIndex); operation = .exchange
        case (false, 0x09): size = fullSize; source = register(regIndex); operation = .or
        case (false, 0x21): size = fullSize; source = register(regIndex); operation = .and
        case (false, 0x31): size = fullSize; source = register(regIndex); operation = .xor
        case (false, 0x81), (false, 0x83):
            guard let imm = immediate(opcode == 0x83 ? 1 : (operand16 ? 2 : 4)) else { return nil }
            size = fullSize; source = imm
            switch regField {
            case 1: operation = .or
            case 4: operation = .and
            case 6: operation = .xor
            default: return nil
            }
        case (true, 0xB1): size = fullSize; source = register(regIndex); operation = .compareExchange
        case (true, 0xAB), (true, 0xB3), (true, 0xBB):
            size = fullSize
            bitIndex = register(regIndex)
            operation = opcode == 0xAB ? .bitSet : (opcode == 0xB3 ? .bitReset : .bitComplement)
        case (true, 0xBA):
            guard let imm = immediate(1) else { return nil }
            size = fullSize
            bitIndex = imm & UInt64(size * 8 - 1)
            switch regField {
            case 5: operation = .bitSet
            case 6: operation = .bitReset
            case 7: operation = .bitComplement
            default: return nil
            }
        default:
            return nil
        }
        // The write: naturally aligned, inside the entry.
        guard address & UInt64(size - 1) == 0 else { return nil }
        let shift = (address & 7) * 8
        let mask: UInt64 = size == 8 ? ~0 : ((1 << UInt64(size * 8)) - 1)
        let old = (entry >> shift) & mask
        var new = old
        var effect = PTEWriteEffect(length: at, newEntry: entry, register: nil, flagsMask: 0, flags: 0)
        switch operation {
        case .move:
            new = source & mask
        case .exchange:
            new = source & mask
            effect.register = (regIndex, merge(register(regIndex), old, size: size))
        case .compareExchange:
            let accumulator = register(0) & mask
            if accumulator == old {
                new = source & mask
            } else {
                effect.register = (0, merge(register(0), old, size: size))
            }
            effect.flagsMask = arithmeticFlags
            effect.flags = compareFlags(accumulator, old, size: size)
        case .or, .and, .xor:
            switch operation {
            case .or: new = old | (source & mask)
            case .and: new = old & source & mask
            default: new = (old ^ source) & mask
            }
            effect.flagsMask = arithmeticFlags
            effect.flags = logicFlags(new, size: size)
        case .bitSet, .bitReset, .bitComplement:
            guard bitIndex < UInt64(size * 8) else { return nil }   // a bit in another word
            let bit: UInt64 = 1 << bitIndex
            switch operation {
            case .bitSet: new = old | bit
            case .bitReset: new = old & ~bit
            default: new = old ^ bit
            }
            effect.flagsMask = carry
            effect.flags = old & bit != 0 ? carry : 0
        }
        effect.newEntry = (entry & ~(mask << shift)) | (new << shift)
        effect.length = at   // immediates were read after the effect was set up
        return effect
    }

    /// The register's new value when `size` bytes of it are written: 4-byte writes zero
    /// the upper half (x86-64's rule), 1- and 2-byte writes keep the rest.
    static func merge(_ full: UInt64, _ value: UInt64, size: Int) -> UInt64 {
        switch size {
        case 8: return value
        case 4: return value & 0xFFFF_FFFF
        case 2: return (full & ~0xFFFF) | (value & 0xFFFF)
        default: return (full & ~0xFF) | (value & 0xFF)
        }
    }

    /// Byte registers: with a REX prefix 4-7 are spl..dil, without it ah..bh.
    static func registerByte(_ index: Int, rex: UInt8, _ register: (Int) -> UInt64) -> UInt64 {
        if rex == 0 && index >= 4 && index < 8 { return (register(index - 4) >> 8) & 0xFF }
        return register(index) & 0xFF
    }

    static func logicFlags(_ result: UInt64, size: Int) -> UInt64 {
        var flags: UInt64 = 0
        if result == 0 { flags |= zero }
        if result >> UInt64(size * 8 - 1) & 1 != 0 { flags |= sign }
        if (result & 0xFF).nonzeroBitCount % 2 == 0 { flags |= parity }
        return flags
    }

    /// Flags of CMP accumulator, memory (what CMPXCHG sets).
    static func compareFlags(_ a: UInt64, _ b: UInt64, size: Int) -> UInt64 {
        let mask: UInt64 = size == 8 ? ~0 : ((1 << UInt64(size * 8)) - 1)
        let result = (a &- b) & mask
        var flags = logicFlags(result, size: size)
        if a < b { flags |= carry }
        let top = UInt64(size * 8 - 1)
        if ((a ^ b) & (a ^ result)) >> top & 1 != 0 { flags |= overflow }
        if (a ^ b ^ result) & 0x10 != 0 { flags |= adjust }
        return flags
    }
}
