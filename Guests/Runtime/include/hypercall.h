/*
 * hypercall.h: hypercall wrappers for the Apus test guests (64-bit PV), and the few
 * symbols start.S defines for the Swift runtime.
 *
 * Each wrapper calls the hypercall page (filled in by the hypervisor at the address
 * named by the XEN_ELFNOTE_HYPERCALL_PAGE note) at offset 32 * number, with the
 * arguments in rdi, rsi, rdx, r10, r8 and the result in rax. The hypervisor may change
 * the argument registers (it restarts preempted calls with updated arguments), so
 * they are in/out operands; rcx and r11 are clobbered by `syscall` itself.
 * Swift cannot write inline assembly, so these are static inline C functions that the
 * Swift compiler inlines (no call overhead, no C object file to link).
 */
#ifndef XENGUEST_HYPERCALL_H
#define XENGUEST_HYPERCALL_H

#include <stdint.h>
#include <ApusPublic/ApusPublic.h>

/* Defined in start.S. */
extern uint8_t hypercall_page[4096];
extern uint64_t xen_start_info_va;   /* rsi on entry: the start_info's virtual address */
extern uint64_t xen_entry_rsp;       /* rsp on entry: top of the hypervisor's boot stack */
extern uint8_t xg_console_buffer[256];
extern uint8_t xg_scratch[8192];      /* page-aligned scratch memory for arguments */
extern uint8_t xg_map_window[4096];   /* a page-aligned page a guest may remap */
extern uint8_t guest_image_start[1];  /* first byte of the loaded image (linker script) */
extern uint8_t guest_image_end[1];    /* one past its last byte (end of .bss) */

#define XG_INLINE static inline __attribute__((always_inline))

/* A hypercall whose number is a compile-time constant: a direct call into the page. */
#define XG_HYPERCALL(nr, a1, a2, a3, a4, a5) ({                                     \
    register uint64_t _a1 __asm__("rdi") = (uint64_t)(a1);                          \
    register uint64_t _a2 __asm__("rsi") = (uint64_t)(a2);                          \
    register uint64_t _a3 __asm__("rdx") = (uint64_t)(a3);                          \
    register uint64_t _a4 __asm__("r10") = (uint64_t)(a4);                          \
    register uint64_t _a5 __asm__("r8") = (uint64_t)(a5);                           \
    uint64_t _result;                                                               \
    __asm__ volatile("call hypercall_page + %c[offset]"                             \
                     : "=a"(_result), "+r"(_a1), "+r"(_a2), "+r"(_a3), "+r"(_a4),  \
                       "+r"(_a5)                                                    \
                     : [offset] "i"((nr) * HYPERCALL_STUB_BYTES)                    \
                     : "memory", "rcx", "r11", "r9");                               \
    (int64_t)_result;                                                               \
})

/*
 * A hypercall whose number is only known at run time (the errno guest probes numbers
 * no wrapper has). nr must be below HYPERCALL_PAGE_STUBS or the call leaves the page.
 */
XG_INLINE int64_t xen_hypercall_raw(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
                                    uint64_t a4, uint64_t a5) {
    register uint64_t r_a1 __asm__("rdi") = a1;
    register uint64_t r_a2 __asm__("rsi") = a2;
    register uint64_t r_a3 __asm__("rdx") = a3;
    register uint64_t r_a4 __asm__("r10") = a4;
    register uint64_t r_a5 __asm__("r8") = a5;
    uint64_t target = (uint64_t)hypercall_page + nr * HYPERCALL_STUB_BYTES;
    uint64_t result;
    __asm__ volatile("call *%[target]"
                     : "=a"(result), "+r"(r_a1), "+r"(r_a2), "+r"(r_a3), "+r"(r_a4), "+r"(r_a5)
                     : [target] "a"(target)
                     : "memory", "rcx", "r11", "r9");
    return (int64_t)result;
}

/*
 * A hypercall made with `syscall` directly, bypassing the hypercall page: lets a guest
 * pass numbers no stub exists for (>= 128, or with upper bits set in rax). The page's
 * stubs preserve rcx and r11 for the caller; here they are simply clobbered.
 */
XG_INLINE int64_t xen_syscall_raw(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t r_a1 __asm__("rdi") = a1;
    register uint64_t r_a2 __asm__("rsi") = a2;
    register uint64_t r_a3 __asm__("rdx") = a3;
    uint64_t result = nr;
    __asm__ volatile("syscall"
                     : "+a"(result), "+r"(r_a1), "+r"(r_a2), "+r"(r_a3)
                     :
                     : "memory", "rcx", "r11", "r8", "r9", "r10");
    return (int64_t)result;
}

XG_INLINE int64_t HYPERVISOR_set_trap_table(const void *traps) {
    return XG_HYPERCALL(__HYPERVISOR_set_trap_table, traps, 0, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_stack_switch(uint64_t ss, uint64_t sp) {
    return XG_HYPERCALL(__HYPERVISOR_stack_switch, ss, sp, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_console_io(uint32_t cmd, uint32_t count, const void *buffer) {
    return XG_HYPERCALL(__HYPERVISOR_console_io, cmd, count, buffer, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_xen_version(uint32_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_xen_version, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_sched_op(uint32_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_sched_op, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_domctl(void *domctl) {
    return XG_HYPERCALL(__HYPERVISOR_domctl, domctl, 0, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_memory_op(uint64_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_memory_op, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_multicall(void *entries, uint32_t count) {
    return XG_HYPERCALL(__HYPERVISOR_multicall, entries, count, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_vcpu_op(uint32_t cmd, uint32_t vcpu, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_vcpu_op, cmd, vcpu, arg, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_update_va_mapping(uint64_t va, uint64_t pte, uint64_t flags) {
    return XG_HYPERCALL(__HYPERVISOR_update_va_mapping, va, pte, flags, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_mmu_update(void *requests, uint32_t count, uint32_t *done,
                                        uint32_t foreign_domain) {
    return XG_HYPERCALL(__HYPERVISOR_mmu_update, requests, count, done, foreign_domain, 0);
}
XG_INLINE int64_t HYPERVISOR_mmuext_op(void *ops, uint32_t count, uint32_t *done,
                                       uint32_t foreign_domain) {
    return XG_HYPERCALL(__HYPERVISOR_mmuext_op, ops, count, done, foreign_domain, 0);
}
XG_INLINE int64_t HYPERVISOR_grant_table_op(uint32_t cmd, void *args, uint32_t count) {
    return XG_HYPERCALL(__HYPERVISOR_grant_table_op, cmd, args, count, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_event_channel_op(uint32_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_event_channel_op, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_physdev_op(uint32_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_physdev_op, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_callback_op(uint32_t cmd, void *arg) {
    return XG_HYPERCALL(__HYPERVISOR_callback_op, cmd, arg, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_set_segment_base(uint32_t which, uint64_t base) {
    return XG_HYPERCALL(__HYPERVISOR_set_segment_base, which, base, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_vm_assist(uint32_t cmd, uint32_t type) {
    return XG_HYPERCALL(__HYPERVISOR_vm_assist, cmd, type, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_set_gdt(const uint64_t *frames, uint32_t entries) {
    return XG_HYPERCALL(__HYPERVISOR_set_gdt, frames, entries, 0, 0, 0);
}
/* x86-64: the descriptor's machine address and its 8 bytes, both in one register. */
XG_INLINE int64_t HYPERVISOR_update_descriptor(uint64_t machine_address, uint64_t descriptor) {
    return XG_HYPERCALL(__HYPERVISOR_update_descriptor, machine_address, descriptor, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_fpu_taskswitch(int32_t set) {
    return XG_HYPERCALL(__HYPERVISOR_fpu_taskswitch, (int64_t)set, 0, 0, 0, 0);
}
XG_INLINE int64_t HYPERVISOR_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall) {
    return XG_HYPERCALL(__HYPERVISOR_set_callbacks, event, failsafe, syscall, 0, 0);
}

/* Addresses of start.S symbols, for Swift (which cannot take the address of a C array). */
XG_INLINE uint8_t *xg_console_buffer_address(void) { return xg_console_buffer; }
XG_INLINE uint8_t *xg_scratch_address(void) { return xg_scratch; }
XG_INLINE uint64_t xg_map_window_address(void) { return (uint64_t)xg_map_window; }
XG_INLINE uint64_t xg_image_start(void) { return (uint64_t)guest_image_start; }
XG_INLINE uint64_t xg_image_end(void) { return (uint64_t)guest_image_end; }
XG_INLINE uint64_t xg_hypercall_page(void) { return (uint64_t)hypercall_page; }

/* Volatile 64-bit read, for tables other parties write (the M2P, page tables). */
XG_INLINE uint64_t xg_read64(uint64_t address) { return *(volatile uint64_t *)address; }

#endif /* XENGUEST_HYPERCALL_H */
