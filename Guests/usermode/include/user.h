/*
 * user.h: the usermode guest's user program (user.S) and the user address space it
 * runs in.
 *
 * The program occupies the start of one page of the kernel image (user_page); the
 * guest maps that frame read-only at USER_CODE_VA in a separate user page table, with
 * a stack page read-write at USER_STACK_VA. user_offset(label) is a label's offset in
 * the page, so its user address is USER_CODE_VA + user_offset(label).
 *
 * The program: (1) `syscall` with rax = USER_CALL_ECHO, rdi = USER_RDI, rbx =
 * USER_RBX; (2) `int $0x80` with rax = USER_INT80_ECHO; (3) a read of USER_UNMAPPED_VA;
 * (4) `syscall` with rax = USER_CALL_EXIT and the results: rdi = rax after (1),
 * rsi = rax after (2), rdx = rbx after all of it, r8 = rcx after (1), r9 = r11 after (1),
 * r10 = rsp at the end.
 */
#ifndef USERMODE_USER_H
#define USERMODE_USER_H

#define USER_CODE_VA      0x400000
#define USER_STACK_VA     0x401000
#define USER_STACK_TOP    0x402000
#define USER_UNMAPPED_VA  0x600000

#define USER_CALL_ECHO    0x5C00
#define USER_CALL_EXIT    0x5CFF
#define USER_INT80_ECHO   0x8000
#define USER_RDI          0x0D15EA5E0D15EA5E
#define USER_RBX          0x0B0B0B0B12345678

#ifndef __ASSEMBLER__
#include <stdint.h>

extern uint8_t user_page[4096];
extern uint8_t user_entry[1], user_syscall[1], user_syscall_next[1], user_int80[1], user_int80_next[1],
               user_fault[1], user_fault_next[1], user_exit[1], user_exit_next[1], user_end[1];

#define USER_OFFSET_FN(name) \
    static inline __attribute__((always_inline)) uint64_t name##_offset(void) { \
        return (uint64_t)name - (uint64_t)user_page; \
    }
USER_OFFSET_FN(user_entry)
USER_OFFSET_FN(user_syscall)
USER_OFFSET_FN(user_syscall_next)
USER_OFFSET_FN(user_int80)
USER_OFFSET_FN(user_int80_next)
USER_OFFSET_FN(user_fault)
USER_OFFSET_FN(user_fault_next)
USER_OFFSET_FN(user_exit)
USER_OFFSET_FN(user_exit_next)
USER_OFFSET_FN(user_end)
static inline __attribute__((always_inline)) uint64_t user_page_address(void) { return (uint64_t)user_page; }
#endif
#endif
