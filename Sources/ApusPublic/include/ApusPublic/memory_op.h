/*
 * memory_op.h: memory_op(cmd, arg), a domain's memory reservation and maps.
 *
 * cmd's low 6 bits are the XENMEM_* operation; the bits above are the hypervisor's own
 * continuation state (the extent to resume from) and must be 0 when a guest calls.
 * Reservations count pages: current is what the domain owns, maximum its allowance.
 */
#ifndef APUS_PUBLIC_MEMORY_OP_H
#define APUS_PUBLIC_MEMORY_OP_H

#include "xen_types.h"

/*
 * Facts the memmap guest checked against Xen 4.17 for a PV dom0 (Apus must match):
 *  - maximum_ram_page is one past the highest RAM frame (the host's max_page), and
 *    machphys_mapping.max_mfn is that minus one;
 *  - maximum_gpfn of a PV domain is shared_info.arch.max_pfn, which the guest keeps
 *    (0 at boot);
 *  - memory_map gives -ENOSYS for a PV dom0 (no pseudo-physical map is kept for it;
 *    the guest assumes nr_pages of RAM from 0);
 *  - machine_memory_map: a NULL buffer is a size query (returns 0, sets nr_entries);
 *    too little room is -EINVAL with nr_entries untouched; an unwritable buffer is
 *    -EFAULT;
 *  - current_reservation of a missing domain is -ESRCH; a NULL domid pointer -EFAULT;
 *    an unknown op -ENOSYS.
 */
#define MEMOP_CMD_MASK     0x3f
#define MEMOP_EXTENT_SHIFT 6

#define XENMEM_increase_reservation     0  /* arg: xen_memory_reservation; returns extents done */
#define XENMEM_decrease_reservation     1  /* arg: xen_memory_reservation; returns extents done */
#define XENMEM_maximum_ram_page         2  /* returns the highest machine frame of RAM; never fails */
#define XENMEM_current_reservation      3  /* arg: domid_t*; returns pages owned */
#define XENMEM_maximum_reservation      4  /* arg: domid_t*; returns the page allowance */
#define XENMEM_machphys_mfn_list        5  /* arg: xen_machphys_mfn_list */
#define XENMEM_populate_physmap         6  /* arg: xen_memory_reservation */
#define XENMEM_add_to_physmap           7  /* arg: xen_add_to_physmap */
/* 8 was translate_gpfn_list, removed. */
#define XENMEM_memory_map               9  /* arg: xen_memory_map; the domain's own e820 */
#define XENMEM_machine_memory_map       10 /* arg: xen_memory_map; the host's e820 (privileged) */
#define XENMEM_exchange                 11 /* arg: xen_memory_exchange */
#define XENMEM_machphys_mapping         12 /* arg: xen_machphys_mapping */
#define XENMEM_set_memory_map           13 /* tools: set a domain's e820 */
#define XENMEM_maximum_gpfn             14 /* arg: domid_t*; returns the highest gpfn */
#define XENMEM_remove_from_physmap      15
#define XENMEM_set_pod_target           16
#define XENMEM_get_pod_target           17
#define XENMEM_get_sharing_freed_pages  18
#define XENMEM_get_sharing_shared_pages 19
#define XENMEM_paging_op                20
#define XENMEM_access_op                21
#define XENMEM_sharing_op               22
#define XENMEM_add_to_physmap_batch     23
#define XENMEM_claim_pages              24
#define XENMEM_machphys_compat_mfn_list 25
#define XENMEM_get_vnumainfo            26
#define XENMEM_reserved_device_memory_map 27
#define XENMEM_acquire_resource         28

/* xen_memory_reservation.mem_flags */
#define XENMEMF_address_bits(x)    (x)          /* frames must lie below 2^x bytes */
#define XENMEMF_node(x)            (((x) + 1) << 8)
#define XENMEMF_populate_on_demand (1 << 16)
#define XENMEMF_exact_node_request (1 << 17)
#define XENMEMF_vnode              (1 << 18)

/* add_to_physmap spaces */
#define XENMAPSPACE_shared_info  0
#define XENMAPSPACE_grant_table  1
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5

/* e820 entry types, as the BIOS defines them (xen_e820_entry.type). */
#define XEN_E820_RAM       1
#define XEN_E820_RESERVED  2
#define XEN_E820_ACPI      3
#define XEN_E820_NVS       4
#define XEN_E820_UNUSABLE  5

#ifndef __ASSEMBLY__

/*
 * In/out extents for increase/decrease/populate. The guest fills it; Apus writes frame
 * numbers back into extent_start and returns how many extents it handled.
 */
struct xen_memory_reservation {
    xen_guest_handle_t extent_start; /* xen_pfn_t[nr_extents] */
    xen_ulong_t nr_extents;
    uint32_t extent_order;           /* each extent is 2^order pages */
    uint32_t mem_flags;              /* XENMEMF_* */
    domid_t  domid;                  /* DOMID_SELF unless privileged */
    uint16_t _pad[3];
};
APUS_ABI_SIZE(struct xen_memory_reservation, 32);
APUS_ABI_OFFSET(struct xen_memory_reservation, domid, 24);

struct xen_memory_exchange {
    struct xen_memory_reservation in;
    struct xen_memory_reservation out;
    xen_ulong_t nr_exchanged;        /* must be 0 on entry */
};
APUS_ABI_SIZE(struct xen_memory_exchange, 72);

/*
 * memory_map / machine_memory_map: on entry nr_entries is the room in buffer (in
 * entries), on return the number written. The buffer holds e820 entries.
 */
struct xen_memory_map {
    uint32_t nr_entries;
    uint32_t _pad;
    xen_guest_handle_t buffer;       /* struct xen_e820_entry[] */
};
APUS_ABI_SIZE(struct xen_memory_map, 16);

/* One entry as the BIOS returns it from int 15h/e820: packed, 20 bytes. */
struct __attribute__((packed)) xen_e820_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;                   /* XEN_E820_* */
};
APUS_ABI_SIZE(struct xen_e820_entry, 20);

/* Where the M2P table is mapped for this guest, and the highest MFN it covers. */
struct xen_machphys_mapping {
    xen_ulong_t v_start, v_end;
    xen_ulong_t max_mfn;
};
APUS_ABI_SIZE(struct xen_machphys_mapping, 24);

/* The machine frames (2 MiB extents) holding the M2P table, for dom0 to map. */
struct xen_machphys_mfn_list {
    uint32_t max_extents;
    uint32_t _pad0;
    xen_guest_handle_t extent_start; /* xen_pfn_t[max_extents] */
    uint32_t nr_extents;             /* out */
    uint32_t _pad1;
};
APUS_ABI_SIZE(struct xen_machphys_mfn_list, 24);

struct xen_add_to_physmap {
    domid_t  domid;
    uint16_t size;                   /* pages, for XENMAPSPACE_gmfn_range */
    uint32_t space;                  /* XENMAPSPACE_* */
    xen_ulong_t idx;
    xen_pfn_t gpfn;
};
APUS_ABI_SIZE(struct xen_add_to_physmap, 24);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_MEMORY_OP_H */
