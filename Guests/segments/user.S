/*
 * user.S: the segments guest's user program (see include/segments.h). It touches
 * nothing but its own page and the data page: the user page table maps nothing else.
 */
#include "segments.h"

    .section .text.user_page, "ax"
    .balign 4096
    .globl user_page, user_entry, user_end
user_page:
user_entry:
    movq USER_FS_OFFSET_VA, %rcx
    movq USER_GS_OFFSET_VA, %rdx
    movq %fs:(%rcx), %rdi
    movq %gs:(%rdx), %rsi
    xorl %eax, %eax
    movw %fs, %ax
    movq %rax, %r8
    movw %gs, %ax
    movq %rax, %r9
    movl $USER_CALL_EXIT, %eax
    syscall
    ud2
user_end:
