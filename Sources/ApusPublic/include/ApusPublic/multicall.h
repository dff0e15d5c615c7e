/*
 * multicall.h: several hypercalls in one trap.
 *
 * multicall(entries, count): Apus runs the entries in order, as if each were a
 * separate hypercall with op as the number and args as the argument registers, and
 * stores each return value in that entry's result. It stops early only if an entry
 * could not be read or written back; a failing hypercall inside the batch is not an
 * error of the batch (its result says so). The return value is 0, or -EFAULT when the
 * array itself cannot be accessed.
 */
#ifndef APUS_PUBLIC_MULTICALL_H
#define APUS_PUBLIC_MULTICALL_H

#include "xen_types.h"

#ifndef __ASSEMBLY__

/* Written by the guest (op, args); result written by Apus. */
struct multicall_entry {
    xen_ulong_t op;
    xen_ulong_t result;
    xen_ulong_t args[6];
};
APUS_ABI_SIZE(struct multicall_entry, 64);
APUS_ABI_OFFSET(struct multicall_entry, result, 8);
APUS_ABI_OFFSET(struct multicall_entry, args, 16);

#endif /* !__ASSEMBLY__ */
#endif /* APUS_PUBLIC_MULTICALL_H */
