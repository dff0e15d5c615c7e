/*
 * sched_op.h: sched_op(cmd, arg), the guest's say in its own scheduling.
 *
 * yield gives up the rest of the time slice; block sleeps until an event is pending
 * for this vCPU (and unmasks events, so an event racing with the call is not lost);
 * poll sleeps until one of the given ports is pending or the timeout passes;
 * shutdown ends the domain for a reason the toolstack (or, for dom0, the machine)
 * acts on: dom0 powering off powers the machine off, rebooting reboots it.
 */
#ifndef APUS_PUBLIC_SCHED_OP_H
#define APUS_PUBLIC_SCHED_OP_H

#include "xen_types.h"

#define SCHEDOP_yield           0 /* arg unused */
#define SCHEDOP_block           1 /* arg unused */
#define SCHEDOP_shutdown        2 /* arg: struct sched_shutdown */
#define SCHEDOP_poll            3 /* arg: struct sched_poll */
#define SCHEDOP_remote_shutdown 4 /* arg: struct sched_remote_shutdown (privileged) */
#define SCHEDOP_shutdown_code   5 /* arg: struct sched_shutdown; records the reason only */
#define SCHEDOP_watchdog        6 /* arg: struct sched_watchdog */
#define SCHEDOP_pin_override    7 /* arg: struct sched_pin_override (dom0) */

/* Shutdown reasons (sched_shutdown.reason). */
#define SHUTDOWN_poweroff   0 /* the domain is done; dom0: power the machine off */
#define SHUTDOWN_reboot     1 /* restart the domain; dom0: reset the machine */
#define SHUTDOWN_suspend    2 /* save for later resume (the tools take over) */
#define SHUTDOWN_crash      3 /* the guest crashed itself */
#define SHUTDOWN_watchdog   4 /* a guest watchdog expired */
#define SHUTDOWN_soft_reset 5 /* reset the domain, keeping its memory */
#define SHUTDOWN_MAX        5

#ifndef __ASSEMBLY__

struct sched_shutdown {
    uint32_t reason; /* SHUTDOWN_* */
};
APUS_ABI_SIZE(struct sched_shutdown, 4);

struct sched_poll {
    xen_guest_handle_t ports; /* evtchn_port_t[nr_ports] */
    uint32_t nr_ports;
    uint32_t _pad;
    uint64_t timeout;         /* absolute system time in ns, 0 = none */
};
APUS_ABI_SIZE(struct sched_poll, 24);
APUS_ABI_OFFSET(struct sched_poll, timeout, 16);

struct sched_remote_shutdown {
    domid_t  domain_id;
    uint16_t _pad;
    uint32_t reason;   /* SHUTDOWN_* */
};
APUS_ABI_SIZE(struct sched_remote_shutdown, 8);

struct sched_watchdog {
    uint32_t id;       /* 0 to create a new watchdog; its id is returned */
    uint32_t timeout;  /* seconds; 0 destroys watchdog id */
};
APUS_ABI_SIZE(struct sched_watchdog, 8);

struct sched_pin_override {
    int32_t pcpu;      /* pin the calling vCPU here; -1 ends the override */
};
APUS_ABI_SIZE(struct sched_pin_override, 4);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_SCHED_OP_H */
