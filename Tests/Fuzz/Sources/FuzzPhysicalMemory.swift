// Physical memory for the firmware targets: a few regions at fuzzer-chosen addresses, the
// rest unreadable. Regions never overlap (one that would is dropped), so every address has
// one value however it is read, and a read may span adjacent regions, as in real memory.
// Every range a parser asks for is handed out as a fresh exact-size copy that stays alive
// until `release`, so AddressSanitizer flags a parser that reads one byte past any window it
// was given (PhysicalMemoryReader's contract), not just past a region.

final class FuzzPhysicalMemory: PhysicalMemoryReader {
    struct Region {
        var base: UInt64
        var bytes: [UInt8]
    }
    private(set) var regions: [Region] = []
    private var handedOut: [ExactBuffer] = []
    private(set) var requests = 0

    /// Bases the firmware and loaders really use, so the parsers' fixed addresses get hit.
    static let bases: [UInt64] = [0, 0x400, 0x9_FC00, 0xE_0000, 0xF_0000, 0xF_59D0, 0x10_0000, 0x3FFE_0000,
                                  0xFFFF_FFFF_FFFF_F000]

    func add(base: UInt64, bytes: [UInt8]) {
        // Regions must not wrap the address space: parsers rely on the reader for that.
        let (end, wraps) = base.addingReportingOverflow(UInt64(bytes.count))
        guard !wraps, !bytes.isEmpty else { return }
        guard !regions.contains(where: { base < $0.base + UInt64($0.bytes.count) && $0.base < end }) else { return }
        regions.append(Region(base: base, bytes: bytes))
        regions.sort { $0.base < $1.base }
    }

    /// Regions described by the input: a base (one of `bases` plus an offset, or any
    /// address), a size, and that many bytes (zeros where the input runs out).
    func addRegions(from input: inout FuzzInput, count: Int, maximumSize: Int) {
        for _ in 0..<count {
            let selector = input.byte()
            var base: UInt64
            if selector < 224 {
                base = FuzzPhysicalMemory.bases[Int(selector) % FuzzPhysicalMemory.bases.count] &+ UInt64(input.u16() & ~0xF)
            } else {
                base = input.u64()
            }
            if base > 0xFFFF_FFFF_FFFF_0000 { base = 0xFFFF_FFFF_FFFF_0000 }
            let size = min(Int(input.u32() & 0x3_FFFF), maximumSize)
            var bytes = [UInt8](repeating: 0, count: size)
            let given = input.take(min(size, Int(input.u16())))
            for i in 0..<given.count { bytes[i] = given[i] }
            add(base: base, bytes: bytes)
        }
    }

    func bytes(at physicalAddress: UInt64, count: Int) -> UnsafeRawBufferPointer? {
        requests += 1
        guard count >= 0 else { return nil }
        let (end, wraps) = physicalAddress.addingReportingOverflow(UInt64(count))
        guard !wraps else { return nil }
        // The regions (sorted, disjoint) that cover [physicalAddress, end) without a gap.
        var first = -1, last = -1
        var next = physicalAddress   // first byte not covered yet
        for (index, region) in regions.enumerated() where next < end {
            let regionEnd = region.base + UInt64(region.bytes.count)
            guard regionEnd > next else { continue }
            guard region.base <= next else { return nil }      // a gap
            if first < 0 { first = index }
            last = index
            next = min(regionEnd, end)
        }
        guard next == end else { return nil }
        let copy = ExactBuffer(count: count)
        if first >= 0 {
            for region in regions[first...last] {
                let from = max(region.base, physicalAddress), to = min(region.base + UInt64(region.bytes.count), end)
                region.bytes.withUnsafeBytes { source in
                    (copy.pointer + Int(from - physicalAddress)).copyMemory(from: source.baseAddress! + Int(from - region.base),
                                                                          byteCount: Int(to - from))
                }
            }
        }
        handedOut.append(copy)
        return copy.raw
    }

    /// Whether `text` is inside a buffer this reader handed out (and has not released).
    func handedOut(_ text: ByteText) -> Bool { handedOut.contains { $0.holds(text) } }

    func release() { handedOut.removeAll() }

    /// Makes every "RSD PTR " candidate's checksums right (both the first 20 bytes and the
    /// extended length), so mutations reach the tables behind it.
    func fixRSDPChecksums() {
        let signature = Array("RSD PTR ".utf8)
        for r in regions.indices {
            var offset = 0
            while offset + 36 <= regions[r].bytes.count {
                if Array(regions[r].bytes[offset..<(offset + 8)]) == signature {
                    fix(&regions[r].bytes, at: offset + 8, over: offset..<(offset + 20))
                    let length = Int(regions[r].bytes[offset + 20]) | Int(regions[r].bytes[offset + 21]) << 8
                    if length >= 36 && offset + length <= regions[r].bytes.count {
                        fix(&regions[r].bytes, at: offset + 32, over: offset..<(offset + length))
                    }
                }
                offset += 16
            }
        }
    }

    /// Makes the ACPI table at `offset` of region `r` sum to zero (checksum byte 9).
    func fixTableChecksum(region r: Int, offset: Int) {
        guard offset + 36 <= regions[r].bytes.count else { return }
        let bytes = regions[r].bytes
        let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16
        guard length >= 36, offset + length <= bytes.count else { return }
        fix(&regions[r].bytes, at: offset + 9, over: offset..<(offset + length))
    }

    private func fix(_ bytes: inout [UInt8], at index: Int, over range: Range<Int>) {
        bytes[index] = 0
        let sum = bytes[range].reduce(UInt8(0), &+)
        bytes[index] = 0 &- sum
    }
}
