/*
 * segs.S: the segments guest's kernel probes (see include/segments.h).
 */
#include "segments.h"

    .text
    .globl seg_read_via_fs, seg_read_via_fs_fault, seg_read_via_gs, seg_read_via_gs_fault
seg_read_via_fs:
seg_read_via_fs_fault:
    movq %fs:(%rdi), %rax
    ret
seg_read_via_gs:
seg_read_via_gs_fault:
    movq %gs:(%rdi), %rax
    ret

    .globl seg_fs_selector, seg_gs_selector
seg_fs_selector:
    xorl %eax, %eax
    movw %fs, %ax
    ret
seg_gs_selector:
    xorl %eax, %eax
    movw %gs, %ax
    ret

    .globl seg_fixup
seg_fixup:
    movabsq $SEG_FAULTED_VALUE, %rax
    ret
