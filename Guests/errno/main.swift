// errno: what a hypercall returns when it cannot do what it was asked.
//
// Three families, each value checked against Xen 4.17 (Apus must return the same):
//  - numbers with no hypercall: -ENOSYS, whether called through the hypercall page or
//    with `syscall` directly, including numbers past the page and rax values with
//    upper bits set (the whole 64-bit rax is the number);
//  - arguments the hypervisor cannot read or write (NULL, unmapped, the hypervisor's
//    own range): -EFAULT;
//  - sub-operations that do not exist: -ENOSYS for most calls; -EINVAL where the call
//    validates a type field instead (vm_assist type, segment base selector,
//    get_features submap, unregistering a callback other than NMI); an unknown
//    callback type to register is -ENOSYS; -ENOENT for a vCPU the domain does not have.
import XenGuest
import XenGuestC
import ApusPublic

private let enosys = -Int64(XEN_ENOSYS)
private let efault = -Int64(XEN_EFAULT)
private let einval = -Int64(XEN_EINVAL)
private let unmapped = UnsafeMutableRawPointer(bitPattern: 0x0000_7FFF_FFFF_F000)
private let hypervisorDirectMap = UnsafeMutableRawPointer(bitPattern: 0xFFFF_8300_0000_0000 as UInt)

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "errno")

    // Unknown hypercall numbers.
    report.expect("hypercall 11 (unused)", xen_hypercall_raw(11, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 43", xen_hypercall_raw(43, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 47", xen_hypercall_raw(47, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 56", xen_hypercall_raw(56, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 63", xen_hypercall_raw(63, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 64", xen_hypercall_raw(64, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("hypercall 127 (last stub)", xen_hypercall_raw(127, 0, 0, 0, 0, 0), equals: enosys)
    report.expect("syscall with rax 1000", xen_syscall_raw(1000, 0, 0, 0), equals: enosys)
    report.expect("syscall with rax 2^32 + xen_version", xen_syscall_raw((1 << 32) | 17, 0, 0, 0),
                  equals: enosys)
    report.expect("syscall with rax -1", xen_syscall_raw(~0, 0, 0, 0), equals: enosys)
    report.expect("syscall xen_version works directly",
                  xen_syscall_raw(UInt64(__HYPERVISOR_xen_version), UInt64(XENVER_version), 0, 0),
                  equals: (4 << 16) | 17)

    // Unreadable or unwritable arguments.
    report.expect("xen_version extraversion to NULL", HYPERVISOR_xen_version(UInt32(XENVER_extraversion), nil),
                  equals: efault)
    report.expect("xen_version compile_info into the hypervisor",
                  HYPERVISOR_xen_version(UInt32(XENVER_compile_info), hypervisorDirectMap), equals: efault)
    report.expect("memory_op current_reservation from NULL",
                  HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), nil), equals: efault)
    report.expect("sched_op shutdown from NULL", HYPERVISOR_sched_op(UInt32(SCHEDOP_shutdown), nil),
                  equals: efault)
    report.expect("vcpu_op get_runstate_info to NULL",
                  HYPERVISOR_vcpu_op(UInt32(VCPUOP_get_runstate_info), 0, nil), equals: efault)
    report.expect("event_channel_op alloc_unbound from NULL",
                  HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_alloc_unbound), nil), equals: efault)
    report.expect("event_channel_op status from unmapped memory",
                  HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_status), unmapped), equals: efault)
    report.expect("grant_table_op query_size from NULL",
                  HYPERVISOR_grant_table_op(UInt32(GNTTABOP_query_size), nil, 1), equals: efault)
    report.expect("callback_op register from NULL",
                  HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), nil), equals: efault)
    report.expect("physdev_op set_iopl from NULL",
                  HYPERVISOR_physdev_op(UInt32(PHYSDEVOP_set_iopl), nil), equals: efault)
    report.expect("multicall from NULL", HYPERVISOR_multicall(nil, 1), equals: efault)
    report.expect("mmuext_op from NULL", HYPERVISOR_mmuext_op(nil, 1, nil, UInt32(DOMID_SELF)), equals: efault)
    report.expect("mmu_update from NULL", HYPERVISOR_mmu_update(nil, 1, nil, UInt32(DOMID_SELF)), equals: efault)

    // Sub-operations that do not exist, and objects that do not.
    report.expect("sched_op 99", HYPERVISOR_sched_op(99, Scratch.cleared(64)), equals: enosys)
    report.expect("memory_op 63", HYPERVISOR_memory_op(63, Scratch.cleared(64)), equals: enosys)
    report.expect("vcpu_op 99", HYPERVISOR_vcpu_op(99, 0, Scratch.cleared(64)), equals: enosys)
    report.expect("event_channel_op 99", HYPERVISOR_event_channel_op(99, Scratch.cleared(64)), equals: enosys)
    report.expect("grant_table_op 99", HYPERVISOR_grant_table_op(99, Scratch.cleared(64), 1), equals: enosys)
    report.expect("callback_op 99", HYPERVISOR_callback_op(99, Scratch.cleared(64)), equals: enosys)
    report.expect("physdev_op 99", HYPERVISOR_physdev_op(99, Scratch.cleared(64)), equals: enosys)
    report.expect("xen_version 99", HYPERVISOR_xen_version(99, Scratch.cleared(64)), equals: enosys)
    report.expect("vm_assist command 99", HYPERVISOR_vm_assist(99, UInt32(VMASST_TYPE_writable_pagetables)),
                  equals: enosys)
    report.expect("vm_assist enable type 31", HYPERVISOR_vm_assist(UInt32(VMASST_CMD_enable), 31), equals: einval)
    report.expect("set_segment_base 99", HYPERVISOR_set_segment_base(99, 0), equals: einval)
    var unknownCallback = callback_register(type: 99, flags: 0, _pad: 0, address: 0xFFFF_FFFF_8000_0000)
    report.expect("callback_op register type 99",
                  HYPERVISOR_callback_op(UInt32(CALLBACKOP_register), &unknownCallback), equals: enosys)
    var unregisterEvent = callback_unregister(type: UInt16(CALLBACKTYPE_event), _unused: 0)
    report.expect("callback_op unregister the event callback",
                  HYPERVISOR_callback_op(UInt32(CALLBACKOP_unregister), &unregisterEvent), equals: einval)
    var badMMUExt = mmuext_op()
    badMMUExt.cmd = 99
    var done: UInt32 = 0
    report.expect("mmuext_op command 99", HYPERVISOR_mmuext_op(&badMMUExt, 1, &done, UInt32(DOMID_SELF)),
                  equals: enosys)
    report.expect("vcpu_op is_up vcpu 0", HYPERVISOR_vcpu_op(UInt32(VCPUOP_is_up), 0, nil), equals: 1)
    report.expect("vcpu_op is_up vcpu 1 (dom0 has one)", HYPERVISOR_vcpu_op(UInt32(VCPUOP_is_up), 1, nil),
                  equals: -Int64(XEN_ENOENT))
    report.expect("vcpu_op is_up vcpu 100000", HYPERVISOR_vcpu_op(UInt32(VCPUOP_is_up), 100_000, nil),
                  equals: -Int64(XEN_ENOENT))
    var runstate = vcpu_runstate_info()
    report.expect("vcpu_op get_runstate_info vcpu 0",
                  HYPERVISOR_vcpu_op(UInt32(VCPUOP_get_runstate_info), 0, &runstate), equals: 0)
    report.expect("  vcpu 0 is running", Int64(runstate.state), equals: Int64(RUNSTATE_running))

    // Grant table basics (the calls dom0 makes at boot).
    var query = gnttab_query_size(dom: domid_t(DOMID_SELF), _pad: 0, nr_frames: 0, max_nr_frames: 0,
                                  status: 99, _pad1: 0)
    report.expect("grant_table_op query_size", HYPERVISOR_grant_table_op(UInt32(GNTTABOP_query_size), &query, 1),
                  equals: 0)
    report.expect("  status okay", Int64(query.status), equals: Int64(GNTST_okay))
    report.info("  nr_frames", Int64(query.nr_frames))
    report.info("  max_nr_frames", Int64(query.max_nr_frames))
    report.check("  max_nr_frames >= nr_frames >= 1", query.nr_frames >= 1 && query.max_nr_frames >= query.nr_frames)
    var otherDomain = gnttab_query_size(dom: 1234, _pad: 0, nr_frames: 0, max_nr_frames: 0, status: 0, _pad1: 0)
    report.expect("grant_table_op query_size of a missing domain",
                  HYPERVISOR_grant_table_op(UInt32(GNTTABOP_query_size), &otherDomain, 1), equals: 0)
    report.expect("  status bad_domain", Int64(otherDomain.status), equals: Int64(GNTST_bad_domain))
    report.finish()
}
