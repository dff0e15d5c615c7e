// Operations.swift: what the guest does with its hooked tables besides linking them:
// MMU_PT_UPDATE_PRESERVE_AD, MMU_MACHPHYS_UPDATE, mmu_update into a plain data page,
// MMUEXT_COPY_PAGE / CLEAR_PAGE, the TLB flush and invlpg commands, update_va_mapping
// with each flush flag and update_va_mapping_otherdomain.
//
// A flush is checked by its effect: the address is read (so the old translation is
// cached), its L1 entry is rewritten by mmu_update (which flushes nothing), the flush
// is made, and the next read must see the new frame.
import XenGuest
import XenGuestC
import ApusPublic

private let slotVA = TestVA.at(l1: 1)   // L1 entry 1 of the private L1

private func updateVAMappingOtherDomain(_ va: UInt64, _ pte: UInt64, _ flags: UInt64, _ domid: UInt64) -> Int64 {
    xen_hypercall_raw(UInt64(__HYPERVISOR_update_va_mapping_otherdomain), va, pte, flags, domid, 0)
}

func operations(_ report: inout TestReport) {
    report.group("PRESERVE_AD")
    let withAD = T.aFrame << 12 | PTE.leafRW
    let noAD = T.bFrame << 12 | PTE.present | PTE.rw | PTE.user
    report.expect("NORMAL L1[3] = A with accessed|dirty", setEntry(T.l1Frame, 3, withAD), equals: 0)
    report.info("  the raw entry", hex: T.entry(T.l1, 3))
    report.expect("  reads back", hex: T.leaf(3), equals: withAD)
    report.expect("PRESERVE_AD L1[3] = B without them",
                  mmuUpdate(entryAddress(T.l1Frame, 3, command: MMU_PT_UPDATE_PRESERVE_AD), noAD), equals: 0)
    report.expect("  B with the old accessed|dirty", hex: T.leaf(3), equals: noAD | PTE.accessed | PTE.dirty)
    report.expect("NORMAL L1[3] = B without them", setEntry(T.l1Frame, 3, noAD), equals: 0)
    report.expect("  accessed|dirty gone", hex: T.leaf(3), equals: noAD)
    report.expect("PRESERVE_AD L1[3] = 0", mmuUpdate(entryAddress(T.l1Frame, 3, command: MMU_PT_UPDATE_PRESERVE_AD), 0),
                  equals: 0)
    report.expect("  empty", hex: T.leaf(3), equals: 0)
    report.expect("command 3 (NO_TRANSLATE) L1[3] = A", mmuUpdate(entryAddress(T.l1Frame, 3, command: 3), withAD),
                  equals: 0)
    report.expect("  reads back", hex: T.leaf(3), equals: withAD)
    report.expect("  and 0 again", setEntry(T.l1Frame, 3, 0), equals: 0)

    report.group("mmu_update other targets")
    // A plain data page is written as memory: any value, no validation.
    let raw = Bootstrap.l4 << 12 | PTE.leafRW   // would map the L4 writable if it were a PTE
    report.expect("ptr in a data page (scratch word 5)", mmuUpdate(entryAddress(T.scratchFrame, 5), raw), equals: 0)
    report.expect("  the word holds the value as given", hex: xg_read64(T.scratch + 40), equals: raw)
    let spare = Frames.spare()
    report.expect("ptr in an unmapped spare frame", mmuUpdate(entryAddress(spare, 7), 0x1234_5678), equals: 0)
    report.expect("  the word holds it", hex: Frames.peek(spare, 7) ?? 0, equals: 0x1234_5678)
    let foreign = Frames.foreign(from: 0x10000)
    report.expect("ptr in a frame dom0 does not own", mmuUpdate(entryAddress(foreign, 0), 0), equals: errno(XEN_EINVAL))
    report.expect("ptr in mfn 0 (I/O memory)", mmuUpdate(entryAddress(0, 0), 0), equals: errno(XEN_EINVAL))

    report.group("MACHPHYS_UPDATE")
    let pfnA = StartOfDay.pseudoPhysicalFrame(ofMachine: T.aFrame)
    report.expect("M2P[A] = 0x1234", mmuUpdate(T.aFrame << 12 | UInt64(MMU_MACHPHYS_UPDATE), 0x1234), equals: 0)
    report.expect("  the M2P says 0x1234", hex: StartOfDay.pseudoPhysicalFrame(ofMachine: T.aFrame), equals: 0x1234)
    report.expect("M2P[A] = its pfn again", mmuUpdate(T.aFrame << 12 | UInt64(MMU_MACHPHYS_UPDATE), pfnA), equals: 0)
    report.expect("  restored", hex: StartOfDay.pseudoPhysicalFrame(ofMachine: T.aFrame), equals: pfnA)
    report.expect("M2P of a frame dom0 does not own", mmuUpdate(foreign << 12 | UInt64(MMU_MACHPHYS_UPDATE), 5),
                  equals: errno(XEN_EINVAL))
    report.expect("M2P of mfn 0", mmuUpdate(UInt64(MMU_MACHPHYS_UPDATE), 5), equals: errno(XEN_EINVAL))

    report.group("COPY_PAGE/CLEAR_PAGE")
    for index in UInt64(0)..<512 { xg_write64(T.scratch + index * 8, 0xC0DE_0000 | index) }
    report.expect("CLEAR_PAGE of a writable data page", mmuext(MMUEXT_CLEAR_PAGE, mfn: T.scratchFrame), equals: 0)
    var zero = true
    for index in UInt64(0)..<512 where xg_read64(T.scratch + index * 8) != 0 { zero = false }
    report.check("  every word is 0", zero)
    report.expect("CLEAR_PAGE of the pinned L1", mmuext(MMUEXT_CLEAR_PAGE, mfn: T.l1Frame), equals: errno(XEN_EINVAL))
    report.expect("  the L1 is intact", hex: T.leaf(0), equals: T.aFrame << 12 | PTE.leafRW)
    report.expect("CLEAR_PAGE of the live L4", mmuext(MMUEXT_CLEAR_PAGE, mfn: Bootstrap.l4), equals: errno(XEN_EINVAL))
    report.expect("CLEAR_PAGE of a frame dom0 does not own", mmuext(MMUEXT_CLEAR_PAGE, mfn: foreign),
                  equals: errno(XEN_EINVAL))
    report.expect("CLEAR_PAGE of mfn 0", mmuext(MMUEXT_CLEAR_PAGE, mfn: 0), equals: errno(XEN_EINVAL))
    report.expect("CLEAR_PAGE of an unmapped spare frame", mmuext(MMUEXT_CLEAR_PAGE, mfn: spare), equals: 0)
    report.expect("  its word 7 is 0", hex: Frames.peek(spare, 7) ?? 1, equals: 0)

    report.expect("COPY_PAGE the pinned L1 into the scratch page",
                  mmuext(MMUEXT_COPY_PAGE, mfn: T.scratchFrame, arg2: T.l1Frame), equals: 0)
    report.expect("  word 0 is L1[0]", hex: xg_read64(T.scratch), equals: T.entry(T.l1, 0))
    report.expect("  word 1 is L1[1]", hex: xg_read64(T.scratch + 8), equals: T.entry(T.l1, 1))
    report.expect("COPY_PAGE into the pinned L2", mmuext(MMUEXT_COPY_PAGE, mfn: T.l2Frame, arg2: T.scratchFrame),
                  equals: errno(XEN_EINVAL))
    report.expect("COPY_PAGE into the live L4", mmuext(MMUEXT_COPY_PAGE, mfn: Bootstrap.l4, arg2: T.scratchFrame),
                  equals: errno(XEN_EINVAL))
    report.expect("COPY_PAGE from a frame dom0 does not own", mmuext(MMUEXT_COPY_PAGE, mfn: T.scratchFrame, arg2: foreign),
                  equals: errno(XEN_EINVAL))
    report.expect("COPY_PAGE from mfn 0", mmuext(MMUEXT_COPY_PAGE, mfn: T.scratchFrame, arg2: 0),
                  equals: errno(XEN_EINVAL))
    report.expect("  the scratch page unchanged", hex: xg_read64(T.scratch), equals: T.entry(T.l1, 0))
    report.expect("COPY_PAGE into a frame dom0 does not own", mmuext(MMUEXT_COPY_PAGE, mfn: foreign, arg2: T.scratchFrame),
                  equals: errno(XEN_EINVAL))
    report.expect("COPY_PAGE a page onto itself", mmuext(MMUEXT_COPY_PAGE, mfn: T.scratchFrame, arg2: T.scratchFrame),
                  equals: 0)
    report.expect("COPY_PAGE into an unmapped spare frame", mmuext(MMUEXT_COPY_PAGE, mfn: spare, arg2: T.scratchFrame),
                  equals: 0)
    report.expect("  its word 1 is L1[1]", hex: Frames.peek(spare, 1) ?? 0, equals: T.entry(T.l1, 1))

    report.group("flushes")
    xg_write64(T.scratch, 0x5C5C_5C5C)
    let values: (UInt64, UInt64) = (T.aFrame << 12 | PTE.leafRO, T.bFrame << 12 | PTE.leafRO)
    // Each flush command in turn, alternating between A and B in L1[1].
    func flushCase(_ name: StaticString, _ result: () -> Int64, toB: Bool) {
        _ = setEntry(T.l1Frame, 1, toB ? values.0 : values.1)
        _ = flushLocal()
        _ = probe(slotVA)
        _ = setEntry(T.l1Frame, 1, toB ? values.1 : values.0)
        report.expect(name, result(), equals: 0)
        expectRead(&report, "  the new frame is seen", slotVA, toB ? markerB : markerA)
    }
    let mask = Scratch.cleared(64)
    mask.storeBytes(of: UInt64(1), as: UInt64.self)
    let maskAddress = UInt64(UInt(bitPattern: mask))
    flushCase("TLB_FLUSH_LOCAL", { mmuext(MMUEXT_TLB_FLUSH_LOCAL) }, toB: true)
    flushCase("INVLPG_LOCAL", { mmuext(MMUEXT_INVLPG_LOCAL, linear: slotVA) }, toB: false)
    flushCase("TLB_FLUSH_MULTI (vCPU 0)", { mmuext(MMUEXT_TLB_FLUSH_MULTI, arg2: maskAddress) }, toB: true)
    flushCase("INVLPG_MULTI (vCPU 0)", { mmuext(MMUEXT_INVLPG_MULTI, linear: slotVA, arg2: maskAddress) }, toB: false)
    flushCase("TLB_FLUSH_ALL", { mmuext(MMUEXT_TLB_FLUSH_ALL) }, toB: true)
    flushCase("INVLPG_ALL", { mmuext(MMUEXT_INVLPG_ALL, linear: slotVA) }, toB: false)
    report.expect("INVLPG_LOCAL of a non-canonical address", mmuext(MMUEXT_INVLPG_LOCAL, linear: 0x0000_8000_0000_0000),
                  equals: 0)
    report.expect("INVLPG_ALL of an address in Xen's range", mmuext(MMUEXT_INVLPG_ALL, linear: 0xFFFF_8300_0000_0000),
                  equals: 0)
    report.expect("TLB_FLUSH_MULTI with an empty mask", mmuext(MMUEXT_TLB_FLUSH_MULTI, arg2: maskAddress + 8), equals: 0)
    mask.storeBytes(of: UInt64(1) << 40, toByteOffset: 16, as: UInt64.self)
    report.expect("TLB_FLUSH_MULTI with only vCPU 40 (none)", mmuext(MMUEXT_TLB_FLUSH_MULTI, arg2: maskAddress + 16),
                  equals: 0)
    report.expect("TLB_FLUSH_MULTI with an unmapped mask", mmuext(MMUEXT_TLB_FLUSH_MULTI, arg2: 0x1000),
                  equals: errno(XEN_EINVAL))
    report.expect("INVLPG_MULTI with a mask in Xen's range",
                  mmuext(MMUEXT_INVLPG_MULTI, linear: slotVA, arg2: 0xFFFF_8300_0000_0000), equals: errno(XEN_EINVAL))
    report.expect("FLUSH_CACHE", mmuext(MMUEXT_FLUSH_CACHE), equals: 0)
    report.expect("FLUSH_CACHE_GLOBAL", mmuext(MMUEXT_FLUSH_CACHE_GLOBAL), equals: 0)
    report.expect("MARK_SUPER", mmuext(MMUEXT_MARK_SUPER, mfn: T.aFrame), equals: errno(XEN_EOPNOTSUPP))
    report.expect("UNMARK_SUPER", mmuext(MMUEXT_UNMARK_SUPER, mfn: T.aFrame), equals: errno(XEN_EOPNOTSUPP))
    report.expect("command 21 (none)", mmuext(21), equals: errno(XEN_ENOSYS))

    report.group("update_va_mapping flags")
    func uvmCase(_ name: StaticString, flags: UInt64, toB: Bool, seen: Bool = true) {
        _ = setEntry(T.l1Frame, 1, toB ? values.0 : values.1)
        _ = flushLocal()
        _ = probe(slotVA)
        report.expect(name, HYPERVISOR_update_va_mapping(slotVA, toB ? values.1 : values.0, flags), equals: 0)
        report.expect("  the entry", hex: T.leaf(1), equals: toB ? values.1 : values.0)
        if seen { expectRead(&report, "  the new frame is seen", slotVA, toB ? markerB : markerA) }
    }
    uvmCase("UVMF_NONE", flags: UInt64(UVMF_NONE), toB: true, seen: false)
    uvmCase("UVMF_TLB_FLUSH|UVMF_LOCAL", flags: UInt64(UVMF_TLB_FLUSH | UVMF_LOCAL), toB: false)
    uvmCase("UVMF_INVLPG|UVMF_LOCAL", flags: UInt64(UVMF_INVLPG | UVMF_LOCAL), toB: true)
    uvmCase("UVMF_TLB_FLUSH|UVMF_ALL", flags: UInt64(UVMF_TLB_FLUSH | UVMF_ALL), toB: false)
    uvmCase("UVMF_INVLPG|UVMF_ALL", flags: UInt64(UVMF_INVLPG | UVMF_ALL), toB: true)
    uvmCase("UVMF_TLB_FLUSH|mask {0}", flags: maskAddress | UInt64(UVMF_TLB_FLUSH), toB: false)
    uvmCase("UVMF_INVLPG|mask {0}", flags: maskAddress | UInt64(UVMF_INVLPG), toB: true)
    uvmCase("flush type 3 (no such type)", flags: 3, toB: false, seen: false)
    _ = flushLocal()
    _ = setEntry(T.l1Frame, 1, values.1)
    report.expect("UVMF_TLB_FLUSH with an unmapped mask", HYPERVISOR_update_va_mapping(slotVA, values.0, 0x1000 | 1),
                  equals: errno(XEN_EFAULT))
    report.expect("  the entry was written all the same", hex: T.leaf(1), equals: values.0)
    report.expect("UVMF_INVLPG with a mask in Xen's range",
                  HYPERVISOR_update_va_mapping(slotVA, values.1, 0xFFFF_8300_0000_0000 | 2), equals: errno(XEN_EFAULT))
    report.expect("  the entry was written all the same", hex: T.leaf(1), equals: values.1)
    _ = flushLocal()

    report.group("update_va_mapping_otherdomain")
    report.expect("DOMID_SELF", updateVAMappingOtherDomain(slotVA, values.0, UInt64(UVMF_INVLPG), UInt64(DOMID_SELF)),
                  equals: 0)
    expectRead(&report, "  the new frame is seen", slotVA, markerA)
    report.expect("domain 0 by id (itself)", updateVAMappingOtherDomain(slotVA, values.1, UInt64(UVMF_INVLPG), 0),
                  equals: errno(XEN_ESRCH))
    report.expect("domain 1234 (none)", updateVAMappingOtherDomain(slotVA, values.1, UInt64(UVMF_INVLPG), 1234),
                  equals: errno(XEN_ESRCH))
    report.expect("  the entry unchanged", hex: T.leaf(1), equals: values.0)
    report.expect("DOMID_IO, an own frame", updateVAMappingOtherDomain(slotVA, values.1, UInt64(UVMF_INVLPG),
                                                                       UInt64(DOMID_IO)), equals: errno(XEN_EBUSY))
    report.expect("DOMID_IO, the HPET page (I/O)",
                  updateVAMappingOtherDomain(slotVA, 0xFED00 << 12 | PTE.leafRO | PTE.pcd | PTE.pwt,
                                             UInt64(UVMF_INVLPG), UInt64(DOMID_IO)), equals: 0)
    report.expect("DOMID_XEN, an own frame", updateVAMappingOtherDomain(slotVA, values.1, UInt64(UVMF_INVLPG),
                                                                        UInt64(DOMID_XEN)), equals: errno(XEN_EBUSY))
    report.expect("restore L1[1] = B read-only", setEntry(T.l1Frame, 1, values.1), equals: 0)
    _ = flushLocal()
}
