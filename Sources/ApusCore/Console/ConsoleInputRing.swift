// ConsoleInputRing: serial input waiting for dom0 to read it with console_io(CONSOLEIO_read),
// Xen's serial_rx_ring.
//
// 128 bytes, as in Xen 4.17. A byte that arrives while the ring is full is dropped (the
// caller still raises VIRQ_CONSOLE, so a reader that fell behind is woken). A read takes
// up to `count` bytes, oldest first, in at most two contiguous pieces (the ring wraps);
// it returns how many it took, 0 when none are waiting, and the buffer is never touched
// then. A piece the caller fails to copy stays in the ring and the read reports a fault,
// even if an earlier piece was taken (Xen returns -EFAULT the same way).
// Invariant: 0 <= producer - consumer <= capacity (free-running 32-bit indices).
// Imports nothing.

public enum ConsoleReadResult: Equatable {
    case read(Int)
    case fault
}

public struct ConsoleInputRing {
    public static let capacity = 128
    private var storage = InlineArray<128, UInt8>(repeating: 0)
    private var producer: UInt32 = 0
    private var consumer: UInt32 = 0
    /// Bytes dropped because the ring was full (for the `q`-style dumps and tests).
    public private(set) var dropped: UInt64 = 0

    public init() {}

    public var count: Int { Int(producer &- consumer) }
    public var isEmpty: Bool { producer == consumer }
    public var isFull: Bool { count == Self.capacity }

    /// Queues `byte`; false (and the byte is dropped) when the ring is full.
    @discardableResult
    public mutating func append(_ byte: UInt8) -> Bool {
        guard !isFull else { dropped &+= 1; return false }
        storage[Int(producer % UInt32(Self.capacity))] = byte
        producer &+= 1
        return true
    }

    /// CONSOLEIO_read of up to `limit` bytes: `copy(piece, offset)` puts each contiguous
    /// piece at `offset` in the reader's buffer and says whether that worked.
    public mutating func read(upTo limit: Int,
                              copy: (_ piece: UnsafeBufferPointer<UInt8>, _ offset: Int) -> Bool) -> ConsoleReadResult {
        var done = 0
        while !isEmpty && done < limit {
            let index = Int(consumer % UInt32(Self.capacity))
            let length = Swift.min(Swift.min(count, Self.capacity - index), limit - done)
            let ok = withUnsafeBytes(of: &storage) { raw -> Bool in
                let bytes = raw.bindMemory(to: UInt8.self)
                return copy(UnsafeBufferPointer(rebasing: bytes[index..<(index + length)]), done)
            }
            guard ok else { return .fault }
            done += length
            consumer &+= UInt32(length)
        }
        return .read(done)
    }
}
