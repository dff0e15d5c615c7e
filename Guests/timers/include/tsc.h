/*
 * tsc.h: reading the TSC for the timers guest. Swift has no inline assembly; rdtsc is
 * a static inline function the compiler inlines. The "memory" clobber keeps loads of
 * vcpu_time_info from moving across it, so a TSC value and the fields it is paired
 * with come from the same moment.
 */
#ifndef TIMERS_TSC_H
#define TIMERS_TSC_H
#include <stdint.h>

static inline __attribute__((always_inline)) uint64_t tm_rdtsc(void) {
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high) : : "memory");
    return ((uint64_t)high << 32) | low;
}
#endif
