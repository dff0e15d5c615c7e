/*
 * grant_table.h: grant_table_op(cmd, args, count), sharing frames between domains.
 *
 * A domain publishes grants in its grant table (frames it shares with the hypervisor):
 * entry n says "domain D may map (or copy) my frame F". Other domains map or copy by
 * (granting domain, n). Each domain starts with a few table frames and may grow to a
 * maximum. Per-entry results use the GNTST_* codes below, not errno values.
 */
#ifndef APUS_PUBLIC_GRANT_TABLE_H
#define APUS_PUBLIC_GRANT_TABLE_H

#include "xen_types.h"

/*
 * grant_table_op(cmd, args, count): args is an array of count structures of the cmd's
 * type; the return value is 0 once all were processed (each carries its own GNTST_*
 * status), -EFAULT when the array cannot be read or written back, -ENOSYS for an
 * unknown cmd (Xen 4.17, errno guest). Asking about a missing domain is not a hypercall
 * error: query_size returns 0 with status GNTST_bad_domain.
 */
#define GNTTABOP_map_grant_ref     0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table       2  /* args: gnttab_setup_table */
#define GNTTABOP_dump_table        3
#define GNTTABOP_transfer          4
#define GNTTABOP_copy              5
#define GNTTABOP_query_size        6  /* args: gnttab_query_size */
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version       8  /* args: gnttab_set_version */
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version       10 /* args: gnttab_get_version */
#define GNTTABOP_swap_grant_ref    11
#define GNTTABOP_cache_flush       12

/* Status codes in the status fields of grant-table arguments. */
#define GNTST_okay               0
#define GNTST_general_error     -1
#define GNTST_bad_domain        -2
#define GNTST_bad_gntref        -3
#define GNTST_bad_handle        -4
#define GNTST_bad_virt_addr     -5
#define GNTST_bad_dev_addr      -6
#define GNTST_no_device_space   -7
#define GNTST_permission_denied -8
#define GNTST_bad_page          -9
#define GNTST_bad_copy_arg      -10
#define GNTST_address_too_big   -11
#define GNTST_eagain            -12
#define GNTST_no_space          -13

/* grant_entry_v1.flags */
#define GTF_invalid         0
#define GTF_permit_access   1
#define GTF_accept_transfer 2
#define GTF_transitive      3
#define GTF_type_mask       3
#define GTF_readonly        (1 << 2)
#define GTF_reading         (1 << 3)
#define GTF_writing         (1 << 4)
#define GTF_PWT             (1 << 5)  /* cache attributes the mapping gets */
#define GTF_PCD             (1 << 6)
#define GTF_PAT             (1 << 7)
#define GTF_sub_page        (1 << 8)  /* v2 only: a byte range of the frame */

/* gnttab_map_grant_ref.flags (and the maptrack record of a mapping) */
#define GNTMAP_device_map      (1 << 0)  /* for DMA: dev_bus_addr is returned */
#define GNTMAP_host_map        (1 << 1)  /* a CPU mapping at host_addr */
#define GNTMAP_readonly        (1 << 2)
#define GNTMAP_application_map (1 << 3)  /* a user-accessible CPU mapping */
#define GNTMAP_contains_pte    (1 << 4)  /* host_addr is the machine address of an L1 entry */
#define GNTMAP_guest_avail0    (1 << 16) /* the PTE's available bits, with gnttab_map_avail_bits */

/* gnttab_copy.flags: which side names a grant (else a frame of the caller's own) */
#define GNTCOPY_source_gref (1 << 0)
#define GNTCOPY_dest_gref   (1 << 1)

/* gnttab_cache_flush.op */
#define GNTTAB_CACHE_CLEAN       (1 << 0)
#define GNTTAB_CACHE_INVAL       (1 << 1)
#define GNTTAB_CACHE_SOURCE_GREF (1u << 31) /* a.ref names a grant, not a bus address */

#ifndef __ASSEMBLY__

typedef uint32_t grant_ref_t;

/*
 * A version-1 grant entry, written by the granting guest, read by the hypervisor. The
 * granting guest writes frame and domid first and flags last (with a write barrier);
 * the hypervisor sets GTF_reading/GTF_writing while a mapping or copy is in progress,
 * so the granter must not reuse the entry until both are clear.
 */
struct grant_entry_v1 {
    uint16_t flags;  /* GTF_* */
    domid_t  domid;  /* who may use it */
    uint32_t frame;  /* the granted frame */
};
APUS_ABI_SIZE(struct grant_entry_v1, 8);

/*
 * Grow the table to nr_frames frames and learn their machine frames. OUT: status,
 * frame_list[nr_frames]. A domain may only set up its own table unless privileged.
 */
struct gnttab_setup_table {
    domid_t  dom;
    uint16_t _pad0;
    uint32_t nr_frames;
    int16_t  status;          /* GNTST_* */
    uint16_t _pad1[3];
    xen_guest_handle_t frame_list; /* xen_pfn_t[nr_frames] */
};
APUS_ABI_SIZE(struct gnttab_setup_table, 24);
APUS_ABI_OFFSET(struct gnttab_setup_table, status, 8);
APUS_ABI_OFFSET(struct gnttab_setup_table, frame_list, 16);

/*
 * How big the table is now and may become. IN: dom. OUT: the rest. dom0 under Xen
 * 4.17's defaults starts with 1 frame and may grow to 64 (errno guest).
 */
struct gnttab_query_size {
    domid_t  dom;
    uint16_t _pad;
    uint32_t nr_frames;
    uint32_t max_nr_frames;
    int16_t  status;          /* GNTST_* */
    uint16_t _pad1;
};
APUS_ABI_SIZE(struct gnttab_query_size, 16);

/* Choose entry format 1 or 2. OUT: the version in force (on failure too). */
struct gnttab_set_version {
    uint32_t version;
};
APUS_ABI_SIZE(struct gnttab_set_version, 4);

struct gnttab_get_version {
    domid_t  dom;
    uint16_t pad;
    uint32_t version;
};
APUS_ABI_SIZE(struct gnttab_get_version, 8);

/* What a mapping is called by the domain that made it (an index into its maptrack). */
typedef uint32_t grant_handle_t;

/*
 * Version-2 entries are 16 bytes. The header's flags hold only GTF_type/readonly/
 * sub_page and the cache bits; GTF_reading/GTF_writing move to the status frames, one
 * uint16_t (grant_status_t) per entry.
 */
struct grant_entry_header {
    uint16_t flags;
    domid_t  domid;
};
APUS_ABI_SIZE(struct grant_entry_header, 4);

union grant_entry_v2 {
    struct grant_entry_header hdr;
    struct {
        struct grant_entry_header hdr;
        uint32_t pad0;
        uint64_t frame;
    } full_page;
    struct {
        struct grant_entry_header hdr;
        uint16_t page_off;
        uint16_t length;
        uint64_t frame;
    } sub_page;
    struct {
        struct grant_entry_header hdr;
        domid_t  trans_domid;
        uint16_t pad0;
        grant_ref_t gref;
    } transitive;
    uint32_t __spacer[4];
};
APUS_ABI_SIZE(union grant_entry_v2, 16);

typedef uint16_t grant_status_t;

/*
 * Map (dom, ref) at host_addr (a linear address, or with GNTMAP_contains_pte the
 * machine address of the L1 entry to write) and/or for device access. OUT: status,
 * handle (for the unmap), dev_bus_addr.
 */
struct gnttab_map_grant_ref {
    uint64_t host_addr;
    uint32_t flags;           /* GNTMAP_* */
    grant_ref_t ref;
    domid_t  dom;
    int16_t  status;          /* GNTST_* */
    grant_handle_t handle;
    uint64_t dev_bus_addr;
};
APUS_ABI_SIZE(struct gnttab_map_grant_ref, 32);
APUS_ABI_OFFSET(struct gnttab_map_grant_ref, status, 18);
APUS_ABI_OFFSET(struct gnttab_map_grant_ref, handle, 20);
APUS_ABI_OFFSET(struct gnttab_map_grant_ref, dev_bus_addr, 24);

/* Undo a map by its handle; host_addr and dev_bus_addr say which parts (0: not). */
struct gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    grant_handle_t handle;
    int16_t  status;
};
APUS_ABI_SIZE(struct gnttab_unmap_grant_ref, 24);
APUS_ABI_OFFSET(struct gnttab_unmap_grant_ref, status, 20);

/*
 * Remove the host mapping at host_addr and put there what new_addr maps, clearing
 * new_addr's entry (so no unmapped hole appears at host_addr).
 */
struct gnttab_unmap_and_replace {
    uint64_t host_addr;
    uint64_t new_addr;
    grant_handle_t handle;
    int16_t  status;
};
APUS_ABI_SIZE(struct gnttab_unmap_and_replace, 24);
APUS_ABI_OFFSET(struct gnttab_unmap_and_replace, status, 20);

/* One side of a copy: a grant of domid (GNTCOPY_*_gref) or a frame of the caller. */
struct gnttab_copy_ptr {
    union {
        grant_ref_t ref;
        xen_pfn_t   gmfn;
    } u;
    domid_t  domid;
    uint16_t offset;
};
APUS_ABI_SIZE(struct gnttab_copy_ptr, 16);

/* Copy len bytes; neither side may cross its page. OUT: status. */
struct gnttab_copy {
    struct gnttab_copy_ptr source;
    struct gnttab_copy_ptr dest;
    uint16_t len;
    uint16_t flags;           /* GNTCOPY_* */
    int16_t  status;
};
APUS_ABI_SIZE(struct gnttab_copy, 40);
APUS_ABI_OFFSET(struct gnttab_copy, len, 32);
APUS_ABI_OFFSET(struct gnttab_copy, status, 36);

/* Version 2: learn the status frames' machine frames. OUT: status, frame_list. */
struct gnttab_get_status_frames {
    uint32_t nr_frames;
    domid_t  dom;
    int16_t  status;
    xen_guest_handle_t frame_list; /* uint64_t[nr_frames] */
};
APUS_ABI_SIZE(struct gnttab_get_status_frames, 16);

/* Clean or invalidate the data cache over part of a granted or own frame. */
struct gnttab_cache_flush {
    union {
        uint64_t dev_bus_addr;
        grant_ref_t ref;
    } a;
    uint16_t offset;
    uint16_t length;
    uint32_t op;              /* GNTTAB_CACHE_* */
};
APUS_ABI_SIZE(struct gnttab_cache_flush, 16);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_GRANT_TABLE_H */
