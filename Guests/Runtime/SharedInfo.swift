// SharedInfo.swift: the guest's view of its shared_info page and vCPU 0's vcpu_info.
//
// start_info.shared_info is a machine address; the guest maps it itself. The runtime
// maps it over a page of its own (xg_shared_info_page in traps.S), once, so trap
// handlers can read vcpu_info.arch.cr2 and the event mask. Nothing here allocates.
import XenGuestC
import ApusPublic

public enum SharedInfo {
    nonisolated(unsafe) public private(set) static var isMapped = false

    /// Maps the shared_info frame read-write at the runtime's page (idempotent);
    /// returns the update_va_mapping result.
    @discardableResult
    public static func map() -> Int64 {
        if isMapped { return 0 }
        let pte = StartOfDay.startInfo.pointee.shared_info | Pages.pteWritable
        let result = HYPERVISOR_update_va_mapping(xg_shared_info_address(), pte, UInt64(UVMF_INVLPG))
        isMapped = result == 0
        return result
    }

    public static var page: UnsafeMutablePointer<shared_info> {
        UnsafeMutablePointer(bitPattern: UInt(xg_shared_info_address()))!
    }

    /// vCPU 0's vcpu_info (the first entry of the page): the only vCPU the guests use.
    public static var vcpu0: UnsafeMutablePointer<vcpu_info> {
        UnsafeMutablePointer(bitPattern: UInt(xg_shared_info_address()))!
    }
}
