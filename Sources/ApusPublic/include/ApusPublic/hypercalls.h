/*
 * hypercalls.h: hypercall numbers and the x86-64 PV calling convention.
 *
 * How a 64-bit PV guest calls the hypervisor:
 *  - the number goes in rax, arguments 1..6 in rdi, rsi, rdx, r10, r8, r9 (r10, not
 *    rcx: `syscall` overwrites rcx and r11); the result comes back in rax, a negative
 *    Xen errno (xen_errno.h) on failure;
 *  - the guest does not issue `syscall` itself: it calls into the hypercall page, a
 *    page of its own image named by XEN_ELFNOTE_HYPERCALL_PAGE that the hypervisor
 *    fills before the guest starts. Hypercall n lives at page + n * 32
 *    (HYPERCALL_STUB_BYTES); each stub saves rcx and r11, loads eax and executes
 *    `syscall`, except the iret stub, which never returns to its caller;
 *  - argument registers may come back changed (a preempted call is restarted with
 *    updated arguments), so a caller treats them as clobbered.
 * Apus reads the number and arguments from the saved frame, checks everything the
 * guest passed (pointers are copied through, never trusted) and writes rax.
 * A number with no handler returns -XEN_ENOSYS.
 */
#ifndef APUS_PUBLIC_HYPERCALLS_H
#define APUS_PUBLIC_HYPERCALLS_H

/* Layout of the hypercall page the hypervisor writes into the guest. */
#define HYPERCALL_STUB_BYTES   32
#define HYPERCALL_PAGE_STUBS   (4096 / HYPERCALL_STUB_BYTES) /* 128 numbers fit */

#define __HYPERVISOR_set_trap_table                 0  /* virtual IDT (trap_info[]) */
#define __HYPERVISOR_mmu_update                     1  /* checked page-table writes */
#define __HYPERVISOR_set_gdt                        2  /* frames of a guest GDT */
#define __HYPERVISOR_stack_switch                   3  /* kernel stack for ring changes */
#define __HYPERVISOR_set_callbacks                  4  /* event/failsafe/syscall entry */
#define __HYPERVISOR_fpu_taskswitch                 5  /* set or clear CR0.TS */
#define __HYPERVISOR_sched_op_compat                6  /* old sched_op, pre-3.0.2 ABI */
#define __HYPERVISOR_platform_op                    7  /* dom0: platform management */
#define __HYPERVISOR_set_debugreg                   8
#define __HYPERVISOR_get_debugreg                   9
#define __HYPERVISOR_update_descriptor              10 /* write one GDT/LDT entry */
/* 11 is unused (it was the old memory-reservation call). */
#define __HYPERVISOR_memory_op                      12 /* XENMEM_* (memory_op.h) */
#define __HYPERVISOR_multicall                      13 /* a batch of calls (multicall.h) */
#define __HYPERVISOR_update_va_mapping              14 /* write the PTE mapping one VA */
#define __HYPERVISOR_set_timer_op                   15 /* one-shot timer, absolute ns */
#define __HYPERVISOR_event_channel_op_compat        16 /* old form: one struct with cmd */
#define __HYPERVISOR_xen_version                    17 /* XENVER_* (xen_version.h) */
#define __HYPERVISOR_console_io                     18 /* CONSOLEIO_* (console_io.h) */
#define __HYPERVISOR_physdev_op_compat              19 /* old form: one struct with cmd */
#define __HYPERVISOR_grant_table_op                 20 /* GNTTABOP_* (grant_table.h) */
#define __HYPERVISOR_vm_assist                      21 /* VMASST_* (mmu.h) */
#define __HYPERVISOR_update_va_mapping_otherdomain  22
#define __HYPERVISOR_iret                           23 /* return from a bounce (arch_x86_64.h) */
#define __HYPERVISOR_vcpu_op                        24 /* VCPUOP_* (vcpu_op.h) */
#define __HYPERVISOR_set_segment_base               25 /* fs/gs bases (arch_x86_64.h) */
#define __HYPERVISOR_mmuext_op                      26 /* MMUEXT_* (mmu.h) */
#define __HYPERVISOR_xsm_op                         27 /* security module (FLASK) */
#define __HYPERVISOR_nmi_op                         28
#define __HYPERVISOR_sched_op                       29 /* SCHEDOP_* (sched_op.h) */
#define __HYPERVISOR_callback_op                    30 /* CALLBACKOP_* (callback_op.h) */
#define __HYPERVISOR_xenoprof_op                    31
#define __HYPERVISOR_event_channel_op               32 /* EVTCHNOP_* (event_channel.h) */
#define __HYPERVISOR_physdev_op                     33 /* PHYSDEVOP_* (physdev_op.h) */
#define __HYPERVISOR_hvm_op                         34
#define __HYPERVISOR_sysctl                         35 /* dom0 tools: host-wide control */
#define __HYPERVISOR_domctl                         36 /* dom0 tools: per-domain control */
#define __HYPERVISOR_kexec_op                       37
#define __HYPERVISOR_tmem_op                        38 /* removed from Xen; always -ENOSYS */
#define __HYPERVISOR_argo_op                        39
#define __HYPERVISOR_xenpmu_op                      40
#define __HYPERVISOR_dm_op                          41 /* device-model operations */
#define __HYPERVISOR_hypfs_op                       42 /* hypervisor file system */

/* 48..55 belong to the architecture; x86 uses the first for machine-check handling. */
#define __HYPERVISOR_arch_0                         48
#define __HYPERVISOR_mca                            __HYPERVISOR_arch_0
#define __HYPERVISOR_arch_1                         49
#define __HYPERVISOR_arch_7                         55

/* One past the highest number that can ever be valid: anything at or above is ENOSYS. */
#define NR_HYPERCALLS                               64

#endif /* APUS_PUBLIC_HYPERCALLS_H */
