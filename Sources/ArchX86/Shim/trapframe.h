/*
 * trapframe.h: the stack image boot/entry.S builds for every exception and interrupt.
 * Lowest address first: what the common stub pushed, then the stub's vector and
 * (possibly dummy) error code, then what the CPU pushed. Swift reads and may edit it.
 */
#ifndef APUS_TRAPFRAME_H
#define APUS_TRAPFRAME_H
#include <stdint.h>

struct x86_trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
_Static_assert(sizeof(struct x86_trap_frame) == 22 * 8, "trap frame layout is shared with entry.S");

extern char apus_trap_stubs;
X86_INLINE uint64_t x86_trap_stub(unsigned vector) { return (uint64_t)(uintptr_t)&apus_trap_stubs + 16 * (vector & 255); }

/* The syscall entries, the way into a guest, and guest-memory copy (boot/entry.S). */
extern char apus_syscall_stubs;
extern uint64_t apus_guest_entry_stack_top;
void apus_enter_guest(const struct x86_trap_frame *frame) __attribute__((noreturn));
uint64_t apus_copy_guest(void *to, const void *from, uint64_t count);
extern char apus_copy_guest_quads, apus_copy_guest_bytes, apus_copy_guest_quads_fault, apus_copy_guest_bytes_fault;
/* CPU n's syscall stubs: 64-bit at stubs + 64n, compatibility mode at + 32. */
X86_INLINE uint64_t x86_syscall_entry(unsigned cpu) { return (uint64_t)(uintptr_t)&apus_syscall_stubs + 64 * cpu; }
X86_INLINE uint64_t x86_syscall32_entry(unsigned cpu) { return (uint64_t)(uintptr_t)&apus_syscall_stubs + 64 * cpu + 32; }
X86_INLINE uint64_t x86_copy_guest_quads(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_quads; }
X86_INLINE uint64_t x86_copy_guest_bytes(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_bytes; }
X86_INLINE uint64_t x86_copy_guest_quads_fault(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_quads_fault; }
X86_INLINE uint64_t x86_copy_guest_bytes_fault(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_bytes_fault; }
X86_INLINE void x86_set_guest_entry_stack(unsigned cpu, uint64_t top) { (&apus_guest_entry_stack_top)[cpu] = top; }
/* Starting an application processor (boot/ap.S). */
extern char apus_ap_trampoline, apus_ap_trampoline_end;
extern uint64_t apus_ap_boot_cr3, apus_ap_boot_stack, apus_ap_boot_cpu;
X86_INLINE uint64_t x86_ap_trampoline(void) { return (uint64_t)(uintptr_t)&apus_ap_trampoline; }
X86_INLINE uint64_t x86_ap_trampoline_size(void) {
    return (uint64_t)((uintptr_t)&apus_ap_trampoline_end - (uintptr_t)&apus_ap_trampoline);
}
X86_INLINE void x86_set_ap_boot(uint64_t cr3, uint64_t stack, uint64_t cpu) {
    apus_ap_boot_cr3 = cr3; apus_ap_boot_stack = stack; apus_ap_boot_cpu = cpu;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
_Bool apus_load_user_gs(uint16_t selector);
extern char apus_load_gs_insn, apus_load_gs_fault, apus_guest_iret;
X86_INLINE uint64_t x86_guest_iret(void) { return (uint64_t)(uintptr_t)&apus_guest_iret; }
X86_INLINE uint64_t x86_load_gs_insn(void) { return (uint64_t)(uintptr_t)&apus_load_gs_insn; }
X86_INLINE uint64_t x86_load_gs_fault(void) { return (uint64_t)(uintptr_t)&apus_load_gs_fault; }

#endif
