// PageWalk.swift: reads the guest's own current page tables, as the PV ABI allows.
//
// A PV guest may read (never write) its page tables. The walk starts at the bootstrap
// L4 (start_info.pt_base, a virtual address) and follows each entry's machine frame
// back to a pseudo-physical frame through the M2P table, then to a virtual address
// through the initial 1:1 region (VIRT_BASE + pfn << 12). That holds for the
// bootstrap tables, which is all the test guests walk.
import XenGuestC
import ApusPublic

public struct PageMapping {
    public var present: Bool
    public var writable: Bool
    public var user: Bool
    public var machineFrame: UInt64
    /// The level the walk stopped at (1 = a 4 KiB L1 entry; 2 or 3 = a superpage).
    public var level: Int
}

public enum PageWalk {
    public static let virtualBase: UInt64 = 0xFFFF_FFFF_8000_0000
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let superpage: UInt64 = 1 << 7
    static let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000

    /// Virtual address of a bootstrap frame, given its machine frame.
    public static func virtualAddress(ofMachineFrame mfn: UInt64) -> UInt64 {
        virtualBase &+ (StartOfDay.pseudoPhysicalFrame(ofMachine: mfn) << 12)
    }

    /// The mapping of one virtual address in the bootstrap page tables. Writable and
    /// user are the effective rights (every level must grant them).
    public static func lookup(_ address: UInt64) -> PageMapping {
        var table = StartOfDay.startInfo.pointee.pt_base
        var result = PageMapping(present: false, writable: true, user: true, machineFrame: 0, level: 4)
        var level = 4
        while level >= 1 {
            let shift = UInt64(12 + 9 * (level - 1))
            let index = (address >> shift) & 0x1FF
            let entry = xg_read64(table &+ index &* 8)
            result.level = level
            if entry & present == 0 { result.present = false; return result }
            result.writable = result.writable && (entry & writable != 0)
            result.user = result.user && (entry & user != 0)
            let mfn = (entry & frameMask) >> 12
            if level == 1 || (level <= 3 && entry & superpage != 0) {
                result.present = true
                result.machineFrame = mfn
                return result
            }
            table = virtualAddress(ofMachineFrame: mfn)
            level -= 1
        }
        return result
    }
}
