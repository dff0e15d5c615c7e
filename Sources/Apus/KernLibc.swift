// The handful of C library symbols the Swift compiler and runtime expect to exist.
//
// Embedded Swift lowers struct copies and zeroing to memcpy/memset calls and prints
// through putchar; nothing here allocates (the image has no heap, DESIGN.md). LLVM does
// not turn the loops inside functions named memset/memcpy back into calls to themselves.

// Page zeroing and copying dominate the dom0 build: both move 8 bytes a step when the
// pointers allow it, then finish byte by byte.
@c(memset)
func apusMemset(_ destination: UnsafeMutableRawPointer, _ value: Int32, _ count: Int) -> UnsafeMutableRawPointer {
    let bytes = destination.assumingMemoryBound(to: UInt8.self)
    let byte = UInt8(truncatingIfNeeded: value)
    var index = 0
    if UInt(bitPattern: destination) & 7 == 0 {
        let word = UInt64(byte) &* 0x0101_0101_0101_0101
        let words = destination.assumingMemoryBound(to: UInt64.self)
        while index + 8 <= count { words[index >> 3] = word; index += 8 }
    }
    while index < count { bytes[index] = byte; index += 1 }
    return destination
}

@c(memcpy)
func apusMemcpy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    let to = destination.assumingMemoryBound(to: UInt8.self)
    let from = source.assumingMemoryBound(to: UInt8.self)
    var index = 0
    if (UInt(bitPattern: destination) | UInt(bitPattern: source)) & 7 == 0 {
        let toWords = destination.assumingMemoryBound(to: UInt64.self)
        let fromWords = source.assumingMemoryBound(to: UInt64.self)
        while index + 8 <= count { toWords[index >> 3] = fromWords[index >> 3]; index += 8 }
    }
    while index < count { to[index] = from[index]; index += 1 }
    return destination
}

@c(memmove)
func apusMemmove(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    let to = destination.assumingMemoryBound(to: UInt8.self)
    let from = source.assumingMemoryBound(to: UInt8.self)
    if UInt(bitPattern: to) < UInt(bitPattern: from) {
        var index = 0
        while index < count { to[index] = from[index]; index += 1 }
    } else {
        var index = count
        while index > 0 { index -= 1; to[index] = from[index] }
    }
    return destination
}

@c(memcmp)
func apusMemcmp(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, _ count: Int) -> Int32 {
    let a = left.assumingMemoryBound(to: UInt8.self)
    let b = right.assumingMemoryBound(to: UInt8.self)
    var index = 0
    while index < count {
        if a[index] != b[index] { return Int32(a[index]) - Int32(b[index]) }
        index += 1
    }
    return 0
}

@c(putchar)
func apusPutchar(_ character: Int32) -> Int32 {
    Console.shared.put(UInt8(truncatingIfNeeded: character))
    return character
}
