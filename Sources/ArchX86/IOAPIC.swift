// An IOAPIC's registers, reached through the direct map: the select/window pair at
// offsets 0x00 and 0x10 of its page, and the redirection entries the select register
// names (IOAPICRedirection in ApusCore gives their layout).
//
// Owns: register access only. Which pin goes to which vector is decided in Apus.
// A redirection entry is written masked first, then its high word, then the low word
// with its final mask bit, so the pin never fires with a half-written destination.
import ApusCore
import _Volatile

public struct IOAPIC {
    /// Virtual address of the register page.
    public let base: UInt64

    public init(registerPage: UInt64) { base = registerPage }

    @inline(__always) private var select: VolatileMappedRegister<UInt32> {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base))
    }
    @inline(__always) private var window: VolatileMappedRegister<UInt32> {
        VolatileMappedRegister<UInt32>(unsafeBitPattern: UInt(base) + 0x10)
    }

    public func read(_ index: UInt32) -> UInt32 {
        select.store(index)
        return window.load()
    }

    public func write(_ index: UInt32, _ value: UInt32) {
        select.store(index)
        window.store(value)
    }

    public var versionRegister: UInt32 { read(1) }
    public var pinCount: Int { IOAPICRedirection.pinCount(versionRegister: versionRegister) }

    public func redirection(pin: Int) -> UInt64 {
        let index = IOAPICRedirection.registerIndex(pin: pin)
        return UInt64(read(index + 1)) << 32 | UInt64(read(index))
    }

    public func setRedirection(pin: Int, _ entry: IOAPICRedirection) {
        let index = IOAPICRedirection.registerIndex(pin: pin)
        let value = entry.rawValue
        write(index, read(index) | 1 << 16)
        write(index + 1, UInt32(truncatingIfNeeded: value >> 32))
        write(index, UInt32(truncatingIfNeeded: value))
    }
}
