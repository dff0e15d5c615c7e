// KernelImageError: every reason Apus refuses a dom0 kernel image before building the domain
// (the ELF container, the Xen notes, the addresses they give, the features they require).
//
// Errors carry numbers and short copies of the kernel's own strings (ErrorText), never
// pointers into the image, so they stay meaningful after the module's memory is reused.
// The sentences are in KernelImageErrorPrinting.swift. Imports nothing.

/// Up to 48 bytes of text copied out of the kernel image for an error message.
public struct ErrorText: Equatable, Sendable {
    public static let capacity = 48
    var bytes = InlineArray<48, UInt8>(repeating: 0)
    public private(set) var count = 0
    /// The original was longer than `capacity` and was cut.
    public private(set) var isTruncated = false

    public init() {}

    public init(_ text: ByteText) {
        count = Swift.min(text.count, ErrorText.capacity)
        isTruncated = text.count > ErrorText.capacity
        for index in 0..<count { bytes[index] = text[index] }
    }

    public init(_ literal: StaticString) {
        self.init(ByteText(base: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    public static func == (lhs: ErrorText, rhs: ErrorText) -> Bool {
        guard lhs.count == rhs.count, lhs.isTruncated == rhs.isTruncated else { return false }
        for index in 0..<lhs.count where lhs.bytes[index] != rhs.bytes[index] { return false }
        return true
    }

    /// The text, with printable ASCII kept and anything else shown as `?`, `...` if cut.
    public func write<Sink: TextSink>(to sink: inout Sink) {
        for index in 0..<count {
            let byte = bytes[index]
            sink.put(byte >= 0x20 && byte < 0x7F ? byte : 0x3F)
        }
        if isTruncated { sink.write("...") }
    }
}

public enum KernelImageError: Error, Equatable {
    // What the module is
    /// Not ELF: compressed in a format Apus cannot unpack, or not recognised at all.
    case unsupportedFormat(KernelImageFormat)
    /// The gzip (or bzImage) wrapper would not decompress.
    case decompressionFailed(InflateError)

    // ELF header
    case truncatedELFHeader(size: Int)
    case notELF64(elfClass: UInt8)
    case notLittleEndian(encoding: UInt8)
    case badELFVersion(UInt8)
    case notExecutable(type: UInt16)
    case notX86_64(machine: UInt16)
    case badProgramHeaderSize(UInt16)
    case programHeadersOutsideFile(offset: UInt64, count: Int)
    case tooManyProgramHeaders(count: Int, limit: Int)
    case badSectionHeaderSize(UInt16)
    case sectionHeadersOutsideFile(offset: UInt64, count: Int)
    case tooManySections(count: Int, limit: Int)

    // Loadable segments
    case noLoadableSegments
    case tooManyLoadSegments(count: Int, limit: Int)
    case segmentOutsideFile(index: Int, offset: UInt64, fileSize: UInt64)
    case segmentFileSizeExceedsMemorySize(index: Int, fileSize: UInt64, memorySize: UInt64)
    case segmentWrapsAround(index: Int, address: UInt64, memorySize: UInt64)
    case segmentsOverlap(first: Int, second: Int)

    // Notes
    case noteAreaOutsideFile(offset: UInt64, size: UInt64)
    case malformedNote(offset: Int)
    case tooManyNotes(limit: Int)
    case badNoteSize(type: UInt32, size: Int)
    case badGuestInfoNumber(key: ErrorText)
    case noXenNotes
    case notForGenericLoaderOrLinux(loader: ErrorText, guestOS: ErrorText)
    case notForXen3(xenVersion: ErrorText)

    // Addresses (libelf's checks)
    case paddrOffsetWithoutVirtBase
    case kernelStartAfterEnd(start: UInt64, end: UInt64)
    /// BSD_SYMTAB: the symbol and string tables' sizes do not fit the address space.
    case bsdSymbolTableTooLarge
    case entryOutsideKernel(entry: UInt64, start: UInt64, end: UInt64)
    case virtBaseAboveKernel(virtBase: UInt64, start: UInt64)
    case p2mBaseInsideKernel(p2mBase: UInt64, start: UInt64, end: UInt64)

    // Features
    case unknownRequiredFeature(ErrorText)
    case unsupportedRequiredFeatures(XenFeatureSet)
    case notDom0Capable

    // Loading
    case loadAreaTooSmall(needed: UInt64, given: Int)
}
