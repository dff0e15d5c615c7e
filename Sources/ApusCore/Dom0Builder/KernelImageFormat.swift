// KernelImageFormat: what the first module's bytes are, judged by their magic numbers, so the
// dom0 builder can unpack what it can (ELF, gzip, a bzImage's gzip payload) and refuse the
// rest with the format's name instead of "not ELF".
//
// Magics: ELF 7f 45 4c 46; gzip 1f 8b; xz fd 37 7a 58 5a 00; bzip2 "BZh" + '1'...'9';
// LZ4 frame 04 22 4d 18, LZ4 legacy (Linux's) 02 21 4c 18; zstd 28 b5 2f fd;
// LZO (lzop) 89 4c 5a 4f 00 0d 0a 1a 0a; LZMA "alone" 5d 00 00 (a weak signature).
// bzImage (Linux x86 boot protocol >= 2.08): "HdrS" at 0x202, version (u16) at 0x206,
// setup_sects (u8) at 0x1f1 (0 means 4), payload_offset (u32) at 0x248 and payload_length
// (u32) at 0x24c, relative to the protected-mode code at (setup_sects + 1) * 512.
// Invariants: reads only through ByteWindow; a bzImage whose payload lies outside the
// module is `.unknown`. Imports nothing.

public enum KernelImageFormat: Equatable, Sendable {
    case elf
    case gzip
    case xz
    case bzip2
    case lz4
    case zstd
    case lzo
    case lzma
    /// A Linux bzImage; the payload (usually compressed) is `payloadLength` bytes at `payloadOffset`.
    case bzImage(payloadOffset: Int, payloadLength: Int)
    case unknown

    public static func detect(_ image: ByteWindow) -> KernelImageFormat {
        if image.matches("\u{7F}ELF", at: 0) { return .elf }
        if let bzImage = bzImagePayload(image) { return bzImage }
        return detectCompression(image)
    }

    /// The compression formats only (a bzImage payload is one of these).
    public static func detectCompression(_ data: ByteWindow) -> KernelImageFormat {
        let first32 = data.uint32(at: 0)
        if data.uint16(at: 0) == 0x8B1F { return .gzip }
        if first32 == 0x587A_37FD && data.uint16(at: 4) == 0x005A { return .xz }
        if data.matches("BZh", at: 0), let level = data.uint8(at: 3), level >= 0x31 && level <= 0x39 { return .bzip2 }
        if first32 == 0x184D_2204 || first32 == 0x184C_2102 { return .lz4 }
        if first32 == 0xFD2F_B528 { return .zstd }
        if data.uint64(at: 0) == 0x1A0A_0D00_4F5A_4C89 && data.uint8(at: 8) == 0x0A { return .lzo }
        if data.uint8(at: 0) == 0x5D && data.uint16(at: 1) == 0 { return .lzma }
        if first32 == 0x464C_457F { return .elf }
        return .unknown
    }

    static func bzImagePayload(_ image: ByteWindow) -> KernelImageFormat? {
        guard image.matches("HdrS", at: 0x202), let version = image.uint16(at: 0x206), version >= 0x208,
              let setupSectors = image.uint8(at: 0x1F1),
              let payloadOffset = image.uint32(at: 0x248), let payloadLength = image.uint32(at: 0x24C) else {
            return nil
        }
        let start = (Int(setupSectors == 0 ? 4 : setupSectors) + 1) * 512 + Int(payloadOffset)
        guard image.contains(offset: start, size: Int(payloadLength)) else { return nil }
        return .bzImage(payloadOffset: start, payloadLength: Int(payloadLength))
    }

    /// Whether Apus can unpack this format itself.
    public var isSupported: Bool {
        switch self {
        case .elf, .gzip, .bzImage: return true
        default: return false
        }
    }

    public func writeName<Sink: TextSink>(to sink: inout Sink) {
        switch self {
        case .elf: sink.write("ELF")
        case .gzip: sink.write("gzip")
        case .xz: sink.write("xz")
        case .bzip2: sink.write("bzip2")
        case .lz4: sink.write("LZ4")
        case .zstd: sink.write("zstd")
        case .lzo: sink.write("LZO")
        case .lzma: sink.write("LZMA")
        case .bzImage: sink.write("bzImage")
        case .unknown: sink.write("unknown")
        }
    }
}
