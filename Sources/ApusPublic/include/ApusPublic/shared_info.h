/*
 * shared_info.h: the page the hypervisor shares with each domain (shared_info) and
 * its per-vCPU part (vcpu_info, vcpu_time_info).
 *
 * Apus allocates one shared_info frame per domain and gives dom0 its machine address
 * in start_info.shared_info; the guest maps it (update_va_mapping) and from then on
 * both sides write it without hypercalls. Who writes what is noted field by field:
 * getting that wrong is a race, not a crash, so it matters.
 */
#ifndef APUS_PUBLIC_SHARED_INFO_H
#define APUS_PUBLIC_SHARED_INFO_H

#include "xen_types.h"
#include "arch_x86_64.h"

/* vcpu_time_info.flags */
#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0) /* TSC is synchronised across vCPUs */
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1) /* the vCPU was paused by the tools */

/* Event channels addressable through the 2-level bitmaps of shared_info (64 * 64). */
#define EVTCHN_2L_NR_CHANNELS 4096

#ifndef __ASSEMBLY__

/*
 * Per-vCPU time, written only by Apus, read by the guest. Apus increments version to
 * an odd value, updates the fields, then increments it again; a guest reads version,
 * the fields, version, and retries if the two differ or are odd.
 * Guest time now = system_time + (((tsc - tsc_timestamp) << tsc_shift) *
 * tsc_to_system_mul >> 32), a negative tsc_shift meaning a right shift.
 */
struct vcpu_time_info {
    uint32_t version;
    uint32_t pad0;
    uint64_t tsc_timestamp;     /* TSC when the fields were last set */
    uint64_t system_time;       /* ns since the hypervisor booted, at tsc_timestamp */
    uint32_t tsc_to_system_mul; /* 32.32 fixed-point ns per (shifted) TSC tick */
    int8_t   tsc_shift;
    uint8_t  flags;             /* XEN_PVCLOCK_* */
    uint8_t  pad1[2];
};
APUS_ABI_SIZE(struct vcpu_time_info, 32);
APUS_ABI_OFFSET(struct vcpu_time_info, system_time, 16);
APUS_ABI_OFFSET(struct vcpu_time_info, tsc_to_system_mul, 24);
APUS_ABI_OFFSET(struct vcpu_time_info, tsc_shift, 28);

/*
 * Per-vCPU event state, 64 bytes. Apus sets evtchn_upcall_pending (and a bit of
 * evtchn_pending_sel per word of shared_info.evtchn_pending that gained a pending,
 * unmasked port) and then bounces to the event callback unless evtchn_upcall_mask is
 * set. The guest clears pending before scanning, and sets or clears the mask byte as
 * its "interrupts off/on"; Apus reads the mask only on the CPU running this vCPU.
 */
struct vcpu_info {
    uint8_t  evtchn_upcall_pending;
    uint8_t  evtchn_upcall_mask;
    uint8_t  _pad[6];
    xen_ulong_t evtchn_pending_sel;
    struct arch_vcpu_info arch;
    struct vcpu_time_info time;
};
APUS_ABI_SIZE(struct vcpu_info, 64);
APUS_ABI_OFFSET(struct vcpu_info, evtchn_upcall_mask, 1);
APUS_ABI_OFFSET(struct vcpu_info, evtchn_pending_sel, 8);
APUS_ABI_OFFSET(struct vcpu_info, arch, 16);
APUS_ABI_OFFSET(struct vcpu_info, time, 32);

/*
 * The shared page. Smaller than a page; the rest of the frame is zero. Guests must
 * not rely on its size (later interfaces may append fields).
 *  - vcpu_info[i]: as above, for vCPUs 0..31 unless moved by register_vcpu_info.
 *  - evtchn_pending: one bit per port; Apus sets, the guest clears (with lock'ed ops).
 *  - evtchn_mask: one bit per port; the guest sets and clears, Apus only reads. A port
 *    that becomes pending while masked raises no upcall when unmasked: the guest must
 *    check (EVTCHNOP_unmask does it for it).
 *  - wc_*: wall-clock time at system time 0, written by Apus under wc_version (same
 *    odd/even protocol as vcpu_time_info); wc_sec_hi holds the seconds' upper 32 bits.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
    xen_ulong_t evtchn_pending[64];
    xen_ulong_t evtchn_mask[64];
    uint32_t wc_version;
    uint32_t wc_sec;
    uint32_t wc_nsec;
    uint32_t wc_sec_hi;
    struct arch_shared_info arch;
};
APUS_ABI_SIZE(struct shared_info, 3136);
APUS_ABI_OFFSET(struct shared_info, evtchn_pending, 2048);
APUS_ABI_OFFSET(struct shared_info, evtchn_mask, 2560);
APUS_ABI_OFFSET(struct shared_info, wc_version, 3072);
APUS_ABI_OFFSET(struct shared_info, wc_sec_hi, 3084);
APUS_ABI_OFFSET(struct shared_info, arch, 3088);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_SHARED_INFO_H */
