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

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_GRANT_TABLE_H */
