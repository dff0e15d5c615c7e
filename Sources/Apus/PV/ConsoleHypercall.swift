// console_io: dom0 writes straight to Apus's console (as Xen's hardware domain does);
// reading comes with the console input switching of the events issue and returns 0 bytes.
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
        case .read:
            return 0  // console input reaches dom0 with the events issue
        case .invalidCount:
            return Errno.EINVAL
        case .unknown:
            return Errno.ENOSYS
        }
    }
}
