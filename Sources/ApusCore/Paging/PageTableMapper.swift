// Building and reading 4-level page tables that Apus owns (its own address space now;
// the dom0 builder's initial guest tables later).
//
// The mapper reaches table frames only through `PageTableMemory`, so it runs on the host
// over fake memory and in the hypervisor over the direct map. Intermediate entries are
// created present+writable (+user when asked): the leaf decides the real permissions,
// since x86 takes the most restrictive combination along the walk.
// Invariant: an existing mapping is never silently replaced; remapping is an error.

public protocol PageTableMemory {
    /// The 512 entries of the table held in physical frame `frame` (a frame number).
    func table(_ frame: UInt64) -> UnsafeMutablePointer<UInt64>
    /// A zeroed frame for a new table, or nil when none is left.
    mutating func allocateTableFrame() -> UInt64?
}

public enum PagingError: Error, Equatable {
    case misaligned
    case nonCanonical
    case alreadyMapped(virtual: UInt64)
    case outOfTableFrames
    case largePageInTheWay(virtual: UInt64)
}

public struct PageTableMapper<Memory: PageTableMemory> {
    public var memory: Memory
    public let rootFrame: UInt64

    public init(memory: Memory, rootFrame: UInt64) {
        self.memory = memory
        self.rootFrame = rootFrame
    }

    /// Maps `count` pages of `size` from `virtual` to `physical` with leaf `flags`
    /// (present is added; PS is added for large pages).
    public mutating func map(virtual: UInt64, physical: UInt64, count: Int = 1,
                             size: PageSize, flags: UInt64) throws(PagingError) {
        guard virtual % size.bytes == 0, physical % size.bytes == 0 else { throw .misaligned }
        for page in 0..<count {
            let offset = UInt64(page) * size.bytes
            try mapOne(virtual: virtual &+ offset, physical: physical + offset, size: size, flags: flags)
        }
    }

    mutating func mapOne(virtual: UInt64, physical: UInt64, size: PageSize, flags: UInt64) throws(PagingError) {
        guard VirtualAddress.isCanonical(virtual) else { throw .nonCanonical }
        let intermediateFlags = PageTableEntry.present | PageTableEntry.writable | (flags & PageTableEntry.user)
        var tableFrame = rootFrame
        var level = 4
        while level > size.level {
            let table = memory.table(tableFrame)
            let index = VirtualAddress.index(virtual, level: level)
            var entry = PageTableEntry(raw: table[index])
            if !entry.isPresent {
                guard let frame = memory.allocateTableFrame() else { throw .outOfTableFrames }
                entry = PageTableEntry(physical: frame << 12, flags: intermediateFlags)
                table[index] = entry.raw
            } else if entry.isLargePage {
                throw .largePageInTheWay(virtual: virtual)
            } else if flags & PageTableEntry.user != 0 && !entry.isUser {
                table[index] = entry.raw | PageTableEntry.user
            }
            tableFrame = PageTableEntry(raw: table[index]).physicalAddress >> 12
            level -= 1
        }
        let leaf = memory.table(tableFrame)
        let index = VirtualAddress.index(virtual, level: level)
        guard !PageTableEntry(raw: leaf[index]).isPresent else { throw .alreadyMapped(virtual: virtual) }
        let leafFlags = flags | PageTableEntry.present | (size == .size4K ? 0 : PageTableEntry.pageSize)
        leaf[index] = PageTableEntry(physical: physical, flags: leafFlags).raw
    }

    public struct Translation: Equatable {
        public var physical: UInt64
        public var size: PageSize
        /// The leaf entry's flags, with writable/user/NX combined along the walk as the CPU does.
        public var effectiveWritable: Bool
        public var effectiveUser: Bool
        public var effectiveNoExecute: Bool
    }

    /// Walks the tables like the CPU would; nil when `virtual` is not mapped.
    public func translate(_ virtual: UInt64) -> Translation? {
        guard VirtualAddress.isCanonical(virtual) else { return nil }
        var tableFrame = rootFrame
        var writable = true, user = true, noExecute = false
        var level = 4
        while level >= 1 {
            let entry = PageTableEntry(raw: memory.table(tableFrame)[VirtualAddress.index(virtual, level: level)])
            guard entry.isPresent else { return nil }
            writable = writable && entry.isWritable
            user = user && entry.isUser
            noExecute = noExecute || entry.isNoExecute
            if level == 1 || (level <= 3 && entry.isLargePage) {
                let size = PageSize(rawValue: level)!
                let pageBase = entry.physicalAddress & ~(size.bytes - 1)
                return Translation(physical: pageBase | (virtual & (size.bytes - 1)), size: size,
                                   effectiveWritable: writable, effectiveUser: user, effectiveNoExecute: noExecute)
            }
            tableFrame = entry.physicalAddress >> 12
            level -= 1
        }
        return nil
    }
}
