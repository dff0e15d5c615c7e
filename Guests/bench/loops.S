/*
 * loops.S: the bench guest's timed loops (protocol in include/loops.h).
 *
 * Written in assembly so that a loop and its empty twin differ by exactly the measured
 * instruction: the timed region is rdtsc, the iterations, rdtsc, and an iteration is
 * the argument set-up, the operation (absent in the twin), `or %rax, %rbx`, and
 * dec/jnz. No alignment padding inside: under -icount every executed instruction
 * counts, a nop included. The loop state lives in callee-saved registers (rbx result
 * OR, rbp/r14/r15 arguments, r12 counter, r13 start TSC), which a hypercall and a
 * bounce preserve; the argument registers are reloaded every iteration because a
 * hypervisor may change them.
 */
#include <ApusPublic/hypercalls.h>
#include <ApusPublic/xen_version.h>
#include <ApusPublic/mmu.h>
#include <ApusPublic/grant_table.h>
#include "loops.h"

#define STUB(nr) (hypercall_page + (nr) * HYPERCALL_STUB_BYTES)

#define KIND_NULL      0
#define KIND_ENOSYS    1
#define KIND_MULTICALL 2
#define KIND_UVA       3
#define KIND_TRAP      4
#define KIND_MMU1      5
#define KIND_MMU512    6
#define KIND_MMUEXT2   7
#define KIND_GNTMAP    8
#define DOMID_SELF_VALUE 0x7FF0

/* TIMED_LOOP name, kind, op: op 1 the measured loop, 0 its empty twin. */
.macro TIMED_LOOP name, kind, op
    .text
    .globl \name
    .type \name, @function
\name:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rdi, %r12
    movq %rsi, %rbp
    movq %rdx, %r14
    movq %rcx, %r15
    xorl %ebx, %ebx
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, %r13
    xorl %eax, %eax
1:
    .if \kind == KIND_NULL
    movl $XENVER_version, %edi
    xorl %esi, %esi
    .if \op
    call STUB(__HYPERVISOR_xen_version)
    .endif
    .elseif \kind == KIND_ENOSYS
    xorl %edi, %edi
    xorl %esi, %esi
    .if \op
    call STUB(BENCH_UNUSED_HYPERCALL)
    .endif
    .elseif \kind == KIND_MULTICALL
    movq %rbp, %rdi
    movl $BENCH_MULTICALL_ENTRIES, %esi
    .if \op
    call STUB(__HYPERVISOR_multicall)
    .endif
    .elseif \kind == KIND_UVA
    movq %rbp, %rdi
    movq %r14, %rsi
    movl $UVMF_INVLPG, %edx
    .if \op
    call STUB(__HYPERVISOR_update_va_mapping)
    .endif
    xchgq %r14, %r15
    .elseif \kind == KIND_TRAP
    .if \op
    ud2
    .endif
    .elseif \kind == KIND_MMU1 || \kind == KIND_MMU512
    movq %r14, %rdi
    .if \kind == KIND_MMU1
    movl $1, %esi
    .else
    movl $512, %esi
    .endif
    xorl %edx, %edx
    movl $DOMID_SELF_VALUE, %r10d
    .if \op
    call STUB(__HYPERVISOR_mmu_update)
    .endif
    xchgq %r14, %r15
    .elseif \kind == KIND_GNTMAP
    movl $GNTTABOP_map_grant_ref, %edi
    movq %rbp, %rsi
    movl $1, %edx
    .if \op
    call STUB(__HYPERVISOR_grant_table_op)
    .endif
    orq %rax, %rbx
    movl 20(%rbp), %eax                 /* the handle the map returned (Xen does not reuse 0 at once) */
    movl %eax, 16(%r14)
    movl $GNTTABOP_unmap_grant_ref, %edi
    movq %r14, %rsi
    movl $1, %edx
    .if \op
    call STUB(__HYPERVISOR_grant_table_op)
    .endif
    .elseif \kind == KIND_MMUEXT2
    movq %rbp, %rdi
    movl $2, %esi
    xorl %edx, %edx
    movl $DOMID_SELF_VALUE, %r10d
    .if \op
    call STUB(__HYPERVISOR_mmuext_op)
    .endif
    .endif
    orq %rax, %rbx
    decq %r12
    jnz 1b
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    subq %r13, %rax
    movq %rbx, bench_result_or(%rip)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
    .size \name, . - \name
.endm

    TIMED_LOOP bench_null, KIND_NULL, 1
    TIMED_LOOP bench_null_empty, KIND_NULL, 0
    TIMED_LOOP bench_enosys, KIND_ENOSYS, 1
    TIMED_LOOP bench_enosys_empty, KIND_ENOSYS, 0
    TIMED_LOOP bench_multicall, KIND_MULTICALL, 1
    TIMED_LOOP bench_multicall_empty, KIND_MULTICALL, 0
    TIMED_LOOP bench_uva, KIND_UVA, 1
    TIMED_LOOP bench_uva_empty, KIND_UVA, 0
    TIMED_LOOP bench_trap, KIND_TRAP, 1
    TIMED_LOOP bench_trap_empty, KIND_TRAP, 0
    TIMED_LOOP bench_mmu1, KIND_MMU1, 1
    TIMED_LOOP bench_mmu1_empty, KIND_MMU1, 0
    TIMED_LOOP bench_mmu512, KIND_MMU512, 1
    TIMED_LOOP bench_mmu512_empty, KIND_MMU512, 0
    TIMED_LOOP bench_mmuext2, KIND_MMUEXT2, 1
    TIMED_LOOP bench_mmuext2_empty, KIND_MMUEXT2, 0
    TIMED_LOOP bench_gntmap, KIND_GNTMAP, 1
    TIMED_LOOP bench_gntmap_empty, KIND_GNTMAP, 0

    .globl bench_rdtsc_pair
    .type bench_rdtsc_pair, @function
bench_rdtsc_pair:
    rdtsc
    movl %eax, %ecx
    rdtsc
    subl %ecx, %eax
    ret
    .size bench_rdtsc_pair, . - bench_rdtsc_pair

/*
 * The #UD gate of the trap-bounce loop: the smallest handler a PV kernel can have. The
 * hypervisor's frame is RCX, R11, RIP, CS, RFLAGS, RSP, SS (no error code for #UD):
 * take back rcx and r11, step RIP over the 2-byte ud2, and leave through the iret
 * stub with flags 0 (rcx and r11 restored from what the stub pushes).
 */
    .globl bench_ud_entry
bench_ud_entry:
    popq %rcx
    popq %r11
    incq bench_ud_count(%rip)
    addq $2, (%rsp)
    pushq $0
    jmp STUB(__HYPERVISOR_iret)

    .data
    .balign 8
    .globl bench_result_or, bench_ud_count
bench_result_or: .quad 0
bench_ud_count:  .quad 0
