// Target "descriptor": which GDT/LDT descriptors a PV guest may install (PV/DescriptorRules).
//
// Input: descriptors, 8 bytes each (a selector byte first picks how: raw, or a present
// code/data/system descriptor of a chosen type, or a call gate to a chosen selector).
// Invariants (the file's rules): a not-present descriptor is stored unchanged; nothing
// stored can be used from, or lead into, rings 0-2 without Apus: code and data segments get
// DPL 3 and keep every other bit, the only system descriptors are the upper half of a call
// gate (type 0) and 64-bit call gates, gates are stored with DPL 0, no reserved bits, a
// guest target selector (never the null selector or one of Xen's reserved GDT entries other
// than FLAT_KERNEL_CS) and the original DPL (at least 3) in its RPL; checking what was
// stored accepts it unchanged (the rules are idempotent, so a descriptor read back from a
// guest table and re-checked keeps its meaning).

enum DescriptorFuzz {
    static func run(_ input: inout FuzzInput) {
        var count = 0
        while !input.isExhausted && count < 512 {
            count += 1
            one(shaped(&input))
        }
    }

    static func shaped(_ input: inout FuzzInput) -> UInt64 {
        let how = input.byte()
        var raw = input.u64()
        switch how % 4 {
        case 0: return raw
        case 1:   // present system descriptor of a chosen type
            raw = (raw & ~(UInt64(0x1F) << 40)) | UInt64(1) << 47 | UInt64(input.byte() & 0xF) << 40
            return raw
        case 2:   // present call gate with a chosen target selector
            let selector = UInt64(input.pick([DescriptorRules.flatKernelCS, 0, 3, 8, 0xE008, 0xE010, 0xE02B, 0xE030,
                                              0xE033, 0xFFFF, 4, 7] as [UInt16]))
            raw = (raw & ~(UInt64(0x1F) << 40) & ~(UInt64(0xFFFF) << 16)) | UInt64(1) << 47 | UInt64(0xC) << 40
                | selector << 16
            if input.bool() { raw &= ~(UInt64(0xFF) << 32) }
            return raw
        default:  // present code or data
            return raw | UInt64(1) << 47 | UInt64(1) << 44
        }
    }

    static func one(_ descriptor: UInt64) {
        let high = UInt32(truncatingIfNeeded: descriptor >> 32)
        let present = high & (1 << 15) != 0
        guard let stored = DescriptorRules.check(descriptor) else {
            invariant(present, "a not-present descriptor \(hex(descriptor)) refused")
            return
        }
        defer {
            invariant(DescriptorRules.check(stored) == stored,
                      "checking stored \(hex(stored)) (from \(hex(descriptor))) changes it again")
        }
        guard present else {
            invariant(stored == descriptor, "a not-present descriptor was rewritten")
            return
        }
        let storedHigh = UInt32(truncatingIfNeeded: stored >> 32)
        let dpl = (storedHigh >> 13) & 3
        invariant(storedHigh & (1 << 15) != 0, "present descriptor stored not present")
        if high & (1 << 12) != 0 {
            invariant(dpl == 3, "code/data \(hex(descriptor)) stored with DPL \(dpl)")
            invariant(stored & ~(UInt64(3) << 45) == descriptor & ~(UInt64(3) << 45), "code/data bits besides DPL changed")
            return
        }
        let type = (high >> 8) & 0xF
        invariant((storedHigh >> 8) & 0xF == type && storedHigh & (1 << 12) == 0, "system type changed")
        switch type {
        case 0:
            invariant(stored & ~(UInt64(3) << 45) == descriptor & ~(UInt64(3) << 45), "a gate's upper half changed")
        case 0xC:
            invariant(dpl == 0, "call gate \(hex(descriptor)) stored with DPL \(dpl): usable without a trap into Apus")
            invariant(storedHigh & 0xFF == 0, "call gate with reserved bits")
            let target = UInt16(truncatingIfNeeded: stored >> 16)
            let original = UInt16(truncatingIfNeeded: descriptor >> 16)
            invariant(target & ~3 == original & ~3, "call gate target \(hex(original)) moved to \(hex(target))")
            invariant(target & 3 == 3, "call gate RPL \(target & 3): the original DPL was raised to at least 3")
            let index = target >> 3
            let isLDT = target & 4 != 0
            invariant(isLDT || (index != 0 && (index < DescriptorRules.firstReservedEntry
                                               || target & ~3 == DescriptorRules.flatKernelCS & ~3)),
                      "call gate to selector \(hex(target)): null or Xen's")
            invariant(stored & 0xFFFF == descriptor & 0xFFFF && storedHigh & 0xFFFF_0000 == high & 0xFFFF_0000
                      && stored >> 32 & 0x1F00 == descriptor >> 32 & 0x1F00, "call gate offset bits changed")
        default:
            violation("system descriptor of type \(type) accepted: \(hex(descriptor)) stored as \(hex(stored))")
        }
    }
}
