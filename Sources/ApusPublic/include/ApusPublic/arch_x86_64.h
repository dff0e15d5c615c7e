/*
 * arch_x86_64.h: what the x86-64 PV ABI fixes about the machine a guest sees: the
 * hypervisor's hole in every address space, the flat selectors, the register frames
 * of exceptions and of the iret hypercall, the virtual IDT entry, and the per-vCPU and
 * per-domain architectural fields of vcpu_info and shared_info.
 *
 * A 64-bit PV guest kernel runs in ring 3 like its user space. It cannot load CR3, the
 * IDT or privileged selectors; it asks the hypervisor instead, and receives exceptions
 * and events as "bounces": the hypervisor builds a frame on the guest kernel stack and
 * jumps to the address the guest registered.
 */
#ifndef APUS_PUBLIC_ARCH_X86_64_H
#define APUS_PUBLIC_ARCH_X86_64_H

#include "xen_types.h"

/*
 * The hypervisor's virtual range, present (and guest-inaccessible, except the
 * read-only machine-to-phys table) in every PV address space: L4 slots 256..271.
 * Guests may map anything else, lower half and upper half alike. A guest that tries
 * to map into this range through mmu_update or update_va_mapping is refused.
 */
#ifdef __ASSEMBLY__
#define HYPERVISOR_VIRT_START  0xFFFF800000000000
#define HYPERVISOR_VIRT_END    0xFFFF880000000000
#define MACH2PHYS_VIRT_START   0xFFFF800000000000
#define MACH2PHYS_VIRT_END     0xFFFF804000000000
#define MACH2PHYS_NR_ENTRIES   0x800000000
#else
#define HYPERVISOR_VIRT_START  0xFFFF800000000000ULL
#define HYPERVISOR_VIRT_END    0xFFFF880000000000ULL
/*
 * The machine-to-phys (M2P) table: one 64-bit entry per machine frame, holding the
 * pseudo-physical frame the owning guest uses for it (or an invalid marker). Every PV
 * guest can read it at this address, so translating an MFN found in a page-table entry
 * back to its own PFN needs no hypercall. Guests update their own entries with
 * mmu_update(MMU_MACHPHYS_UPDATE); only Apus writes the table.
 */
#define MACH2PHYS_VIRT_START   0xFFFF800000000000ULL
#define MACH2PHYS_VIRT_END     0xFFFF804000000000ULL
/* (END - START) / 8: written as a literal so that Swift imports it. */
#define MACH2PHYS_NR_ENTRIES   0x800000000ULL
_Static_assert(MACH2PHYS_NR_ENTRIES == (MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) / 8,
               "M2P entry count");
#endif

/*
 * Flat segment selectors in the hypervisor-owned part of every GDT (entries from
 * FIRST_RESERVED_GDT_ENTRY on), all with RPL 3 because the guest kernel runs in ring 3.
 * A guest that never installs a GDT of its own uses these; it starts with CS = CS64
 * and SS = SS64. DS64 is the null selector: 64-bit code needs no data segment.
 */
#define FLAT_RING3_CS32  0xe023
#define FLAT_RING3_CS64  0xe033
#define FLAT_RING3_DS32  0xe02b
#define FLAT_RING3_DS64  0x0000
#define FLAT_RING3_SS32  0xe02b
#define FLAT_RING3_SS64  0xe02b
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_CS   FLAT_KERNEL_CS64
#define FLAT_KERNEL_DS   FLAT_KERNEL_DS64
#define FLAT_KERNEL_SS   FLAT_KERNEL_SS64
#define FLAT_USER_CS64   FLAT_RING3_CS64
#define FLAT_USER_DS64   FLAT_RING3_DS64
#define FLAT_USER_SS64   FLAT_RING3_SS64
#define FLAT_USER_CS     FLAT_USER_CS64
#define FLAT_USER_DS     FLAT_USER_DS64
#define FLAT_USER_SS     FLAT_USER_SS64

/*
 * The guest's GDT (set_gdt) may use the first 14 pages; the hypervisor owns the rest,
 * which is where the flat selectors above live (0xe000 / 8 = entry 7168).
 */
#define FIRST_RESERVED_GDT_PAGE   14
#define FIRST_RESERVED_GDT_BYTE   (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY  (FIRST_RESERVED_GDT_BYTE / 8)

/* set_segment_base(which, base): 64-bit code cannot write the base MSRs itself. */
#define SEGBASE_FS           0 /* FS base of the current context */
#define SEGBASE_GS_USER      1 /* GS base used while the guest is in user mode */
#define SEGBASE_GS_KERNEL    2 /* GS base used while the guest is in kernel mode */
#define SEGBASE_GS_USER_SEL  3 /* load the user GS selector given in base[15:0] */

/* shared_info.vcpu_info[] has room for this many vCPUs; more need VCPUOP_register_vcpu_info. */
#define XEN_LEGACY_MAX_VCPUS 32

/*
 * "Forced emulation" prefix: ud2 followed by the bytes 'x','e','n'. Placed before an
 * instruction that does not trap in ring 3 (only `cpuid` is accepted), it makes the
 * hypervisor emulate that instruction, so a PV kernel sees the CPUID the hypervisor
 * chooses. Apus recognises it at any time, even before the guest has a trap table.
 */
#define XEN_EMULATE_PREFIX_BYTES 0x0f, 0x0b, 0x78, 0x65, 0x6e
#define XEN_EMULATE_PREFIX_LEN   5

/*
 * iret hypercall. A guest kernel returning from an exception or event bounce cannot
 * use `iretq` to ring 3 user mode with the kernel/user page-table switch, so it pushes
 * an iret_context and calls the iret stub of the hypercall page. Apus pops the frame,
 * switches to user or kernel mode according to the RPL of cs, and restores rax, r11,
 * rcx (all three were pushed by the guest because the stub clobbers them). When flags
 * has VGCF_in_syscall, the return is a `sysret`-style one: rcx and r11 are discarded.
 */
#define _VGCF_in_syscall 8
#define VGCF_in_syscall  (1 << _VGCF_in_syscall)
#define VGCF_IN_SYSCALL  VGCF_in_syscall

/* vcpu_guest_context.flags (VCPUOP_initialise). */
#define VGCF_i387_valid               (1 << 0)
#define VGCF_in_kernel                (1 << 2)
#define VGCF_failsafe_disables_events (1 << 3)
#define VGCF_syscall_disables_events  (1 << 4)
#define VGCF_online                   (1 << 5)

/* trap_info.flags: bits 0-1 are the DPL `int n` needs; bit 2 masks events on entry. */
#define TI_DPL_MASK   3
#define TI_MASK_EVENTS 4

#ifndef __ASSEMBLY__

/*
 * The frame of the iret hypercall, lowest address first: rsp points at rax when the
 * guest calls the iret stub. Written by the guest, consumed by Apus.
 */
struct iret_context {
    uint64_t rax;
    uint64_t r11;
    uint64_t rcx;
    uint64_t flags;   /* VGCF_in_syscall or 0 */
    uint64_t rip;
    uint64_t cs;
    uint64_t rflags;
    uint64_t rsp;
    uint64_t ss;
};
APUS_ABI_SIZE(struct iret_context, 72);
APUS_ABI_OFFSET(struct iret_context, flags, 24);
APUS_ABI_OFFSET(struct iret_context, ss, 64);

/*
 * A full register frame as the ABI exposes it (vcpu_guest_context.user_regs, crash
 * dumps, VCPUOP_initialise). The order is the order Xen's entry code pushes, so Apus
 * may use the same layout for its own trap frame; error_code and entry_vector are the
 * hypervisor's private fields. saved_upcall_mask mirrors rflags.IF for the guest:
 * PV guests never own the real IF, their "interrupt flag" is the event mask.
 */
struct cpu_user_regs {
    uint64_t r15;
    uint64_t r14;
    uint64_t r13;
    uint64_t r12;
    uint64_t rbp;
    uint64_t rbx;
    uint64_t r11;
    uint64_t r10;
    uint64_t r9;
    uint64_t r8;
    uint64_t rax;
    uint64_t rcx;
    uint64_t rdx;
    uint64_t rsi;
    uint64_t rdi;
    uint32_t error_code;
    uint32_t entry_vector;
    uint64_t rip;
    uint16_t cs;
    uint16_t _pad0;
    uint8_t  saved_upcall_mask;
    uint8_t  _pad1[3];
    uint64_t rflags;
    uint64_t rsp;
    uint16_t ss, _pad2[3];
    uint16_t es, _pad3[3];
    uint16_t ds, _pad4[3];
    uint16_t fs, _pad5[3]; /* non-zero: this selector wins over the FS base */
    uint16_t gs, _pad6[3]; /* non-zero: this selector wins over the user GS base */
};
APUS_ABI_SIZE(struct cpu_user_regs, 200);
APUS_ABI_OFFSET(struct cpu_user_regs, rax, 80);
APUS_ABI_OFFSET(struct cpu_user_regs, rdi, 112);
APUS_ABI_OFFSET(struct cpu_user_regs, error_code, 120);
APUS_ABI_OFFSET(struct cpu_user_regs, rip, 128);
APUS_ABI_OFFSET(struct cpu_user_regs, cs, 136);
APUS_ABI_OFFSET(struct cpu_user_regs, saved_upcall_mask, 140);
APUS_ABI_OFFSET(struct cpu_user_regs, rflags, 144);
APUS_ABI_OFFSET(struct cpu_user_regs, rsp, 152);
APUS_ABI_OFFSET(struct cpu_user_regs, ss, 160);
APUS_ABI_OFFSET(struct cpu_user_regs, gs, 192);

/*
 * One entry of the virtual IDT (set_trap_table takes an array ended by an entry with
 * address 0). The guest names, per vector, where Apus should bounce the exception and
 * which privilege `int n` needs (TI_DPL_MASK: 0 nobody, 1-2 guest kernel, 3 anyone).
 * Apus copies the table in; the guest may reuse its array afterwards.
 */
struct trap_info {
    uint8_t  vector;
    uint8_t  flags;   /* TI_DPL_MASK | TI_MASK_EVENTS */
    uint16_t cs;      /* code selector of the handler (a FLAT_RING3 one or the guest's) */
    uint32_t _pad;
    uint64_t address; /* handler; 0 ends the array */
};
APUS_ABI_SIZE(struct trap_info, 16);
APUS_ABI_OFFSET(struct trap_info, address, 8);

/*
 * vcpu_info.arch: written by Apus, read by the guest. cr2 is the faulting address of
 * the #PF being bounced (the guest cannot read the real CR2 from ring 3).
 */
struct arch_vcpu_info {
    uint64_t cr2;
    uint64_t pad;
};
APUS_ABI_SIZE(struct arch_vcpu_info, 16);

/*
 * shared_info.arch. The p2m fields are written by the guest, for the benefit of tools
 * in dom0 that save or migrate it; Apus does not interpret them. nmi_reason is written
 * by the hypervisor for dom0 (bit 0: parity error, bit 1: I/O check).
 */
struct arch_shared_info {
    uint64_t max_pfn;                    /* entries valid in the guest's p2m */
    xen_pfn_t pfn_to_mfn_frame_list_list;/* 3-level p2m tree root (0 unset, ~0 invalid) */
    uint64_t nmi_reason;
    uint64_t p2m_cr3;                    /* address space of the linear p2m, 0 if none */
    uint64_t p2m_vaddr;                  /* linear p2m virtual address */
    uint64_t p2m_generation;             /* odd while the guest updates p2m mappings */
};
APUS_ABI_SIZE(struct arch_shared_info, 48);

/*
 * The complete register and descriptor state of a PV vCPU (VCPUOP_initialise for
 * secondary vCPUs; domctl get/set context for the tools). The guest or the toolstack
 * fills it, Apus validates every selector and frame before using it.
 */
struct vcpu_guest_context {
    uint8_t  fpu_ctxt[512];           /* FXSAVE image, valid if VGCF_i387_valid */
    uint64_t flags;                   /* VGCF_* */
    struct cpu_user_regs user_regs;
    struct trap_info trap_ctxt[256];  /* the virtual IDT */
    uint64_t ldt_base, ldt_ents;      /* LDT linear address and entry count */
    uint64_t gdt_frames[16], gdt_ents;/* GDT machine frames and entry count */
    uint64_t kernel_ss, kernel_sp;    /* the stack_switch values */
    uint64_t ctrlreg[8];              /* cr3 = kernel L4 (as xen_pfn_to_cr3), cr1 = user L4 */
    uint64_t debugreg[8];
    uint64_t event_callback_eip;
    uint64_t failsafe_callback_eip;
    uint64_t syscall_callback_eip;
    uint64_t vm_assist;               /* bitmap of VMASST_TYPE_* */
    uint64_t fs_base;
    uint64_t gs_base_kernel;
    uint64_t gs_base_user;
};
APUS_ABI_SIZE(struct vcpu_guest_context, 5168);
APUS_ABI_OFFSET(struct vcpu_guest_context, user_regs, 520);
APUS_ABI_OFFSET(struct vcpu_guest_context, trap_ctxt, 720);
APUS_ABI_OFFSET(struct vcpu_guest_context, ctrlreg, 4984);
APUS_ABI_OFFSET(struct vcpu_guest_context, event_callback_eip, 5112);

/* CR3 values in the ABI carry a frame number shifted into place. */
#define xen_pfn_to_cr3(pfn) ((uint64_t)(pfn) << 12)
#define xen_cr3_to_pfn(cr3) ((uint64_t)(cr3) >> 12)

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_ARCH_X86_64_H */
