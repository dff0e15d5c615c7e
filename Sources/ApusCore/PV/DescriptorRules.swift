// Which segment descriptors a 64-bit PV guest may place in its own GDT or LDT, and how
// Apus rewrites them first (Xen 4.17's rules, as the descriptors test guest observed):
//  - a not-present descriptor is harmless and kept as it is (it can only fault);
//  - code and data segments are accepted with their DPL raised to 3: the guest kernel
//    runs in ring 3, so a DPL-0 segment would be unusable (and must not become usable
//    to anything more privileged);
//  - a system descriptor of type 0 is the upper half of a call gate and is accepted;
//  - a call gate is accepted only towards a guest selector (its own GDT part, its LDT,
//    or FLAT_KERNEL_CS), with no reserved bits, and stored with DPL 0 and its original
//    DPL in the target selector's RPL, so every use traps into Apus for emulation;
//  - anything else (TSS, LDT, interrupt and trap gates) is refused.
// Imports nothing.

public enum DescriptorRules {
    public static let flatKernelCS: UInt16 = 0xE033
    public static let firstReservedEntry: UInt16 = 0x1C00

    /// The descriptor as it must be stored, or nil if the guest may not have it.
    public static func check(_ descriptor: UInt64) -> UInt64? {
        var low = UInt32(truncatingIfNeeded: descriptor)
        var high = UInt32(truncatingIfNeeded: descriptor >> 32)
        let present: UInt32 = 1 << 15
        guard high & present != 0 else { return descriptor }
        var dpl = (high >> 13) & 3
        if dpl < 3 { dpl = 3 }
        high = (high & ~(3 << 13)) | (dpl << 13)
        let isCodeOrData = high & (1 << 12) != 0
        if isCodeOrData { return UInt64(high) << 32 | UInt64(low) }
        let type = (high >> 8) & 0xF
        if type == 0 { return UInt64(high) << 32 | UInt64(low) }
        guard type == 0xC else { return nil }                     // only 64-bit call gates
        let target = UInt16(truncatingIfNeeded: low >> 16)
        guard gateSelectorIsGuests(target) else { return nil }
        guard high & 0xFF == 0 else { return nil }                 // reserved bits
        high &= ~(3 << 13)                                         // DPL 0: every use traps
        let selector = (target & ~3) | UInt16(dpl)
        low = (low & 0xFFFF) | UInt32(selector) << 16
        return UInt64(high) << 32 | UInt64(low)
    }

    /// A call gate may lead to the guest's own selectors only.
    public static func gateSelectorIsGuests(_ selector: UInt16) -> Bool {
        if selector & 4 != 0 { return true }                       // LDT
        if selector >> 3 < firstReservedEntry { return selector >> 3 != 0 }  // guest GDT, not null
        return selector == flatKernelCS
    }
}
