/*
 * smp.h: the smp guest's assembly (smp.S) and its cross-vCPU memory, as C declares
 * them for Swift; usable from assembly for the constants.
 *
 * Memory every vCPU of the guest shares (all of it in smp.S's .bss, zeroed at start):
 *  - smp_records: one record of SMP_RECORD_WORDS 64-bit words per vCPU (Records.swift
 *    names the words): its mailbox for commands from vCPU 0, the results, and what it
 *    saw when it started. Word 0 holds the record's own address, so `%gs:0` on a vCPU
 *    whose GS base is its record reads that address back.
 *  - smp_ports: per event-channel port (below SMP_PORTS), SMP_PORT_FIELDS words.
 *  - smp_stacks: one SMP_STACK_BYTES stack per secondary vCPU (slot 0 unused: vCPU 0
 *    keeps start.S's stack). A vCPU is identified by the stack it runs on, which is
 *    what the upcall handler uses to tell which vCPU an event was delivered to.
 * Every access to shared words goes through the __atomic helpers below (sequentially
 * consistent), never through a plain Swift load that the optimiser may hoist.
 *
 * Entry points (smp.S): smp_secondary_entry (rip of a secondary's first context: calls
 * smp_secondary_main(rdi, rsi) on the stack it was given), smp_event_entry (the event
 * callback of every vCPU: saves the registers, calls smp_upcall(), returns through
 * HYPERVISOR_iret), smp_breakpoint_entry (#BP of a secondary's initial trap table:
 * counts in smp_breakpoints and returns).
 */
#ifndef SMP_GUEST_SMP_H
#define SMP_GUEST_SMP_H

#define SMP_MAX_VCPUS     8
#define SMP_STACK_BYTES   16384
#define SMP_RECORD_WORDS  64
#define SMP_PORTS         128
#define SMP_PORT_FIELDS   5
#define SMP_CONTEXT_BYTES 8192

#ifndef __ASSEMBLER__
#include <stdint.h>
#include <ApusPublic/ApusPublic.h>

extern uint8_t smp_stacks[SMP_MAX_VCPUS * SMP_STACK_BYTES];
extern uint64_t smp_records[SMP_MAX_VCPUS * SMP_RECORD_WORDS];
extern uint64_t smp_ports[SMP_PORT_FIELDS * SMP_PORTS];
extern uint8_t smp_context[SMP_CONTEXT_BYTES];
extern uint64_t smp_breakpoints;
extern uint8_t smp_secondary_entry[1];
extern uint8_t smp_event_entry[1];
extern uint8_t smp_breakpoint_entry[1];

#define SMP_INLINE static inline __attribute__((always_inline))

SMP_INLINE uint64_t smp_secondary_entry_address(void) { return (uint64_t)smp_secondary_entry; }
SMP_INLINE uint64_t smp_event_entry_address(void) { return (uint64_t)smp_event_entry; }
SMP_INLINE uint64_t smp_breakpoint_entry_address(void) { return (uint64_t)smp_breakpoint_entry; }
SMP_INLINE uint64_t smp_records_address(void) { return (uint64_t)smp_records; }
SMP_INLINE uint64_t smp_ports_address(void) { return (uint64_t)smp_ports; }
SMP_INLINE uint64_t smp_breakpoints_address(void) { return (uint64_t)&smp_breakpoints; }
SMP_INLINE struct vcpu_guest_context *smp_context_buffer(void) {
    return (struct vcpu_guest_context *)smp_context;
}
SMP_INLINE struct trap_info *smp_context_trap(struct vcpu_guest_context *context, uint32_t vector) {
    return &context->trap_ctxt[vector & 0xFF];
}

/* Top of the stack of secondary vCPU `vcpu` (16-byte aligned). */
SMP_INLINE uint64_t smp_stack_top(uint64_t vcpu) {
    return (uint64_t)smp_stacks + (vcpu + 1) * SMP_STACK_BYTES;
}

/* The vCPU whose stack the caller runs on (0: not a secondary's stack). */
SMP_INLINE uint64_t smp_current_vcpu(void) {
    uint64_t rsp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
    uint64_t base = (uint64_t)smp_stacks;
    if (rsp <= base || rsp > base + SMP_MAX_VCPUS * SMP_STACK_BYTES) return 0;
    return (rsp - 1 - base) / SMP_STACK_BYTES;
}

SMP_INLINE uint64_t smp_rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high) : : "memory");
    return ((uint64_t)high << 32) | low;
}

SMP_INLINE uint64_t smp_read_cs(void) {
    uint64_t value = 0;
    __asm__ volatile("movw %%cs, %w0" : "+r"(value));
    return value & 0xFFFF;
}
SMP_INLINE uint64_t smp_read_ss(void) {
    uint64_t value = 0;
    __asm__ volatile("movw %%ss, %w0" : "+r"(value));
    return value & 0xFFFF;
}
/* The 8 bytes at GS base + 0. */
SMP_INLINE uint64_t smp_read_gs0(void) {
    uint64_t value;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(value) : : "memory");
    return value;
}
/* int3: bounced through the vCPU's virtual IDT (vector 3). */
SMP_INLINE void smp_int3(void) { __asm__ volatile("int3" : : : "memory"); }
SMP_INLINE void smp_pause(void) { __asm__ volatile("pause" : : : "memory"); }

/* Sequentially consistent operations on shared words, by address. */
SMP_INLINE uint64_t smp_load64(uint64_t address) {
    return __atomic_load_n((uint64_t *)address, __ATOMIC_SEQ_CST);
}
SMP_INLINE void smp_store64(uint64_t address, uint64_t value) {
    __atomic_store_n((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
SMP_INLINE uint64_t smp_fetch_add64(uint64_t address, uint64_t value) {
    return __atomic_fetch_add((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
SMP_INLINE uint64_t smp_fetch_and64(uint64_t address, uint64_t value) {
    return __atomic_fetch_and((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
SMP_INLINE uint64_t smp_fetch_or64(uint64_t address, uint64_t value) {
    return __atomic_fetch_or((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
SMP_INLINE uint64_t smp_exchange64(uint64_t address, uint64_t value) {
    return __atomic_exchange_n((uint64_t *)address, value, __ATOMIC_SEQ_CST);
}
SMP_INLINE uint8_t smp_load8(uint64_t address) {
    return __atomic_load_n((uint8_t *)address, __ATOMIC_SEQ_CST);
}
SMP_INLINE void smp_store8(uint64_t address, uint8_t value) {
    __atomic_store_n((uint8_t *)address, value, __ATOMIC_SEQ_CST);
}

/*
 * Benchmark loops (smp.S), the protocol of Guests/bench/include/loops.h: loop(n, a, b,
 * c) runs n iterations and returns the TSC delta around them; the `_empty` twin is the
 * same code without the hypercall; smp_bench_result() is the OR of every result.
 *   smp_bench_send    per iteration: `lock and` c into the word at b (clears a pending
 *                     bit), then event_channel_op(EVTCHNOP_send, a)
 *   smp_bench_yield   sched_op(SCHEDOP_yield, NULL); a, b, c unused
 */
uint64_t smp_bench_send(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t smp_bench_send_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t smp_bench_yield(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t smp_bench_yield_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
extern uint64_t smp_bench_result_or;
SMP_INLINE uint64_t smp_bench_result(void) { return smp_bench_result_or; }

#endif /* !__ASSEMBLER__ */
#endif /* SMP_GUEST_SMP_H */
