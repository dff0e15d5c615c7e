/*
 * elfnote.h: the ELF notes by which a PV kernel tells the domain builder how to load
 * and start it.
 *
 * Notes have the owner name "Xen" and live in a PT_NOTE segment (or SHT_NOTE section).
 * Each is either a string (NUL-terminated) or a number (the descriptor is a 4- or
 * 8-byte little-endian value). The builder (Apus's for dom0, the tools' for domUs)
 * reads them before loading anything. Xen's rules, which Apus keeps:
 *  - XEN_VERSION must begin with "xen-3.0", and either LOADER must be "generic" or
 *    GUEST_OS "linux", else the image is refused;
 *  - virtual = physical + (VIRT_BASE - PADDR_OFFSET) for every program header; with
 *    notes present, an absent PADDR_OFFSET counts as 0;
 *  - ENTRY defaults to the ELF entry point; HYPERCALL_PAGE, if given, must lie inside
 *    the image and is filled with the hypercall stubs before the guest starts;
 *  - FEATURES is a '|'-separated list of XENFEAT names; a leading '!' marks a feature
 *    the kernel requires, the others are ones it supports;
 *  - with SUPPORTED_FEATURES present (a 32-bit XENFEAT bitmap), dom0 must have the
 *    XENFEAT_dom0 bit set in it, or it is refused as a dom0.
 */
#ifndef APUS_PUBLIC_ELFNOTE_H
#define APUS_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_NAME "Xen"

#define XEN_ELFNOTE_INFO               0  /* unused (padding) */
#define XEN_ELFNOTE_ENTRY              1  /* number: virtual entry point */
#define XEN_ELFNOTE_HYPERCALL_PAGE     2  /* number: virtual address of the hypercall page */
#define XEN_ELFNOTE_VIRT_BASE          3  /* number: virtual address of pfn 0 */
#define XEN_ELFNOTE_PADDR_OFFSET       4  /* number: subtracted from VIRT_BASE for paddrs */
#define XEN_ELFNOTE_XEN_VERSION        5  /* string: "xen-3.0" */
#define XEN_ELFNOTE_GUEST_OS           6  /* string: "linux", "NetBSD", ... */
#define XEN_ELFNOTE_GUEST_VERSION      7  /* string: free text */
#define XEN_ELFNOTE_LOADER             8  /* string: "generic" */
#define XEN_ELFNOTE_PAE_MODE           9  /* string: "yes", "no", "bimodal" (ignored for 64-bit) */
#define XEN_ELFNOTE_FEATURES           10 /* string: "feat|!required_feat|..." */
#define XEN_ELFNOTE_BSD_SYMTAB         11 /* string: "yes" to load the symbol table */
#define XEN_ELFNOTE_HV_START_LOW       12 /* number: 32-bit guests only */
#define XEN_ELFNOTE_L1_MFN_VALID       13 /* numbers: mask, value of valid L1 entries */
#define XEN_ELFNOTE_SUSPEND_CANCEL     14 /* number: supports resume-in-place */
#define XEN_ELFNOTE_INIT_P2M           15 /* number: virtual address for the p2m list */
#define XEN_ELFNOTE_MOD_START_PFN      16 /* number: 1 = give the initrd by PFN, unmapped */
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17 /* number: bitmap of XENFEAT_* supported */
#define XEN_ELFNOTE_PHYS32_ENTRY       18 /* number: 32-bit PVH entry (not used for PV) */
#define XEN_ELFNOTE_MAX                XEN_ELFNOTE_PHYS32_ENTRY

/* Notes that a guest's core dump carries (owner "Xen" too). */
#define XEN_ELFNOTE_DUMPCORE_NONE           0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER         0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION    0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#endif /* APUS_PUBLIC_ELFNOTE_H */
