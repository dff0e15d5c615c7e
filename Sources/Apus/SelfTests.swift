// `apus_selftest=`: takes, on purpose, one of the paths that otherwise only a bug or dom0
// takes, so the boot tests can check what a person then sees. Each path ends the boot.
import ApusCore
import ArchX86

enum SelfTests {
    static func run(_ test: SelfTest) {
        guard test != .none else { return }
        Log.line { c in c.write("Self-test (apus_selftest="); c.write(test.name); c.write("): taking that path now") }
        switch test {
        case .none: return
        case .swiftTrap: failBoundsCheck()
        case .pageFault: readUnmappedMemory()
        case .stackOverflow: _ = recurseForever(depth: 0)
        case .powerOff: Platform.powerOff()
        case .reset: Platform.reset()
        }
        panic("self-test returned")
    }

    /// An out-of-range index the compiler cannot see coming: at -Osize this is a bare ud2.
    @inline(never)
    static func failBoundsCheck() {
        var slots = InlineArray<4, UInt64>(repeating: 0)
        let index = 4 + Int(CPU.readTimeStampCounter() & 0)
        slots[index] = 1
        Log.line { $0.write("bounds check did not fire") }
    }

    /// The lower half belongs to guests; nothing is mapped there while Apus boots.
    @inline(never)
    static func readUnmappedMemory() {
        let pointer = UnsafePointer<UInt64>(bitPattern: 0x1000 + UInt(CPU.readTimeStampCounter() & 0)).unsafelyUnwrapped
        let value = pointer.pointee
        Log.line { c in c.write("read "); c.write(hex0x: value) }
    }

    /// Each frame keeps a buffer live so the stack really grows until the guard page.
    @inline(never)
    static func recurseForever(depth: Int) -> UInt64 {
        var buffer = InlineArray<64, UInt64>(repeating: UInt64(depth))
        buffer[depth & 63] = CPU.readTimeStampCounter()
        return recurseForever(depth: depth + 1) &+ buffer[(depth + 1) & 63]
    }
}
