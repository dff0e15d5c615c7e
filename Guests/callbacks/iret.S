/*
 * iret.S: the callbacks guest's iret probe (see include/iret.h).
 */
#include <ApusPublic/hypercalls.h>

    .text
    .globl cb_iret_to, cb_iret_target, cb_iret_fixup
cb_iret_to:
    movq %rsp, %rax
    pushq %rsi                  /* SS */
    pushq %rax                  /* RSP: as at entry, so the target can ret */
    pushq $2                    /* RFLAGS: IF clear */
    pushq %rdi                  /* CS */
    leaq cb_iret_target(%rip), %rax
    pushq %rax                  /* RIP */
    pushq $0                    /* flags */
    jmp hypercall_page + __HYPERVISOR_iret * HYPERCALL_STUB_BYTES
cb_iret_target:
    xorl %eax, %eax
    ret
cb_iret_fixup:
    movl $1, %eax
    ret
