// Batches.swift: mmu_update and mmuext_op with several requests: `done` after a
// failure in the middle, batches inside a multicall, counts far beyond the list (and
// with bit 31, which Xen uses to mark its own continuations), and one call of 4096
// updates, checked by the final state of every entry.
//
// The big list lives in 16 spare frames mapped read-write through a second private
// L1 (hooked at L2[1], so at TestVA.at(l2: 1)); the 4096 updates go to a third one
// (hooked at L2[2]).
import XenGuest
import XenGuestC
import ApusPublic

private let listVA = TestVA.at(l2: 1)
private let listPages: UInt64 = 16

private func request(_ list: UnsafeMutablePointer<mmu_update>, _ index: Int, _ ptr: UInt64, _ val: UInt64) {
    list[index] = mmu_update(ptr: ptr, val: val)
}

private func multicallEntry(_ op: Int32, _ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64) -> multicall_entry {
    multicall_entry(op: UInt64(op), result: 0xDEAD_BEEF, args: (a0, a1, a2, a3, 0, 0))
}

func batches(_ report: inout TestReport) {
    let roA = T.aFrame << 12 | PTE.leafRO
    let roB = T.bFrame << 12 | PTE.leafRO
    let bad = Bootstrap.l4 << 12 | PTE.leafRW   // maps the L4 writable: refused

    // --- a failure in the middle ---
    report.group("mmu_update batch")
    let list = Scratch.cleared(16 * 16).bindMemory(to: mmu_update.self, capacity: 16)
    request(list, 0, entryAddress(T.l1Frame, 4), roA)
    request(list, 1, entryAddress(T.l1Frame, 5), roB)
    request(list, 2, entryAddress(T.l1Frame, 6), bad)
    request(list, 3, entryAddress(T.l1Frame, 7), roA)
    var done: UInt32 = 99
    report.expect("4 requests, the third refused", HYPERVISOR_mmu_update(list, 4, &done, UInt32(DOMID_SELF)),
                  equals: errno(XEN_EBUSY))
    report.expect("  done", Int64(done), equals: 2)
    report.expect("  the first two made", hex: (T.leaf(4) ^ roA) | (T.leaf(5) ^ roB), equals: 0)
    report.expect("  the third and fourth not", hex: T.leaf(6) | T.leaf(7), equals: 0)
    done = 99
    report.expect("the rest again from the fourth", HYPERVISOR_mmu_update(list + 3, 1, &done, UInt32(DOMID_SELF)),
                  equals: 0)
    report.expect("  done", Int64(done), equals: 1)
    report.expect("done pointer NULL", HYPERVISOR_mmu_update(list, 2, nil, UInt32(DOMID_SELF)), equals: 0)
    let xenDone = UnsafeMutablePointer<UInt32>(bitPattern: UInt(0xFFFF_8300_0000_0000))
    report.expect("done pointer in Xen's range (the updates are made)",
                  HYPERVISOR_mmu_update(list, 2, xenDone, UInt32(DOMID_SELF)), equals: 0)
    done = 99
    report.expect("count 0", HYPERVISOR_mmu_update(list, 0, &done, UInt32(DOMID_SELF)), equals: 0)
    report.expect("  done", Int64(done), equals: 0)
    done = 99
    report.expect("list NULL, count 1", HYPERVISOR_mmu_update(nil, 1, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done (written: 0)", Int64(done), equals: 0)
    report.expect("foreigndom 0 (itself by id)", HYPERVISOR_mmu_update(list, 1, &done, 0), equals: errno(XEN_ESRCH))
    report.expect("foreigndom 1234", HYPERVISOR_mmu_update(list, 1, &done, 1234), equals: errno(XEN_ESRCH))
    report.expect("pt owner field 1235 (domain 1234)", HYPERVISOR_mmu_update(list, 1, &done, 1235 << 16 | UInt32(DOMID_SELF)),
                  equals: errno(XEN_ESRCH))
    report.expect("pt owner field 1 (domain 0, itself)", HYPERVISOR_mmu_update(list, 1, &done, 1 << 16 | UInt32(DOMID_SELF)),
                  equals: 0)

    report.group("mmuext_op batch")
    let ops = (Scratch.raw + 1024).bindMemory(to: mmuext_op.self, capacity: 8)
    for index in 0..<8 { ops[index] = mmuext_op() }
    ops[0].cmd = UInt32(MMUEXT_TLB_FLUSH_LOCAL)
    ops[1].cmd = UInt32(MMUEXT_UNPIN_TABLE); ops[1].arg1.mfn = T.l2Frame
    ops[2].cmd = UInt32(MMUEXT_PIN_L2_TABLE); ops[2].arg1.mfn = T.l2Frame
    ops[3].cmd = UInt32(MMUEXT_PIN_L2_TABLE); ops[3].arg1.mfn = T.l2Frame   // twice: refused
    ops[4].cmd = UInt32(MMUEXT_TLB_FLUSH_LOCAL)
    done = 99
    report.expect("5 ops, the fourth refused", HYPERVISOR_mmuext_op(ops, 5, &done, UInt32(DOMID_SELF)),
                  equals: errno(XEN_EINVAL))
    report.expect("  done", Int64(done), equals: 3)
    report.expect("  the L2 is pinned (unpin works once)", unpin(T.l2Frame), equals: 0)
    report.expect("  pin it again", pin(2, T.l2Frame), equals: 0)
    report.expect("foreigndom 0 (itself by id)", HYPERVISOR_mmuext_op(ops, 1, &done, 0), equals: errno(XEN_ESRCH))
    report.expect("foreigndom 1234", HYPERVISOR_mmuext_op(ops, 1, &done, 1234), equals: errno(XEN_ESRCH))
    report.expect("foreigndom DOMID_IO", HYPERVISOR_mmuext_op(ops, 1, &done, UInt32(DOMID_IO)), equals: errno(XEN_EPERM))
    report.expect("list NULL, count 1", HYPERVISOR_mmuext_op(nil, 1, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))

    // --- in a multicall ---
    report.group("multicall")
    request(list, 0, entryAddress(T.l1Frame, 4), roB)
    request(list, 1, entryAddress(T.l1Frame, 5), bad)
    request(list, 2, entryAddress(T.l1Frame, 6), roB)
    request(list, 3, entryAddress(T.l1Frame, 6), roA)
    let calls = (Scratch.raw + 2048).bindMemory(to: multicall_entry.self, capacity: 8)
    let doneSlots = (Scratch.raw + 4000).bindMemory(to: UInt32.self, capacity: 4)
    for index in 0..<4 { doneSlots[index] = 99 }
    func address(_ pointer: UnsafeMutableRawPointer) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }
    func address<P>(_ pointer: UnsafeMutablePointer<P>) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }
    calls[0] = multicallEntry(__HYPERVISOR_mmu_update, address(list), 3, address(doneSlots), UInt64(DOMID_SELF))
    calls[1] = multicallEntry(__HYPERVISOR_mmu_update, address(list + 3), 1, address(doneSlots + 1), UInt64(DOMID_SELF))
    calls[2] = multicallEntry(__HYPERVISOR_mmuext_op, address(ops + 2), 2, address(doneSlots + 2), UInt64(DOMID_SELF))
    calls[3] = multicallEntry(__HYPERVISOR_update_va_mapping, TestVA.at(l1: 7), roB, UInt64(UVMF_INVLPG), 0)
    report.expect("multicall of mmu_update, mmu_update, mmuext_op, update_va_mapping",
                  HYPERVISOR_multicall(calls, 4), equals: 0)
    report.expect("  mmu_update (3, the second refused)", Int64(bitPattern: calls[0].result), equals: errno(XEN_EBUSY))
    report.expect("  its done", Int64(doneSlots[0]), equals: 1)
    report.expect("  mmu_update after it", Int64(bitPattern: calls[1].result), equals: 0)
    report.expect("  its done", Int64(doneSlots[1]), equals: 1)
    report.expect("  mmuext_op (pin the pinned L2, twice)", Int64(bitPattern: calls[2].result), equals: errno(XEN_EINVAL))
    report.expect("  its done", Int64(doneSlots[2]), equals: 0)
    report.expect("  update_va_mapping", Int64(bitPattern: calls[3].result), equals: 0)
    report.expect("  L1[4] = B", hex: T.leaf(4), equals: roB)
    report.expect("  L1[5] unchanged (B)", hex: T.leaf(5), equals: roB)
    report.expect("  L1[6] = A (the second call)", hex: T.leaf(6), equals: roA)
    report.expect("  L1[7] = B", hex: T.leaf(7), equals: roB)
    for index in UInt64(4)..<8 { _ = setEntry(T.l1Frame, index, 0) }

    // --- the list buffer: 16 spare frames behind a second private L1 at L2[1] ---
    report.group("big lists")
    let bufferL1 = Frames.spare()
    var bufferOK = true
    var listFrames = InlineArray<16, UInt64>(repeating: 0)
    for index in 0..<16 {
        listFrames[index] = Frames.spare()
        if listFrames[index] == 0 { bufferOK = false }
    }
    Frames.fill(bufferL1) { words in
        for index in 0..<16 { words[index] = listFrames[index] << 12 | PTE.leafRW }
    }
    report.check("16 spare frames for the list", bufferOK)
    report.expect("mmu_update L2[1] = an unpinned L1 of 16 read-write entries",
                  setEntry(T.l2Frame, 1, bufferL1 << 12 | PTE.table), equals: 0)
    report.expect("  the L1 maps writable: no (it is an L1 now)", Frames.mapsWritable(bufferL1), equals: errno(XEN_EBUSY))
    let big = UnsafeMutablePointer<mmu_update>(bitPattern: UInt(listVA))!
    guard report.check("  the list area is writable", Traps.write(listVA + listPages * 4096 - 8, 0)) else {
        report.check("the rest of big lists: not run without the list area", false)
        return
    }

    // A count far beyond the list: the requests before unmapped memory are made.
    let tail = UnsafeMutablePointer<mmu_update>(bitPattern: UInt(listVA + listPages * 4096 - 32))!
    func writeTail() {
        tail[0] = mmu_update(ptr: entryAddress(T.l1Frame, 4), val: roA)
        tail[1] = mmu_update(ptr: entryAddress(T.l1Frame, 5), val: roA)
    }
    writeTail()
    done = 99
    report.expect("count 0x7fffffff, 2 requests before unmapped memory",
                  HYPERVISOR_mmu_update(tail, 0x7FFF_FFFF, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done", Int64(done), equals: 2)
    report.expect("  both made", hex: (T.leaf(4) ^ roA) | (T.leaf(5) ^ roA), equals: 0)
    let opsTail = UnsafeMutablePointer<mmuext_op>(bitPattern: UInt(listVA + listPages * 4096 - 48))!
    opsTail[0] = mmuext_op(); opsTail[0].cmd = UInt32(MMUEXT_TLB_FLUSH_LOCAL)
    opsTail[1] = mmuext_op(); opsTail[1].cmd = UInt32(MMUEXT_TLB_FLUSH_LOCAL)
    done = 99
    report.expect("mmuext_op count 0x7fffffff, 2 ops before unmapped memory",
                  HYPERVISOR_mmuext_op(opsTail, 0x7FFF_FFFF, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done", Int64(done), equals: 2)
    writeTail()
    done = 99
    report.expect("count 0xffffffff (bit 31 set), same list",
                  HYPERVISOR_mmu_update(tail, 0xFFFF_FFFF, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done (99 + 2: the value passed in is added to)", Int64(done), equals: 101)
    // Bit 31 marks Xen's own continuations: the guest can set it too.
    done = 5
    report.expect("count 0x80000001 (bit 31 + 1), done preset to 5",
                  HYPERVISOR_mmu_update(tail, 0x8000_0001, &done, UInt32(DOMID_SELF)), equals: 0)
    report.expect("  done (5 + 1: the preset is added to)", Int64(done), equals: 6)
    report.expect("count 0x80000000 with a NULL list (returns foreigndom)",
                  HYPERVISOR_mmu_update(nil, 0x8000_0000, nil, UInt32(DOMID_SELF)), equals: Int64(DOMID_SELF))
    report.expect("mmuext_op count 0x80000000 with a NULL list",
                  HYPERVISOR_mmuext_op(nil, 0x8000_0000, nil, 1234), equals: 1234)
    report.expect("count 0x7fffffff, a list in Xen's range",
                  HYPERVISOR_mmu_update(UnsafeMutableRawPointer(bitPattern: UInt(0xFFFF_8300_0000_0000)), 0x7FFF_FFFF, &done,
                                        UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("count 1, a non-canonical list",
                  HYPERVISOR_mmu_update(UnsafeMutableRawPointer(bitPattern: UInt(0x0000_8000_0000_0000)), 1, &done,
                                        UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    _ = setEntry(T.l1Frame, 4, 0)
    _ = setEntry(T.l1Frame, 5, 0)

    // --- 4096 updates in one call ---
    let batchL1 = Frames.spare()
    let batchA = Frames.spare()
    let batchB = Frames.spare()
    Frames.fill(batchA) { words in words[0] = markerA }
    Frames.fill(batchB) { words in words[0] = markerB }
    report.expect("mmu_update L2[2] = an empty L1", setEntry(T.l2Frame, 2, batchL1 << 12 | PTE.table), equals: 0)
    // Entry i is written 8 times; the last round leaves A read-write at even entries and
    // B read-only at odd ones, the earlier rounds alternate read-only mappings.
    func value(_ index: UInt64, round: UInt64) -> UInt64 {
        if round == 7 { return index & 1 == 0 ? batchA << 12 | PTE.leafRW : batchB << 12 | PTE.leafRO }
        return (index + round) & 1 == 0 ? batchB << 12 | PTE.leafRO : batchA << 12 | PTE.leafRO
    }
    for k in 0..<4096 {
        let index = UInt64(k % 512)
        big[k] = mmu_update(ptr: entryAddress(batchL1, index), val: value(index, round: UInt64(k / 512)))
    }
    done = 0
    report.expect("4096 updates in one call", HYPERVISOR_mmu_update(big, 4096, &done, UInt32(DOMID_SELF)), equals: 0)
    report.expect("  done", Int64(done), equals: 4096)
    var wrong = 0
    for index in UInt64(0)..<512 where PTE.stored(Frames.peek(batchL1, index) ?? 0) != value(index, round: 7) {
        wrong += 1
    }
    report.expect("  entries not as the last round left them", Int64(wrong), equals: 0)
    expectRead(&report, "  entry 0 maps A", TestVA.at(l2: 2, l1: 0), markerA)
    expectRead(&report, "  entry 511 maps B", TestVA.at(l2: 2, l1: 511), markerB)
    report.check("  write through entry 510 (read-write)", Traps.write(TestVA.at(l2: 2, l1: 510) + 8, 0x77))
    expectFault(&report, "  write through entry 509 (read-only)", TestVA.at(l2: 2, l1: 509), write: true, errorCode: 3)
    report.expect("  A maps writable only while mapped so: PIN_L1 of A refused", pin(1, batchA), equals: errno(XEN_EINVAL))
    for k in 0..<512 { big[k] = mmu_update(ptr: entryAddress(batchL1, UInt64(k)), val: 0) }
    done = 0
    report.expect("512 updates clearing them", HYPERVISOR_mmu_update(big, 512, &done, UInt32(DOMID_SELF)), equals: 0)
    report.expect("  done", Int64(done), equals: 512)
    _ = flushLocal()
    Frames.fill(batchA) { words in words[0] = 0; words[1] = 0 }
    report.expect("  no writable reference left: A pins as an L1", pin(1, batchA), equals: 0)
    report.expect("  and unpins", unpin(batchA), equals: 0)
    report.expect("unhook L2[2]", setEntry(T.l2Frame, 2, 0), equals: 0)
    report.expect("unhook L2[1] (the list)", setEntry(T.l2Frame, 1, 0), equals: 0)
    _ = flushLocal()
    report.expect("  the list's L1 maps writable again", Frames.mapsWritable(bufferL1), equals: 0)
}
