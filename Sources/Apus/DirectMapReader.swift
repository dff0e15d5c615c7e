// Physical memory as the pure parsers read it: through the direct map, and only below
// the limit the direct map covers at the moment (4 GiB on the boot tables, all RAM after).
import ApusCore
import ArchX86

struct DirectMapReader: PhysicalMemoryReader {
    let limit: UInt64

    func bytes(at physicalAddress: UInt64, count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, physicalAddress < limit, UInt64(count) <= limit - physicalAddress else { return nil }
        let start = UnsafeRawPointer(bitPattern: UInt(DirectMap.address(of: physicalAddress)))
        return UnsafeRawBufferPointer(start: start, count: count)
    }
}
