/*
 * traps.S: entry stubs for everything the hypervisor bounces to a 64-bit PV guest
 * kernel (exceptions and software interrupts by vector, the event upcall, user-mode
 * `syscall`, the failsafe callback), the common save/dispatch/iret path, the
 * kernel-mode <-> user-mode switch, and the memory the trap machinery owns (the
 * stack_switch kernel stack, the shared_info page, a page pool).
 *
 * Frame layouts are in include/traps.h. Invariants:
 *  - every stub leaves rsp at the error-code slot of a native-looking frame
 *    ([error code], RIP, CS, RFLAGS, RSP, SS) with the interrupted rcx/r11 in place;
 *  - the hypervisor 16-byte-aligns the frame base, so after the 17 pushes of the
 *    common path rsp is 16-byte aligned at the call, as the C ABI wants;
 *  - the way back is always HYPERVISOR_iret (jump to its stub with the iret flags
 *    word pushed; the stub pushes rcx, r11, rax): a PV kernel runs in ring 3 and
 *    cannot iretq into its user mode or switch page tables itself.
 */
#include <ApusPublic/hypercalls.h>
#include <ApusPublic/arch_x86_64.h>
#include "traps.h"

#define IRET_STUB (hypercall_page + __HYPERVISOR_iret * HYPERCALL_STUB_BYTES)

/*
 * Stubs for vectors 0..255, XG_TRAP_STUB_BYTES apart. The hypervisor pushes an error
 * code for #DF, #TS, #NP, #SS, #GP, #PF, #AC (and #CP); the stubs of the others push
 * a zero so that every frame looks the same.
 */
    .text
    .balign XG_TRAP_STUB_BYTES
    .globl xg_trap_entries
xg_trap_entries:
    .set vector, 0
    .rept 256
    .balign XG_TRAP_STUB_BYTES
    popq %rcx
    popq %r11
    .if (vector == 8) | ((vector >= 10) & (vector <= 14)) | (vector == 17) | (vector == 21)
    pushq $(vector | XG_TRAP_HAS_ERROR_CODE)
    .else
    pushq $0
    pushq $vector
    .endif
    jmp xg_trap_common
    .set vector, vector + 1
    .endr

/* Event upcall and user-mode syscall: RCX, R11, RIP, CS, RFLAGS, RSP, SS. */
    .globl xg_event_entry, xg_syscall_entry, xg_failsafe_entry
xg_event_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $XG_VECTOR_EVENT
    jmp xg_trap_common
xg_syscall_entry:
    popq %rcx
    popq %r11
    pushq $0
    pushq $XG_VECTOR_SYSCALL
    jmp xg_trap_common
/* Failsafe: RCX, R11, DS, ES, FS, GS, RIP, CS, ...: the segment values are dropped. */
xg_failsafe_entry:
    popq %rcx
    popq %r11
    addq $32, %rsp
    pushq $0
    pushq $XG_VECTOR_FAILSAFE
    jmp xg_trap_common

xg_trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    movq %rsp, %rdi
    call *xg_trap_handler(%rip)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp          /* vector, error code: rsp now at RIP */
    pushq $0                /* iret_context.flags: restore rcx/r11 too */
    jmp IRET_STUB

/*
 * uint64_t xg_enter_user(rip, rsp, rflags): saves the callee-saved registers and the
 * kernel rsp, then irets to user mode. A handler ends user mode by resuming the
 * kernel at xg_user_exit with rax set (Traps.returnToKernel); rsp is reloaded here,
 * so the handler need not know where the kernel stack was.
 */
    .globl xg_enter_user, xg_user_exit
xg_enter_user:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, xg_user_return_rsp(%rip)
    pushq $FLAT_USER_SS
    pushq %rsi              /* RSP */
    pushq %rdx              /* RFLAGS */
    pushq $FLAT_USER_CS     /* RPL 3: the hypervisor switches to user mode */
    pushq %rdi              /* RIP */
    pushq $0                /* flags */
    xorl %eax, %eax         /* user mode starts with clean registers */
    xorl %ebx, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    xorl %esi, %esi
    xorl %edi, %edi
    xorl %ebp, %ebp
    xorl %r8d, %r8d
    xorl %r9d, %r9d
    xorl %r10d, %r10d
    xorl %r11d, %r11d
    xorl %r12d, %r12d
    xorl %r13d, %r13d
    xorl %r14d, %r14d
    xorl %r15d, %r15d
    jmp IRET_STUB
xg_user_exit:
    movq xg_user_return_rsp(%rip), %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

/*
 * Memory accesses that may fault (Traps.read / Traps.write): the caller arms the
 * fixup "fault at the access, resume at the fixup"; a fault makes them return 1.
 *   uint64_t xg_try_read(uint64_t address, uint64_t *value)
 *   uint64_t xg_try_write(uint64_t address, uint64_t value)
 */
    .globl xg_try_read, xg_try_read_access, xg_try_write, xg_try_write_access, xg_try_fixup
xg_try_read:
    xorl %eax, %eax
xg_try_read_access:
    movq (%rdi), %rdx
    movq %rdx, (%rsi)
    ret
xg_try_write:
    xorl %eax, %eax
xg_try_write_access:
    movq %rsi, (%rdi)
    ret
xg_try_fixup:
    movl $1, %eax
    ret

    .data
    .balign 8
    .globl xg_user_return_rsp, xg_trap_handler
xg_user_return_rsp: .quad 0
    /*
     * void (*)(struct xg_trap_frame *): set by Traps.install before any stub can run.
     * A pointer rather than a symbol because the Swift runtime is compiled into each
     * guest, and only what the guest uses is emitted.
     */
xg_trap_handler:    .quad 0

    .bss
    .balign 4096
    /* Mapped over by the shared_info frame (SharedInfo.map). */
    .globl xg_shared_info_page
xg_shared_info_page: .skip 4096
    .globl xg_page_pool
xg_page_pool:        .skip XG_PAGE_POOL_PAGES * 4096
    /* The stack the hypervisor switches to for traps from user mode (stack_switch). */
xg_kernel_stack:     .skip XG_KERNEL_STACK_BYTES
    .globl xg_kernel_stack_top
xg_kernel_stack_top:
