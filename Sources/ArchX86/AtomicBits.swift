// Locked bit operations on memory Apus shares with a guest (the event-channel bitmaps in
// shared_info): the guest changes the same words on its own, so every read-modify-write
// must be one locked instruction.
import X86Shim

public enum AtomicBits {
    /// Sets bit `bit` (0-63) of the 64-bit word at `address`; returns its old value.
    @inline(__always) public static func testAndSet(_ address: UInt64, bit: Int) -> Bool {
        x86_test_and_set_bit(UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)).unsafelyUnwrapped, UInt32(bit))
    }

    @inline(__always) public static func testAndClear(_ address: UInt64, bit: Int) -> Bool {
        x86_test_and_clear_bit(UnsafeMutablePointer<UInt64>(bitPattern: UInt(address)).unsafelyUnwrapped, UInt32(bit))
    }
}
