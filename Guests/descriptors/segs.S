/*
 * segs.S: the descriptors guest's segment probes (see include/segs.h). Assembly
 * because Swift cannot name segment registers and the fault labels must be exact.
 */
#include <ApusPublic/arch_x86_64.h>

    .text
.macro LOAD reg
    .globl seg_load_\reg, seg_load_\reg\()_fault
seg_load_\reg:
    xorl %eax, %eax
seg_load_\reg\()_fault:
    movl %edi, %\reg
    ret
.endm
    LOAD ds
    LOAD es
    LOAD fs

.macro READ reg
    .globl seg_read_\reg
seg_read_\reg:
    xorl %eax, %eax
    movw %\reg, %ax
    ret
.endm
    READ ds
    READ es
    READ fs

    .globl seg_read_via_ds, seg_read_via_ds_fault
seg_read_via_ds:
seg_read_via_ds_fault:
    movq %ds:(%rdi), %rax
    ret
    .globl seg_read_via_es, seg_read_via_es_fault
seg_read_via_es:
seg_read_via_es_fault:
    movq %es:(%rdi), %rax
    ret
    .globl seg_read_via_fs, seg_read_via_fs_fault
seg_read_via_fs:
seg_read_via_fs_fault:
    movq %fs:(%rdi), %rax
    ret

    .globl seg_lar, seg_lsl
seg_lar:
    larl %edi, %eax
    jz 1f
    movq $-1, %rax
1:  ret
seg_lsl:
    lsll %edi, %eax
    jz 1f
    movq $-1, %rax
1:  ret

    .globl seg_visit_cs, seg_visit_cs_fault
seg_visit_cs:
    pushq %rdi
    leaq 1f(%rip), %rax
    pushq %rax
seg_visit_cs_fault:
    lretq
1:  xorl %eax, %eax
    movw %cs, %ax
    pushq $FLAT_KERNEL_CS
    leaq 2f(%rip), %rdx
    pushq %rdx
    lretq
2:  ret

    /* Resumes a faulted probe: it returns SEG_FAULTED. A faulting lretq of
     * seg_visit_cs leaves its two words on the stack: seg_visit_fixup drops them. */
    .globl seg_fixup, seg_visit_fixup
seg_visit_fixup:
    addq $16, %rsp
seg_fixup:
    movl $1, %eax
    ret
