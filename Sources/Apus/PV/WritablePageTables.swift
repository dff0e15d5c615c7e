// Writable page tables for PV guests (XENFEAT_writable_page_tables, which Linux requires):
// a guest kernel's ordinary write to one of its own L1 page tables faults (the page is
// mapped read-only), and Apus emulates it: it decodes the instruction (ApusCore's
// PTEWriteDecoder), checks the new entry exactly as mmu_update would, stores it with the
// writable-mapping counts moved, applies the instruction's register and flag results, and
// resumes after it. As on Xen, only L1 tables are written this way (higher levels go
// through mmu_update), and a write that cannot be emulated or whose entry is refused is
// the guest's own page fault.
import ApusCore
import ArchX86

enum WritablePageTables {
    /// A #PF from the guest at `address` with `errorCode`: true if it was an emulated
    /// page-table write (the frame now resumes after the instruction).
    static func emulate(_ frame: TrapFrame, address: UInt64, errorCode: UInt64) -> Bool {
        // Present, write, not an instruction fetch or reserved-bit fault, from the guest kernel.
        guard errorCode & 0b11011 == 0b00011, PV.vcpu.pointee.inKernelMode else { return false }
        let root = PV.guestRoot(of: PV.vcpu)
        guard let slot = PageTypes.l1EntryAddress(for: address, root: root) else { return false }
        let mapping = PageTableEntry(raw: DirectMap.pointer(to: slot, as: UInt64.self).pointee)
        guard mapping.isPresent, !mapping.isWritable else { return false }
        let table = mapping.physicalAddress >> 12
        guard PageTypes.isOwnedByCurrent(table), PageTypes.level(of: table) == 1,
              PageTypes.typeCount(of: table) > 0 else { return false }

        var instruction = InlineArray<16, UInt8>(repeating: 0)
        let available = fetch(&instruction, at: frame.rip)
        guard available > 0 else { return false }
        let entryAddress = table << 12 | (address & 0xFF8)
        let entry = DirectMap.pointer(to: entryAddress, as: UInt64.self)
        let decoded = withUnsafeBytes(of: &instruction) { raw in
            PTEWriteDecoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<available]), address: address,
                                   entry: entry.pointee, register: { frame.register($0) })
        }
        guard let effect = decoded else { return false }
        if effect.newEntry != entry.pointee {
            guard let accepted = PageTypes.acceptedL1(effect.newEntry) else { return false }
            PageTypes.account(old: entry.pointee, new: accepted)
            entry.pointee = accepted
            Shadows.guestEntryChanged(table, level: 1, index: Int((address & 0xFF8) >> 3))
        }
        if let write = effect.register { frame.setRegister(write.index, write.value) }
        frame.rflags = (frame.rflags & ~effect.flagsMask) | (effect.flags & effect.flagsMask)
        frame.rip = frame.rip &+ UInt64(effect.length)
        return true
    }

    /// Up to 15 instruction bytes at `rip`, fewer if the next page is not readable.
    static func fetch(_ buffer: inout InlineArray<16, UInt8>, at rip: UInt64) -> Int {
        let toPageEnd = Int(4096 - (rip & 0xFFF))
        return withUnsafeMutableBytes(of: &buffer) { raw -> Int in
            if GuestMemory.read(raw.baseAddress!, from: rip, count: 15) { return 15 }
            let count = min(15, toPageEnd)
            return GuestMemory.read(raw.baseAddress!, from: rip, count: count) ? count : 0
        }
    }

    /// A store by the privileged domain to device registers Xen lets it only read (IOAPIC,
    /// HPET: mapped read-only even when asked writable) is dropped without a fault and the
    /// guest resumes after it, as Xen 4.17 does.
    static func dropReadOnlyMMIOStore(_ frame: TrapFrame, address: UInt64, errorCode: UInt64) -> Bool {
        guard errorCode & 0b11011 == 0b00011, PV.current.isPrivileged else { return false }
        let root = PV.guestRoot(of: PV.vcpu)
        guard let slot = PageTypes.l1EntryAddress(for: address, root: root) else { return false }
        let mapping = PageTableEntry(raw: DirectMap.pointer(to: slot, as: UInt64.self).pointee)
        guard mapping.isPresent, !mapping.isWritable, Firmware.isReadOnlyMMIO(mapping.physicalAddress >> 12) else {
            return false
        }
        var instruction = InlineArray<16, UInt8>(repeating: 0)
        let available = fetch(&instruction, at: frame.rip)
        guard available > 0 else { return false }
        // The decoder knows the store's length; the value it would write goes nowhere.
        let decoded = withUnsafeBytes(of: &instruction) { raw in
            PTEWriteDecoder.decode(UnsafeRawBufferPointer(rebasing: raw[0..<available]), address: address, entry: 0,
                                   register: { frame.register($0) })
        }
        guard let effect = decoded else { return false }
        frame.rip = frame.rip &+ UInt64(effect.length)
        return true
    }
}
