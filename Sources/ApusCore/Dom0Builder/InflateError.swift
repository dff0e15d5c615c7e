// InflateError: why a gzip member or a raw DEFLATE stream could not be decompressed, and the
// sentence the boot log prints for it.
//
// Every failure of the decoder is one of these; none traps. Imports nothing.

public enum InflateError: Error, Equatable {
    // DEFLATE (RFC 1951)
    /// The input ended before the last block did.
    case truncatedInput
    /// Block type 3, which RFC 1951 reserves.
    case reservedBlockType
    /// A stored block whose length and its one's complement disagree.
    case storedLengthMismatch(length: UInt16, complement: UInt16)
    /// A dynamic block declaring more than 286 literal/length or 30 distance codes.
    case tooManyCodes(literalLengths: Int, distances: Int)
    /// Code lengths that give more codes than bit patterns exist.
    case overSubscribedCode
    /// Code lengths that leave bit patterns unused where DEFLATE does not allow it.
    case incompleteCode
    /// A code-length repeat (symbol 16) with no previous length, or a repeat past the end.
    case badCodeLengthRepeat
    /// A dynamic block without a code for end-of-block (symbol 256).
    case missingEndOfBlock
    /// Bits that are no literal/length code, or the unused symbols 286 and 287.
    case badLiteralLengthCode
    /// Bits that are no distance code, or the unused symbols 30 and 31.
    case badDistanceCode
    /// A back-reference to before the start of the output.
    case distanceTooFarBack(distance: Int, available: Int)
    /// The output does not fit in the buffer the caller gave.
    case outputOverflow(capacity: Int)

    // gzip (RFC 1952)
    /// Not starting with the gzip magic 1f 8b.
    case notGzip
    /// A compression method other than 8 (deflate).
    case unsupportedMethod(UInt8)
    /// Header flag bits 5-7, which RFC 1952 reserves.
    case reservedFlags(UInt8)
    /// The header ends (extra field, name, comment, header CRC) past the input.
    case truncatedHeader
    /// FHCRC present and not the low 16 bits of the header's CRC-32.
    case headerCRCMismatch(stored: UInt16, computed: UInt16)
    /// Fewer than 8 bytes after the compressed data.
    case truncatedTrailer
    /// The decompressed data's CRC-32 is not the one the trailer records.
    case crcMismatch(stored: UInt32, computed: UInt32)
    /// The decompressed size modulo 2^32 is not the trailer's ISIZE.
    case sizeMismatch(stored: UInt32, produced: UInt64)
}

extension InflateError {
    /// One line (without newline) a person reading the boot log understands.
    public func write<Sink: TextSink>(to sink: inout Sink) {
        switch self {
        case .truncatedInput:
            sink.write("compressed data ends in the middle of a block (truncated file?)")
        case .reservedBlockType:
            sink.write("deflate block of reserved type 3 (corrupt data)")
        case .storedLengthMismatch(let length, let complement):
            sink.write("stored block length ")
            sink.write(hex0x: UInt64(length))
            sink.write(" does not match its complement ")
            sink.write(hex0x: UInt64(complement))
        case .tooManyCodes(let literalLengths, let distances):
            sink.write("dynamic block declares ")
            sink.write(decimal: literalLengths)
            sink.write(" literal/length and ")
            sink.write(decimal: distances)
            sink.write(" distance codes (at most 286 and 30)")
        case .overSubscribedCode:
            sink.write("Huffman code lengths are over-subscribed (corrupt data)")
        case .incompleteCode:
            sink.write("Huffman code lengths are incomplete (corrupt data)")
        case .badCodeLengthRepeat:
            sink.write("code length repeat without a previous length or past the end")
        case .missingEndOfBlock:
            sink.write("dynamic block has no end-of-block code")
        case .badLiteralLengthCode:
            sink.write("invalid literal/length code (corrupt data)")
        case .badDistanceCode:
            sink.write("invalid distance code (corrupt data)")
        case .distanceTooFarBack(let distance, let available):
            sink.write("back-reference ")
            sink.write(decimal: distance)
            sink.write(" bytes back with only ")
            sink.write(decimal: available)
            sink.write(" bytes of output so far")
        case .outputOverflow(let capacity):
            sink.write("decompressed data is larger than the ")
            sink.write(decimal: capacity)
            sink.write("-byte buffer for it")
        case .notGzip:
            sink.write("not gzip data (no 1f 8b magic)")
        case .unsupportedMethod(let method):
            sink.write("gzip compression method ")
            sink.write(decimal: UInt64(method))
            sink.write(" is not deflate (8)")
        case .reservedFlags(let flags):
            sink.write("gzip header has reserved flag bits set (")
            sink.write(hex0x: UInt64(flags))
            sink.write(")")
        case .truncatedHeader:
            sink.write("gzip header runs past the end of the data")
        case .headerCRCMismatch(let stored, let computed):
            sink.write("gzip header CRC ")
            sink.write(hex0x: UInt64(stored))
            sink.write(" does not match the header (")
            sink.write(hex0x: UInt64(computed))
            sink.write(")")
        case .truncatedTrailer:
            sink.write("gzip data ends before its CRC and size trailer")
        case .crcMismatch(let stored, let computed):
            sink.write("CRC-32 of the decompressed data is ")
            sink.write(hex0x: UInt64(computed))
            sink.write(", the gzip trailer says ")
            sink.write(hex0x: UInt64(stored))
        case .sizeMismatch(let stored, let produced):
            sink.write("decompressed ")
            sink.write(decimal: produced)
            sink.write(" bytes, the gzip trailer says ")
            sink.write(decimal: UInt64(stored))
            sink.write(" (modulo 4 GiB)")
        }
    }
}
