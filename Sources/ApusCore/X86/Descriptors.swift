// x86-64 segment, system and gate descriptors as bit patterns (Intel SDM vol. 3, §3.4.5,
// §7.2.3, §6.14.1).
//
// Pure encoders: ArchX86 writes the results into the GDT and IDT. Keeping them here lets
// the layouts be tested on the host against the SDM and against the values Xen's GDT
// uses, and lets later work validate guest-supplied descriptors (set_gdt,
// update_descriptor) with the same definitions. Imports nothing.

public enum SegmentDescriptor {
    /// A flat (base 0, limit 4 GiB, page-granular) code or data segment.
    /// `long`: 64-bit code (L=1, D=0); otherwise 32-bit (D/B=1).
    public static func flatCode(dpl: Int, long: Bool) -> UInt64 {
        flat(type: 0xA, dpl: dpl, long: long)   // execute/read, accessed clear
    }

    public static func flatData(dpl: Int) -> UInt64 {
        flat(type: 0x2, dpl: dpl, long: false)  // read/write
    }

    static func flat(type: UInt64, dpl: Int, long: Bool) -> UInt64 {
        let limitLow: UInt64 = 0xFFFF, limitHigh: UInt64 = 0xF
        var d = limitLow
        d |= (type | 0x10) << 40              // S=1: code/data
        d |= UInt64(dpl & 3) << 45
        d |= 1 << 47                          // present
        d |= limitHigh << 48
        if long { d |= 1 << 53 } else { d |= 1 << 54 }
        d |= 1 << 55                          // 4 KiB granularity
        return d
    }

    public static func dpl(of descriptor: UInt64) -> Int { Int((descriptor >> 45) & 3) }
    public static func isPresent(_ descriptor: UInt64) -> Bool { descriptor & (1 << 47) != 0 }
}

/// A 16-byte system descriptor (64-bit TSS or LDT) as two GDT slots.
public struct SystemDescriptor: Equatable {
    public var low: UInt64
    public var high: UInt64

    public static let availableTSS: UInt64 = 0x9
    public static let ldt: UInt64 = 0x2

    public init(base: UInt64, limit: UInt32, type: UInt64) {
        var l = UInt64(limit & 0xFFFF)
        l |= (base & 0xFF_FFFF) << 16
        l |= (type & 0xF) << 40               // S=0: system
        l |= 1 << 47                          // present, DPL 0
        l |= UInt64((limit >> 16) & 0xF) << 48
        l |= ((base >> 24) & 0xFF) << 56
        low = l
        high = base >> 32
    }
}

/// A 16-byte IDT gate.
public struct GateDescriptor: Equatable {
    public var low: UInt64
    public var high: UInt64

    public enum Kind: UInt64 {
        case interrupt = 0xE  // IF cleared on entry
        case trap = 0xF       // IF unchanged
    }

    /// `ist`: 0 for the current stack, 1-7 for an Interrupt Stack Table slot.
    /// `dpl`: the lowest privilege allowed to reach the gate with `int n`.
    public init(handler: UInt64, selector: UInt16, ist: Int, kind: Kind, dpl: Int) {
        var l = handler & 0xFFFF
        l |= UInt64(selector) << 16
        l |= UInt64(ist & 7) << 32
        l |= kind.rawValue << 40
        l |= UInt64(dpl & 3) << 45
        l |= 1 << 47
        l |= ((handler >> 16) & 0xFFFF) << 48
        low = l
        high = handler >> 32
    }

    public var handler: UInt64 { (low & 0xFFFF) | ((low >> 48) & 0xFFFF) << 16 | high << 32 }
    public var ist: Int { Int((low >> 32) & 7) }
    public var dpl: Int { Int((low >> 45) & 3) }
}

/// Selectors in the hypervisor's part of the GDT. The values are Xen's (its reserved GDT
/// page starts at entry 0x1C00), so guests built for Xen find the flat ring-3 selectors
/// the PV ABI names (FLAT_RING3_CS64 = 0xe033 and so on) where they expect them.
public enum Selector {
    public static let firstReservedEntry = 0x1C00
    public static let hypervisorCode64: UInt16 = 0xE008
    public static let hypervisorData: UInt16 = 0xE010
    public static let ring3Code32: UInt16 = 0xE023
    public static let ring3Data: UInt16 = 0xE02B
    public static let ring3Code64: UInt16 = 0xE033
    public static let hypervisorCode32: UInt16 = 0xE038
    public static let tss: UInt16 = 0xE040
    public static let ldt: UInt16 = 0xE050
    public static let perCPU: UInt16 = 0xE060
}

/// Offsets in the 64-bit TSS (SDM §7.7): RSP0-2 at 4, IST1-7 at 36, I/O map base at 102.
public enum TSSLayout {
    public static let size = 104
    public static let rsp0Offset = 4
    public static func istOffset(_ slot: Int) -> Int { 36 + (slot - 1) * 8 }
    public static let ioMapBaseOffset = 102
}
