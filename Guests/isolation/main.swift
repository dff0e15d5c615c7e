// isolation: a hostile PV guest tries each way out of its domain and checks that it
// gets the hypervisor's answer, that the hypervisor still answers afterwards and that
// nothing of its own changed (Support.swift: Own.intact after every attempt).
//
// Sections (one file each): HypervisorMemory (the hypervisor's frames, RAM that is not
// dom0's, a free frame, frames past RAM and device pages), OwnTables (write access to
// its own page and descriptor tables), Ring0 (descriptors, far transfers and trap
// entries that would reach ring 0), Pointers (bad addresses and huge counts for every
// hypercall that takes them), Grants (grant references misused).
//
// Facts Xen 4.17 showed (the spec Apus must meet). Errnos: -EPERM -1, -ENOENT -2,
// -ESRCH -3, -ENXIO -6, -EFAULT -14, -EBUSY -16, -EINVAL -22, -ENOSYS -38. After every
// attempt below Xen answered and the guest was intact.
// The hypervisor's frames (the live L4's slots 256, 260, 261, 262 name Xen's own
//   page-table frames; 258 is the L4 itself; Xen's load address 0x3f800000, Apus's 2 MiB;
//   60 RAM frames dom0 does not own, every 16 MiB of the machine memory map) and a free
//   frame found through the M2P/p2m: update_va_mapping read-only or read-write -EBUSY
//   (every one of the 60 too); mmu_update of an L1 entry -EBUSY; COPY_PAGE from or into
//   it, CLEAR_PAGE, PIN_L1_TABLE, NEW_BASEPTR, mmu_update with ptr in it,
//   MMU_MACHPHYS_UPDATE, set_gdt, update_descriptor: -EINVAL. PIN_L1 of a page mapping
//   the free frame: -EBUSY (no type left). VCPUOP_register_vcpu_info and
//   EVTCHNOP_init_control on it: -EINVAL.
// Past RAM and devices: a frame past RAM read-only or read-write: 0 (dom0 may map I/O);
//   the e820-reserved range at 0xfd00000000: -EPERM; mfn 2^40-1: -EINVAL; mfn 2^39:
//   -EPERM; the local APIC page read-only or read-write: -EPERM; the IOAPIC asked for
//   read-write: 0, mapped read-only, and a store to it does not fault: Xen emulates and
//   drops it (IOREGSEL keeps its value).
// Own page tables (bootstrap L4, L3, L2, L1) writable through update_va_mapping, an L1
//   entry (NORMAL or PRESERVE_AD), a pinned L1 mapping one writable: -EBUSY; read-only:
//   0; an L2 slot or L4 slot pointing at its own table read-write: -EINVAL; COPY_PAGE
//   into the L4 or L1, CLEAR_PAGE of the L3: -EINVAL; a store into the L4, an L2 or (an
//   entry mapping the L4 writable) an L1: #PF error code 3, word unchanged.
// GDT (set_gdt) and LDT (SET_LDT, loaded): writable mapping -EBUSY; COPY_PAGE into them,
//   CLEAR_PAGE, mmu_update with ptr in the GDT, PIN_L1 of the GDT: -EINVAL; a store into
//   the GDT: #PF 3.
// Ring 0: set_gdt of a page holding a call gate to 0xe008 or 0xe030, an interrupt or
//   trap gate, a 64-bit TSS, an LDT descriptor: -EINVAL; update_descriptor of the same
//   (and a gate to 0xe010): -EINVAL, entry unchanged. DPL-0 code is stored as DPL 3; a
//   DPL-3 call gate to FLAT_KERNEL_CS is stored with DPL 0. lretq to a guest code
//   selector runs in ring 3 (%cs 0x0b, 0x13); lretq with RPL 0, to 0xe008 or to 0xe030:
//   #GP(selector); lcall through the stored gate: #GP(gate selector), never taken;
//   lcall to 0xe008: #GP(0xe008). set_trap_table with cs 0xe008 for int 0x20 (DPL 3): 0,
//   and int $0x20 reaches the guest's handler in its own kernel %cs (0xe030 in the frame).
// Bad pointers (non-canonical 0x800000000000; 0xffff800000000000, the read-only M2P the
//   guest can itself read; Xen's text 0xffff82d040000000; the direct map
//   0xffff830000000000; 0xffff87fffffff000) and huge counts:
//   console_io write: -EFAULT from each; count 0x7fffffff with 16 bytes before unmapped
//     memory: -EFAULT (nothing printed); count 0 from a bad address: 0; read into Xen's
//     text with no input waiting: 0.
//   mmu_update/mmuext_op: list at a bad address -EFAULT; count 0x7fffffff with one
//     request before unmapped memory: -EFAULT, done 1. update_va_mapping of a VA in Xen's
//     text or its last page: -EINVAL.
//   multicall: list non-canonical or in the M2P: -EFAULT; count 0x7fffffff with one
//     entry before unmapped memory: the entry runs, then -EFAULT; entries with bad
//     pointers: 0, each entry -EFAULT.
//   memory_op: memory_map -EFAULT for a bad argument, -ENOSYS otherwise (a PV dom0 has no
//     map of its own); machine_memory_map into the M2P or (0x7fffffff entries) Xen's
//     text, current_reservation, maximum_gpfn, machphys_mfn_list, exchange with bad
//     pointers: -EFAULT; decrease_reservation with extents in the M2P, or 0x7fffffff
//     extents whose first is a pfn dom0 lacks: 0 (extents done), no page lost.
//   grant_table_op: query_size, map_grant_ref, copy with bad arguments: -EFAULT;
//     unmap_grant_ref count 0x7fffffff, one op before unmapped memory: -EFAULT after
//     writing that op's status (bad_handle).
//   event_channel_op: bad arguments -EFAULT; send/close/unmask/status of port 0x7fffffff
//     or 0xffffffff, bind_virq 0x7fffffff: -EINVAL; bind_virq on vCPU 0x7fffffff,
//     init_control for vCPU 0x7fffffff: -ENOENT; alloc_unbound for remote domain 1234:
//     0 (not checked); alloc_unbound in or bind_interdomain to domain 1234: -ESRCH;
//     init_control crossing a page: -EINVAL; command 0x7fffffff: -ENOSYS.
//   sched_op poll: ports in the M2P or non-canonical, argument in Xen's text: -EFAULT;
//     0x7fffffff ports, port 0x7fffffff: -EINVAL; command 0x7fffffff: -ENOSYS.
//   set_trap_table: table at a bad address or running into unmapped memory: -EFAULT; a
//     handler at a non-canonical address: -EINVAL; in Xen's text (canonical): 0.
//   set_gdt: frames at a bad address -EFAULT; 0xffffffff or 0x80000000 entries -EINVAL;
//     update_descriptor at machine address 2^52: -EINVAL.
//   vcpu_op: get_runstate_info into bad addresses, set_singleshot_timer,
//     register_runstate_memory_area in Xen's text: -EFAULT; vCPU 0x7fffffff or
//     0xffffffff: -ENOENT; register_vcpu_info across a page end: -ENXIO; command
//     0x7fffffff: -ENOSYS.
//   xen_version, physdev_op set_iopl, callback_op with bad arguments: -EFAULT; a
//     non-canonical event callback, set_segment_base FS non-canonical: -EINVAL; kernel
//     GS base in Xen's (canonical) range: 0.
// Grants (dom0 grants to itself; map status, the call itself returns 0): an own grant
//   maps (okay; the map does not flush the target's old translation) and unmaps (okay);
//   ref 100000: bad_gntref (-3); an unused entry, one granted to domain 5, a read-only
//   grant mapped writable, a host address in Xen's text or non-canonical:
//   general_error (-1); an entry granting a frame dom0 does not own: bad_page (-9);
//   domain 1234: bad_domain (-2); no GNTMAP_host_map: bad_gntref; handle 0xffff:
//   bad_handle (-4). Copies: between own frames okay; from or into a frame dom0 does
//   not own, from a grant of one: bad_page; into the live L4: general_error; ref
//   100000: bad_gntref; 4097 bytes, 16 from offset 4090: bad_copy_arg (-10); domain
//   1234: bad_domain. A refused map leaves the target page mapped as it was.
import XenGuest
import XenGuestC
import ApusPublic

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "isolation")
    report.expect("install the trap table", Traps.install(guest: "isolation"), equals: 0)
    guard Own.setUp() else {
        report.check("page pool has 2 pages", false)
        report.finish()
    }
    report.check("intact at the start", Own.intact())
    hypervisorMemory(&report)
    ownTables(&report)
    ringZero(&report)
    pointers(&report)
    grants(&report)
    report.group(nil)
    report.check("intact at the end", Own.intact())
    report.finish()
}
