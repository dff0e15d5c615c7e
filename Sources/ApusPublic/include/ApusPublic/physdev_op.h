/*
 * physdev_op.h: physdev_op(cmd, arg), a privileged domain's access to physical
 * devices: interrupt routing (PIRQs, MSI), EOIs, I/O privilege, PCI bookkeeping.
 *
 * Only the numbers are described here; their structures come with the device issue.
 * For now Apus needs set_iopl (dom0 asks for port access rights at boot) and answers
 * the others it lacks with -ENOSYS.
 */
#ifndef APUS_PUBLIC_PHYSDEV_OP_H
#define APUS_PUBLIC_PHYSDEV_OP_H

#include "xen_types.h"

#define PHYSDEVOP_IRQ_UNMASK_NOTIFY 4  /* obsolete */
#define PHYSDEVOP_irq_status_query  5
#define PHYSDEVOP_set_iopl          6  /* arg: physdev_set_iopl */
#define PHYSDEVOP_set_iobitmap      7
#define PHYSDEVOP_apic_read         8
#define PHYSDEVOP_apic_write        9
#define PHYSDEVOP_alloc_irq_vector  10
#define PHYSDEVOP_free_irq_vector   11
#define PHYSDEVOP_eoi               12
#define PHYSDEVOP_map_pirq          13
#define PHYSDEVOP_unmap_pirq        14
#define PHYSDEVOP_manage_pci_add    15
#define PHYSDEVOP_manage_pci_remove 16
#define PHYSDEVOP_pirq_eoi_gmfn_v1  17
#define PHYSDEVOP_restore_msi       19
#define PHYSDEVOP_manage_pci_add_ext 20
#define PHYSDEVOP_setup_gsi         21
#define PHYSDEVOP_get_free_pirq     23
#define PHYSDEVOP_pci_mmcfg_reserved 24
#define PHYSDEVOP_pci_device_add    25
#define PHYSDEVOP_pci_device_remove 26
#define PHYSDEVOP_restore_msi_ext   27
#define PHYSDEVOP_pirq_eoi_gmfn_v2  28
#define PHYSDEVOP_dbgp_op           29
#define PHYSDEVOP_prepare_msix      30
#define PHYSDEVOP_release_msix      31
#define PHYSDEVOP_pci_device_reset  32

/*
 * Errors shared by all physdev commands: -EFAULT for an unreadable argument (Xen 4.17,
 * errno guest), -ENOSYS for an unknown command, -EPERM for a domain without access to
 * the device or IRQ named.
 */

#ifndef __ASSEMBLY__

/* The I/O privilege level the guest kernel gets (0..3; 1 lets ring 1+ do port I/O). */
struct physdev_set_iopl {
    uint32_t iopl;
};
APUS_ABI_SIZE(struct physdev_set_iopl, 4);

struct physdev_eoi {
    uint32_t irq;
};
APUS_ABI_SIZE(struct physdev_eoi, 4);

struct physdev_irq_status_query {
    uint32_t irq;
    uint32_t flags; /* out: bit 0 needs EOI, bit 1 shared */
};
APUS_ABI_SIZE(struct physdev_irq_status_query, 8);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_PHYSDEV_OP_H */
