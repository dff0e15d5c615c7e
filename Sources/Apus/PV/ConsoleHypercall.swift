// console_io: dom0 writes straight to Apus's console (as Xen's hardware domain does);
// reading comes with the console input switching of the events issue and returns 0 bytes.
import ApusCore
import ApusPublic
import ArchX86

enum ConsoleHypercall {
    static let chunk = 128

    static func perform(_ args: HypercallArguments) -> Int64 {
        let count = Int64(Int32(truncatingIfNeeded: args.a1))
        switch Int32(truncatingIfNeeded: args.a0) {
        case CONSOLEIO_write:
            guard count >= 0 else { return Errno.EINVAL }
            var buffer = InlineArray<128, UInt8>(repeating: 0)
            var done: Int64 = 0
            while done < count {
                let piece = Int(min(Int64(chunk), count - done))
                let ok = withUnsafeMutableBytes(of: &buffer) { storage -> Bool in
                    guard GuestMemory.read(UnsafeMutableRawPointer(storage.baseAddress!), from: args.a2 &+ UInt64(done),
                                           count: piece) else { return false }
                    Console.shared.writeGuestBytes(UnsafeRawBufferPointer(start: storage.baseAddress, count: piece))
                    return true
                }
                guard ok else { return Errno.EFAULT }
                done += Int64(piece)
            }
            return 0
        case CONSOLEIO_read:
            guard count >= 0 else { return Errno.EINVAL }
            return 0
        default:
            return Errno.ENOSYS
        }
    }
}
