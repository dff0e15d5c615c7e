/*
 * boot/entry.S: how the CPU gets from an exception or interrupt into Swift and back.
 *
 * Every vector 0-255 has a stub that makes the stack look the same (a dummy error code
 * where the CPU pushes none, then the vector number), after which one common path saves
 * the general registers as a `struct x86_trap_frame` (Shim/trapframe.h), calls
 * `apus_trap(frame)` and restores them. Swift may change the frame (e.g. skip an
 * instruction); iretq then resumes whatever the frame says.
 *
 * The IDT points vector n at apus_trap_stubs + 16n.
 */
    .text


/* 256 stubs, each in its own 16-byte slot so that stub n is at apus_trap_stubs + 16n.
 * Vectors whose exceptions push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
    .balign 16
    .globl apus_trap_stubs
apus_trap_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    .if !(vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30)
    pushq   $0
    .endif
    pushq   $vector
    jmp     trap_common
    .set vector, vector + 1
    .endr

trap_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    cld
    mov     %rsp, %rdi
    call    apus_trap
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    add     $16, %rsp           /* vector and error code */
    iretq

/* void x86_reload_segments(uint16_t code_selector, uint16_t data_selector) */
    .text
    .globl x86_reload_segments
x86_reload_segments:
    mov     %esi, %ds
    mov     %esi, %es
    mov     %esi, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    popq    %rax                /* return address */
    movzwl  %di, %edi
    pushq   %rdi
    pushq   %rax
    lretq
