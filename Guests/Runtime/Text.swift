// Text.swift: small byte-string helpers over memory the hypervisor filled
// (fixed-size NUL-padded fields, the command lines). No String: no heap.
public enum Text {
    /// Length of a NUL-terminated string within at most capacity bytes.
    public static func length(_ bytes: UnsafePointer<UInt8>, capacity: Int) -> Int {
        var count = 0
        while count < capacity && bytes[count] != 0 { count += 1 }
        return count
    }

    /// Whether bytes[0..<length] equals the literal exactly.
    public static func equals(_ bytes: UnsafePointer<UInt8>, length: Int, _ literal: StaticString) -> Bool {
        guard literal.utf8CodeUnitCount == length else { return false }
        let other = literal.utf8Start
        for index in 0..<length where bytes[index] != other[index] { return false }
        return true
    }

    /// Whether the literal occurs anywhere in bytes[0..<length].
    public static func contains(_ bytes: UnsafePointer<UInt8>, length: Int, _ literal: StaticString) -> Bool {
        let needle = literal.utf8Start
        let count = literal.utf8CodeUnitCount
        guard count <= length else { return false }
        if count == 0 { return true }
        var start = 0
        while start + count <= length {
            var index = 0
            while index < count && bytes[start + index] == needle[index] { index += 1 }
            if index == count { return true }
            start += 1
        }
        return false
    }

    /// Whether bytes[0..<length] starts with the literal.
    public static func hasPrefix(_ bytes: UnsafePointer<UInt8>, length: Int, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard count <= length else { return false }
        return equals(bytes, length: count, literal)
    }

    /// Finds "key=" at a word start in a space-separated command line; returns the
    /// value's offset and length.
    public static func option(_ bytes: UnsafePointer<UInt8>, length: Int, _ key: StaticString) -> (offset: Int, length: Int)? {
        var start = 0
        while start < length {
            while start < length && bytes[start] == 0x20 { start += 1 }
            var end = start
            while end < length && bytes[end] != 0x20 { end += 1 }
            let word = bytes + start
            let keyCount = key.utf8CodeUnitCount
            if end - start > keyCount && equals(word, length: keyCount, key) && word[keyCount] == 0x3D {
                return (start + keyCount + 1, end - start - keyCount - 1)
            }
            start = end
        }
        return nil
    }

    /// Parses a Xen size ("64M", "1G", "512K", "4096" meaning KiB) into bytes.
    /// Stops at the first character that is neither a digit nor a suffix.
    public static func parseSize(_ bytes: UnsafePointer<UInt8>, length: Int) -> UInt64? {
        var value: UInt64 = 0
        var index = 0
        while index < length && bytes[index] >= 0x30 && bytes[index] <= 0x39 {
            value = value &* 10 &+ UInt64(bytes[index] - 0x30)
            index += 1
        }
        guard index > 0 else { return nil }
        if index == length { return value << 10 }
        switch bytes[index] | 0x20 {
        case 0x62: return value              // b
        case 0x6B: return value << 10        // k
        case 0x6D: return value << 20        // m
        case 0x67: return value << 30        // g
        default: return value << 10
        }
    }
}
