// KernelModule: finds the ELF kernel inside the first module: as is, gzip-compressed, or as
// the payload of a Linux bzImage (gzip-compressed or plain), the forms Xen accepts and Apus
// can unpack. Other compressions are refused by name.
//
// The caller sizes an output buffer from `uncompressedSizeHint` (gzip's ISIZE; a bzImage's
// payload ends with it as well), then calls `unpack`. Imports nothing.

public struct KernelModuleContents: Equatable, Sendable {
    public enum Encoding: Equatable, Sendable {
        case elf
        case gzip
    }

    public var encoding: Encoding
    /// The ELF or gzip bytes inside the module.
    public var offset: Int
    public var count: Int
    public var isBzImagePayload: Bool
    /// For gzip: the last member's ISIZE (size modulo 4 GiB).
    public var uncompressedSizeHint: UInt32?

    /// Finds the kernel in `module`.
    public static func locate(_ module: ByteWindow) throws(KernelImageError) -> KernelModuleContents {
        var offset = 0
        var count = module.count
        var isBzImage = false
        var format = KernelImageFormat.detect(module)
        if case .bzImage(let payloadOffset, let payloadLength) = format {
            offset = payloadOffset
            count = payloadLength
            isBzImage = true
            format = KernelImageFormat.detectCompression(module.slice(offset: offset, size: count) ?? module)
        }
        switch format {
        case .elf:
            return KernelModuleContents(encoding: .elf, offset: offset, count: count, isBzImagePayload: isBzImage,
                                        uncompressedSizeHint: nil)
        case .gzip:
            let hint = module.slice(offset: offset, size: count).flatMap { GzipHeader.sizeHint($0) }
            return KernelModuleContents(encoding: .gzip, offset: offset, count: count, isBzImagePayload: isBzImage,
                                        uncompressedSizeHint: hint)
        default:
            throw .unsupportedFormat(format)
        }
    }

    /// The located bytes.
    public func bytes(in module: ByteWindow) -> ByteWindow? { module.slice(offset: offset, size: count) }

    /// For `.gzip`: decompresses into `output` and returns the ELF's size there.
    public func unpack(_ module: ByteWindow, into output: UnsafeMutableRawBufferPointer,
                       using inflater: inout Inflater) throws(KernelImageError) -> Int {
        guard let source = bytes(in: module) else { throw .unsupportedFormat(.unknown) }
        switch encoding {
        case .elf:
            guard output.count >= source.count else { throw .loadAreaTooSmall(needed: UInt64(source.count), given: output.count) }
            if source.count > 0, let from = source.raw.baseAddress, let to = output.baseAddress {
                to.copyMemory(from: from, byteCount: source.count)
            }
            return source.count
        case .gzip:
            do {
                return try inflater.gunzip(source.raw, into: output).producedBytes
            } catch {
                throw .decompressionFailed(error)
            }
        }
    }
}
