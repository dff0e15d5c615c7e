// How deep the boot CPU's stack has been: the unused part is painted at start of day and
// the first overwritten byte found later, so the boot log shows the high-water mark and
// a change that makes boot code's frames balloon is seen long before it hits the guard.
import ApusCore
import ArchX86

enum StackUsage {
    static let paint: UInt8 = 0xA5

    /// Paints from the bottom of the boot stack up to a little below the current frame.
    static func paintUnused() {
        let bottom = ImageLayout.bootStackBottom
        let limit = CPU.stackPointer - 512
        guard limit > bottom else { return }
        let bytes = UnsafeMutablePointer<UInt8>(bitPattern: UInt(bottom)).unsafelyUnwrapped
        bytes.update(repeating: paint, count: Int(limit - bottom))
    }

    static var highWaterBytes: UInt64 {
        let bottom = ImageLayout.bootStackBottom
        let bytes = UnsafePointer<UInt8>(bitPattern: UInt(bottom)).unsafelyUnwrapped
        var untouched: UInt64 = 0
        while bottom + untouched < ImageLayout.bootStackTop && bytes[Int(untouched)] == paint { untouched += 1 }
        return ImageLayout.bootStackTop - bottom - untouched
    }

    static func report() {
        Log.line(.info) { c in
            c.write("Boot stack: "); c.write(decimal: highWaterBytes / 1024); c.write(" KiB used of ")
            c.write(decimal: (ImageLayout.bootStackTop - ImageLayout.bootStackBottom) / 1024); c.write(" KiB")
        }
    }
}
