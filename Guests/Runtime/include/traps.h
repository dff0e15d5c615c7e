/*
 * traps.h: the guest runtime's trap machinery as C sees it (and Swift, through the
 * XenGuestC module): the register frame the entry stubs in traps.S build, the symbols
 * traps.S defines, and the CPUID helpers.
 *
 * How a trap reaches Swift. The hypervisor bounces an exception, event or user-mode
 * `syscall` to a stub of traps.S with a 64-bit PV bounce frame on the guest kernel
 * stack, lowest address first: RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS. The
 * stub pops RCX and R11 (the interrupted code's values), pushes a zero error code
 * where the hypervisor gave none, pushes the vector and every general register, and
 * calls xg_trap_dispatch(frame) (Traps.swift). On return it reloads the registers from
 * the frame, drops vector and error code, and returns through HYPERVISOR_iret with
 * flags 0, so a handler resumes anywhere (another rip, another mode) by editing the
 * frame. Usable from assembly (__ASSEMBLY__) for the constants.
 */
#ifndef XENGUEST_TRAPS_H
#define XENGUEST_TRAPS_H

#if defined(__ASSEMBLER__) && !defined(__ASSEMBLY__)
#define __ASSEMBLY__ 1
#endif

/* xg_trap_frame.vector: bits 0-15 a vector (0-255) or one of the callbacks below. */
#define XG_VECTOR_EVENT        0x100   /* the event-channel upcall */
#define XG_VECTOR_SYSCALL      0x101   /* `syscall` from guest user mode */
#define XG_VECTOR_FAILSAFE     0x102   /* the failsafe callback (a bad iret frame) */
#define XG_VECTOR_MASK         0xFFFF
#define XG_TRAP_HAS_ERROR_CODE 0x10000 /* the hypervisor pushed an error code */

/* Stride of the per-vector stubs at xg_trap_entries (stub n = entries + n * stride). */
#define XG_TRAP_STUB_BYTES     32

/* Size of the kernel stack given to stack_switch (xg_kernel_stack_top). */
#define XG_KERNEL_STACK_BYTES  16384
/* Pages in the runtime's page pool (xg_page_pool), page-aligned, zeroed at start. */
#define XG_PAGE_POOL_PAGES     16

#ifndef __ASSEMBLY__
#include <stdint.h>

/*
 * What the entry stubs save, lowest address first (the stub's rsp when it calls
 * xg_trap_dispatch). rip..ss are the hypervisor's bounce frame itself: the handler
 * edits them in place. cs holds the selector in bits 0-15 and the saved event mask
 * (vcpu_info.evtchn_upcall_mask before the bounce) in bits 32-39.
 */
struct xg_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;       /* XG_VECTOR_* or a vector, | XG_TRAP_HAS_ERROR_CODE */
    uint64_t error_code;   /* 0 where the hypervisor pushed none */
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct xg_trap_frame) == 22 * 8, "xg_trap_frame size");

struct xg_cpuid_result {
    uint32_t eax, ebx, ecx, edx;
};

/* Defined in traps.S. */
extern uint8_t xg_trap_entries[256 * XG_TRAP_STUB_BYTES];
extern uint8_t xg_event_entry[1];
extern uint8_t xg_syscall_entry[1];
extern uint8_t xg_failsafe_entry[1];
extern uint8_t xg_user_exit[1];
extern uint8_t xg_kernel_stack_top[1];
extern uint8_t xg_shared_info_page[4096];
extern uint8_t xg_page_pool[XG_PAGE_POOL_PAGES * 4096];
extern uint64_t xg_user_return_rsp;
extern void (*xg_trap_handler)(struct xg_trap_frame *frame);

/*
 * Enters guest user mode through HYPERVISOR_iret (CS FLAT_USER_CS, SS FLAT_USER_SS) at
 * rip with rsp and rflags; the user page table must already be set
 * (MMUEXT_NEW_USER_BASEPTR). Returns when a trap handler resumes the kernel at
 * xg_user_exit (Traps.returnToKernel), with the rax that handler chose.
 */
uint64_t xg_enter_user(uint64_t rip, uint64_t rsp, uint64_t rflags);

/* Faulting accesses (traps.S): return 0, or 1 if the armed fixup caught a fault. */
uint64_t xg_try_read(uint64_t address, uint64_t *value);
uint64_t xg_try_write(uint64_t address, uint64_t value);
extern uint8_t xg_try_read_access[1];
extern uint8_t xg_try_write_access[1];
extern uint8_t xg_try_fixup[1];

#define XG_TRAPS_INLINE static inline __attribute__((always_inline))

XG_TRAPS_INLINE uint64_t xg_trap_entry_address(uint32_t vector) {
    return (uint64_t)xg_trap_entries + (uint64_t)vector * XG_TRAP_STUB_BYTES;
}
XG_TRAPS_INLINE uint64_t xg_event_entry_address(void) { return (uint64_t)xg_event_entry; }
XG_TRAPS_INLINE uint64_t xg_syscall_entry_address(void) { return (uint64_t)xg_syscall_entry; }
XG_TRAPS_INLINE uint64_t xg_failsafe_entry_address(void) { return (uint64_t)xg_failsafe_entry; }
XG_TRAPS_INLINE uint64_t xg_try_read_access_address(void) { return (uint64_t)xg_try_read_access; }
XG_TRAPS_INLINE uint64_t xg_try_write_access_address(void) { return (uint64_t)xg_try_write_access; }
XG_TRAPS_INLINE uint64_t xg_try_fixup_address(void) { return (uint64_t)xg_try_fixup; }
XG_TRAPS_INLINE uint64_t xg_user_exit_address(void) { return (uint64_t)xg_user_exit; }
XG_TRAPS_INLINE uint64_t xg_kernel_stack_top_address(void) { return (uint64_t)xg_kernel_stack_top; }
XG_TRAPS_INLINE uint64_t xg_shared_info_address(void) { return (uint64_t)xg_shared_info_page; }
XG_TRAPS_INLINE uint64_t xg_page_pool_address(void) { return (uint64_t)xg_page_pool; }

/*
 * CPUID through the forced-emulation prefix (ud2; "xen"; cpuid): the hypervisor
 * emulates it and skips all seven bytes, with or without a trap table.
 */
XG_TRAPS_INLINE struct xg_cpuid_result xg_cpuid_forced(uint32_t leaf, uint32_t subleaf) {
    struct xg_cpuid_result r;
    __asm__ volatile("ud2; .ascii \"xen\"; cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf)
                     : "memory");
    return r;
}

/* Plain CPUID: runs on the hardware unless the hypervisor enabled CPUID faulting. */
XG_TRAPS_INLINE struct xg_cpuid_result xg_cpuid_native(uint32_t leaf, uint32_t subleaf) {
    struct xg_cpuid_result r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf)
                     : "memory");
    return r;
}

/* Volatile 64-bit write, for pages whose mapping a test changes under the compiler. */
XG_TRAPS_INLINE void xg_write64(uint64_t address, uint64_t value) {
    *(volatile uint64_t *)address = value;
}

#endif /* !__ASSEMBLY__ */
#endif /* XENGUEST_TRAPS_H */
