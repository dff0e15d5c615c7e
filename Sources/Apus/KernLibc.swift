// The handful of C library symbols the Swift compiler and runtime expect to exist.
//
// Embedded Swift lowers struct copies and zeroing to memcpy/memset calls and prints
// through putchar; nothing here allocates (the image has no heap, DESIGN.md). LLVM does
// not turn the loops inside functions named memset/memcpy back into calls to themselves.

@c(memset)
func apusMemset(_ destination: UnsafeMutableRawPointer, _ value: Int32, _ count: Int) -> UnsafeMutableRawPointer {
    let bytes = destination.assumingMemoryBound(to: UInt8.self)
    let byte = UInt8(truncatingIfNeeded: value)
    var index = 0
    while index < count { bytes[index] = byte; index += 1 }
    return destination
}

@c(memcpy)
func apusMemcpy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer, _ count: Int) -> UnsafeMutableRawPointer {
    let to = destination.assumingMemoryBound(to: UInt8.self)
    let from = source.assumingMemoryBound(to: UInt8.self)
    var index = 0
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
