/*
 * ApusPublic.h: the whole Xen x86-64 PV guest ABI that Apus speaks, in one include.
 *
 * These headers are the specification shared by three parties: the hypervisor (Swift,
 * through the ApusPublic module), the assembly stubs, and the guests. They were written
 * for Apus from the documented Xen ABI: every number and layout is Xen's (so that
 * unmodified Xen PV kernels run), the words are ours. Each structure has a size check
 * and a note on who writes it and who reads it.
 *
 * Rules for every header here:
 *  - only fixed-width integer types, so a layout never depends on the compiler's model;
 *  - `#ifndef __ASSEMBLY__` around anything that is not a plain number, so .S files
 *    can include the constants;
 *  - 64-bit constants carry a ULL suffix in C only (see APUS_U64 in xen_types.h
 *    for why it is spelled out instead of wrapped in a macro).
 * Only x86-64 PV is described: no 32-bit (compat) layouts, no HVM/PVH structures.
 */
#ifndef APUS_PUBLIC_H
#define APUS_PUBLIC_H

#include "xen_types.h"
#include "xen_errno.h"
#include "hypercalls.h"
#include "arch_x86_64.h"
#include "shared_info.h"
#include "start_info.h"
#include "mmu.h"
#include "multicall.h"
#include "console_io.h"
#include "xen_version.h"
#include "sched_op.h"
#include "memory_op.h"
#include "vcpu_op.h"
#include "callback_op.h"
#include "event_channel.h"
#include "grant_table.h"
#include "physdev_op.h"
#include "elfnote.h"
#include "features.h"
#include "domctl.h"

#endif /* APUS_PUBLIC_H */
