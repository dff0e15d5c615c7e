// ABILayoutTests: the Xen guest ABI as Swift sees it through the ApusPublic C headers.
//
// The headers assert their own sizes in C; these tests check what Swift imports from
// them (sizes, field offsets, constants), because that is what Apus's Swift code will
// read and write. Expected values are Xen's documented x86-64 layouts, written here
// independently of the headers, so a wrong header fails twice.
import XCTest
import ApusPublic

final class ABILayoutTests: XCTestCase {
    private func offset<T>(_ path: PartialKeyPath<T>) -> Int? { MemoryLayout<T>.offset(of: path) }

    func testStructSizes() {
        XCTAssertEqual(MemoryLayout<start_info>.size, 1168)
        XCTAssertEqual(MemoryLayout<shared_info>.size, 3136)
        XCTAssertEqual(MemoryLayout<vcpu_info>.size, 64)
        XCTAssertEqual(MemoryLayout<vcpu_time_info>.size, 32)
        XCTAssertEqual(MemoryLayout<arch_vcpu_info>.size, 16)
        XCTAssertEqual(MemoryLayout<arch_shared_info>.size, 48)
        XCTAssertEqual(MemoryLayout<trap_info>.size, 16)
        XCTAssertEqual(MemoryLayout<cpu_user_regs>.size, 200)
        XCTAssertEqual(MemoryLayout<iret_context>.size, 72)
        XCTAssertEqual(MemoryLayout<vcpu_guest_context>.size, 5168)
        XCTAssertEqual(MemoryLayout<mmu_update>.size, 16)
        XCTAssertEqual(MemoryLayout<mmuext_op>.size, 24)
        XCTAssertEqual(MemoryLayout<multicall_entry>.size, 64)
        XCTAssertEqual(MemoryLayout<xen_compile_info>.size, 144)
        XCTAssertEqual(MemoryLayout<xen_platform_parameters>.size, 8)
        XCTAssertEqual(MemoryLayout<xen_feature_info>.size, 8)
        XCTAssertEqual(MemoryLayout<sched_shutdown>.size, 4)
        XCTAssertEqual(MemoryLayout<sched_poll>.size, 24)
        XCTAssertEqual(MemoryLayout<sched_remote_shutdown>.size, 8)
        XCTAssertEqual(MemoryLayout<xen_memory_reservation>.size, 32)
        XCTAssertEqual(MemoryLayout<xen_memory_map>.size, 16)
        XCTAssertEqual(MemoryLayout<xen_e820_entry>.size, 20)
        XCTAssertEqual(MemoryLayout<xen_machphys_mapping>.size, 24)
        XCTAssertEqual(MemoryLayout<vcpu_runstate_info>.size, 48)
        XCTAssertEqual(MemoryLayout<vcpu_register_vcpu_info>.size, 16)
        XCTAssertEqual(MemoryLayout<callback_register>.size, 16)
        XCTAssertEqual(MemoryLayout<evtchn_alloc_unbound>.size, 8)
        XCTAssertEqual(MemoryLayout<evtchn_bind_virq>.size, 12)
        XCTAssertEqual(MemoryLayout<evtchn_status>.size, 24)
        XCTAssertEqual(MemoryLayout<evtchn_op>.size, 28)
        XCTAssertEqual(MemoryLayout<gnttab_setup_table>.size, 24)
        XCTAssertEqual(MemoryLayout<gnttab_query_size>.size, 16)
        XCTAssertEqual(MemoryLayout<gnttab_set_version>.size, 4)
        XCTAssertEqual(MemoryLayout<grant_entry_v1>.size, 8)
        XCTAssertEqual(MemoryLayout<dom0_vga_console_info>.size, 40)
        XCTAssertEqual(MemoryLayout<xen_guest_handle_t>.size, 8)
    }

    func testStartInfoOffsets() {
        XCTAssertEqual(offset(\start_info.nr_pages), 32)
        XCTAssertEqual(offset(\start_info.shared_info), 40)
        XCTAssertEqual(offset(\start_info.flags), 48)
        XCTAssertEqual(offset(\start_info.store_mfn), 56)
        XCTAssertEqual(offset(\start_info.store_evtchn), 64)
        XCTAssertEqual(offset(\start_info.console), 72)
        XCTAssertEqual(offset(\start_info.pt_base), 88)
        XCTAssertEqual(offset(\start_info.nr_pt_frames), 96)
        XCTAssertEqual(offset(\start_info.mfn_list), 104)
        XCTAssertEqual(offset(\start_info.mod_start), 112)
        XCTAssertEqual(offset(\start_info.mod_len), 120)
        XCTAssertEqual(offset(\start_info.cmd_line), 128)
        XCTAssertEqual(offset(\start_info.first_p2m_pfn), 1152)
        XCTAssertEqual(offset(\start_info.nr_p2m_frames), 1160)
        XCTAssertEqual(MemoryLayout.size(ofValue: start_info().cmd_line), Int(MAX_GUEST_CMDLINE))
        XCTAssertEqual(MemoryLayout.size(ofValue: start_info().magic), 32)
    }

    func testSharedInfoAndVCPUInfoOffsets() {
        XCTAssertEqual(offset(\shared_info.evtchn_pending), 2048)
        XCTAssertEqual(offset(\shared_info.evtchn_mask), 2560)
        XCTAssertEqual(offset(\shared_info.wc_version), 3072)
        XCTAssertEqual(offset(\shared_info.wc_sec), 3076)
        XCTAssertEqual(offset(\shared_info.wc_nsec), 3080)
        XCTAssertEqual(offset(\shared_info.wc_sec_hi), 3084)
        XCTAssertEqual(offset(\shared_info.arch), 3088)
        XCTAssertEqual(offset(\vcpu_info.evtchn_upcall_pending), 0)
        XCTAssertEqual(offset(\vcpu_info.evtchn_upcall_mask), 1)
        XCTAssertEqual(offset(\vcpu_info.evtchn_pending_sel), 8)
        XCTAssertEqual(offset(\vcpu_info.arch), 16)
        XCTAssertEqual(offset(\vcpu_info.time), 32)
        XCTAssertEqual(offset(\vcpu_time_info.tsc_timestamp), 8)
        XCTAssertEqual(offset(\vcpu_time_info.system_time), 16)
        XCTAssertEqual(offset(\vcpu_time_info.tsc_to_system_mul), 24)
        XCTAssertEqual(offset(\vcpu_time_info.tsc_shift), 28)
        XCTAssertEqual(offset(\vcpu_time_info.flags), 29)
        XCTAssertEqual(offset(\arch_shared_info.p2m_cr3), 24)
        XCTAssertEqual(offset(\arch_shared_info.p2m_generation), 40)
    }

    func testRegisterFrames() {
        XCTAssertEqual(offset(\cpu_user_regs.r15), 0)
        XCTAssertEqual(offset(\cpu_user_regs.rbp), 32)
        XCTAssertEqual(offset(\cpu_user_regs.r11), 48)
        XCTAssertEqual(offset(\cpu_user_regs.rax), 80)
        XCTAssertEqual(offset(\cpu_user_regs.rdi), 112)
        XCTAssertEqual(offset(\cpu_user_regs.error_code), 120)
        XCTAssertEqual(offset(\cpu_user_regs.entry_vector), 124)
        XCTAssertEqual(offset(\cpu_user_regs.rip), 128)
        XCTAssertEqual(offset(\cpu_user_regs.cs), 136)
        XCTAssertEqual(offset(\cpu_user_regs.saved_upcall_mask), 140)
        XCTAssertEqual(offset(\cpu_user_regs.rflags), 144)
        XCTAssertEqual(offset(\cpu_user_regs.rsp), 152)
        XCTAssertEqual(offset(\cpu_user_regs.ss), 160)
        XCTAssertEqual(offset(\cpu_user_regs.es), 168)
        XCTAssertEqual(offset(\cpu_user_regs.ds), 176)
        XCTAssertEqual(offset(\cpu_user_regs.fs), 184)
        XCTAssertEqual(offset(\cpu_user_regs.gs), 192)
        // The iret frame is nine consecutive quadwords in this order.
        let iretFields: [PartialKeyPath<iret_context>] = [
            \.rax, \.r11, \.rcx, \.flags, \.rip, \.cs, \.rflags, \.rsp, \.ss,
        ]
        for (index, field) in iretFields.enumerated() {
            XCTAssertEqual(offset(field), index * 8)
        }
        XCTAssertEqual(offset(\trap_info.vector), 0)
        XCTAssertEqual(offset(\trap_info.flags), 1)
        XCTAssertEqual(offset(\trap_info.cs), 2)
        XCTAssertEqual(offset(\trap_info.address), 8)
        XCTAssertEqual(offset(\vcpu_guest_context.user_regs), 520)
        XCTAssertEqual(offset(\vcpu_guest_context.trap_ctxt), 720)
        XCTAssertEqual(offset(\vcpu_guest_context.ldt_base), 4816)
        XCTAssertEqual(offset(\vcpu_guest_context.gdt_frames), 4832)
        XCTAssertEqual(offset(\vcpu_guest_context.kernel_ss), 4968)
        XCTAssertEqual(offset(\vcpu_guest_context.ctrlreg), 4984)
        XCTAssertEqual(offset(\vcpu_guest_context.event_callback_eip), 5112)
        XCTAssertEqual(offset(\vcpu_guest_context.vm_assist), 5136)
        XCTAssertEqual(offset(\vcpu_guest_context.gs_base_user), 5160)
    }

    func testArgumentStructOffsets() {
        XCTAssertEqual(offset(\mmuext_op.arg1), 8)
        XCTAssertEqual(offset(\mmuext_op.arg2), 16)
        XCTAssertEqual(offset(\multicall_entry.result), 8)
        XCTAssertEqual(offset(\multicall_entry.args), 16)
        XCTAssertEqual(offset(\xen_memory_reservation.nr_extents), 8)
        XCTAssertEqual(offset(\xen_memory_reservation.extent_order), 16)
        XCTAssertEqual(offset(\xen_memory_reservation.mem_flags), 20)
        XCTAssertEqual(offset(\xen_memory_reservation.domid), 24)
        XCTAssertEqual(offset(\xen_memory_map.buffer), 8)
        XCTAssertEqual(offset(\xen_e820_entry.size), 8)
        XCTAssertEqual(offset(\xen_e820_entry.type), 16)
        XCTAssertEqual(offset(\sched_poll.nr_ports), 8)
        XCTAssertEqual(offset(\sched_poll.timeout), 16)
        XCTAssertEqual(offset(\sched_remote_shutdown.reason), 4)
        XCTAssertEqual(offset(\vcpu_runstate_info.state_entry_time), 8)
        XCTAssertEqual(offset(\vcpu_runstate_info.time), 16)
        XCTAssertEqual(offset(\vcpu_register_vcpu_info.offset), 8)
        XCTAssertEqual(offset(\callback_register.flags), 2)
        XCTAssertEqual(offset(\callback_register.address), 8)
        XCTAssertEqual(offset(\evtchn_status.status), 8)
        XCTAssertEqual(offset(\evtchn_status.vcpu), 12)
        XCTAssertEqual(offset(\evtchn_status.u), 16)
        XCTAssertEqual(offset(\evtchn_op.u), 4)
        XCTAssertEqual(offset(\gnttab_setup_table.nr_frames), 4)
        XCTAssertEqual(offset(\gnttab_setup_table.status), 8)
        XCTAssertEqual(offset(\gnttab_setup_table.frame_list), 16)
        XCTAssertEqual(offset(\gnttab_query_size.max_nr_frames), 8)
        XCTAssertEqual(offset(\gnttab_query_size.status), 12)
        XCTAssertEqual(offset(\xen_compile_info.compile_by), 64)
        XCTAssertEqual(offset(\xen_compile_info.compile_domain), 80)
        XCTAssertEqual(offset(\xen_compile_info.compile_date), 112)
        XCTAssertEqual(offset(\dom0_vga_console_info.u), 4)
    }

    func testConstants() {
        XCTAssertEqual(HYPERVISOR_VIRT_START, 0xFFFF_8000_0000_0000)
        XCTAssertEqual(HYPERVISOR_VIRT_END, 0xFFFF_8800_0000_0000)
        XCTAssertEqual(MACH2PHYS_VIRT_START, 0xFFFF_8000_0000_0000)
        XCTAssertEqual(MACH2PHYS_VIRT_END, 0xFFFF_8040_0000_0000)
        XCTAssertEqual(MACH2PHYS_NR_ENTRIES, (MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) / 8)
        XCTAssertEqual(FLAT_RING3_CS64, 0xe033)
        XCTAssertEqual(FLAT_RING3_CS32, 0xe023)
        XCTAssertEqual(FLAT_RING3_SS64, 0xe02b)
        XCTAssertEqual(FLAT_RING3_DS64, 0)
        XCTAssertEqual(FIRST_RESERVED_GDT_ENTRY, 7168)
        XCTAssertEqual(FLAT_RING3_CS64 >> 3 >= FIRST_RESERVED_GDT_ENTRY, true)
        // Hypercall numbers the issue relies on.
        XCTAssertEqual(__HYPERVISOR_set_trap_table, 0)
        XCTAssertEqual(__HYPERVISOR_mmu_update, 1)
        XCTAssertEqual(__HYPERVISOR_set_callbacks, 4)
        XCTAssertEqual(__HYPERVISOR_memory_op, 12)
        XCTAssertEqual(__HYPERVISOR_multicall, 13)
        XCTAssertEqual(__HYPERVISOR_update_va_mapping, 14)
        XCTAssertEqual(__HYPERVISOR_xen_version, 17)
        XCTAssertEqual(__HYPERVISOR_console_io, 18)
        XCTAssertEqual(__HYPERVISOR_grant_table_op, 20)
        XCTAssertEqual(__HYPERVISOR_vm_assist, 21)
        XCTAssertEqual(__HYPERVISOR_iret, 23)
        XCTAssertEqual(__HYPERVISOR_vcpu_op, 24)
        XCTAssertEqual(__HYPERVISOR_mmuext_op, 26)
        XCTAssertEqual(__HYPERVISOR_sched_op, 29)
        XCTAssertEqual(__HYPERVISOR_callback_op, 30)
        XCTAssertEqual(__HYPERVISOR_event_channel_op, 32)
        XCTAssertEqual(__HYPERVISOR_physdev_op, 33)
        XCTAssertEqual(__HYPERVISOR_arch_0, 48)
        XCTAssertEqual(HYPERCALL_STUB_BYTES * HYPERCALL_PAGE_STUBS, 4096)
        XCTAssertLessThanOrEqual(__HYPERVISOR_arch_7, HYPERCALL_PAGE_STUBS)
        // Xen's errno values (not the host's).
        let errnos: [(Int32, Int32)] = [
            (XEN_EPERM, 1), (XEN_ENOENT, 2), (XEN_ESRCH, 3), (XEN_E2BIG, 7), (XEN_EAGAIN, 11),
            (XEN_ENOMEM, 12), (XEN_EACCES, 13), (XEN_EFAULT, 14), (XEN_EBUSY, 16),
            (XEN_EEXIST, 17), (XEN_ENODEV, 19), (XEN_EINVAL, 22), (XEN_ENOSPC, 28),
            (XEN_ENOSYS, 38), (XEN_EOPNOTSUPP, 95),
        ]
        for (value, expected) in errnos { XCTAssertEqual(value, expected) }
        XCTAssertEqual(SIF_PRIVILEGED | SIF_INITDOMAIN, 3)
        XCTAssertEqual(SIF_MOD_START_PFN, 8)
        XCTAssertEqual(MMUEXT_NEW_BASEPTR, 5)
        XCTAssertEqual(MMUEXT_NEW_USER_BASEPTR, 15)
        XCTAssertEqual(MMUEXT_MARK_SUPER, 19)
        XCTAssertEqual(UVMF_INVLPG | UVMF_ALL, 6)
        XCTAssertEqual(SHUTDOWN_poweroff, 0)
        XCTAssertEqual(SHUTDOWN_crash, 3)
        XCTAssertEqual(SCHEDOP_shutdown, 2)
        XCTAssertEqual(XENMEM_memory_map, 9)
        XCTAssertEqual(XENMEM_machine_memory_map, 10)
        XCTAssertEqual(XENVER_build_id, 10)
        XCTAssertEqual(VCPUOP_register_vcpu_info, 10)
        XCTAssertEqual(CALLBACKTYPE_syscall32, 7)
        XCTAssertEqual(XEN_ELFNOTE_SUPPORTED_FEATURES, 17)
        XCTAssertEqual(XENFEAT_dom0, 11)
        XCTAssertEqual(DOMID_SELF, 0x7FF0)
        XCTAssertEqual(VIRQ_TIMER, 0)
        XCTAssertEqual(NR_VIRQS, 24)
        XCTAssertEqual(String(cString: XEN_START_INFO_MAGIC), "xen-3.0-x86_64")
    }

    /// Writes random values at the documented byte offsets of start_info and reads them
    /// back through the imported struct: the two views of the page must agree.
    func testStartInfoRawBytesMatchFieldsRandomised() {
        var generator = SeededGenerator(seed: 0x5EED_57A7)
        let fields: [(offset: Int, read: (start_info) -> UInt64)] = [
            (32, { $0.nr_pages }), (40, { $0.shared_info }), (56, { $0.store_mfn }),
            (88, { $0.pt_base }), (96, { $0.nr_pt_frames }), (104, { $0.mfn_list }),
            (112, { $0.mod_start }), (120, { $0.mod_len }), (1152, { $0.first_p2m_pfn }),
            (1160, { $0.nr_p2m_frames }), (72, { $0.console.domU.mfn }),
        ]
        for _ in 0..<500 {
            var bytes = [UInt8](repeating: 0, count: MemoryLayout<start_info>.size)
            var expected: [UInt64] = []
            for field in fields {
                let value = generator.next()
                expected.append(value)
                withUnsafeBytes(of: value.littleEndian) { source in
                    bytes.replaceSubrange(field.offset..<field.offset + 8, with: source)
                }
            }
            let flags = UInt32(truncatingIfNeeded: generator.next())
            withUnsafeBytes(of: flags.littleEndian) { bytes.replaceSubrange(48..<52, with: $0) }
            let info = bytes.withUnsafeBytes { $0.loadUnaligned(as: start_info.self) }
            for (index, field) in fields.enumerated() {
                XCTAssertEqual(field.read(info), expected[index], "field at offset \(field.offset)")
            }
            XCTAssertEqual(info.flags, flags)
        }
    }
}
