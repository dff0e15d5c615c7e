/*
 * probes.S: the isolation guest's probes (see include/isolation.h). Assembly because
 * Swift cannot make far calls or far returns, and the fault labels must be exact.
 */
#include <ApusPublic/arch_x86_64.h>

    .text
    .globl iso_far_call, iso_far_call_fault, iso_far_call_fixup, iso_gate_landing
iso_far_call:
    subq $16, %rsp
    movq $0, (%rsp)
    movw %di, 8(%rsp)
iso_far_call_fault:
    lcallq *(%rsp)
    addq $16, %rsp
    ret
    /* Reached only if a gate let the call through: far-return to the caller. */
iso_gate_landing:
    movl $2, %eax
    lretq
iso_far_call_fixup:
    addq $16, %rsp
    movl $1, %eax
    ret

    .globl iso_far_return, iso_far_return_fault, iso_far_return_fixup
iso_far_return:
    pushq %rdi
    leaq 1f(%rip), %rax
    pushq %rax
iso_far_return_fault:
    lretq
1:  xorl %eax, %eax
    movw %cs, %ax
    pushq $FLAT_KERNEL_CS
    leaq 2f(%rip), %rdx
    pushq %rdx
    lretq
2:  ret
    /* A faulting lretq leaves its two words on the stack. */
iso_far_return_fixup:
    addq $16, %rsp
    movl $1, %eax
    ret

    .globl iso_int20, iso_int20_after
iso_int20:
    xorl %eax, %eax
    int $0x20
iso_int20_after:
    ret

    .globl iso_read_cs
iso_read_cs:
    xorl %eax, %eax
    movw %cs, %ax
    ret

    .globl iso_load_fs, iso_load_fs_fault, iso_load_fs_fixup
iso_load_fs:
    xorl %eax, %eax
iso_load_fs_fault:
    movl %edi, %fs
    ret
iso_load_fs_fixup:
    movl $1, %eax
    ret
