/*
 * xen_errno.h: the error numbers hypercalls return, negated, in rax.
 *
 * A hypercall that fails returns -XEN_Exxx (as a 64-bit signed value). The values are
 * Xen's, which were taken from x86 Linux; a guest compares against these, never against
 * its own libc's. The XEN_ prefix keeps them apart from any <errno.h> the includer has.
 * Notes on which failure gets which number live with each hypercall's header.
 */
#ifndef APUS_PUBLIC_XEN_ERRNO_H
#define APUS_PUBLIC_XEN_ERRNO_H

#define XEN_EPERM          1   /* caller lacks the privilege (e.g. not dom0) */
#define XEN_ENOENT         2   /* no such object (vCPU id beyond max, unknown key) */
#define XEN_ESRCH          3   /* no such domain */
#define XEN_EIO            5
#define XEN_ENXIO          6
#define XEN_E2BIG          7   /* a count or size beyond what the call takes */
#define XEN_ENOEXEC        8
#define XEN_EBADF          9
#define XEN_ECHILD         10
#define XEN_EAGAIN         11  /* try again (also the "would block" value) */
#define XEN_EWOULDBLOCK    11
#define XEN_ENOMEM         12  /* out of hypervisor memory or of the domain's allowance */
#define XEN_EACCES         13
#define XEN_EFAULT         14  /* a guest pointer could not be read or written */
#define XEN_EBUSY          16  /* the object is in use (a pinned table, a bound port) */
#define XEN_EEXIST         17  /* already done (binding a VIRQ twice) */
#define XEN_EXDEV          18
#define XEN_ENODEV         19
#define XEN_EISDIR         21
#define XEN_EINVAL         22  /* a malformed argument or an unknown sub-op of some calls */
#define XEN_ENFILE         23
#define XEN_EMFILE         24
#define XEN_ENOSPC         28  /* no room (event-channel ports, grant frames) */
#define XEN_EROFS          30
#define XEN_EMLINK         31
#define XEN_EDOM           33
#define XEN_ERANGE         34
#define XEN_EDEADLK        35
#define XEN_EDEADLOCK      35
#define XEN_ENAMETOOLONG   36
#define XEN_ENOLCK         37
#define XEN_ENOSYS         38  /* no such hypercall, or a sub-op this build lacks */
#define XEN_ENOTEMPTY      39
#define XEN_ENODATA        61
#define XEN_ETIME          62
#define XEN_EBADMSG        74
#define XEN_EOVERFLOW      75
#define XEN_EILSEQ         84
#define XEN_ENOTSOCK       88
#define XEN_EOPNOTSUPP     95  /* the operation exists but not for this kind of domain */
#define XEN_EADDRINUSE     98
#define XEN_EADDRNOTAVAIL  99
#define XEN_ENOBUFS        105
#define XEN_EISCONN        106
#define XEN_ENOTCONN       107
#define XEN_ETIMEDOUT      110

/*
 * Two values are internal to Xen and never reach a guest: EINTR (4) and ERESTART (85,
 * "continue this hypercall later"). Apus likewise turns preemption into a re-executed
 * hypercall (a continuation), so no guest ever sees either.
 */

#endif /* APUS_PUBLIC_XEN_ERRNO_H */
