// MemoryRange: one physical address range of the boot memory map and what it holds.
//
// Types come from the firmware (e820 numbering, as multiboot 1 and 2 pass it on) or from
// Apus itself: `.apus(reason)` is RAM the firmware called usable that Apus has taken
// (its image, boot modules, the frame table...). Keeping the reason lets the boot log
// say what was reserved and why.
//
// Invariant: `base < end` (end is exclusive) for every range stored in a MemoryMap.
// Owns: the type ranking used when ranges overlap. Imports nothing.

/// Why Apus took a range of usable RAM out of circulation.
public enum MemoryReservationReason: UInt8 {
    case image              // the hypervisor's own text, data and bss
    case module             // a multiboot module (dom0 kernel, initrd) until dom0 owns it
    case firmware           // firmware data sitting in usable RAM (multiboot info, EBDA...)
    case lowMemory          // the first MiB: real-mode structures, trampolines, BIOS
    case badPage            // `badpage=`: frames with bad bytes
    case memLimit           // RAM above the `mem=` limit, ignored like Xen does
    case allocatorMetadata  // carved before the buddy allocator exists (the frame table)
    case pageTables         // boot-time hypervisor page tables
    case other
}

/// The type of a physical range: an e820 type, or usable RAM that Apus reserved.
public enum MemoryRangeType: Equatable {
    case usable            // e820 1
    case reserved          // e820 2
    case acpiReclaimable   // e820 3 (Xen prints "ACPI data")
    case acpiNVS           // e820 4
    case unusable          // e820 5: bad memory
    case other(UInt32)     // any other raw e820 number (persistent memory, vendor types...)
    case apus(MemoryReservationReason)

    /// Maps a raw e820 / multiboot 2 type number. Multiboot 1 callers pass 1 for
    /// available RAM and their raw number otherwise.
    public init(e820 type: UInt32) {
        switch type {
        case 1: self = .usable
        case 2: self = .reserved
        case 3: self = .acpiReclaimable
        case 4: self = .acpiNVS
        case 5: self = .unusable
        default: self = .other(type)
        }
    }

    public var isUsable: Bool { self == .usable }

    /// What the firmware map says about this range once Apus's own bookkeeping is
    /// stripped: reservations were usable RAM, except RAM hidden by `mem=`, which Xen
    /// turns into unusable memory.
    public var firmwareView: MemoryRangeType {
        switch self {
        case .apus(.memLimit): return .unusable
        case .apus: return .usable
        default: return self
        }
    }

    /// The e820 number of `firmwareView`, for handing a map to dom0.
    public var e820Type: UInt32 {
        switch firmwareView {
        case .usable: return 1
        case .reserved: return 2
        case .acpiReclaimable: return 3
        case .acpiNVS: return 4
        case .unusable: return 5
        case .other(let raw): return raw
        case .apus: return 2  // unreachable: firmwareView strips .apus
        }
    }

    /// How strict a type is: on overlap the stricter one wins, because calling
    /// something RAM that is not is the only dangerous mistake. Bad memory beats
    /// firmware-owned memory beats ACPI tables beats Apus's reservations beats RAM.
    var rank: Int {
        switch self {
        case .usable: return 0
        case .apus: return 1
        case .acpiReclaimable: return 2
        case .other: return 3
        case .reserved: return 4
        case .acpiNVS: return 5     // NVS must be preserved across S3: keep it over plain reserved
        case .unusable: return 6
        }
    }

    /// The type a point covered by both `self` and `other` ends up with. Ties between
    /// raw types go to the larger number so the result does not depend on entry order;
    /// ties between two Apus reasons keep the existing one (`self`).
    func stricter(_ other: MemoryRangeType) -> MemoryRangeType {
        if other.rank != rank { return other.rank > rank ? other : self }
        if case .other(let mine) = self, case .other(let theirs) = other {
            return theirs > mine ? other : self
        }
        return self
    }
}

/// A half-open physical range `[base, end)` with its type.
public struct MemoryRange: Equatable {
    public var base: UInt64
    public var end: UInt64
    public var type: MemoryRangeType

    public init(base: UInt64, end: UInt64, type: MemoryRangeType) {
        self.base = base
        self.end = end
        self.type = type
    }

    public var length: UInt64 { end - base }

    /// The last byte, as Xen prints ranges (inclusive end).
    public var last: UInt64 { end - 1 }

    /// Whole 4 KiB frames inside the range: `firstFrame..<endFrame` (may be empty).
    public var firstFrame: UInt64 { (base >> 12) + (base & 0xFFF == 0 ? 0 : 1) }
    public var endFrame: UInt64 { end >> 12 }
    public var wholeFrames: UInt64 { endFrame > firstFrame ? endFrame - firstFrame : 0 }
}
