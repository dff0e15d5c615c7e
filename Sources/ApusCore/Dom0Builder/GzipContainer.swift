// GzipContainer: the gzip file format (RFC 1952) around DEFLATE data: header, members,
// CRC-32 and size trailer.
//
//   offset 0  1f 8b       magic
//          2  CM          8 = deflate
//          3  FLG         bit 0 FTEXT, 1 FHCRC, 2 FEXTRA, 3 FNAME, 4 FCOMMENT, 5-7 reserved
//          4  MTIME (u32), 8 XFL, 9 OS
//         10  [XLEN (u16) + XLEN bytes] [name NUL] [comment NUL] [CRC16 (u16)]
//   then the DEFLATE stream, then CRC32 (u32) and ISIZE (u32, size modulo 2^32).
// Several members may follow each other (`cat a.gz b.gz`); their outputs are concatenated.
// Bytes after the last member that do not start another one are reported, not decoded
// (padding after a kernel image is common).
// Invariants: every header field is bounds-checked before it is read. Imports nothing.

public struct GzipHeader {
    public var flags: UInt8
    public var modificationTime: UInt32
    public var extraFlags: UInt8
    public var operatingSystem: UInt8
    /// The original file name (FNAME) without its NUL, if the header has one.
    public var name: ByteText?
    /// Offset of the DEFLATE stream from the start of the member.
    public var dataOffset: Int

    public static let magic0: UInt8 = 0x1F
    public static let magic1: UInt8 = 0x8B
    static let fhcrc: UInt8 = 0x02, fextra: UInt8 = 0x04, fname: UInt8 = 0x08, fcomment: UInt8 = 0x10
    static let reservedFlags: UInt8 = 0xE0

    /// Reads the member header at the start of `member`.
    public static func parse(_ member: ByteWindow, crc: borrowing CRC32Table) throws(InflateError) -> GzipHeader {
        guard member.uint8(at: 0) == magic0, member.uint8(at: 1) == magic1 else {
            throw member.count < 2 ? .truncatedHeader : .notGzip
        }
        guard let method = member.uint8(at: 2), let flags = member.uint8(at: 3),
              let mtime = member.uint32(at: 4), let xfl = member.uint8(at: 8), let os = member.uint8(at: 9) else {
            throw .truncatedHeader
        }
        guard method == 8 else { throw .unsupportedMethod(method) }
        guard flags & reservedFlags == 0 else { throw .reservedFlags(flags) }
        var offset = 10
        if flags & fextra != 0 {
            guard let length = member.uint16(at: offset), member.contains(offset: offset + 2, size: Int(length)) else {
                throw .truncatedHeader
            }
            offset += 2 + Int(length)
        }
        var name: ByteText? = nil
        if flags & fname != 0 {
            let end = try endOfCString(member, from: offset)
            name = member.text(at: offset, count: end - offset)
            offset = end + 1
        }
        if flags & fcomment != 0 {
            offset = try endOfCString(member, from: offset) + 1
        }
        if flags & fhcrc != 0 {
            guard let stored = member.uint16(at: offset), let covered = member.slice(offset: 0, size: offset) else {
                throw .truncatedHeader
            }
            let computed = UInt16(truncatingIfNeeded: crc.checksum(covered.raw))
            guard stored == computed else { throw .headerCRCMismatch(stored: stored, computed: computed) }
            offset += 2
        }
        return GzipHeader(flags: flags, modificationTime: mtime, extraFlags: xfl, operatingSystem: os,
                          name: name, dataOffset: offset)
    }

    private static func endOfCString(_ window: ByteWindow, from offset: Int) throws(InflateError) -> Int {
        var index = offset
        while true {
            guard let byte = window.uint8(at: index) else { throw .truncatedHeader }
            if byte == 0 { return index }
            index += 1
        }
    }

    /// The ISIZE field of the last member, assuming `data` ends with a gzip trailer: the
    /// uncompressed size modulo 2^32, for sizing the output buffer before decompressing.
    /// Only a hint: it is not checked until `gunzip` runs, and padding after the data
    /// makes it wrong.
    public static func sizeHint(_ data: ByteWindow) -> UInt32? {
        guard data.count >= 18 else { return nil }
        return data.uint32(at: data.count - 4)
    }
}

public struct GzipResult: Equatable {
    public var members: Int
    /// Bytes of the input that belong to gzip members.
    public var consumedBytes: Int
    /// Bytes after the last member (ignored).
    public var trailingBytes: Int
    public var producedBytes: Int
}

extension Inflater {
    /// Decompresses every gzip member at the start of `input` into `output`, checking each
    /// member's CRC-32 and size.
    public mutating func gunzip(_ input: UnsafeRawBufferPointer,
                                into output: UnsafeMutableRawBufferPointer) throws(InflateError) -> GzipResult {
        let window = ByteWindow(input)
        var offset = 0
        var produced = 0
        var members = 0
        repeat {
            guard let member = window.slice(offset: offset, size: window.count - offset) else { throw .truncatedHeader }
            let header = try GzipHeader.parse(member, crc: crcTable)
            let compressed = UnsafeRawBufferPointer(rebasing: member.raw[header.dataOffset...])
            let destination = UnsafeMutableRawBufferPointer(rebasing: output[produced...])
            let result: InflateResult
            do {
                result = try inflate(compressed, into: destination)
            } catch {
                // Report the whole buffer, not what the earlier members left of it.
                if case .outputOverflow = error { throw .outputOverflow(capacity: output.count) }
                throw error
            }

            let trailerOffset = header.dataOffset + result.consumedBytes
            guard let storedCRC = member.uint32(at: trailerOffset),
                  let storedSize = member.uint32(at: trailerOffset + 4) else { throw .truncatedTrailer }
            let producedHere = UnsafeRawBufferPointer(rebasing: destination[..<result.producedBytes])
            let computedCRC = crcTable.checksum(producedHere)
            guard computedCRC == storedCRC else { throw .crcMismatch(stored: storedCRC, computed: computedCRC) }
            guard UInt32(truncatingIfNeeded: result.producedBytes) == storedSize else {
                throw .sizeMismatch(stored: storedSize, produced: UInt64(result.producedBytes))
            }
            produced += result.producedBytes
            offset += trailerOffset + 8
            members += 1
        } while window.uint8(at: offset) == GzipHeader.magic0 && window.uint8(at: offset + 1) == GzipHeader.magic1
        return GzipResult(members: members, consumedBytes: offset, trailingBytes: window.count - offset,
                          producedBytes: produced)
    }
}
