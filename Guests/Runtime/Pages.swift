// Pages.swift: page-granular memory for the test guests: a pool of page-aligned pages
// from the image's .bss (xg_page_pool in traps.S), virtual-to-machine translation
// for the image, and single-PTE remapping through update_va_mapping.
//
// The pool is a bump allocator (pages are never returned): the guests need a handful
// of pages for page tables and probes. Every image page is mapped by the bootstrap
// tables through an L1 entry, so update_va_mapping can remap any of them.
import XenGuestC
import ApusPublic

public enum Pages {
    public static let size: UInt64 = 4096
    /// PTE bits (x86-64): present, writable, user, accessed, dirty.
    public static let ptePresent: UInt64 = 1 << 0
    public static let pteRW: UInt64 = 1 << 1
    public static let pteUser: UInt64 = 1 << 2
    public static let pteAccessed: UInt64 = 1 << 5
    public static let pteDirty: UInt64 = 1 << 6
    /// A read-only and a read-write leaf entry's flags as a PV guest writes them.
    public static let pteReadOnly: UInt64 = ptePresent | pteUser | pteAccessed
    public static let pteWritable: UInt64 = ptePresent | pteRW | pteUser | pteAccessed | pteDirty

    nonisolated(unsafe) private static var used = 0

    /// A zeroed page from the pool (its virtual address), or nil when it is used up.
    public static func allocate() -> UInt64? {
        guard used < Int(XG_PAGE_POOL_PAGES) else { return nil }
        let address = xg_page_pool_address() &+ UInt64(used) &* size
        used += 1
        let words = UnsafeMutablePointer<UInt64>(bitPattern: UInt(address))!
        for index in 0..<512 { words[index] = 0 }
        return address
    }

    /// The machine frame behind an address of the image (bootstrap 1:1 region).
    public static func machineFrame(ofVirtual address: UInt64) -> UInt64 {
        StartOfDay.machineFrame(ofPseudoPhysical: (address &- PageWalk.virtualBase) >> 12)
    }

    /// Points the L1 entry of `address` at `machineFrame` with the given flags.
    public static func map(_ address: UInt64, machineFrame: UInt64, flags: UInt64,
                           flush: UInt64 = UInt64(UVMF_INVLPG)) -> Int64 {
        HYPERVISOR_update_va_mapping(address, (machineFrame << 12) | flags, flush)
    }

    /// Remaps an image page onto its own frame, read-only or read-write (a page must
    /// be read-only everywhere before the hypervisor accepts it as a page table).
    public static func protect(_ address: UInt64, writable: Bool) -> Int64 {
        map(address, machineFrame: machineFrame(ofVirtual: address),
            flags: writable ? pteWritable : pteReadOnly)
    }
}
