/*
 * vcpu_op.h: vcpu_op(cmd, vcpuid, arg), per-vCPU control.
 *
 * vcpuid names a vCPU of the calling domain; one at or beyond the domain's vCPU
 * count gives -ENOENT. A domain brings up secondary vCPUs with initialise + up, learns
 * their state (is_up, runstate), and may move its vcpu_info out of shared_info.
 */
#ifndef APUS_PUBLIC_VCPU_OP_H
#define APUS_PUBLIC_VCPU_OP_H

#include "xen_types.h"
#include "shared_info.h"

#define VCPUOP_initialise                     0  /* arg: vcpu_guest_context (PV) */
#define VCPUOP_up                             1
#define VCPUOP_down                           2
#define VCPUOP_is_up                          3  /* returns 1 if up, 0 if down */
#define VCPUOP_get_runstate_info              4  /* arg: vcpu_runstate_info (out) */
#define VCPUOP_register_runstate_memory_area  5  /* arg: guest address to keep updated */
#define VCPUOP_set_periodic_timer             6  /* arg: vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer            7
#define VCPUOP_set_singleshot_timer           8  /* arg: vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer          9
#define VCPUOP_register_vcpu_info             10 /* arg: vcpu_register_vcpu_info */
#define VCPUOP_send_nmi                       11
#define VCPUOP_get_physid                     12 /* arg: vcpu_get_physid (dom0) */
#define VCPUOP_register_vcpu_time_memory_area 13

/* vcpu_runstate_info.state */
#define RUNSTATE_running  0 /* on a physical CPU now */
#define RUNSTATE_runnable 1 /* ready, waiting for a CPU */
#define RUNSTATE_blocked  2 /* waiting for an event */
#define RUNSTATE_offline  3 /* down, or paused by the tools */

/* vcpu_set_singleshot_timer.flags */
#define VCPU_SSHOTTMR_future (1 << 0) /* fail with -ETIME if the deadline has passed */

#ifndef __ASSEMBLY__

/*
 * How much time a vCPU spent in each state, in ns of system time. Written by Apus
 * (into the registered area on every state change, or on request).
 */
struct vcpu_runstate_info {
    int32_t  state;            /* RUNSTATE_* */
    uint32_t _pad;
    uint64_t state_entry_time; /* when it entered the current state */
    uint64_t time[4];          /* total per state, indexed by RUNSTATE_* */
};
APUS_ABI_SIZE(struct vcpu_runstate_info, 48);
APUS_ABI_OFFSET(struct vcpu_runstate_info, time, 16);

/* Marks runstate_info.state_entry_time while an update is in progress. */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

struct vcpu_register_runstate_memory_area {
    uint64_t addr;             /* guest virtual address of a vcpu_runstate_info */
};
APUS_ABI_SIZE(struct vcpu_register_runstate_memory_area, 8);

struct vcpu_set_periodic_timer {
    uint64_t period_ns;
};
APUS_ABI_SIZE(struct vcpu_set_periodic_timer, 8);

struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns;   /* absolute system time */
    uint32_t flags;            /* VCPU_SSHOTTMR_* */
    uint32_t _pad;
};
APUS_ABI_SIZE(struct vcpu_set_singleshot_timer, 16);

/*
 * Move this vCPU's vcpu_info to (mfn, offset) in a guest frame. Allowed once per vCPU;
 * the structure must not cross a page boundary. Apus copies the current contents over.
 */
struct vcpu_register_vcpu_info {
    uint64_t mfn;
    uint32_t offset;
    uint32_t rsvd;             /* must be 0 */
};
APUS_ABI_SIZE(struct vcpu_register_vcpu_info, 16);

struct vcpu_get_physid {
    uint64_t phys_id;          /* APIC id in bits 0-31, ACPI id in 32-63 */
};
APUS_ABI_SIZE(struct vcpu_get_physid, 8);

struct vcpu_register_time_memory_area {
    uint64_t addr;             /* guest virtual address of a vcpu_time_info */
};
APUS_ABI_SIZE(struct vcpu_register_time_memory_area, 8);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_VCPU_OP_H */
