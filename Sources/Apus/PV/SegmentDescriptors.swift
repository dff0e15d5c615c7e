// A PV guest's own segment descriptors: its GDT (set_gdt), single descriptor writes
// (update_descriptor) and its LDT (MMUEXT_SET_LDT).
//
// The guest's GDT frames are mapped into the first 14 pages of Apus's GDT area, so that
// selectors below 0xe000 index them directly and Apus's own entries stay where Xen's
// are. Each frame is checked (DescriptorRules, in ApusCore) and typed as a descriptor page
// first: while it is one, the guest cannot map it writable. The LDT window (16 pages) is
// mapped lazily: the CPU's first access to an LDT page faults into Apus, which checks and
// types the guest's page and maps it, or gives the guest the #PF at its LDT address, as
// Xen does. The frames are the vCPU's (its record); the windows are the CPU's, and show
// whichever vCPU is loaded there (`loadWindows` on every switch).
import ApusCore
import ApusPublic
import ArchX86

enum SegmentDescriptors {
    /// FrameInfo level value for a page in use as a GDT or LDT page.
    static let descriptorPage = 5
    static let guestGDTPages = 14
    static let ldtPages = 16

    /// The zeroed image frame the guest part of a CPU's GDT area shows for `page` when the
    /// vCPU has no GDT frame there (the area's own backing memory).
    static func blankFrame(cpu: Int, page: Int) -> UInt64 {
        (ImageLayout.gdtArea(cpu: cpu) + UInt64(page) * 4096 - ImageLayout.imageVirtualOffset) >> 12
    }

    static let mappingFlags = PageTableEntry.present | PageTableEntry.writable | PageTableEntry.global
        | PageTableEntry.noExecute

    static func apusPTE(_ virtual: UInt64) -> UnsafeMutablePointer<UInt64> {
        guard let address = PageTypes.l1EntryAddress(for: virtual, root: HypervisorPageTables.rootFrame) else {
            panic("descriptor window not mapped with 4 KiB pages")
        }
        return DirectMap.pointer(to: address, as: UInt64.self)
    }

    /// At boot, after Apus's page tables: every CPU's LDT window starts empty.
    static func setUp() {
        for cpu in 0..<ImageLayout.maxCPUs {
            for page in 0..<ldtPages { unmapLDTPage(page, cpu: cpu) }
        }
    }

    /// After a vCPU switch on `cpu`: its GDT frames in the GDT window, an empty LDT window
    /// (refilled by faults) and its LDT loaded.
    static func loadWindows(cpu: Int) {
        let vcpu = PV.vcpu
        for page in 0..<guestGDTPages {
            let frame = page < vcpu.pointee.gdtFrameCount ? vcpu.pointee.gdtFrames[page] : blankFrame(cpu: cpu, page: page)
            let virtual = ImageLayout.gdtArea(cpu: cpu) + UInt64(page) * 4096
            apusPTE(virtual).pointee = frame << 12 | mappingFlags
            CPU.invalidatePage(virtual)
        }
        for page in 0..<ldtPages { unmapLDTPage(page, cpu: cpu) }
        DescriptorTables.loadLDT(base: ImageLayout.ldtArea(cpu: cpu), entries: vcpu.pointee.ldtEntries, cpu: cpu)
    }

    /// Checks and fixes every descriptor in `frame` in place. False if one is refused.
    static func checkPage(_ frame: UInt64) -> Bool {
        let entries = DirectMap.pointer(to: frame << 12, as: UInt64.self)
        for index in 0..<512 {
            guard let stored = DescriptorRules.check(entries[index]) else { return false }
            entries[index] = stored
        }
        return true
    }

    /// Takes `frame` as a descriptor page: the domain's RAM, not mapped writable, not a
    /// page table, every descriptor acceptable.
    static func acquire(_ frame: UInt64) -> Bool {
        guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return false }
        let level = PageTypes.level(of: frame)
        if level == descriptorPage { return checkPage(frame) }
        guard level == 0, PageTypes.writableMappings(of: frame) == 0, checkPage(frame) else { return false }
        PageTypes.setLevel(descriptorPage, of: frame)
        return true
    }

    static func release(_ frame: UInt64) {
        if PageTypes.level(of: frame) == descriptorPage && !inUse(frame) { PageTypes.setLevel(0, of: frame) }
    }

    /// Some vCPU of the domain has `frame` in its GDT or LDT.
    static func inUse(_ frame: UInt64) -> Bool {
        for v in 0..<PV.current.vcpuCount {
            let vcpu = PV.vcpu(v)
            for i in 0..<vcpu.pointee.gdtFrameCount where vcpu.pointee.gdtFrames[i] == frame { return true }
            for i in 0..<ldtPages where vcpu.pointee.ldtFrames[i] == frame { return true }
        }
        return false
    }

    // MARK: set_gdt

    static func setGDT(_ args: HypercallArguments) -> Int64 {
        let list = args.a0, entries = args.a1
        guard entries <= UInt64(guestGDTPages * 512) else { return Errno.EINVAL }
        let count = Int((entries + 511) / 512)
        var frames = InlineArray<14, UInt64>(repeating: 0)
        for index in 0..<count {
            guard let frame = GuestMemory.read(UInt64.self, at: list &+ UInt64(index) * 8) else { return Errno.EFAULT }
            frames[index] = frame
        }
        return installGDT(frames: frames, count: count, on: PerCPU.cpus[PerCPU.index].loadedVCPU) ? 0 : Errno.EINVAL
    }

    /// Makes `frames[0..<count]` vCPU `v`'s GDT (set_gdt, VCPUOP_initialise). False, with
    /// the old GDT kept, if a frame cannot be a descriptor page.
    static func installGDT(frames: InlineArray<14, UInt64>, count: Int, on v: Int) -> Bool {
        let vcpu = PV.vcpu(v)
        var acquired = 0
        while acquired < count {
            guard acquire(frames[acquired]) else {
                // Give back what this call took; the old GDT stays.
                let previous = vcpu.pointee.gdtFrameCount
                for index in 0..<acquired where !frameIsInGDT(frames[index], of: vcpu, count: previous) {
                    PageTypes.setLevel(0, of: frames[index])
                }
                return false
            }
            acquired += 1
        }
        let old = vcpu.pointee.gdtFrames, oldCount = vcpu.pointee.gdtFrameCount
        vcpu.pointee.gdtFrames = frames
        vcpu.pointee.gdtFrameCount = count
        for index in 0..<oldCount { release(old[index]) }
        let cpu = PerCPU.index
        guard PerCPU.cpus[cpu].loadedVCPU == v else { return true }  // shown when it is next loaded
        for page in 0..<guestGDTPages {
            let frame = page < count ? frames[page] : blankFrame(cpu: cpu, page: page)
            let virtual = ImageLayout.gdtArea(cpu: cpu) + UInt64(page) * 4096
            apusPTE(virtual).pointee = frame << 12 | mappingFlags
            CPU.invalidatePage(virtual)
        }
        return true
    }

    static func frameIsInGDT(_ frame: UInt64, of vcpu: UnsafeMutablePointer<PVVCPU>, count: Int) -> Bool {
        for i in 0..<count where vcpu.pointee.gdtFrames[i] == frame { return true }
        return false
    }

    // MARK: update_descriptor

    static func updateDescriptor(_ args: HypercallArguments) -> Int64 {
        let address = args.a0, descriptor = args.a1
        guard address & 7 == 0 else { return Errno.EINVAL }
        guard let stored = DescriptorRules.check(descriptor) else { return Errno.EINVAL }
        let frame = address >> 12
        guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return Errno.EINVAL }
        let level = PageTypes.level(of: frame)
        guard level == 0 || level == descriptorPage else { return Errno.EINVAL }  // never a page table
        DirectMap.pointer(to: address, as: UInt64.self).pointee = stored
        return 0
    }

    // MARK: LDT

    static func setLDT(base: UInt64, entries: UInt64) -> Int64 {
        guard base & 0xFFF == 0, entries <= 8192 else { return Errno.EINVAL }
        guard entries == 0 || (VirtualAddress.isCanonical(base) && GuestAddress.isAccessible(base, length: entries * 8))
        else { return Errno.EINVAL }
        let cpu = PerCPU.index
        for page in 0..<ldtPages where PV.vcpu.pointee.ldtFrames[page] != 0 {
            let frame = PV.vcpu.pointee.ldtFrames[page]
            PV.vcpu.pointee.ldtFrames[page] = 0
            release(frame)
            unmapLDTPage(page, cpu: cpu)
        }
        PV.vcpu.pointee.ldtBase = base
        PV.vcpu.pointee.ldtEntries = Int(entries)
        DescriptorTables.loadLDT(base: ImageLayout.ldtArea(cpu: cpu), entries: Int(entries), cpu: cpu)
        return 0
    }

    static func unmapLDTPage(_ page: Int, cpu: Int) {
        let virtual = ImageLayout.ldtArea(cpu: cpu) + UInt64(page) * 4096
        apusPTE(virtual).pointee = 0
        CPU.invalidatePage(virtual)
    }

    /// A #PF at `address` (CR2). If it is the CPU reading the LDT window: map the guest's
    /// LDT page there if it may be one (true: retry the instruction), or turn the fault into
    /// the guest's own #PF at its LDT address (false, with `guestAddress` set).
    static func ldtFault(at address: UInt64, guestAddress: inout UInt64) -> Bool? {
        let window = ImageLayout.ldtArea(cpu: PerCPU.index)
        guard address >= window && address < window + UInt64(ldtPages) * 4096 else { return nil }
        let page = Int((address - window) >> 12)
        let ldtBase = PV.vcpu.pointee.ldtBase
        guestAddress = ldtBase + (address - window)
        let root = PV.guestRoot(of: PV.vcpu)
        guard PV.vcpu.pointee.ldtEntries > 0, let slot = PageTypes.l1EntryAddress(for: ldtBase + UInt64(page) * 4096, root: root) else {
            return false
        }
        let entry = PageTableEntry(raw: DirectMap.pointer(to: slot, as: UInt64.self).pointee)
        guard entry.isPresent, acquire(entry.physicalAddress >> 12) else { return false }
        PV.vcpu.pointee.ldtFrames[page] = entry.physicalAddress >> 12
        let virtual = window + UInt64(page) * 4096
        apusPTE(virtual).pointee = entry.physicalAddress | mappingFlags
        CPU.invalidatePage(virtual)
        return true
    }
}
