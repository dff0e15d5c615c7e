/*
 * xen_version.h: xen_version(cmd, arg), how a guest learns what it runs on.
 *
 * XENVER_version returns (major << 16) | minor directly; the others copy a structure or
 * string to arg and return 0 (or, for build_id, the length). Strings are NUL-terminated
 * within their fixed size. Apus reports the Xen interface version it implements (4.17)
 * in XENVER_version, because dom0 tools choose their code paths by it, and names
 * itself in extraversion and compile_info.
 */
#ifndef APUS_PUBLIC_XEN_VERSION_H
#define APUS_PUBLIC_XEN_VERSION_H

#include "xen_types.h"

#define XENVER_version             0  /* returns major << 16 | minor; arg unused */
#define XENVER_extraversion        1  /* arg: xen_extraversion_t, e.g. ".7" */
#define XENVER_compile_info        2  /* arg: struct xen_compile_info */
#define XENVER_capabilities        3  /* arg: xen_capabilities_info_t */
#define XENVER_changeset           4  /* arg: xen_changeset_info_t */
#define XENVER_platform_parameters 5  /* arg: struct xen_platform_parameters */
#define XENVER_get_features        6  /* arg: struct xen_feature_info (in/out) */
#define XENVER_pagesize            7  /* returns the page size; arg unused */
#define XENVER_guest_handle        8  /* arg: xen_domain_handle_t of the caller */
#define XENVER_commandline         9  /* arg: xen_commandline_t (the hypervisor's) */
#define XENVER_build_id            10 /* arg: struct xen_build_id; returns its length */

#define XEN_EXTRAVERSION_LEN   16
#define XEN_CAPABILITIES_LEN   1024
#define XEN_CHANGESET_LEN      64
#define XEN_COMMANDLINE_LEN    1024

#ifndef __ASSEMBLY__

typedef char xen_extraversion_t[XEN_EXTRAVERSION_LEN];

/* Who built the hypervisor, with what, when. Written by the hypervisor. */
struct xen_compile_info {
    char compiler[64];
    char compile_by[16];
    char compile_domain[32];
    char compile_date[32];
};
APUS_ABI_SIZE(struct xen_compile_info, 144);

/*
 * Space-separated guest types the hypervisor runs, e.g.
 * "xen-3.0-x86_64 hvm-3.0-x86_32 ..."; a 64-bit PV guest looks for "xen-3.0-x86_64".
 */
typedef char xen_capabilities_info_t[XEN_CAPABILITIES_LEN];

/* Source revision the hypervisor was built from (free text). */
typedef char xen_changeset_info_t[XEN_CHANGESET_LEN];

/* Where the hypervisor's hole starts for this guest (HYPERVISOR_VIRT_START on x86-64). */
struct xen_platform_parameters {
    xen_ulong_t virt_start;
};
APUS_ABI_SIZE(struct xen_platform_parameters, 8);

/*
 * Feature bits (features.h) in 32-bit submaps: the guest sets submap_idx, the
 * hypervisor fills submap (0 for submaps it does not know).
 */
struct xen_feature_info {
    uint32_t submap_idx;
    uint32_t submap;
};
APUS_ABI_SIZE(struct xen_feature_info, 8);

/* The hypervisor's own boot command line, as the boot loader gave it. */
typedef char xen_commandline_t[XEN_COMMANDLINE_LEN];

/*
 * The hypervisor image's build id (GNU build-id note contents). The guest sets len to
 * the room after the header; the hypervisor fills buf and returns the byte count, or
 * -ENOBUFS when len is too small, -ENODATA when there is no build id.
 */
struct xen_build_id {
    uint32_t len;
    unsigned char buf[];
};
APUS_ABI_SIZE(struct xen_build_id, 4);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_XEN_VERSION_H */
