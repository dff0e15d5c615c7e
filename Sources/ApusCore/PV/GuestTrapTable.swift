// A PV vCPU's virtual IDT, filled by `set_trap_table`.
//
// Each entry is Xen's trap_info: vector, flags (DPL in bits 0-1: the lowest ring that
// may raise it with `int n`; bit 2: mask events while the handler runs), the handler's
// code selector and address. An address of 0 means "no handler": a fault on that vector
// cannot be bounced and crashes the domain, as on Xen.

public struct GuestTrapEntry: Equatable {
    public var flags: UInt8
    public var codeSelector: UInt16
    public var address: UInt64

    public init(flags: UInt8 = 0, codeSelector: UInt16 = 0, address: UInt64 = 0) {
        self.flags = flags
        self.codeSelector = codeSelector
        self.address = address
    }

    public var isSet: Bool { address != 0 }
    public var dpl: Int { Int(flags & 3) }
    public var masksEvents: Bool { flags & 4 != 0 }
}

public struct GuestTrapTable {
    public var entries = InlineArray<256, GuestTrapEntry>(repeating: GuestTrapEntry())

    public init() {}

    public subscript(vector: Int) -> GuestTrapEntry {
        get { entries[vector & 255] }
        set { entries[vector & 255] = newValue }
    }

    /// Reads one entry in place. (A non-mutating read of an InlineArray element can make
    /// the optimiser copy the whole 4 KiB table first; this is on every bounce's path.)
    public mutating func entry(_ vector: Int) -> GuestTrapEntry {
        entries[vector & 255]
    }

    /// One trap_info record from the guest. Returns false (and changes nothing) for a
    /// non-canonical handler (Xen 4.17: -EINVAL). A handler in the hypervisor's range is
    /// taken as given, as Xen does: the guest faults when it is used, its own affair.
    public mutating func set(vector: UInt8, flags: UInt8, codeSelector: UInt16, address: UInt64) -> Bool {
        guard VirtualAddress.isCanonical(address) else { return false }
        // A ring-0 selector would be meaningless for a ring-3 PV kernel: raise its RPL to 3,
        // as Xen's selector fix-up does.
        let selector = codeSelector & 3 == 0 ? codeSelector | 3 : codeSelector
        entries[Int(vector)] = GuestTrapEntry(flags: flags, codeSelector: selector, address: address)
        return true
    }

    /// `set_trap_table(NULL)`: forget every handler.
    public mutating func clear() {
        for vector in 0..<256 { entries[vector] = GuestTrapEntry() }
    }
}
