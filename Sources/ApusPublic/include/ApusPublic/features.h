/*
 * features.h: XENFEAT_* bit numbers, the optional behaviours a hypervisor offers
 * (XENVER_get_features, submap 0 holds bits 0..31) and a kernel declares it supports
 * or needs (XEN_ELFNOTE_FEATURES by name, XEN_ELFNOTE_SUPPORTED_FEATURES by bit).
 */
#ifndef APUS_PUBLIC_FEATURES_H
#define APUS_PUBLIC_FEATURES_H

#define XENFEAT_writable_page_tables       0  /* guest may write its L1s directly (emulated) */
#define XENFEAT_writable_descriptor_tables 1  /* guest may write its GDT/LDT directly */
#define XENFEAT_auto_translated_physmap    2  /* the hypervisor translates pfn->mfn (HVM/PVH) */
#define XENFEAT_supervisor_mode_kernel     3  /* guest kernel runs in ring 0 (never for PV64) */
#define XENFEAT_pae_pgdir_above_4gb        4  /* a PAE L3 may lie above 4 GiB (32-bit) */
#define XENFEAT_mmu_pt_update_preserve_ad  5  /* MMU_PT_UPDATE_PRESERVE_AD is available */
#define XENFEAT_highmem_assist             6  /* MMUEXT_CLEAR/COPY_PAGE are available */
#define XENFEAT_gnttab_map_avail_bits      7  /* grant mappings may carry guest PTE bits */
#define XENFEAT_hvm_callback_vector        8  /* HVM: events via an IDT vector */
#define XENFEAT_hvm_safe_pvclock           9  /* HVM: pvclock safe across migration */
#define XENFEAT_hvm_pirqs                  10 /* HVM: PIRQs as event channels */
#define XENFEAT_dom0                       11 /* the kernel can run as dom0 */
#define XENFEAT_grant_map_identity         12 /* ARM: grant maps are 1:1 */
#define XENFEAT_memory_op_vnode_supported  13 /* XENMEMF_vnode is honoured */
#define XENFEAT_ARM_SMCCC_supported        14
#define XENFEAT_linux_rsdp_unrestricted    15 /* PVH dom0 may look for the RSDP freely */
#define XENFEAT_not_direct_mapped          16 /* ARM */
#define XENFEAT_direct_mapped              17 /* ARM */
#define XENFEAT_NR_SUBMAPS                 1

/* The names XEN_ELFNOTE_FEATURES uses are these identifiers without "XENFEAT_". */

#endif /* APUS_PUBLIC_FEATURES_H */
