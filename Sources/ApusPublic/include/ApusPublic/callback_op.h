/*
 * callback_op.h: where Apus enters the guest kernel for events, failures and system
 * calls. callback_op(CALLBACKOP_register, &callback_register) sets one entry point;
 * the older set_callbacks(event, failsafe, syscall) hypercall sets the first three at
 * once on x86-64.
 *
 * - event: where pending event channels are delivered (the "upcall").
 * - failsafe: where Apus goes when returning to the guest failed (a bad segment
 *   selector in the frame the guest gave to iret), so the guest can repair it.
 * - syscall: where a `syscall` from guest user mode lands in the guest kernel.
 * - syscall32 / sysenter: the same for 32-bit user code.
 * - nmi: the guest's NMI handler (dom0 only in practice).
 */
#ifndef APUS_PUBLIC_CALLBACK_OP_H
#define APUS_PUBLIC_CALLBACK_OP_H

#include "xen_types.h"

#define CALLBACKOP_register   0 /* arg: struct callback_register */
#define CALLBACKOP_unregister 1 /* arg: struct callback_unregister */

#define CALLBACKTYPE_event               0
#define CALLBACKTYPE_failsafe            1
#define CALLBACKTYPE_syscall             2
#define CALLBACKTYPE_sysenter_deprecated 3
#define CALLBACKTYPE_nmi                 4
#define CALLBACKTYPE_sysenter            5
#define CALLBACKTYPE_syscall32           7

/* callback_register.flags: mask events while the callback runs. */
#define _CALLBACKF_mask_events 0
#define CALLBACKF_mask_events  (1 << _CALLBACKF_mask_events)

#ifndef __ASSEMBLY__

struct callback_register {
    uint16_t type;     /* CALLBACKTYPE_* */
    uint16_t flags;    /* CALLBACKF_* */
    uint32_t _pad;
    uint64_t address;  /* guest-virtual entry point (x86-64: no selector) */
};
APUS_ABI_SIZE(struct callback_register, 16);
APUS_ABI_OFFSET(struct callback_register, address, 8);

/*
 * Only the NMI callback can be unregistered; others give -EINVAL. (Registering an
 * unknown type gives -ENOSYS in Xen 4.17.)
 */
struct callback_unregister {
    uint16_t type;
    uint16_t _unused;
};
APUS_ABI_SIZE(struct callback_unregister, 4);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_CALLBACK_OP_H */
