// Which virtual addresses a 64-bit PV guest may name.
//
// The guest owns every canonical address except Apus's slot
// [HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END) = [0xFFFF8000_00000000, 0xFFFF8800_00000000).
// Every pointer a guest hands to a hypercall is checked here before Apus touches it; the
// access itself may still fault (not mapped), which the copy routine turns into -EFAULT.

public enum GuestAddress {
    public static let hypervisorStart: UInt64 = 0xFFFF_8000_0000_0000
    public static let hypervisorEnd: UInt64 = 0xFFFF_8800_0000_0000

    /// True when [address, address + length) is canonical throughout, does not wrap and
    /// does not touch Apus's slot. A zero length is always acceptable.
    public static func isAccessible(_ address: UInt64, length: UInt64) -> Bool {
        guard length > 0 else { return true }
        let (last, wrapped) = address.addingReportingOverflow(length - 1)
        guard !wrapped else { return false }
        if last < 0x0000_8000_0000_0000 { return true }                       // lower half
        if address >= hypervisorEnd { return true }                           // guest's upper half
        return false
    }

    /// Canonical and outside Apus's slot: a place a guest may point a handler or stack at.
    public static func isGuestCodeOrStack(_ address: UInt64) -> Bool {
        isAccessible(address, length: 1)
    }
}
