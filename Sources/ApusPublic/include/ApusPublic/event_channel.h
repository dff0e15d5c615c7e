/*
 * event_channel.h: event_channel_op(cmd, arg), the PV interrupt mechanism.
 *
 * An event channel is a port of one domain that can become pending. Sources: another
 * domain's port (interdomain), a VIRQ of the hypervisor, a physical IRQ (PIRQ, dom0
 * and driver domains), or an IPI between the domain's own vCPUs. Pending bits live in
 * shared_info (2-level ABI) or in guest-provided arrays (FIFO ABI, init_control).
 * Each port is bound to one vCPU, which gets the upcall.
 * Port 0 is never allocated; a guest may use it as "none".
 */
#ifndef APUS_PUBLIC_EVENT_CHANNEL_H
#define APUS_PUBLIC_EVENT_CHANNEL_H

#include "xen_types.h"

/*
 * event_channel_op(cmd, arg): arg points at the command's structure below; IN fields
 * are read first, OUT fields written back only on success. Errors every command shares:
 * -EFAULT when arg cannot be read or written back, -ENOSYS for an unknown cmd (both
 * checked against Xen 4.17 by the errno guest), -EINVAL for a port the domain does not
 * have, -ESRCH for a domain that does not exist, -EPERM when naming another domain
 * without the privilege to.
 */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq        1
#define EVTCHNOP_bind_pirq        2
#define EVTCHNOP_close            3
#define EVTCHNOP_send             4
#define EVTCHNOP_status           5
#define EVTCHNOP_alloc_unbound    6
#define EVTCHNOP_bind_ipi         7
#define EVTCHNOP_bind_vcpu        8
#define EVTCHNOP_unmask           9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11
#define EVTCHNOP_expand_array     12
#define EVTCHNOP_set_priority     13
#define EVTCHNOP_reset_cont       14

/* evtchn_status.status */
#define EVTCHNSTAT_closed       0 /* free */
#define EVTCHNSTAT_unbound      1 /* waiting for a remote domain to bind */
#define EVTCHNSTAT_interdomain  2
#define EVTCHNSTAT_pirq         3
#define EVTCHNSTAT_virq         4
#define EVTCHNSTAT_ipi          5

#define BIND_PIRQ__WILL_SHARE   1 /* evtchn_bind_pirq.flags */

/* FIFO ABI limits. */
#define EVTCHN_FIFO_PRIORITY_MAX     0
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7
#define EVTCHN_FIFO_PRIORITY_MIN     15

#ifndef __ASSEMBLY__

/* Reserve a port that remote_dom may later bind to. OUT: port. */
struct evtchn_alloc_unbound {
    domid_t dom, remote_dom;
    evtchn_port_t port;
};
APUS_ABI_SIZE(struct evtchn_alloc_unbound, 8);

/* Connect a new local port to remote_dom's unbound remote_port. OUT: local_port. */
struct evtchn_bind_interdomain {
    domid_t  remote_dom;
    uint16_t _pad;
    evtchn_port_t remote_port;
    evtchn_port_t local_port;
};
APUS_ABI_SIZE(struct evtchn_bind_interdomain, 12);

/* Bind a VIRQ_* on a vCPU to a new port. OUT: port. -EEXIST if already bound. */
struct evtchn_bind_virq {
    uint32_t virq;
    uint32_t vcpu;
    evtchn_port_t port;
};
APUS_ABI_SIZE(struct evtchn_bind_virq, 12);

struct evtchn_bind_pirq {
    uint32_t pirq;
    uint32_t flags;   /* BIND_PIRQ__* */
    evtchn_port_t port;
};
APUS_ABI_SIZE(struct evtchn_bind_pirq, 12);

struct evtchn_bind_ipi {
    uint32_t vcpu;
    evtchn_port_t port;
};
APUS_ABI_SIZE(struct evtchn_bind_ipi, 8);

/*
 * close, send and unmask take just a port. close frees the port (an interdomain peer
 * sees its end become unbound); send marks the peer (or, for IPI, the bound vCPU)
 * pending; unmask clears the port's mask bit and, if it is pending, raises the upcall
 * the guest would otherwise have missed while masked.
 */
struct evtchn_close  { evtchn_port_t port; };
struct evtchn_send   { evtchn_port_t port; };
struct evtchn_unmask { evtchn_port_t port; };
APUS_ABI_SIZE(struct evtchn_close, 4);
APUS_ABI_SIZE(struct evtchn_send, 4);
APUS_ABI_SIZE(struct evtchn_unmask, 4);

/* What a port is bound to. IN: dom, port. OUT: the rest. */
struct evtchn_status {
    domid_t  dom;
    uint16_t _pad;
    evtchn_port_t port;
    uint32_t status;  /* EVTCHNSTAT_* */
    uint32_t vcpu;
    union {
        struct { domid_t dom; } unbound;
        struct { domid_t dom; uint16_t _pad; evtchn_port_t port; } interdomain;
        uint32_t pirq;
        uint32_t virq;
    } u;
};
APUS_ABI_SIZE(struct evtchn_status, 24);
APUS_ABI_OFFSET(struct evtchn_status, u, 16);

struct evtchn_bind_vcpu {
    evtchn_port_t port;
    uint32_t vcpu;
};
APUS_ABI_SIZE(struct evtchn_bind_vcpu, 8);

/*
 * Close every port of dom (DOMID_SELF or, privileged, another domain). Used by a
 * kexec'd or soft-reset kernel that inherits ports it knows nothing about.
 */
struct evtchn_reset {
    domid_t dom;
};
APUS_ABI_SIZE(struct evtchn_reset, 2);

/*
 * Switch to the FIFO ABI, giving the control block for one vCPU (a guest frame and
 * offset). After this, pending state lives in guest-provided event arrays added with
 * expand_array, priorities apply, and shared_info's bitmaps are no longer used.
 */
struct evtchn_init_control {
    uint64_t control_gfn;
    uint32_t offset;
    uint32_t vcpu;
    uint8_t  link_bits; /* out */
    uint8_t  _pad[7];
};
APUS_ABI_SIZE(struct evtchn_init_control, 24);

struct evtchn_expand_array {
    uint64_t array_gfn;
};
APUS_ABI_SIZE(struct evtchn_expand_array, 8);

struct evtchn_set_priority {
    evtchn_port_t port;
    uint32_t priority;
};
APUS_ABI_SIZE(struct evtchn_set_priority, 8);

/* The argument of the old event_channel_op_compat hypercall: cmd plus any of the above. */
struct evtchn_op {
    uint32_t cmd;     /* EVTCHNOP_* */
    union {           /* every member is 4-byte aligned, so no padding after cmd */
        struct evtchn_alloc_unbound    alloc_unbound;
        struct evtchn_bind_interdomain bind_interdomain;
        struct evtchn_bind_virq        bind_virq;
        struct evtchn_bind_pirq        bind_pirq;
        struct evtchn_bind_ipi         bind_ipi;
        struct evtchn_close            close;
        struct evtchn_send             send;
        struct evtchn_status           status;
        struct evtchn_bind_vcpu        bind_vcpu;
        struct evtchn_unmask           unmask;
    } u;
};
APUS_ABI_SIZE(struct evtchn_op, 28);
APUS_ABI_OFFSET(struct evtchn_op, u, 4);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_EVENT_CHANNEL_H */
