/*
 * iret.h: HYPERVISOR_iret with a chosen CS and SS (iret.S), for what the hypervisor
 * does with a return frame it cannot use.
 *
 * cb_iret_to(cs, ss) builds an iret frame that returns to its own cb_iret_target with
 * the current rsp, RFLAGS 0x2 (IF clear: events stay masked) and the given selectors,
 * and makes the iret hypercall; at the target it returns 0. A trap handler that
 * catches a failed return resumes at cb_iret_fixup with rsp = the frame's rsp: it
 * returns 1.
 */
#ifndef CALLBACKS_IRET_H
#define CALLBACKS_IRET_H
#include <stdint.h>

uint64_t cb_iret_to(uint64_t cs, uint64_t ss);
extern uint8_t cb_iret_target[1], cb_iret_fixup[1];
static inline __attribute__((always_inline)) uint64_t cb_iret_target_address(void) {
    return (uint64_t)cb_iret_target;
}
static inline __attribute__((always_inline)) uint64_t cb_iret_fixup_address(void) {
    return (uint64_t)cb_iret_fixup;
}
#endif
