/*
 * domctl.h: domctl(struct xen_domctl *), the toolstack's per-domain control hypercall.
 *
 * Every call carries the interface version (Xen 4.17: 0x15; anything else is -EACCES) and
 * the domain it acts on. Apus implements the shadow-paging control the live-migration
 * tools use: XEN_DOMCTL_shadow_op turns log-dirty tracking on and off and reads (PEEK) or
 * reads and resets (CLEAN) the dirty bitmap, one bit per pseudo-physical frame. Xen
 * refuses it for the calling domain itself (-EINVAL); see README for Apus's test option.
 */
#ifndef APUS_PUBLIC_DOMCTL_H
#define APUS_PUBLIC_DOMCTL_H

#include "xen_types.h"

#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015
#define XEN_DOMCTL_shadow_op         10

#define XEN_DOMCTL_SHADOW_OP_OFF              0
#define XEN_DOMCTL_SHADOW_OP_ENABLE_TEST      1
#define XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY  2
#define XEN_DOMCTL_SHADOW_OP_ENABLE_TRANSLATE 3
#define XEN_DOMCTL_SHADOW_OP_CLEAN           11 /* copy the bitmap out, then reset it */
#define XEN_DOMCTL_SHADOW_OP_PEEK            12 /* copy the bitmap out */
#define XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION  30
#define XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION  31
#define XEN_DOMCTL_SHADOW_OP_ENABLE          32 /* mode: XEN_DOMCTL_SHADOW_ENABLE_* */
#define XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY   (1 << 2)

#ifndef __ASSEMBLY__

struct xen_domctl_shadow_op_stats {
    uint32_t fault_count;   /* write faults taken for log-dirty since the last CLEAN */
    uint32_t dirty_count;   /* frames marked dirty */
};

struct xen_domctl_shadow_op {
    uint32_t op;            /* XEN_DOMCTL_SHADOW_OP_* */
    uint32_t mode;          /* ENABLE: XEN_DOMCTL_SHADOW_ENABLE_* */
    uint32_t mb;            /* GET/SET_ALLOCATION: shadow pool size */
    uint32_t _pad;
    uint64_t dirty_bitmap;  /* CLEAN/PEEK: guest address of the bitmap */
    uint64_t pages;         /* IN: bits the bitmap holds; OUT: bits written */
    struct xen_domctl_shadow_op_stats stats;
};
APUS_ABI_SIZE(struct xen_domctl_shadow_op, 40);
APUS_ABI_OFFSET(struct xen_domctl_shadow_op, dirty_bitmap, 16);

struct xen_domctl {
    uint32_t cmd;
    uint32_t interface_version;
    domid_t  domain;
    uint16_t _pad[3];
    union {
        struct xen_domctl_shadow_op shadow_op;
        uint8_t pad[128];
    } u;
};
APUS_ABI_SIZE(struct xen_domctl, 144);
APUS_ABI_OFFSET(struct xen_domctl, u, 16);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_DOMCTL_H */
