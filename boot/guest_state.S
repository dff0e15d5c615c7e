/*
 * boot/guest_state.S: the parts of a vCPU switch the compiler must not generate.
 *
 * FPU/SSE state: Apus itself never uses the FPU (check-image.sh rejects FPU and SIMD
 * instructions anywhere else in the image), but switching between vCPUs must save and
 * restore theirs: fxsave64/fxrstor64 into a 512-byte area, and a clean state (FCW
 * 0x37f, MXCSR 0x1f80, as a fresh x86 CPU has) for a vCPU that never ran.
 *
 * Data selectors: a guest's ds/es/fs/gs come from its own GDT/LDT. Each load is a
 * 5-byte slot between apus_selector_loads_start and _end; a #GP/#NP/#SS at one of them
 * is resumed by Traps.swift at the next slot after loading the null selector there
 * (what Xen does with a selector that no longer loads).
 */
    .text
    .globl apus_fpu_save, apus_fpu_restore, apus_fpu_reset
apus_fpu_save:
    fxsave64 (%rdi)
    ret
apus_fpu_restore:
    fxrstor64 (%rdi)
    ret
apus_fpu_reset:
    fninit
    pushq   $0x1f80
    ldmxcsr (%rsp)
    add     $8, %rsp
    ret

/* void apus_load_data_selectors(uint16_t ds, uint16_t es, uint16_t fs, uint16_t gs) */
    .globl apus_load_data_selectors, apus_selector_loads_start, apus_selector_loads_end
apus_load_data_selectors:
    .balign 8
apus_selector_loads_start:
    mov     %edi, %ds
    nop; nop; nop
    mov     %esi, %es
    nop; nop; nop
    mov     %edx, %fs
    nop; nop; nop
    mov     %ecx, %gs
    nop; nop; nop
apus_selector_loads_end:
    ret
