/*
 * smp.S: the smp guest's entry points and shared memory (declared in include/smp.h).
 *
 * Invariants:
 *  - smp_event_entry runs on whatever stack the vCPU was on (a PV kernel's event
 *    bounce lands on its current stack), so the Swift handler can tell the vCPU from
 *    the stack; after popping RCX and R11 the hypervisor's frame is RIP, CS, RFLAGS,
 *    RSP, SS from a 16-byte aligned base, so 15 register pushes leave rsp aligned for
 *    the call, as the C ABI wants.
 *  - the way back from a bounce is always HYPERVISOR_iret with flags 0 (rcx and r11
 *    restored from what the stub pushes), which also restores the event mask the
 *    interrupted code had.
 *  - the timed loops keep their state in callee-saved registers (rbx result OR, rbp,
 *    r14, r15 arguments, r12 counter, r13 start TSC) and reload argument registers
 *    every iteration; a loop and its twin differ by exactly the `call` into the page.
 */
#include <ApusPublic/hypercalls.h>
#include <ApusPublic/event_channel.h>
#include <ApusPublic/sched_op.h>
#include "smp.h"

#define STUB(nr) (hypercall_page + (nr) * HYPERCALL_STUB_BYTES)

    .text
/* First instruction of a secondary vCPU: rdi and rsi come from its initial context. */
    .globl smp_secondary_entry
    .type smp_secondary_entry, @function
smp_secondary_entry:
    cld
    xorl %ebp, %ebp
    call smp_secondary_main
1:  jmp 1b
    .size smp_secondary_entry, . - smp_secondary_entry

/* Event upcall of every vCPU: RCX, R11, RIP, CS, RFLAGS, RSP, SS on the current stack. */
    .globl smp_event_entry
    .type smp_event_entry, @function
smp_event_entry:
    popq %rcx
    popq %r11
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
    call smp_upcall
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
    pushq $0
    jmp STUB(__HYPERVISOR_iret)
    .size smp_event_entry, . - smp_event_entry

/* #BP from a secondary's initial trap table: RCX, R11, RIP (after int3), CS, ... */
    .globl smp_breakpoint_entry
smp_breakpoint_entry:
    popq %rcx
    popq %r11
    lock incq smp_breakpoints(%rip)
    pushq $0
    jmp STUB(__HYPERVISOR_iret)

#define KIND_SEND  0
#define KIND_YIELD 1

/* TIMED_LOOP name, kind, op: op 1 the measured loop, 0 its twin without the call. */
.macro TIMED_LOOP name, kind, op
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
    .if \kind == KIND_SEND
    lock andq %r15, (%r14)
    movl $EVTCHNOP_send, %edi
    movq %rbp, %rsi
    .if \op
    call STUB(__HYPERVISOR_event_channel_op)
    .endif
    .else
    movl $SCHEDOP_yield, %edi
    xorl %esi, %esi
    .if \op
    call STUB(__HYPERVISOR_sched_op)
    .endif
    .endif
    orq %rax, %rbx
    decq %r12
    jnz 1b
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    subq %r13, %rax
    movq %rbx, smp_bench_result_or(%rip)
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret
    .size \name, . - \name
.endm

    TIMED_LOOP smp_bench_send, KIND_SEND, 1
    TIMED_LOOP smp_bench_send_empty, KIND_SEND, 0
    TIMED_LOOP smp_bench_yield, KIND_YIELD, 1
    TIMED_LOOP smp_bench_yield_empty, KIND_YIELD, 0

    .data
    .balign 8
    .globl smp_breakpoints, smp_bench_result_or
smp_breakpoints:     .quad 0
smp_bench_result_or: .quad 0

    .bss
    .balign 4096
    .globl smp_stacks, smp_records, smp_ports, smp_context
smp_stacks:  .skip SMP_MAX_VCPUS * SMP_STACK_BYTES
smp_records: .skip SMP_MAX_VCPUS * SMP_RECORD_WORDS * 8
smp_ports:   .skip SMP_PORT_FIELDS * SMP_PORTS * 8
    .balign 4096
smp_context: .skip SMP_CONTEXT_BYTES
