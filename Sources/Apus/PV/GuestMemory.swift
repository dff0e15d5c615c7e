// Reading and writing a guest's memory on behalf of a hypercall.
//
// Apus runs hypercalls with the calling guest's page tables loaded, so a guest virtual
// address is usable directly; GuestAddress rejects anything in Apus's slot first, and the
// copy routine (boot/entry.S) turns a fault on an unmapped or read-only guest page into a
// short count, which becomes -EFAULT. SMAP stays off (see CPUSetup), so no STAC/CLAC.
import ApusCore
import ArchX86

enum GuestMemory {
    /// Copies `count` bytes from guest address `source` into `destination`. False on any fault.
    static func read(_ destination: UnsafeMutableRawPointer, from source: UInt64, count: Int) -> Bool {
        guard count >= 0, GuestAddress.isAccessible(source, length: UInt64(count)) else { return false }
        guard count > 0 else { return true }
        let from = UnsafeRawPointer(bitPattern: UInt(source)).unsafelyUnwrapped
        return GuestEntry.copy(to: destination, from: from, count: count) == 0
    }

    static func write(_ source: UnsafeRawPointer, to destination: UInt64, count: Int) -> Bool {
        guard count >= 0, GuestAddress.isAccessible(destination, length: UInt64(count)) else { return false }
        guard count > 0 else { return true }
        let to = UnsafeMutableRawPointer(bitPattern: UInt(destination)).unsafelyUnwrapped
        return GuestEntry.copy(to: to, from: source, count: count) == 0
    }

    static func read<T>(_ type: T.Type, at address: UInt64) -> T? {
        withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer -> T? in
            guard read(UnsafeMutableRawPointer(buffer.baseAddress!), from: address, count: MemoryLayout<T>.size) else {
                return nil
            }
            return buffer[0]
        }
    }

    static func write<T>(_ value: T, to address: UInt64) -> Bool {
        var copy = value
        return withUnsafeBytes(of: &copy) { write($0.baseAddress!, to: address, count: MemoryLayout<T>.size) }
    }
}

extension GuestMemory {
    /// Writes `text` NUL-padded to exactly `length` bytes (Xen's fixed-size string
    /// fields), truncating so that the last byte is always a NUL.
    static func writeFixedString(_ text: StaticString, to address: UInt64, length: Int) -> Bool {
        writeFixedBytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount), to: address, length: length)
    }

    static func writeFixedBytes(_ bytes: UnsafeRawBufferPointer, to address: UInt64, length: Int) -> Bool {
        guard GuestAddress.isAccessible(address, length: UInt64(length)) else { return false }
        let count = min(bytes.count, length - 1)
        if count > 0, !write(bytes.baseAddress!, to: address, count: count) { return false }
        var zeros = InlineArray<64, UInt8>(repeating: 0)
        var offset = count
        while offset < length {
            let piece = min(64, length - offset)
            let ok = withUnsafeMutableBytes(of: &zeros) { write(UnsafeRawPointer($0.baseAddress!), to: address + UInt64(offset), count: piece) }
            guard ok else { return false }
            offset += piece
        }
        return true
    }
}
