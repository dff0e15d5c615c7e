/*
 * fpu.S: the fpu guest's probes (see include/fpu.h).
 */
    .text
.macro PROBE name
    .globl \name, \name\()_insn
\name:
    xorl %eax, %eax
\name\()_insn:
.endm

    PROBE fpu_sse_write
    movq %rdi, %xmm1
    ret
    .globl fpu_sse_read, fpu_sse_read_insn
fpu_sse_read:
fpu_sse_read_insn:
    movq %xmm1, %rax
    ret
    PROBE fpu_x87_push
    fildq (%rdi)
    ret
    PROBE fpu_x87_pop
    fistpq (%rdi)
    ret
    .globl fpu_read_cr0, fpu_read_cr0_insn
fpu_read_cr0:
fpu_read_cr0_insn:
    movq %cr0, %rax
    ret
    PROBE fpu_write_cr0
    movq %rdi, %cr0
    ret
    PROBE fpu_clts
    clts
    ret
    PROBE fpu_fninit
    fninit
    ret

    .globl fpu_fixup
fpu_fixup:
    movabsq $0xFA17FA17FA17FA17, %rax
    ret
