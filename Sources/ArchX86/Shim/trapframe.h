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
extern char apus_syscall_entry, apus_syscall32_entry;
extern uint64_t apus_guest_entry_stack_top;
void apus_enter_guest(const struct x86_trap_frame *frame) __attribute__((noreturn));
uint64_t apus_copy_guest(void *to, const void *from, uint64_t count);
extern char apus_copy_guest_start, apus_copy_guest_end, apus_copy_guest_fault;
X86_INLINE uint64_t x86_syscall_entry(void) { return (uint64_t)(uintptr_t)&apus_syscall_entry; }
X86_INLINE uint64_t x86_syscall32_entry(void) { return (uint64_t)(uintptr_t)&apus_syscall32_entry; }
X86_INLINE uint64_t x86_copy_guest_start(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_start; }
X86_INLINE uint64_t x86_copy_guest_end(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_end; }
X86_INLINE uint64_t x86_copy_guest_fault(void) { return (uint64_t)(uintptr_t)&apus_copy_guest_fault; }
X86_INLINE void x86_set_guest_entry_stack(uint64_t top) { apus_guest_entry_stack_top = top; }
_Bool apus_load_user_gs(uint16_t selector);
extern char apus_load_gs_insn, apus_load_gs_fault, apus_guest_iret;
X86_INLINE uint64_t x86_guest_iret(void) { return (uint64_t)(uintptr_t)&apus_guest_iret; }
X86_INLINE uint64_t x86_load_gs_insn(void) { return (uint64_t)(uintptr_t)&apus_load_gs_insn; }
X86_INLINE uint64_t x86_load_gs_fault(void) { return (uint64_t)(uintptr_t)&apus_load_gs_fault; }

#endif
