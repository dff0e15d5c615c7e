/*
 * probes.S: one function per faulting instruction the traps guest tests (see
 * include/probes.h for the protocol). Written in assembly because the test needs the
 * exact address of the faulting instruction and control of every register.
 */
#include "probes.h"

.macro LOAD_PATTERN
    movabsq $PROBE_PATTERN(0), %rax
    movabsq $PROBE_PATTERN(1), %rbx
    movabsq $PROBE_PATTERN(2), %rcx
    movabsq $PROBE_PATTERN(3), %rdx
    movabsq $PROBE_PATTERN(4), %rsi
    movabsq $PROBE_PATTERN(5), %rdi
    movabsq $PROBE_PATTERN(6), %rbp
    movabsq $PROBE_PATTERN(7), %r8
    movabsq $PROBE_PATTERN(8), %r9
    movabsq $PROBE_PATTERN(9), %r10
    movabsq $PROBE_PATTERN(10), %r11
    movabsq $PROBE_PATTERN(11), %r12
    movabsq $PROBE_PATTERN(12), %r13
    movabsq $PROBE_PATTERN(13), %r14
    movabsq $PROBE_PATTERN(14), %r15
.endm

/*
 * PROBE name, pad, instruction...: defines name, name_fault, name_resume. pad 1 moves
 * rsp down one more word, so the probes see both rsp alignments modulo 16.
 */
.macro PROBE name, pad, insn:vararg
    .text
    .type \name, @function
\name:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    .if \pad
    subq $8, %rsp
    .endif
    movq %rsp, probe_rsp(%rip)
    LOAD_PATTERN
\name\()_fault:
    \insn
\name\()_resume:
    movq %rax, probe_after + 0(%rip)
    movq %rbx, probe_after + 8(%rip)
    movq %rcx, probe_after + 16(%rip)
    movq %rdx, probe_after + 24(%rip)
    movq %rsi, probe_after + 32(%rip)
    movq %rdi, probe_after + 40(%rip)
    movq %rbp, probe_after + 48(%rip)
    movq %r8, probe_after + 56(%rip)
    movq %r9, probe_after + 64(%rip)
    movq %r10, probe_after + 72(%rip)
    movq %r11, probe_after + 80(%rip)
    movq %r12, probe_after + 88(%rip)
    movq %r13, probe_after + 96(%rip)
    movq %r14, probe_after + 104(%rip)
    movq %r15, probe_after + 112(%rip)
    .if \pad
    addq $8, %rsp
    .endif
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
    .size \name, . - \name
    .section .rodata.probe_table, "a"
    .quad \name, \name\()_fault, \name\()_resume
.endm

    .section .rodata.probe_table, "a"
    .balign 8
    .globl probe_table
probe_table:

    PROBE probe_ud2, 0, ud2
    PROBE probe_divide, 0, divq probe_zero(%rip)
    PROBE probe_int3, 0, int3
    PROBE probe_hlt, 0, hlt
    PROBE probe_cli, 0, cli
    PROBE probe_sti, 0, sti
    PROBE probe_int80, 0, int $0x80
    PROBE probe_int81, 0, int $0x81
    PROBE probe_int90, 0, int $0x90
    PROBE probe_read_low, 0, movq PROBE_LOW_ADDRESS, %rax
    PROBE probe_write_m2p, 0, movabsq %rax, PROBE_M2P_ADDRESS
    PROBE probe_read_xen, 0, movabsq PROBE_XEN_ADDRESS, %rax
    PROBE probe_ud2_padded, 1, ud2
    PROBE probe_read_low_padded, 1, movq PROBE_LOW_ADDRESS, %rax

    .section .rodata.probe_table, "a"
    .size probe_table, . - probe_table

    .section .rodata
    .balign 8
probe_zero: .quad 0

    .data
    .balign 8
    .globl probe_rsp, probe_after
probe_rsp:   .quad 0
probe_after: .skip 15 * 8
