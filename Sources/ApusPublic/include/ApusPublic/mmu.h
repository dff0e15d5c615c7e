/*
 * mmu.h: how a PV guest changes its own page tables and TLB: mmu_update,
 * update_va_mapping, mmuext_op and vm_assist.
 *
 * A PV guest's page tables are guest frames that the hypervisor has validated and
 * typed (L1..L4); the guest keeps them mapped read-only and asks Apus to write
 * entries. Apus checks each new entry: the frame it maps must belong to the caller (or
 * to the foreign domain the caller may act for), must not be a page table if mapped
 * writable, and must not reach into the hypervisor's range. Reference counts and
 * page types are kept so that a frame is never both a page table and writable.
 */
#ifndef APUS_PUBLIC_MMU_H
#define APUS_PUBLIC_MMU_H

#include "xen_types.h"

/*
 * mmu_update(reqs, count, done_out, foreigndom): the low 2 bits of each req.ptr pick
 * the command, the rest is a machine address. foreigndom[15:0] names the owner the
 * mapped frames must have (DOMID_SELF normally, DOMID_IO for device memory);
 * foreigndom[31:16], if non-zero, is 1 + the owner of the page tables being written.
 */
#define MMU_NORMAL_PT_UPDATE       0 /* *ptr = val, checked; ptr is the PTE's machine address */
#define MMU_MACHPHYS_UPDATE        1 /* M2P[ptr >> 12] = val (the guest's PFN for that frame) */
#define MMU_PT_UPDATE_PRESERVE_AD  2 /* as NORMAL, keeping the Accessed/Dirty bits */
#define MMU_PT_UPDATE_NO_TRANSLATE 3 /* as NORMAL for translated guests (ptr not a gfn) */

/*
 * mmuext_op(ops, count, done_out, foreigndom): commands in mmuext_op.cmd. arg1 is a
 * frame number for (UN)PIN, NEW_(USER_)BASEPTR, CLEAR/COPY_PAGE and (UN)MARK_SUPER,
 * else a linear address; arg2 is the LDT size, a vCPU bitmap pointer, or COPY_PAGE's
 * source frame.
 */
#define MMUEXT_PIN_L1_TABLE       0  /* validate as Lx table and keep it typed */
#define MMUEXT_PIN_L2_TABLE       1
#define MMUEXT_PIN_L3_TABLE       2
#define MMUEXT_PIN_L4_TABLE       3
#define MMUEXT_UNPIN_TABLE        4
#define MMUEXT_NEW_BASEPTR        5  /* switch the kernel-mode L4 (a pinned or valid L4) */
#define MMUEXT_TLB_FLUSH_LOCAL    6
#define MMUEXT_INVLPG_LOCAL       7
#define MMUEXT_TLB_FLUSH_MULTI    8  /* arg2: bitmap of vCPUs */
#define MMUEXT_INVLPG_MULTI       9
#define MMUEXT_TLB_FLUSH_ALL      10
#define MMUEXT_INVLPG_ALL         11
#define MMUEXT_FLUSH_CACHE        12 /* wbinvd on this CPU (needs hardware access) */
#define MMUEXT_SET_LDT            13 /* arg1 page-aligned LDT base, arg2 entries */
/* 14 is unused. */
#define MMUEXT_NEW_USER_BASEPTR   15 /* the L4 used while the guest is in user mode */
#define MMUEXT_CLEAR_PAGE         16
#define MMUEXT_COPY_PAGE          17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER         19
#define MMUEXT_UNMARK_SUPER       20

/*
 * update_va_mapping(va, new_pte, flags): write the L1 entry that maps va in the current
 * page tables (the L1 must already exist), then flush as flags ask. flags is a
 * flush type, ORed with UVMF_ALL, or with a pointer to a vCPU bitmap (UVMF_MULTI).
 */
#define UVMF_NONE           0 /* no flush */
#define UVMF_TLB_FLUSH      1 /* flush the whole TLB */
#define UVMF_INVLPG         2 /* flush this one address */
#define UVMF_FLUSHTYPE_MASK 3
#define UVMF_MULTI          0 /* + pointer to a vCPU bitmap */
#define UVMF_LOCAL          0 /* this vCPU only (UVMF_MULTI with no bitmap) */
#define UVMF_ALL            (1 << 2) /* every vCPU of the domain */

/* vm_assist(cmd, type): optional behaviours a guest turns on or off. */
#define VMASST_CMD_enable                0
#define VMASST_CMD_disable               1
#define VMASST_TYPE_4gb_segments         0  /* 32-bit only */
#define VMASST_TYPE_4gb_segments_notify  1  /* 32-bit only */
#define VMASST_TYPE_writable_pagetables  2  /* emulate plain writes to L1 entries */
#define VMASST_TYPE_pae_extended_cr3     3  /* 32-bit PAE only */
#define VMASST_TYPE_architectural_iopl   4  /* iopl as the hardware defines it */
#define VMASST_TYPE_runstate_update_flag 5  /* mark runstate areas being updated */
#define VMASST_TYPE_m2p_strict           32 /* hide the M2P from guest user mode */

#ifndef __ASSEMBLY__

/* One request of mmu_update, written by the guest, consumed by Apus. */
struct mmu_update {
    uint64_t ptr; /* machine address | MMU_* command in bits 0-1 */
    uint64_t val; /* new entry (NORMAL) or PFN (MACHPHYS) */
};
APUS_ABI_SIZE(struct mmu_update, 16);

/* One request of mmuext_op, written by the guest, consumed by Apus. */
struct mmuext_op {
    uint32_t cmd;   /* MMUEXT_* */
    uint32_t _pad;
    union {
        xen_pfn_t mfn;
        uint64_t  linear_addr;
    } arg1;
    union {
        uint32_t  nr_ents;
        uint64_t  vcpumask;  /* guest pointer to a bitmap of vCPU ids */
        xen_pfn_t src_mfn;
    } arg2;
};
APUS_ABI_SIZE(struct mmuext_op, 24);
APUS_ABI_OFFSET(struct mmuext_op, arg1, 8);
APUS_ABI_OFFSET(struct mmuext_op, arg2, 16);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_MMU_H */
