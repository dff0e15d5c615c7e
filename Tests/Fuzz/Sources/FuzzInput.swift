// The fuzzer's bytes as a stream of decisions: each read takes the next bytes, little-endian,
// and reads past the end give zeros, so every input (even the empty one) is a valid script
// and a target never has to check lengths before it asks.

struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { max(0, bytes.count - offset) }
    var isExhausted: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }
    mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }
    mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }
    mutating func bool() -> Bool { byte() & 1 != 0 }

    /// A value in 0..<bound (bound > 0), from one byte when that is enough.
    mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        if bound <= 256 { return Int(byte()) % bound }
        if bound <= 65536 { return Int(u16()) % bound }
        return Int(u32() % UInt32(truncatingIfNeeded: bound))
    }

    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    /// Up to `count` next bytes (fewer at the end).
    mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let start = min(offset, bytes.count)
        let end = min(bytes.count, start + max(0, count))
        offset = end
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    /// Everything not read yet.
    mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }

    /// A length-prefixed (u16) chunk, capped at `limit`.
    mutating func chunk(limit: Int) -> UnsafeRawBufferPointer { take(min(Int(u16()), limit)) }
}

/// Heap copies with exact sizes, so AddressSanitizer flags any read or write one byte
/// outside what the code under test was handed (a slice of the fuzzer's buffer would not).
final class ExactBuffer {
    let pointer: UnsafeMutableRawPointer
    let count: Int

    init(count: Int, alignment: Int = 16) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: alignment)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
    }

    convenience init(copying bytes: UnsafeRawBufferPointer, alignment: Int = 16) {
        self.init(count: bytes.count, alignment: alignment)
        if bytes.count > 0 { pointer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
    }

    convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count)
        bytes.withUnsafeBytes { if $0.count > 0 { pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    }

    deinit { pointer.deallocate() }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: pointer, count: count) }
    var mutableRaw: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: pointer, count: count) }
    var window: ByteWindow { ByteWindow(raw) }
    var array: [UInt8] { Array(raw) }

    /// Whether `text` points inside this buffer (or is empty).
    func holds(_ text: ByteText) -> Bool {
        guard text.count > 0, let base = text.base else { return true }
        let start = UnsafeRawPointer(base)
        return start >= UnsafeRawPointer(pointer) && start + text.count <= UnsafeRawPointer(pointer) + count
    }
}
