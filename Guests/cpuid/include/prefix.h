/*
 * prefix.h: the forced-emulation prefix followed by something other than cpuid
 * (prefix.S): `ud2; .ascii "xen"; nop`. prefix_not_cpuid_fault is the ud2,
 * prefix_not_cpuid_resume the instruction after the nop.
 */
#ifndef CPUID_PREFIX_H
#define CPUID_PREFIX_H
#include <stdint.h>

void prefix_not_cpuid(void);
extern uint8_t prefix_not_cpuid_fault[1];
extern uint8_t prefix_not_cpuid_resume[1];

static inline __attribute__((always_inline)) uint64_t prefix_fault_address(void) {
    return (uint64_t)prefix_not_cpuid_fault;
}
static inline __attribute__((always_inline)) uint64_t prefix_resume_address(void) {
    return (uint64_t)prefix_not_cpuid_resume;
}
#endif
