// console_io: dom0 writes straight to Apus's console (as Xen's hardware domain does) and
// reads the serial input waiting for it (ConsoleInput's ring): up to `count` bytes, 0 when
// none is waiting (the buffer is not looked at then), -EFAULT for a buffer it cannot
// write, -E2BIG for a count above INT_MAX (Xen's guard against results that would read
// as errors).
import ApusCore
import ApusPublic
import ArchX86

enum ConsoleHypercall {
    static let chunk = 128

    static func perform(_ args: HypercallArguments) -> Int64 {
        switch ConsoleIORequest.decode(command: args.a0, count: args.a1) {
        case .write(let count):
            var buffer = InlineArray<128, UInt8>(repeating: 0)
            var done = 0
            while done < count {
                let piece = min(chunk, count - done)
                let ok = withUnsafeMutableBytes(of: &buffer) { storage -> Bool in
                    guard GuestMemory.read(storage.baseAddress!, from: args.a2 &+ UInt64(done), count: piece) else {
                        return false
                    }
                    Console.shared.writeGuestBytes(UnsafeRawBufferPointer(start: storage.baseAddress, count: piece))
                    return true
                }
                guard ok else { return Errno.EFAULT }
                done += piece
            }
            return 0
        case .read(let count):
            return ConsoleInput.read(into: args.a2, count: count)
        case .invalidCount:
            if UInt32(truncatingIfNeeded: args.a0) == 1 { return Errno.E2BIG }  // CONSOLEIO_read
            return Errno.EINVAL
        case .unknown:
            return Errno.ENOSYS
        }
    }
}
