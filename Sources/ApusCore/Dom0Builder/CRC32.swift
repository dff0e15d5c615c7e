// CRC32: the CRC-32 of gzip trailers (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320).
//
// The 256-entry table is computed when the value is created (about 2 000 shifts) rather than
// held in a global, so nothing is initialised lazily behind the hypervisor's back.
// Imports nothing.

public struct CRC32Table {
    var entries = InlineArray<256, UInt32>(repeating: 0)

    public init() {
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 != 0 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
            entries[index] = value
        }
    }

    /// Continues `crc` (0 for a fresh start) over `bytes`.
    public func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        // Through a pointer: subscripting the InlineArray per byte makes the optimiser copy
        // the whole table each time.
        withUnsafeBytes(of: entries) { table in
            var value = ~crc
            for byte in bytes {
                let index = Int(UInt8(truncatingIfNeeded: value) ^ byte)
                value = table.load(fromByteOffset: index &* 4, as: UInt32.self) ^ (value >> 8)
            }
            return ~value
        }
    }

    public func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { update(0, bytes) }
}
