/*
 * user.S: the program the usermode guest runs in user mode (see include/user.h). It
 * must be position-independent and touch nothing but its own page, its stack and
 * the one unmapped address: the user page table maps nothing else.
 */
#include "user.h"

    .section .text.user_page, "ax"
    .balign 4096
    .globl user_page, user_entry, user_syscall, user_syscall_next, user_int80, user_int80_next
    .globl user_fault, user_fault_next, user_exit, user_exit_next, user_end
user_page:
user_entry:
    /* (1) a system call: bounced to the kernel's syscall callback. */
    movl $USER_CALL_ECHO, %eax
    movabsq $USER_RDI, %rdi
    movabsq $USER_RBX, %rbx
user_syscall:
    syscall
user_syscall_next:
    movq %rax, %r12
    movq %rcx, %r13
    movq %r11, %r14
    /* (2) int $0x80 (trap-table DPL 3). */
    movl $USER_INT80_ECHO, %eax
user_int80:
    int $0x80
user_int80_next:
    movq %rax, %r15
    /* (3) a read of an unmapped user address: #PF, resumed after it by the kernel. */
user_fault:
    movq USER_UNMAPPED_VA, %rax
user_fault_next:
    /* (4) exit to the kernel with the results. */
    movq %r12, %rdi
    movq %r15, %rsi
    movq %rbx, %rdx
    movq %r13, %r8
    movq %r14, %r9
    movq %rsp, %r10
    movl $USER_CALL_EXIT, %eax
user_exit:
    syscall
user_exit_next:
    ud2
user_end:
