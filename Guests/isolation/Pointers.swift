// Pointers.swift: every hypercall that takes a guest pointer or a count, given
// addresses the guest may not hand over (non-canonical, the hypervisor's range
// 0xffff800000000000-0xffff87ffffffffff, even its read-only M2P that the guest can
// itself read) and counts far beyond the memory behind them.
//
// A long list is placed so that it runs into the end of the bootstrap mapping: the
// entries before it are real, the rest is unmapped, so a hypervisor that walks the
// count must stop with -EFAULT there.
import XenGuest
import XenGuestC
import ApusPublic
import IsolationProbes

func pointers(_ report: inout TestReport) {
    let tail = Own.regionEnd   // first unmapped address after the bootstrap region
    let bads: InlineArray<5, UInt64> = [Bad.nonCanonical, Bad.m2p, Bad.xenText, Bad.directMap, Bad.lastXenPage]

    report.group("console_io")
    for index in bads.indices {
        attempt(&report, "write 8 bytes from a bad address",
                HYPERVISOR_console_io(UInt32(CONSOLEIO_write), 8, Bad.pointer(bads[index])), equals: errno(XEN_EFAULT))
    }
    let text = UnsafeMutablePointer<UInt8>(bitPattern: UInt(tail - 16))!
    for index in 0..<16 { text[index] = 0x21 }
    attempt(&report, "write count 0x7fffffff, 16 bytes before unmapped memory",
            HYPERVISOR_console_io(UInt32(CONSOLEIO_write), 0x7FFF_FFFF, text), equals: errno(XEN_EFAULT))
    attempt(&report, "write count 0 from a non-canonical address",
            HYPERVISOR_console_io(UInt32(CONSOLEIO_write), 0, Bad.pointer(Bad.nonCanonical)), equals: 0)
    attempt(&report, "read 8 bytes into Xen's text (no input waiting)",
            HYPERVISOR_console_io(UInt32(CONSOLEIO_read), 8, Bad.pointer(Bad.xenText)), equals: 0)

    report.group("mmu_update/mmuext_op")
    var done: UInt32 = 0
    for index in 0..<3 {
        attempt(&report, "mmu_update list at a bad address",
                HYPERVISOR_mmu_update(Bad.pointer(bads[index]), 1, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
        attempt(&report, "mmuext_op list at a bad address",
                HYPERVISOR_mmuext_op(Bad.pointer(bads[index]), 1, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    }
    // One harmless request (the canary's M2P entry set to what it is) before unmapped memory.
    let canaryFrame = Pages.machineFrame(ofVirtual: Own.canary)
    let request = UnsafeMutablePointer<mmu_update>(bitPattern: UInt(tail - 16))!
    request[0] = mmu_update(ptr: canaryFrame << 12 | UInt64(MMU_MACHPHYS_UPDATE),
                            val: StartOfDay.pseudoPhysicalFrame(ofMachine: canaryFrame))
    done = 99
    attempt(&report, "mmu_update count 0x7fffffff, 1 request before unmapped memory",
            HYPERVISOR_mmu_update(request, 0x7FFF_FFFF, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done", Int64(done), equals: 1)
    let op = UnsafeMutablePointer<mmuext_op>(bitPattern: UInt(tail - 24))!
    op[0] = mmuext_op()
    op[0].cmd = UInt32(MMUEXT_TLB_FLUSH_LOCAL)
    done = 99
    attempt(&report, "mmuext_op count 0x7fffffff, 1 op before unmapped memory",
            HYPERVISOR_mmuext_op(op, 0x7FFF_FFFF, &done, UInt32(DOMID_SELF)), equals: errno(XEN_EFAULT))
    report.expect("  done", Int64(done), equals: 1)
    attempt(&report, "update_va_mapping of a VA in Xen's text",
            HYPERVISOR_update_va_mapping(Bad.xenText, Own.scratchFrame << 12 | PTE.leafRO, 2), equals: errno(XEN_EINVAL))
    attempt(&report, "update_va_mapping of the last page below Xen's range end",
            HYPERVISOR_update_va_mapping(Bad.lastXenPage, Own.scratchFrame << 12 | PTE.leafRO, 2),
            equals: errno(XEN_EINVAL))

    report.group("multicall")
    attempt(&report, "list non-canonical", HYPERVISOR_multicall(Bad.pointer(Bad.nonCanonical), 1), equals: errno(XEN_EFAULT))
    attempt(&report, "list in Xen's range (the M2P)", HYPERVISOR_multicall(Bad.pointer(Bad.m2p), 1),
            equals: errno(XEN_EFAULT))
    let call = UnsafeMutablePointer<multicall_entry>(bitPattern: UInt(tail - 64))!
    call[0] = multicall_entry(op: UInt64(__HYPERVISOR_xen_version), result: 0xDEAD, args: (0, 0, 0, 0, 0, 0))
    attempt(&report, "count 0x7fffffff, 1 entry before unmapped memory", HYPERVISOR_multicall(call, 0x7FFF_FFFF),
            equals: errno(XEN_EFAULT))
    report.expect("  the entry ran", Int64(bitPattern: call[0].result), equals: 4 << 16 | 17)
    let calls = Scratch.cleared(128).bindMemory(to: multicall_entry.self, capacity: 2)
    calls[0] = multicall_entry(op: UInt64(__HYPERVISOR_console_io),
                               result: 0, args: (UInt64(CONSOLEIO_write), 8, Bad.xenText, 0, 0, 0))
    calls[1] = multicall_entry(op: UInt64(__HYPERVISOR_mmu_update), result: 0,
                               args: (Bad.directMap, 1, 0, UInt64(DOMID_SELF), 0, 0))
    attempt(&report, "entries with bad pointers", HYPERVISOR_multicall(calls, 2), equals: 0)
    report.expect("  console_io from Xen's text", Int64(bitPattern: calls[0].result), equals: errno(XEN_EFAULT))
    report.expect("  mmu_update list in the direct map", Int64(bitPattern: calls[1].result), equals: errno(XEN_EFAULT))

    report.group("memory_op")
    attempt(&report, "memory_map, argument non-canonical",
            HYPERVISOR_memory_op(UInt64(XENMEM_memory_map), Bad.pointer(Bad.nonCanonical)), equals: errno(XEN_EFAULT))
    attempt(&report, "memory_map, argument in Xen's text",
            HYPERVISOR_memory_op(UInt64(XENMEM_memory_map), Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    var map = xen_memory_map(nr_entries: 8, _pad: 0, buffer: xen_guest_handle_t(p: Bad.m2p))
    attempt(&report, "memory_map (a PV dom0 has none), buffer in the M2P",
            HYPERVISOR_memory_op(UInt64(XENMEM_memory_map), &map), equals: errno(XEN_ENOSYS))
    map = xen_memory_map(nr_entries: 8, _pad: 0, buffer: xen_guest_handle_t(p: Bad.m2p))
    attempt(&report, "machine_memory_map, buffer in the M2P",
            HYPERVISOR_memory_op(UInt64(XENMEM_machine_memory_map), &map), equals: errno(XEN_EFAULT))
    map = xen_memory_map(nr_entries: 0x7FFF_FFFF, _pad: 0, buffer: xen_guest_handle_t(p: Bad.xenText))
    attempt(&report, "machine_memory_map, 0x7fffffff entries into Xen's text",
            HYPERVISOR_memory_op(UInt64(XENMEM_machine_memory_map), &map), equals: errno(XEN_EFAULT))
    attempt(&report, "current_reservation, domid pointer in the direct map",
            HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), Bad.pointer(Bad.directMap)),
            equals: errno(XEN_EFAULT))
    attempt(&report, "maximum_gpfn, domid pointer non-canonical",
            HYPERVISOR_memory_op(UInt64(XENMEM_maximum_gpfn), Bad.pointer(Bad.nonCanonical)), equals: errno(XEN_EFAULT))
    var list = xen_machphys_mfn_list(max_extents: 1, _pad0: 0, extent_start: xen_guest_handle_t(p: Bad.xenText),
                                     nr_extents: 77, _pad1: 0)
    attempt(&report, "machphys_mfn_list into Xen's text",
            HYPERVISOR_memory_op(UInt64(XENMEM_machphys_mfn_list), &list), equals: errno(XEN_EFAULT))
    var selfDomain = domid_t(DOMID_SELF)
    let pagesBefore = HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), &selfDomain)
    var reservation = xen_memory_reservation()
    reservation.extent_start = xen_guest_handle_t(p: Bad.m2p)
    reservation.nr_extents = 1
    reservation.domid = domid_t(DOMID_SELF)
    attempt(&report, "decrease_reservation, extents in the M2P (extents done)",
            HYPERVISOR_memory_op(UInt64(XENMEM_decrease_reservation), &reservation), equals: 0)
    let extent = UnsafeMutablePointer<UInt64>(bitPattern: UInt(tail - 8))!
    extent[0] = 0xFFF_FFFF   // no such pseudo-physical frame
    reservation.extent_start = xen_guest_handle_t(p: tail - 8)
    reservation.nr_extents = 0x7FFF_FFFF
    attempt(&report, "decrease_reservation, 0x7fffffff extents, the first a pfn dom0 lacks",
            HYPERVISOR_memory_op(UInt64(XENMEM_decrease_reservation), &reservation), equals: 0)
    report.expect("  dom0 still has every page", HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), &selfDomain),
                  equals: pagesBefore)
    var exchange = xen_memory_exchange()
    exchange.in.extent_start = xen_guest_handle_t(p: Bad.xenText)
    exchange.in.nr_extents = 1
    exchange.in.domid = domid_t(DOMID_SELF)
    exchange.out.extent_start = xen_guest_handle_t(p: Bad.xenText)
    exchange.out.nr_extents = 1
    exchange.out.domid = domid_t(DOMID_SELF)
    attempt(&report, "exchange, extents in Xen's text", HYPERVISOR_memory_op(UInt64(XENMEM_exchange), &exchange),
            equals: errno(XEN_EFAULT))

    report.group("grant_table_op")
    attempt(&report, "query_size, argument non-canonical",
            HYPERVISOR_grant_table_op(UInt32(GNTTABOP_query_size), Bad.pointer(Bad.nonCanonical), 1),
            equals: errno(XEN_EFAULT))
    attempt(&report, "query_size, argument in the M2P",
            HYPERVISOR_grant_table_op(UInt32(GNTTABOP_query_size), Bad.pointer(Bad.m2p), 1), equals: errno(XEN_EFAULT))
    attempt(&report, "map_grant_ref, list in Xen's text",
            HYPERVISOR_grant_table_op(UInt32(GNTTABOP_map_grant_ref), Bad.pointer(Bad.xenText), 1),
            equals: errno(XEN_EFAULT))
    attempt(&report, "copy, list in the direct map",
            HYPERVISOR_grant_table_op(UInt32(GNTTABOP_copy), Bad.pointer(Bad.directMap), 1), equals: errno(XEN_EFAULT))
    let unmap = UnsafeMutablePointer<iso_gnttab_unmap_grant_ref>(bitPattern: UInt(tail - 24))!
    unmap[0] = iso_gnttab_unmap_grant_ref(host_addr: 0, dev_bus_addr: 0, handle: 0xFFFF, status: 99, _pad: 0)
    attempt(&report, "unmap_grant_ref count 0x7fffffff, 1 op before unmapped memory",
            HYPERVISOR_grant_table_op(UInt32(GNTTABOP_unmap_grant_ref), unmap, 0x7FFF_FFFF), equals: errno(XEN_EFAULT))
    report.expect("  its status (bad handle)", Int64(unmap[0].status), equals: Int64(GNTST_bad_handle))

    report.group("event_channel_op")
    attempt(&report, "send, argument non-canonical",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_send), Bad.pointer(Bad.nonCanonical)), equals: errno(XEN_EFAULT))
    attempt(&report, "status, argument in Xen's text",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_status), Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    attempt(&report, "bind_virq, argument in the M2P",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), Bad.pointer(Bad.m2p)), equals: errno(XEN_EFAULT))
    var port = evtchn_send(port: 0x7FFF_FFFF)
    attempt(&report, "send to port 0x7fffffff", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_send), &port),
            equals: errno(XEN_EINVAL))
    port.port = 0xFFFF_FFFF
    attempt(&report, "close port 0xffffffff", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_close), &port),
            equals: errno(XEN_EINVAL))
    attempt(&report, "unmask port 0xffffffff", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_unmask), &port),
            equals: errno(XEN_EINVAL))
    var status = evtchn_status()
    status.dom = domid_t(DOMID_SELF)
    status.port = 0x7FFF_FFFF
    attempt(&report, "status of port 0x7fffffff", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_status), &status),
            equals: errno(XEN_EINVAL))
    var virq = evtchn_bind_virq(virq: 0x7FFF_FFFF, vcpu: 0, port: 0)
    attempt(&report, "bind_virq 0x7fffffff", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &virq),
            equals: errno(XEN_EINVAL))
    virq = evtchn_bind_virq(virq: UInt32(VIRQ_TIMER), vcpu: 0x7FFF_FFFF, port: 0)
    attempt(&report, "bind_virq VIRQ_TIMER on vCPU 0x7fffffff",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &virq), equals: errno(XEN_ENOENT))
    var unbound = evtchn_alloc_unbound(dom: domid_t(DOMID_SELF), remote_dom: 1234, port: 0)
    attempt(&report, "alloc_unbound for domain 1234",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_alloc_unbound), &unbound), equals: 0)
    report.info("  port", Int64(unbound.port))
    var close = evtchn_close(port: unbound.port)
    report.expect("  close it", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_close), &close), equals: 0)
    unbound = evtchn_alloc_unbound(dom: 1234, remote_dom: 0, port: 0)
    attempt(&report, "alloc_unbound in domain 1234", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_alloc_unbound), &unbound),
            equals: errno(XEN_ESRCH))
    var interdomain = evtchn_bind_interdomain(remote_dom: 1234, _pad: 0, remote_port: 1, local_port: 0)
    attempt(&report, "bind_interdomain to domain 1234",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_interdomain), &interdomain), equals: errno(XEN_ESRCH))
    var control = evtchn_init_control()
    control.control_gfn = Own.scratchFrame
    control.vcpu = 0x7FFF_FFFF
    attempt(&report, "init_control for vCPU 0x7fffffff",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_init_control), &control), equals: errno(XEN_ENOENT))
    control.vcpu = 0
    control.offset = 4090
    attempt(&report, "init_control at offset 4090 (crosses the page)",
            HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_init_control), &control), equals: errno(XEN_EINVAL))
    attempt(&report, "command 0x7fffffff", HYPERVISOR_event_channel_op(0x7FFF_FFFF, &port), equals: errno(XEN_ENOSYS))

    report.group("sched_op poll")
    let ports = Scratch.cleared(64).bindMemory(to: UInt32.self, capacity: 4)
    ports[0] = 0x7FFF_FFFF
    func poll(_ list: UInt64, _ count: UInt32) -> Int64 {
        var request = sched_poll(ports: xen_guest_handle_t(p: list), nr_ports: count, _pad: 0, timeout: 1)
        return HYPERVISOR_sched_op(UInt32(SCHEDOP_poll), &request)
    }
    attempt(&report, "ports in the M2P", poll(Bad.m2p, 1), equals: errno(XEN_EFAULT))
    attempt(&report, "ports non-canonical", poll(Bad.nonCanonical, 1), equals: errno(XEN_EFAULT))
    attempt(&report, "0x7fffffff ports", poll(address(ports), 0x7FFF_FFFF), equals: errno(XEN_EINVAL))
    attempt(&report, "port 0x7fffffff", poll(address(ports), 1), equals: errno(XEN_EINVAL))
    attempt(&report, "argument in Xen's text", HYPERVISOR_sched_op(UInt32(SCHEDOP_poll), Bad.pointer(Bad.xenText)),
            equals: errno(XEN_EFAULT))
    attempt(&report, "sched_op command 0x7fffffff", HYPERVISOR_sched_op(0x7FFF_FFFF, nil), equals: errno(XEN_ENOSYS))

    report.group("set_trap_table")
    attempt(&report, "table non-canonical", HYPERVISOR_set_trap_table(Bad.pointer(Bad.nonCanonical)),
            equals: errno(XEN_EFAULT))
    attempt(&report, "table in the M2P", HYPERVISOR_set_trap_table(Bad.pointer(Bad.m2p)), equals: errno(XEN_EFAULT))
    attempt(&report, "table in Xen's text", HYPERVISOR_set_trap_table(Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    let unterminated = UnsafeMutablePointer<trap_info>(bitPattern: UInt(tail - 16))!
    unterminated[0] = trap_info(vector: 0x21, flags: 0, cs: UInt16(FLAT_KERNEL_CS), _pad: 0,
                                address: Traps.entryAddress(vector: 0x21))
    attempt(&report, "a table running into unmapped memory", HYPERVISOR_set_trap_table(unterminated),
            equals: errno(XEN_EFAULT))
    let table = Scratch.cleared(64).bindMemory(to: trap_info.self, capacity: 2)
    table[0] = trap_info(vector: 0x22, flags: 0, cs: UInt16(FLAT_KERNEL_CS), _pad: 0, address: Bad.nonCanonical)
    attempt(&report, "a handler at a non-canonical address", HYPERVISOR_set_trap_table(table), equals: errno(XEN_EINVAL))
    table[0].address = Bad.xenText
    attempt(&report, "a handler in Xen's text (never raised)", HYPERVISOR_set_trap_table(table), equals: 0)
    report.expect("install the trap table again", Traps.install(guest: "isolation"), equals: 0)

    report.group("set_gdt")
    attempt(&report, "frames non-canonical", HYPERVISOR_set_gdt(UnsafePointer(bitPattern: UInt(Bad.nonCanonical)), 16),
            equals: errno(XEN_EFAULT))
    attempt(&report, "frames in the M2P", HYPERVISOR_set_gdt(UnsafePointer(bitPattern: UInt(Bad.m2p)), 16),
            equals: errno(XEN_EFAULT))
    let frames = Scratch.cleared(16).bindMemory(to: UInt64.self, capacity: 2)
    frames[0] = Own.scratchFrame
    attempt(&report, "0xffffffff entries", HYPERVISOR_set_gdt(frames, 0xFFFF_FFFF), equals: errno(XEN_EINVAL))
    attempt(&report, "0x80000000 entries", HYPERVISOR_set_gdt(frames, 0x8000_0000), equals: errno(XEN_EINVAL))
    attempt(&report, "update_descriptor at machine address 2^52",
            HYPERVISOR_update_descriptor(1 << 52, 0x00CF_F300_0000_FFFF), equals: errno(XEN_EINVAL))

    report.group("vcpu_op")
    attempt(&report, "get_runstate_info into Xen's text",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_get_runstate_info), 0, Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    attempt(&report, "get_runstate_info non-canonical",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_get_runstate_info), 0, Bad.pointer(Bad.nonCanonical)),
            equals: errno(XEN_EFAULT))
    var runstate = vcpu_runstate_info()
    attempt(&report, "get_runstate_info of vCPU 0x7fffffff",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_get_runstate_info), 0x7FFF_FFFF, &runstate), equals: errno(XEN_ENOENT))
    attempt(&report, "is_up of vCPU 0xffffffff", HYPERVISOR_vcpu_op(UInt32(VCPUOP_is_up), 0xFFFF_FFFF, nil),
            equals: errno(XEN_ENOENT))
    attempt(&report, "set_singleshot_timer, argument in the M2P",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_set_singleshot_timer), 0, Bad.pointer(Bad.m2p)), equals: errno(XEN_EFAULT))
    var area = vcpu_register_runstate_memory_area(addr: Bad.xenText)
    attempt(&report, "register_runstate_memory_area in Xen's text",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_register_runstate_memory_area), 0, &area), equals: errno(XEN_EFAULT))
    area.addr = 0
    report.expect("  and none again", HYPERVISOR_vcpu_op(UInt32(VCPUOP_register_runstate_memory_area), 0, &area),
                  equals: 0)
    var info = vcpu_register_vcpu_info(mfn: Own.scratchFrame, offset: 4090, rsvd: 0)
    attempt(&report, "register_vcpu_info across a page end",
            HYPERVISOR_vcpu_op(UInt32(VCPUOP_register_vcpu_info), 0, &info), equals: errno(XEN_ENXIO))
    attempt(&report, "command 0x7fffffff", HYPERVISOR_vcpu_op(0x7FFF_FFFF, 0, nil), equals: errno(XEN_ENOSYS))

    report.group("others")
    attempt(&report, "xen_version extraversion into Xen's text",
            HYPERVISOR_xen_version(UInt32(XENVER_extraversion), Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    attempt(&report, "xen_version compile_info non-canonical",
            HYPERVISOR_xen_version(UInt32(XENVER_compile_info), Bad.pointer(Bad.nonCanonical)), equals: errno(XEN_EFAULT))
    attempt(&report, "physdev_op set_iopl, argument in the M2P",
            HYPERVISOR_physdev_op(UInt32(PHYSDEVOP_set_iopl), Bad.pointer(Bad.m2p)), equals: errno(XEN_EFAULT))
    attempt(&report, "callback_op register, argument in Xen's text",
            HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), Bad.pointer(Bad.xenText)), equals: errno(XEN_EFAULT))
    var callback = callback_register(type: UInt16(CALLBACKTYPE_event), flags: 0, _pad: 0, address: Bad.nonCanonical)
    attempt(&report, "callback_op register a non-canonical event callback",
            HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), &callback), equals: errno(XEN_EINVAL))
    attempt(&report, "set_segment_base FS non-canonical",
            HYPERVISOR_set_segment_base(UInt32(SEGBASE_FS), Bad.nonCanonical), equals: errno(XEN_EINVAL))
    attempt(&report, "set_segment_base kernel GS in Xen's range (canonical)",
            HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_KERNEL), Bad.directMap), equals: 0)
    report.expect("  and 0 again", HYPERVISOR_set_segment_base(UInt32(SEGBASE_GS_KERNEL), 0), equals: 0)
}
