/*
 * loops.h: the bench guest's timed loops (loops.S).
 *
 * Every loop has the same C signature: uint64_t loop(n, a, b, c) runs n iterations
 * and returns the TSC delta around them (under -icount shift=0: instructions retired by
 * the guest and the hypervisor together). Each measured loop has an `_empty` twin that
 * is the same code without the one instruction being measured (the `call` into the
 * hypercall page, or the `ud2`), so (loop - empty) / n is the cost of that operation
 * alone. Both leave in bench_result_or the OR of every value the operation returned in
 * rax (0 for the twin), so the guest can check that no call failed.
 *   bench_null       xen_version(XENVER_version, NULL)            a, b, c unused
 *   bench_enosys     hypercall 11 (unused by Xen and Apus)        a, b, c unused
 *   bench_multicall  multicall(a, 8)                              a = entry array
 *   bench_uva        update_va_mapping(a, pte, UVMF_INVLPG), pte alternating b, c
 *   bench_trap       ud2, bounced to bench_ud_entry, which steps over it and returns
 *                    with HYPERVISOR_iret (counting in bench_ud_count)
 *   bench_mmu1       mmu_update(req, 1, NULL, DOMID_SELF), req alternating b, c
 *   bench_mmu512     mmu_update(req, 512, NULL, DOMID_SELF), req alternating b, c
 *   bench_mmuext2    mmuext_op(a, 2, NULL, DOMID_SELF) (a pin and an unpin)
 *   bench_gntmap     grant_table_op(map_grant_ref, a, 1) then (unmap_grant_ref, b, 1)
 */
#ifndef BENCH_LOOPS_H
#define BENCH_LOOPS_H

#define BENCH_UNUSED_HYPERCALL 11
#define BENCH_MULTICALL_ENTRIES 8

#ifndef __ASSEMBLER__
#include <stdint.h>

uint64_t bench_null(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_null_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_enosys(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_enosys_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_multicall(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_multicall_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_uva(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_uva_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_trap(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_trap_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmu1(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmu1_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmu512(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmu512_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmuext2(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_mmuext2_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_gntmap(uint64_t n, uint64_t a, uint64_t b, uint64_t c);
uint64_t bench_gntmap_empty(uint64_t n, uint64_t a, uint64_t b, uint64_t c);

/* rdtsc, mov, rdtsc: 2 under -icount shift=0 when rdtsc runs natively (not trapped). */
uint64_t bench_rdtsc_pair(void);

extern uint64_t bench_result_or;
extern uint64_t bench_ud_count;
extern uint8_t bench_ud_entry[1];

static inline __attribute__((always_inline)) uint64_t bench_ud_entry_address(void) {
    return (uint64_t)bench_ud_entry;
}
static inline __attribute__((always_inline)) uint64_t bench_read_result_or(void) { return bench_result_or; }
static inline __attribute__((always_inline)) uint64_t bench_read_ud_count(void) { return bench_ud_count; }
static inline __attribute__((always_inline)) uint64_t bench_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#endif
#endif
