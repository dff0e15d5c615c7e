/*
 * start_info.h: what a PV guest is handed when it starts (start_info, pointed to by
 * rsi on entry), the promises about its initial address space, and dom0's console
 * description.
 *
 * The initial address space (the "start of day" layout), as Apus must build it:
 *  1. One contiguous virtual region starting at the kernel's XEN_ELFNOTE_VIRT_BASE and
 *     ending on a 4 MiB boundary.
 *  2. Inside it, in this order, each element page-aligned and packed:
 *       a. the kernel image, at the addresses its ELF program headers give;
 *       b. the initrd (second boot module) [mod_start, mod_len], unless the kernel
 *          asked for it by frame number (XEN_ELFNOTE_MOD_START_PFN, SIF_MOD_START_PFN);
 *       c. the p2m list [mfn_list, nr_pages entries of 8 bytes], unless the kernel
 *          asked for it elsewhere (XEN_ELFNOTE_INIT_P2M);
 *       d. this start_info page (for dom0, followed by dom0_vga_console_info);
 *       e. (domU only) the xenstore ring page and f. the console ring page;
 *       g. the bootstrap page tables [pt_base, nr_pt_frames], the L4 first;
 *       h. the boot stack (rsp on entry points to its top).
 *  3. The region maps pseudo-physical frames 0.. in order: virtual = VIRT_BASE +
 *     (pfn << 12) throughout it, and pfn -> mfn is mfn_list[pfn].
 *  4. Everything is mapped writable, except the bootstrap page tables, which are
 *     mapped read-only (a PV guest may never have a writable mapping of a frame in use
 *     as a page table).
 *  5. At least 512 KiB of mapped, writable padding follows the last element (the
 *     region grows by another 4 MiB if needed), for the kernel's early allocations.
 * Registers on entry: rip = entry point, rsi = &start_info, rsp = top of the boot
 * stack, cs/ss the FLAT_KERNEL selectors, events masked (vcpu_info mask = 1).
 */
#ifndef APUS_PUBLIC_START_INFO_H
#define APUS_PUBLIC_START_INFO_H

#include "xen_types.h"

/*
 * start_info.magic for a 64-bit PV guest: "xen-<interface version>-<platform>". Xen 4.17
 * appends "p" (XEN_START_INFO_MAGIC_PAE) when the kernel's XEN_ELFNOTE_PAE_MODE note
 * says "yes", even for a 64-bit kernel; guests compare only the prefix.
 */
#define XEN_START_INFO_MAGIC     "xen-3.0-x86_64"
#define XEN_START_INFO_MAGIC_PAE "xen-3.0-x86_64p"
/* Guaranteed padding after the last bootstrap element (rule 5). */
#define XEN_START_PADDING_BYTES 0x80000  /* 512 KiB */
/* The initial virtual region ends on a multiple of this (rule 1). */
#define XEN_START_REGION_ALIGN  0x400000 /* 4 MiB */

/* start_info.flags */
#define SIF_PRIVILEGED      (1 << 0) /* may use privileged hypercalls (dom0) */
#define SIF_INITDOMAIN      (1 << 1) /* is the initial domain (dom0) */
#define SIF_MULTIBOOT_MOD   (1 << 2) /* mod_start is a multiboot module list */
#define SIF_MOD_START_PFN   (1 << 3) /* mod_start is a PFN, not a virtual address */
#define SIF_VIRT_P2M_4TOOLS (1 << 4) /* tools understand a virtually mapped p2m */
#define SIF_PM_MASK         (0xFF << 8) /* reserved for power-management options */

#define MAX_GUEST_CMDLINE 1024

/* dom0_vga_console_info.video_type */
#define XEN_VGATYPE_TEXT_MODE_3 0x03
#define XEN_VGATYPE_VESA_LFB    0x23
#define XEN_VGATYPE_EFI_LFB     0x70

#ifndef __ASSEMBLY__

/*
 * Written by Apus before the guest's first instruction, read by the guest. Fields are
 * machine addresses or frame numbers where noted, else guest-virtual addresses.
 */
struct start_info {
    char     magic[32];      /* XEN_START_INFO_MAGIC, NUL-padded */
    uint64_t nr_pages;       /* pages the domain owns now */
    uint64_t shared_info;    /* MACHINE address of the shared_info page */
    uint32_t flags;          /* SIF_* */
    uint32_t _pad0;
    xen_pfn_t store_mfn;     /* domU: xenstore ring frame (machine); dom0: 0 */
    uint32_t store_evtchn;   /* domU: xenstore event channel; dom0: 0 */
    uint32_t _pad1;
    union {
        struct {
            xen_pfn_t mfn;   /* console ring frame (machine) */
            uint32_t evtchn; /* console event channel */
            uint32_t _pad;
        } domU;
        struct {
            uint32_t info_off;  /* offset of dom0_vga_console_info from start_info */
            uint32_t info_size; /* its size, 0 when there is no VGA console */
        } dom0;
    } console;
    /* The remaining fields are set at first boot only, not after resume. */
    uint64_t pt_base;        /* virtual address of the bootstrap L4 */
    uint64_t nr_pt_frames;   /* number of bootstrap page-table frames */
    uint64_t mfn_list;       /* virtual address of the p2m list (pfn -> mfn, 8 bytes each) */
    uint64_t mod_start;      /* virtual address of the initrd (a PFN if SIF_MOD_START_PFN) */
    uint64_t mod_len;        /* its length in bytes, 0 when there is none */
    int8_t   cmd_line[MAX_GUEST_CMDLINE]; /* the kernel module's arguments, NUL-ended */
    uint64_t first_p2m_pfn;  /* with XEN_ELFNOTE_INIT_P2M: first pfn of the p2m's frames */
    uint64_t nr_p2m_frames;  /* ... and how many (page tables included) */
};
APUS_ABI_SIZE(struct start_info, 1168);
APUS_ABI_OFFSET(struct start_info, nr_pages, 32);
APUS_ABI_OFFSET(struct start_info, shared_info, 40);
APUS_ABI_OFFSET(struct start_info, flags, 48);
APUS_ABI_OFFSET(struct start_info, store_mfn, 56);
APUS_ABI_OFFSET(struct start_info, store_evtchn, 64);
APUS_ABI_OFFSET(struct start_info, console, 72);
APUS_ABI_OFFSET(struct start_info, pt_base, 88);
APUS_ABI_OFFSET(struct start_info, nr_pt_frames, 96);
APUS_ABI_OFFSET(struct start_info, mfn_list, 104);
APUS_ABI_OFFSET(struct start_info, mod_start, 112);
APUS_ABI_OFFSET(struct start_info, mod_len, 120);
APUS_ABI_OFFSET(struct start_info, cmd_line, 128);
APUS_ABI_OFFSET(struct start_info, first_p2m_pfn, 1152);
APUS_ABI_OFFSET(struct start_info, nr_p2m_frames, 1160);

/*
 * dom0's description of the boot console Apus found (VGA text or a linear frame
 * buffer), placed right after start_info in the same page. Written by Apus, read by
 * dom0's console driver; absent (info_size 0) on a serial-only machine.
 */
struct dom0_vga_console_info {
    uint8_t video_type;      /* XEN_VGATYPE_* */
    uint8_t _pad[3];
    union {
        struct {
            uint16_t font_height;
            uint16_t cursor_x, cursor_y;
            uint16_t rows, columns;
        } text_mode_3;
        struct {
            uint16_t width, height;
            uint16_t bytes_per_line;
            uint16_t bits_per_pixel;
            uint32_t lfb_base;   /* physical address, low 32 bits */
            uint32_t lfb_size;   /* in 64 KiB units */
            uint8_t  red_pos, red_size;
            uint8_t  green_pos, green_size;
            uint8_t  blue_pos, blue_size;
            uint8_t  rsvd_pos, rsvd_size;
            uint32_t gbl_caps;   /* VBE capabilities */
            uint16_t mode_attrs; /* VBE mode attributes */
            uint16_t _pad;
            uint32_t ext_lfb_base; /* physical address, high 32 bits */
        } vesa_lfb;
    } u;
};
APUS_ABI_SIZE(struct dom0_vga_console_info, 40);
APUS_ABI_OFFSET(struct dom0_vga_console_info, u, 4);

/*
 * SIF_MULTIBOOT_MOD: the module at mod_start begins with an array of these, ended by
 * an entry whose mod_start is 0; addresses are relative to the module's start.
 */
struct xen_multiboot_mod_list {
    uint32_t mod_start;
    uint32_t mod_end;   /* last byte, inclusive */
    uint32_t cmdline;
    uint32_t pad;
};
APUS_ABI_SIZE(struct xen_multiboot_mod_list, 16);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_START_INFO_H */
