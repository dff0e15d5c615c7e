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
#include "layout.h"
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
    /* Also the way into a guest: apus_enter_guest points rsp at a frame and jumps here. */
    .globl apus_restore_frame
apus_restore_frame:
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
    /* A guest can hand Apus a frame the CPU refuses (a bad CS or SS in HYPERVISOR_iret):
     * the fault at this iretq is the guest's, and Traps.swift bounces it to the guest. */
    .globl apus_guest_iret
apus_guest_iret:
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

/*
 * The `syscall` entries (MSR_LSTAR, MSR_CSTAR). A PV guest's kernel and its user space
 * both run in ring 3, so every syscall comes from a guest: a hypercall from its kernel,
 * or a system call from its user space for Apus to bounce to the kernel's callback.
 * SYSCALL does not switch stacks, and Apus cannot use %gs (it is the guest's), so each
 * CPU has its own pair of stubs, 64 bytes apart, that know their CPU's slots: park the
 * guest's rsp in the CPU's scratch word, take the CPU's guest-entry stack (the TSS.RSP0
 * copy in apus_guest_entry_stack_top[cpu]) and build the frame an interrupt from ring 3
 * would (SS, RSP, RFLAGS=r11, CS, RIP=rcx, error code 0, vector 0x100) for the common
 * path. Interrupts are off on entry (MSR_FMASK clears IF) until the frame is built.
 * A 32-bit compatibility-mode syscall (CSTAR, stub at +32) gets its own vector 0x101:
 * Apus runs 64-bit PV guests only, so the guest gets a fault bounced, never an Apus crash.
 */
#define SYSCALL_VECTOR 0x100
    .balign 64
    .globl apus_syscall_stubs
apus_syscall_stubs:
    .set cpu, 0
    .rept MAX_CPUS
    .balign 64
    mov     %rsp, apus_syscall_scratch + 8 * cpu(%rip)
    mov     apus_guest_entry_stack_top + 8 * cpu(%rip), %rsp
    pushq   $0xe02b                     /* FLAT_RING3_SS64 */
    pushq   apus_syscall_scratch + 8 * cpu(%rip)
    jmp     syscall64_common
    .balign 32
    mov     %rsp, apus_syscall_scratch + 8 * cpu(%rip)
    mov     apus_guest_entry_stack_top + 8 * cpu(%rip), %rsp
    pushq   $0xe02b
    pushq   apus_syscall_scratch + 8 * cpu(%rip)
    jmp     syscall32_common
    .set cpu, cpu + 1
    .endr

syscall64_common:
    pushq   %r11
    pushq   $0xe033                     /* FLAT_RING3_CS64 */
    pushq   %rcx
    pushq   $0
    pushq   $SYSCALL_VECTOR
    jmp     trap_common

syscall32_common:
    pushq   %r11
    pushq   $0xe023                     /* FLAT_RING3_CS32 */
    pushq   %rcx
    pushq   $0
    pushq   $(SYSCALL_VECTOR + 1)
    jmp     trap_common

/* void apus_enter_guest(const struct x86_trap_frame *frame) -- never returns.
 * The frame must sit at the top of Apus's guest-entry stack: the next trap from the
 * guest builds its frame in the same place. */
    .globl apus_enter_guest
apus_enter_guest:
    mov     %rdi, %rsp
    jmp     apus_restore_frame

/*
 * Guest memory access. size_t apus_copy_guest(void *to, const void *from, size_t n)
 * copies with the guest's page tables in force and returns how many bytes were NOT
 * copied: eight bytes at a time, then the rest. A fault on a guest address at one of the
 * two string moves is turned by the page-fault handler (Traps.swift) into a jump to the
 * matching fault label, never into a panic: after the quadword move n - 8 * done - tail
 * bytes remain (rcx quadwords plus the tail in rdx), after the byte move rcx. (Eight at a
 * time also keeps the count honest under QEMU's -icount, where every iteration of a
 * string move counts as one instruction.)
 * Callers check first that the guest range lies outside Apus's slot.
 */
    .globl apus_copy_guest, apus_copy_guest_quads, apus_copy_guest_bytes
    .globl apus_copy_guest_quads_fault, apus_copy_guest_bytes_fault
apus_copy_guest:
    mov     %rdx, %rcx
    shr     $3, %rcx
    and     $7, %edx
apus_copy_guest_quads:
    rep movsq
    mov     %rdx, %rcx
apus_copy_guest_bytes:
    rep movsb
    xor     %eax, %eax
    ret
apus_copy_guest_quads_fault:
    lea     (%rdx,%rcx,8), %rax
    ret
apus_copy_guest_bytes_fault:
    mov     %rcx, %rax
    ret

    .data
    .balign 8
    .globl apus_syscall_scratch, apus_guest_entry_stack_top
apus_syscall_scratch:       .skip 8 * MAX_CPUS
apus_guest_entry_stack_top: .skip 8 * MAX_CPUS

/*
 * bool apus_load_user_gs(uint16_t selector): loads %gs for the guest's user mode
 * (SEGBASE_GS_USER_SEL). swapgs makes the user base the active one, so the load sets the
 * user base; swapgs again. A selector that cannot be loaded faults at apus_load_gs_insn:
 * the #GP/#NP handler resumes at apus_load_gs_fault, which loads the null selector
 * instead (Xen's behaviour) and returns false.
 */
    .text
    .globl apus_load_user_gs, apus_load_gs_insn, apus_load_gs_fault
apus_load_user_gs:
    swapgs
apus_load_gs_insn:
    mov     %edi, %gs
    swapgs
    mov     $1, %eax
    ret
apus_load_gs_fault:
    xor     %eax, %eax
    mov     %eax, %gs
    swapgs
    ret
