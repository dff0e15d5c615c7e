// Inflate: a DEFLATE (RFC 1951) decoder from one input buffer into one output buffer.
//
// The dom0 kernel arrives as a GRUB module; when it is gzip-compressed Apus decompresses it
// into frames it has set aside, so input and output are both whole buffers in memory and the
// window for back-references is simply the output written so far.
// The `Inflater` value is the workspace (Huffman tables, code lengths, the CRC-32 table:
// about 6.5 KiB); keep one in static storage where stack space is short, and reuse it.
// Invariants: nothing is read outside `input` or written outside `output`; any malformed
// stream ends in an `InflateError`, never a trap. A back-reference copy may write up to 8
// bytes beyond the bytes it produces, but only inside `output`.
// Imports nothing.

public struct InflateResult: Equatable {
    /// Input bytes used, up to and including the byte holding the final block's last bit.
    public var consumedBytes: Int
    /// Bytes written at the start of the output buffer.
    public var producedBytes: Int
}

public struct Inflater {
    var literalLengths = InflateHuffman()
    var distances = InflateHuffman()
    var codeLengths = InlineArray<320, UInt8>(repeating: 0)
    /// `literalLengths` and `distances` hold the fixed codes of block type 1.
    var holdsFixedCodes = false
    let crcTable = CRC32Table()

    public init() {}

    /// Decompresses the raw DEFLATE stream at the start of `input` into `output`.
    public mutating func inflate(_ input: UnsafeRawBufferPointer,
                                 into output: UnsafeMutableRawBufferPointer) throws(InflateError) -> InflateResult {
        try withUnsafeMutablePointer(to: &self) { (inflater) throws(InflateError) -> InflateResult in
            try Inflater.inflate(inflater, input, output)
        }
    }

    private static func inflate(_ inflater: UnsafeMutablePointer<Inflater>, _ input: UnsafeRawBufferPointer,
                                _ output: UnsafeMutableRawBufferPointer) throws(InflateError) -> InflateResult {
        let codes = (literalLengths: InflateHuffmanView(base: UnsafeRawPointer(inflater) + literalLengthsOffset),
                     distances: InflateHuffmanView(base: UnsafeRawPointer(inflater) + distancesOffset))
        var reader = InflateBitReader(input)
        var produced = 0
        var final = false
        while !final {
            reader.refill()
            guard reader.count >= 3 else { throw .truncatedInput }
            final = reader.bits(1) == 1
            let type = reader.bits(2)
            switch type {
            case 0:
                produced = try copyStoredBlock(&reader, output, produced)
            case 1:
                if !inflater.pointee.holdsFixedCodes { try inflater.pointee.loadFixedCodes() }
                produced = try decodeBlock(&reader, output, produced, codes)
            case 2:
                inflater.pointee.holdsFixedCodes = false
                try readDynamicCodes(inflater, &reader, codes.distances)
                produced = try decodeBlock(&reader, output, produced, codes)
            default:
                throw .reservedBlockType
            }
        }
        return InflateResult(consumedBytes: reader.bytesConsumed, producedBytes: produced)
    }

    @inline(__always) static var literalLengthsOffset: Int { MemoryLayout<Inflater>.offset(of: \.literalLengths)! }
    @inline(__always) static var distancesOffset: Int { MemoryLayout<Inflater>.offset(of: \.distances)! }

    // MARK: Blocks

    private static func copyStoredBlock(_ reader: inout InflateBitReader, _ output: UnsafeMutableRawBufferPointer,
                                        _ produced: Int) throws(InflateError) -> Int {
        reader.alignToByte()
        guard let header = reader.takeBytes(4), header.count == 4 else { throw .truncatedInput }
        let length = UInt16(header[0]) | UInt16(header[1]) << 8
        let complement = UInt16(header[2]) | UInt16(header[3]) << 8
        guard length == ~complement else { throw .storedLengthMismatch(length: length, complement: complement) }
        let count = Int(length)
        guard let bytes = reader.takeBytes(count) else { throw .truncatedInput }
        guard output.count - produced >= count else { throw .outputOverflow(capacity: output.count) }
        if count > 0, let source = bytes.baseAddress, let destination = output.baseAddress {
            (destination + produced).copyMemory(from: source, byteCount: count)
        }
        return produced + count
    }

    /// Decodes literals and back-references until end-of-block.
    private static func decodeBlock(_ reader: inout InflateBitReader, _ output: UnsafeMutableRawBufferPointer,
                                    _ start: Int,
                                    _ codes: (literalLengths: InflateHuffmanView, distances: InflateHuffmanView))
        throws(InflateError) -> Int {
        guard let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            // An empty output buffer can still hold an empty block.
            return try decodeIntoNothing(&reader, codes.literalLengths)
        }
        let capacity = output.count
        var produced = start
        while true {
            // One refill leaves at least 56 bits (unless the input is ending), enough for a
            // literal/length code (15), its extra bits (5), a distance code (15) and its
            // extra bits (13).
            reader.refill()
            let symbol = try codes.literalLengths.decode(&reader, invalid: .badLiteralLengthCode)
            if symbol < 256 {
                guard produced < capacity else { throw .outputOverflow(capacity: capacity) }
                out[produced] = UInt8(truncatingIfNeeded: symbol)
                produced += 1
                continue
            }
            if symbol == 256 { return produced }
            guard symbol <= 285 else { throw .badLiteralLengthCode }
            let (lengthBase, lengthExtra) = Inflater.lengthBase(symbol)
            let length = lengthBase + Int(try reader.take(lengthExtra))
            let distanceSymbol = try codes.distances.decode(&reader, invalid: .badDistanceCode)
            guard distanceSymbol <= 29 else { throw .badDistanceCode }
            let (distanceBase, distanceExtra) = Inflater.distanceBase(distanceSymbol)
            let distance = distanceBase + Int(try reader.take(distanceExtra))
            guard distance <= produced else { throw .distanceTooFarBack(distance: distance, available: produced) }
            guard capacity - produced >= length else { throw .outputOverflow(capacity: capacity) }
            Inflater.copyMatch(out, at: produced, distance: distance, length: length, capacity: capacity)
            produced += length
        }
    }

    /// Decoding into a zero-byte buffer: only end-of-block is acceptable.
    private static func decodeIntoNothing(_ reader: inout InflateBitReader,
                                          _ literalLengths: InflateHuffmanView) throws(InflateError) -> Int {
        reader.refill()
        let symbol = try literalLengths.decode(&reader, invalid: .badLiteralLengthCode)
        guard symbol == 256 else {
            throw symbol > 285 ? .badLiteralLengthCode : .outputOverflow(capacity: 0)
        }
        return 0
    }

    /// Copies `length` bytes from `distance` bytes back, overlapping as DEFLATE means it.
    @inline(__always)
    static func copyMatch(_ out: UnsafeMutablePointer<UInt8>, at position: Int, distance: Int, length: Int,
                          capacity: Int) {
        var to = position
        var from = position - distance
        let end = position + length
        if distance >= 8 && capacity - end >= 8 {
            // Eight bytes at a time; the last chunk may spill up to 7 bytes past `end`, which
            // later output overwrites (the guard above keeps the spill inside the buffer).
            let raw = UnsafeMutableRawPointer(out)
            while to < end {
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: from, as: UInt64.self),
                               toByteOffset: to, as: UInt64.self)
                to += 8
                from += 8
            }
        } else if distance == 1 {
            let byte = out[from]
            while to < end { out[to] = byte; to += 1 }
        } else {
            while to < end {
                out[to] = out[from]
                to += 1
                from += 1
            }
        }
    }

    // MARK: Codes

    private mutating func loadFixedCodes() throws(InflateError) {
        for symbol in 0..<288 {
            codeLengths[symbol] = symbol < 144 ? 8 : symbol < 256 ? 9 : symbol < 280 ? 7 : 8
        }
        for symbol in 288..<320 { codeLengths[symbol] = 5 }
        try literalLengths.build(lengths: codeLengths, start: 0, count: 288, .singleCodeMayBeIncomplete)
        try distances.build(lengths: codeLengths, start: 288, count: 32, .singleCodeMayBeIncomplete)
        holdsFixedCodes = true
    }

    /// Reads a dynamic block's code lengths and builds its codes. `codeLengthCode` views the
    /// distance table, which holds the code-length code until the distance code replaces it.
    private static func readDynamicCodes(_ inflater: UnsafeMutablePointer<Inflater>,
                                         _ reader: inout InflateBitReader,
                                         _ codeLengthCode: InflateHuffmanView) throws(InflateError) {
        reader.refill()
        let literalCount = Int(try reader.take(5)) + 257
        let distanceCount = Int(try reader.take(5)) + 1
        let codeLengthCount = Int(try reader.take(4)) + 4
        guard literalCount <= 286 && distanceCount <= 30 else {
            throw .tooManyCodes(literalLengths: literalCount, distances: distanceCount)
        }
        for index in 0..<19 { inflater.pointee.codeLengths[index] = 0 }
        for index in 0..<codeLengthCount {
            reader.refill()
            inflater.pointee.codeLengths[Inflater.codeLengthOrder(index)] = UInt8(truncatingIfNeeded: try reader.take(3))
        }
        try inflater.pointee.distances.build(lengths: inflater.pointee.codeLengths, start: 0, count: 19, .complete)

        let total = literalCount + distanceCount
        var index = 0
        while index < total {
            reader.refill()
            let symbol = try codeLengthCode.decode(&reader, invalid: .incompleteCode)
            switch symbol {
            case 0..<16:
                inflater.pointee.codeLengths[index] = UInt8(symbol)
                index += 1
            case 16:
                guard index > 0 else { throw .badCodeLengthRepeat }
                let previous = inflater.pointee.codeLengths[index - 1]
                let repeats = 3 + Int(try reader.take(2))
                guard total - index >= repeats else { throw .badCodeLengthRepeat }
                for _ in 0..<repeats { inflater.pointee.codeLengths[index] = previous; index += 1 }
            default:
                let repeats = symbol == 17 ? 3 + Int(try reader.take(3)) : 11 + Int(try reader.take(7))
                guard total - index >= repeats else { throw .badCodeLengthRepeat }
                for _ in 0..<repeats { inflater.pointee.codeLengths[index] = 0; index += 1 }
            }
        }
        guard inflater.pointee.codeLengths[256] != 0 else { throw .missingEndOfBlock }
        try inflater.pointee.literalLengths.build(lengths: inflater.pointee.codeLengths, start: 0, count: literalCount, .singleCodeMayBeIncomplete)
        try inflater.pointee.distances.build(lengths: inflater.pointee.codeLengths, start: literalCount, count: distanceCount,
                            .singleCodeMayBeIncomplete)
    }

    /// RFC 1951 §3.2.7: the order code-length code lengths are sent in.
    static func codeLengthOrder(_ index: Int) -> Int {
        switch index {
        case 0: return 16
        case 1: return 17
        case 2: return 18
        case 3: return 0
        default:
            // 8 7 9 6 10 5 11 4 12 3 13 2 14 1 15: alternating around 8.
            let step = index - 4
            return step & 1 == 0 ? 8 + step / 2 : 7 - step / 2
        }
    }

    /// Base length and extra bits of literal/length symbols 257...285 (RFC 1951 §3.2.5).
    @inline(__always)
    static func lengthBase(_ symbol: Int) -> (base: Int, extraBits: Int) {
        let index = symbol - 257
        if index < 8 { return (index + 3, 0) }
        if symbol == 285 { return (258, 0) }
        let extra = (index >> 2) - 1
        return ((((index & 3) + 4) << extra) + 3, extra)
    }

    /// Base distance and extra bits of distance symbols 0...29.
    @inline(__always)
    static func distanceBase(_ symbol: Int) -> (base: Int, extraBits: Int) {
        if symbol < 4 { return (symbol + 1, 0) }
        let extra = (symbol >> 1) - 1
        return (((2 + (symbol & 1)) << extra) + 1, extra)
    }
}

/// The DEFLATE bit stream: bits are consumed from bit 0 of `buffer`, bytes enter at the top.
struct InflateBitReader {
    let base: UnsafePointer<UInt8>?
    let end: Int
    /// Next input byte not yet in `buffer`.
    var position = 0
    var buffer: UInt64 = 0
    /// Valid bits in `buffer`. Bits above them are zero or copies of the next input bytes.
    var count = 0

    init(_ input: UnsafeRawBufferPointer) {
        base = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        end = input.count
    }

    /// Tops the buffer up to at least 56 bits while input lasts.
    @inline(__always)
    mutating func refill() {
        guard let base else { return }
        if end - position >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self))
            buffer |= word << UInt64(count)
            let taken = (63 - count) >> 3
            position += taken
            count += taken << 3
        } else {
            while count <= 56 && position < end {
                buffer |= UInt64(base[position]) << UInt64(count)
                position += 1
                count += 8
            }
        }
    }

    /// The next `n` bits (n <= 32, already in the buffer or the input is short).
    @inline(__always)
    mutating func take(_ n: Int) throws(InflateError) -> UInt64 {
        guard n <= count else { throw .truncatedInput }
        let value = buffer & ((1 << UInt64(n)) &- 1)
        buffer >>= UInt64(n)
        count -= n
        return value
    }

    @inline(__always)
    mutating func skip(_ n: Int) throws(InflateError) {
        guard n <= count else { throw .truncatedInput }
        buffer >>= UInt64(n)
        count -= n
    }

    /// For the block header, read right after a refill that found at least 3 bits.
    mutating func bits(_ n: Int) -> UInt64 {
        let value = buffer & ((1 << UInt64(n)) &- 1)
        buffer >>= UInt64(n)
        count -= n
        return value
    }

    /// Drops the bits left in the current byte and hands whole buffered bytes back to the input.
    mutating func alignToByte() {
        let partial = count & 7
        buffer >>= UInt64(partial)
        count -= partial
        position -= count >> 3
        buffer = 0
        count = 0
    }

    /// `n` bytes straight from the input after `alignToByte`, or nil if fewer are left.
    mutating func takeBytes(_ n: Int) -> UnsafeRawBufferPointer? {
        guard n >= 0, end - position >= n else { return nil }
        let start = position
        position += n
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + start, count: n)
    }

    /// Input bytes used so far: whole bytes still in the buffer go back.
    var bytesConsumed: Int { position - (count >> 3) }
}
