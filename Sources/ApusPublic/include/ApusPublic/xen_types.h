/*
 * xen_types.h: the scalar types every other ABI header builds on, domain ids, virtual
 * interrupt numbers, and the layout-assertion helpers.
 *
 * x86-64 only. `unsigned long` in Xen's own headers is 64 bits here; we spell it
 * uint64_t so that the layout is the same under any data model the includer uses.
 * No dependency beyond <stdint.h> (freestanding-safe: clang ships it).
 */
#ifndef APUS_PUBLIC_XEN_TYPES_H
#define APUS_PUBLIC_XEN_TYPES_H

/* clang and gcc announce preprocessed assembly as __ASSEMBLER__; Xen's spelling is used here. */
#if defined(__ASSEMBLER__) && !defined(__ASSEMBLY__)
#define __ASSEMBLY__ 1
#endif

#ifndef __ASSEMBLY__
#include <stdint.h>

/*
 * Layout checks. Every ABI structure is followed by APUS_ABI_SIZE and, for the fields
 * a guest or Apus reads at a fixed offset (assembly, the hypercall page, Linux), by
 * APUS_ABI_OFFSET. A wrong header is a compile error, never a silent mismatch.
 */
#define APUS_ABI_SIZE(type, bytes) \
    _Static_assert(sizeof(type) == (bytes), "ABI size of " #type)
#define APUS_ABI_OFFSET(type, field, bytes) \
    _Static_assert(__builtin_offsetof(type, field) == (bytes), "ABI offset of " #type "." #field)

/* A machine or pseudo-physical frame number (address >> 12). */
typedef uint64_t xen_pfn_t;
/* A register-sized value in an ABI structure ("xen_ulong_t"). */
typedef uint64_t xen_ulong_t;
/* A domain identifier. Real domains are below DOMID_FIRST_RESERVED. */
typedef uint16_t domid_t;
/* An event-channel port number, local to one domain. */
typedef uint32_t evtchn_port_t;
/* A domain's 128-bit handle (a UUID chosen by the toolstack; zero for dom0). */
typedef uint8_t xen_domain_handle_t[16];

/*
 * A guest handle is a guest-virtual pointer that Apus must copy through, never
 * dereference: on x86-64 PV it is a plain 64-bit address in the caller's address space.
 * Xen wraps it in a one-field struct so that handles of different element types do not
 * mix; we keep one untyped form (the element type is in the field's name and comment),
 * which Swift imports as a struct with a `p` field.
 */
typedef struct xen_guest_handle {
    uint64_t p;
} xen_guest_handle_t;
APUS_ABI_SIZE(xen_guest_handle_t, 8);
#endif /* !__ASSEMBLY__ */

/* Page geometry the ABI fixes for x86-64 PV (XENVER_pagesize reports the same). */
#define XEN_PAGE_SHIFT 12
#define XEN_PAGE_SIZE  4096

/*
 * Reserved domain ids. A guest names itself DOMID_SELF in any call taking a domid;
 * DOMID_IO and DOMID_XEN are the pseudo-owners of I/O frames and hypervisor frames
 * (a privileged guest passes them as the "foreign domain" of mmu_update to map those).
 */
#define DOMID_FIRST_RESERVED 0x7FF0
#define DOMID_SELF           0x7FF0
#define DOMID_IO             0x7FF1
#define DOMID_XEN            0x7FF2
#define DOMID_COW            0x7FF3 /* owner of shared (copy-on-write) pages */
#define DOMID_INVALID        0x7FF4 /* "no owner" in page info and grant status */
#define DOMID_IDLE           0x7FFF /* the idle domain's vCPUs */

/*
 * Virtual interrupts: events the hypervisor raises itself, which a guest binds to a
 * port with EVTCHNOP_bind_virq. "Per vCPU" ones are bound once on each vCPU; global
 * ones once per domain (on vCPU 0) and may then be moved.
 */
#define VIRQ_TIMER       0  /* per vCPU: the singleshot/periodic timer fired */
#define VIRQ_DEBUG       1  /* per vCPU: the console asked for a debug dump */
#define VIRQ_CONSOLE     2  /* global, dom0: input arrived on the hypervisor console */
#define VIRQ_DOM_EXC     3  /* global, dom0: some domain crashed or shut down */
#define VIRQ_TBUF        4  /* global, dom0: trace records are waiting */
#define VIRQ_DEBUGGER    6  /* global, dom0: a domain paused for a debugger */
#define VIRQ_XENOPROF    7  /* per vCPU: a profiling sample is ready */
#define VIRQ_CON_RING    8  /* global, dom0: the console ring has new bytes */
#define VIRQ_PCPU_STATE  9  /* global, dom0: a physical CPU went on/offline */
#define VIRQ_MEM_EVENT   10 /* global, dom0: a memory (access) event */
#define VIRQ_ARGO        11 /* global: Argo message ring activity */
#define VIRQ_ENOMEM      12 /* global, dom0: the hypervisor heap runs low */
#define VIRQ_XENPMU      13 /* per vCPU: a PMU counter overflowed */
#define VIRQ_ARCH_0      16 /* 16..23: architecture-specific (x86: unused) */
#define VIRQ_ARCH_7      23
#define NR_VIRQS         24

#endif /* APUS_PUBLIC_XEN_TYPES_H */
