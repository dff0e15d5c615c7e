// x86-64 4-level page-table entries (Intel SDM vol. 3, §4.5, tables 4-15 to 4-20).
//
// One type for every level: the bits that matter differ only in PS (a large page at
// L2/L3) and PAT's position. Guest page-table validation (the PV MMU issue) reads guest
// entries with the same type, so its rules and Apus's own tables cannot disagree on a
// bit. Imports nothing.

public struct PageTableEntry: Equatable {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    public static let present: UInt64 = 1 << 0
    public static let writable: UInt64 = 1 << 1
    public static let user: UInt64 = 1 << 2
    public static let writeThrough: UInt64 = 1 << 3
    public static let cacheDisable: UInt64 = 1 << 4
    public static let accessed: UInt64 = 1 << 5
    public static let dirty: UInt64 = 1 << 6
    public static let pageSize: UInt64 = 1 << 7
    public static let global: UInt64 = 1 << 8
    public static let noExecute: UInt64 = 1 << 63
    /// Physical address bits 12-51 (the architectural maximum MAXPHYADDR of 52).
    public static let addressMask: UInt64 = 0x000F_FFFF_FFFF_F000

    public init(physical: UInt64, flags: UInt64) {
        precondition(physical & ~PageTableEntry.addressMask == 0, "unaligned or too-wide physical address")
        raw = physical | flags
    }

    public var isPresent: Bool { raw & PageTableEntry.present != 0 }
    public var isWritable: Bool { raw & PageTableEntry.writable != 0 }
    public var isUser: Bool { raw & PageTableEntry.user != 0 }
    public var isLargePage: Bool { raw & PageTableEntry.pageSize != 0 }
    public var isNoExecute: Bool { raw & PageTableEntry.noExecute != 0 }
    public var physicalAddress: UInt64 { raw & PageTableEntry.addressMask }
    public var flags: UInt64 { raw & ~PageTableEntry.addressMask }
}

/// The sizes a mapping can have, and which level holds its entry.
public enum PageSize: Int {
    case size4K = 1, size2M = 2, size1G = 3

    public var bytes: UInt64 { 1 << (12 + 9 * UInt64(rawValue - 1)) }
    /// The level (1 = PT ... 4 = PML4) whose entry maps a page of this size.
    public var level: Int { rawValue }
}

public enum VirtualAddress {
    /// The 9-bit table index for `level` (1 = PT ... 4 = PML4).
    public static func index(_ address: UInt64, level: Int) -> Int {
        Int((address >> (12 + 9 * UInt64(level - 1))) & 0x1FF)
    }

    /// Bits 48-63 copy bit 47.
    public static func isCanonical(_ address: UInt64) -> Bool {
        let top = address >> 47
        return top == 0 || top == 0x1_FFFF
    }
}
