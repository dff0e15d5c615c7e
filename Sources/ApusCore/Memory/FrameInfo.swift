// FrameInfo: the per-frame record of the frame table (Xen's `struct page_info`).
//
// One entry per 4 KiB machine frame, indexed by MFN, in memory the hypervisor carves
// out of the boot memory map. 32 bytes per frame (0.8% of RAM), like Xen's on x86-64.
// Links are 32-bit frame indices, never pointers: the table lives in the hypervisor's
// high half while the host tests keep it in an Array, and 2^32 frames cover 16 TiB.
//
// Layout (offsets in bytes; a test pins the size):
//    0 next, 4 prev   buddy free-list links while free; the owner's page-list links
//                     while allocated (as Xen reuses `list` for both).
//    8 countInfo      reserved for the PV memory rules: general reference count plus
//                     allocation flags (Xen's `count_info`). The allocator leaves it 0.
//   16 typeInfo       reserved: page type (writable, L1..L4 page table, segdesc), its
//                     validated/pinned bits and the type count (Xen's `type_info`).
//   24 owner          domid of the owning domain; `noOwner` when nobody owns it.
//   26 order          block order: meaningful on the head frame of a free block.
//   27 state          FrameState (the allocator's view of the frame).
//   28 spare          reserved: a TLB-flush timestamp or shadow bookkeeping later.
//
// The allocator owns `next`, `prev`, `order` and `state` of free frames; everything
// else belongs to whoever allocated the frame. Imports nothing.

/// The allocator's view of one frame.
public enum FrameState: UInt8 {
    /// Not RAM the allocator manages: hole, firmware, bad, reserved or metadata. Never handed out.
    case unavailable = 0
    /// Inside a free block, not its first frame.
    case free = 1
    /// First frame of a free block: `order` and the links are valid.
    case freeHead = 2
    /// Handed out by `allocate` and not freed since.
    case allocated = 3
}

public struct FrameInfo {
    /// The end-of-list marker for `next`/`prev`.
    public static var noFrame: UInt32 { UInt32.max }
    /// DOMID_INVALID: the owner of frames that belong to no domain.
    public static var noOwner: UInt16 { 0x7FF4 }

    public var next: UInt32
    public var prev: UInt32
    public var countInfo: UInt64
    public var typeInfo: UInt64
    public var owner: UInt16
    public var order: UInt8
    public var state: FrameState
    public var spare: UInt32

    public init() {
        next = FrameInfo.noFrame
        prev = FrameInfo.noFrame
        countInfo = 0
        typeInfo = 0
        owner = FrameInfo.noOwner
        order = 0
        state = .unavailable
        spare = 0
    }
}
