/*
 * probes.h: the faulting probes of the traps guest (probes.S), by number.
 *
 * A probe saves the callee-saved registers, records rsp in probe_rsp, loads every
 * general register with PROBE_PATTERN(index), executes one instruction at its fault
 * label, and at its resume label stores every register into probe_after before
 * returning. The guest's trap hook resumes at the resume label, so probe_after shows
 * what the trap path preserved; the trap record shows what the handler saw.
 * Register index order: rax rbx rcx rdx rsi rdi rbp r8 r9 r10 r11 r12 r13 r14 r15.
 */
#ifndef TRAPS_PROBES_H
#define TRAPS_PROBES_H

#define PROBE_PATTERN(i) (0x7E57000000000000 + (i) * 0x0001000100010001)

#define PROBE_UD2          0  /* ud2 */
#define PROBE_DIVIDE       1  /* divq of a zero in memory */
#define PROBE_INT3         2  /* int3 (one byte) */
#define PROBE_HLT          3
#define PROBE_CLI          4
#define PROBE_STI          5
#define PROBE_INT80        6  /* int $0x80 */
#define PROBE_INT81        7  /* int $0x81 */
#define PROBE_INT90        8  /* int $0x90: a vector with no trap-table entry */
#define PROBE_READ_LOW     9  /* read 0xdead000 (nothing mapped in the lower half) */
#define PROBE_WRITE_M2P    10 /* write the read-only machine-to-phys table */
#define PROBE_READ_XEN     11 /* read the hypervisor's direct map */
#define PROBE_UD2_PADDED   12 /* ud2 with rsp one word lower */
#define PROBE_READ_LOW_PADDED 13 /* read 0xdead000 with rsp one word lower */
#define PROBE_COUNT        14

#define PROBE_LOW_ADDRESS  0xdead000
#define PROBE_M2P_ADDRESS  0xFFFF800000000000
#define PROBE_XEN_ADDRESS  0xFFFF830000000000

#ifndef __ASSEMBLER__
#include <stdint.h>

/* probe n: { entry, fault label, resume label } */
extern const uint64_t probe_table[PROBE_COUNT][3];
extern uint64_t probe_rsp;
extern uint64_t probe_after[15];

static inline __attribute__((always_inline)) void probe_run(uint32_t probe) {
    ((void (*)(void))probe_table[probe][0])();
}
static inline __attribute__((always_inline)) uint64_t probe_fault(uint32_t probe) {
    return probe_table[probe][1];
}
static inline __attribute__((always_inline)) uint64_t probe_resume(uint32_t probe) {
    return probe_table[probe][2];
}
static inline __attribute__((always_inline)) uint64_t probe_rsp_value(void) { return probe_rsp; }
static inline __attribute__((always_inline)) uint64_t probe_after_value(uint32_t index) {
    return probe_after[index];
}
#endif
#endif
