// InflateHuffman: one canonical Huffman code of a DEFLATE block (RFC 1951 §3.2.2), built from
// code lengths and decoded from the low bits of the inflater's bit buffer.
//
// Decoding looks the next `fastBits` input bits up in a table; codes longer than that (rare:
// they belong to the least frequent symbols) and bit patterns that are no code at all fall
// back to a walk of the canonical code, one bit at a time, that needs only the per-length
// counts and the symbols sorted by code. `InflateHuffmanView` does the decoding, reading the
// tables in place through a pointer.
// Invariants: after a successful `build`, every fast-table entry is 0 (not decodable in
// `fastBits` bits) or `length << 9 | symbol` with 1 <= length <= fastBits; `counts` and
// `symbols` describe a code that is not over-subscribed. Fixed size, no allocation.
// Imports nothing.

struct InflateHuffman {
    static let fastBits = 10
    static let fastMask: UInt64 = (1 << 10) - 1
    static let maximumCodeLength = 15
    static let maximumSymbols = 288

    /// What a set of code lengths may be besides complete (zlib's rules).
    enum Completeness {
        /// The code-length code: must be complete.
        case complete
        /// Literal/length and distance codes: may be incomplete only when they have a single
        /// one-bit code (or, for distances, no code at all).
        case singleCodeMayBeIncomplete
    }

    var fast = InlineArray<1024, UInt16>(repeating: 0)
    /// Number of codes of each length (index 0 unused).
    var counts = InlineArray<16, UInt16>(repeating: 0)
    /// Symbols ordered by code length, then by value: the canonical code order.
    var symbols = InlineArray<288, UInt16>(repeating: 0)
    /// Number of symbols with a code.
    private(set) var codeCount = 0

    /// Builds the code for `count` symbols whose lengths are `lengths[start..<start+count]`.
    /// Every length must be 0...15 (the caller decodes them from at most 4 bits or a
    /// code-length symbol below 16).
    mutating func build(lengths: borrowing InlineArray<320, UInt8>, start: Int, count: Int,
                        _ completeness: Completeness) throws(InflateError) {
        precondition(count <= InflateHuffman.maximumSymbols && start + count <= 320)
        for length in 0..<16 { counts[length] = 0 }
        for index in 0..<count { counts[Int(lengths[start + index])] &+= 1 }
        counts[0] = 0

        var left = 1
        var longest = 0
        var used = 0
        for length in 1...InflateHuffman.maximumCodeLength {
            left <<= 1
            left -= Int(counts[length])
            if left < 0 { throw .overSubscribedCode }
            if counts[length] != 0 { longest = length }
            used += Int(counts[length])
        }
        if left > 0 {
            switch completeness {
            case .complete: throw .incompleteCode
            case .singleCodeMayBeIncomplete: if longest > 1 { throw .incompleteCode }
            }
        }
        codeCount = used

        // Offsets of each length's first symbol in `symbols`, then the symbols in order.
        var offsets = InlineArray<16, UInt16>(repeating: 0)
        for length in 1..<InflateHuffman.maximumCodeLength {
            offsets[length + 1] = offsets[length] + counts[length]
        }
        for symbol in 0..<count {
            let length = Int(lengths[start + symbol])
            if length != 0 {
                symbols[Int(offsets[length])] = UInt16(symbol)
                offsets[length] += 1
            }
        }

        // The fast table: every short code, at its bit-reversed position (DEFLATE sends
        // Huffman codes most significant bit first, the bit buffer is read from bit 0).
        for index in 0..<(1 << InflateHuffman.fastBits) { fast[index] = 0 }
        var code = 0
        var index = 0
        for length in 1...InflateHuffman.fastBits {
            for _ in 0..<Int(counts[length]) {
                let entry = UInt16(length << 9) | symbols[index]
                var slot = InflateHuffman.reversed(code, bits: length)
                while slot < (1 << InflateHuffman.fastBits) {
                    fast[slot] = entry
                    slot += 1 << length
                }
                code += 1
                index += 1
            }
            code <<= 1
        }
    }

    static func reversed(_ value: Int, bits: Int) -> Int {
        var result = 0
        var rest = value
        for _ in 0..<bits {
            result = (result << 1) | (rest & 1)
            rest >>= 1
        }
        return result
    }
}

/// Reads an `InflateHuffman` in place through its address. Decoding reads the tables once
/// or twice per output symbol; going through a pointer keeps the optimiser from copying the
/// 2 KiB fast table for each read, which it otherwise does for `InlineArray` subscripts.
/// Invariant: `base` points at a built `InflateHuffman` that outlives the view.
struct InflateHuffmanView {
    let base: UnsafeRawPointer

    @inline(__always) static var fastOffset: Int { MemoryLayout<InflateHuffman>.offset(of: \.fast)! }
    @inline(__always) static var countsOffset: Int { MemoryLayout<InflateHuffman>.offset(of: \.counts)! }
    @inline(__always) static var symbolsOffset: Int { MemoryLayout<InflateHuffman>.offset(of: \.symbols)! }

    /// Decodes and consumes one symbol.
    @inline(__always)
    func decode(_ reader: inout InflateBitReader, invalid: InflateError) throws(InflateError) -> Int {
        // The mask keeps the index below 1024, the fast table's size.
        let slot = Int(truncatingIfNeeded: reader.buffer & InflateHuffman.fastMask)
        let entry = base.load(fromByteOffset: InflateHuffmanView.fastOffset &+ slot &* 2, as: UInt16.self)
        let symbol: Int
        let length: Int
        if entry != 0 {
            symbol = Int(entry & 0x1FF)
            length = Int(entry >> 9)
        } else {
            guard let found = slowDecode(reader.buffer) else {
                // Past the real input the buffer holds zero bits: a hole there means the
                // stream ended early, not that it is corrupt.
                throw reader.count < InflateHuffman.maximumCodeLength ? .truncatedInput : invalid
            }
            symbol = found.symbol
            length = found.length
        }
        try reader.skip(length)
        return symbol
    }

    /// The code at the bottom of `bits` as (symbol, length), walking the canonical code bit
    /// by bit. nil when no code of 15 bits or fewer matches (an incomplete code's hole).
    func slowDecode(_ bits: UInt64) -> (symbol: Int, length: Int)? {
        var code = 0
        var first = 0
        var index = 0
        var remaining = bits
        for length in 1...InflateHuffman.maximumCodeLength {
            code |= Int(remaining & 1)
            remaining >>= 1
            let count = Int(base.load(fromByteOffset: InflateHuffmanView.countsOffset + length * 2, as: UInt16.self))
            let offset = code - first
            if offset >= 0 && offset < count {
                // index + offset < the number of coded symbols <= 288: in the table.
                let symbol = base.load(fromByteOffset: InflateHuffmanView.symbolsOffset + (index + offset) * 2,
                                       as: UInt16.self)
                return (Int(symbol), length)
            }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        return nil
    }
}
