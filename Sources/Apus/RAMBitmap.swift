// Which machine frames are RAM, one bit each, as the firmware reported them (before Apus's
// reservations and mem=). Built once after the frame allocator starts; read for every
// page-table entry a guest installs, hence a bitmap rather than a walk of the map.
import ApusCore
import ArchX86

enum RAMBitmap {
    nonisolated(unsafe) static var bits: UnsafeMutablePointer<UInt64>? = nil
    nonisolated(unsafe) static var frames: UInt64 = 0

    static func build() {
        frames = Memory.ramFrameEnd
        let words = Int((frames + 63) / 64)
        let order = MachineToPhys.orderFor(bytes: UInt64(words * 8))
        guard let first = Memory.allocator.allocate(order: order) else { panic("No memory for the RAM bitmap") }
        let storage = DirectMap.pointer(to: first << 12, as: UInt64.self)
        storage.update(repeating: 0, count: words)
        Memory.map.forEachFirmwareRange { range in
            guard range.type.isUsable else { return }
            var frame = (range.base + 0xFFF) >> 12
            while frame < range.end >> 12 && frame < frames {
                storage[Int(frame >> 6)] |= 1 << (frame & 63)
                frame += 1
            }
        }
        bits = storage
    }

    @inline(__always) static func contains(_ frame: UInt64) -> Bool {
        guard let bits, frame < frames else { return false }
        return bits[Int(frame >> 6)] & (1 << (frame & 63)) != 0
    }
}
