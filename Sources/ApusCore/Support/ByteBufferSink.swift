// ByteBufferSink: a TextSink that keeps what it is given (host tests only).
#if !hasFeature(Embedded)
public struct ByteBufferSink: TextSink {
    public var bytes: [UInt8] = []
    public init() {}
    public mutating func put(_ byte: UInt8) { bytes.append(byte) }
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// Runs `body` with a ByteText over the UTF-8 of `string` (host tests only).
public func withByteText<R>(_ string: String, _ body: (ByteText) throws -> R) rethrows -> R {
    var copy = Array(string.utf8)
    return try copy.withUnsafeMutableBufferPointer { buffer in
        try body(ByteText(UnsafeBufferPointer(buffer)))
    }
}
#endif
