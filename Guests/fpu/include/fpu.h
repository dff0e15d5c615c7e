/*
 * fpu.h: the fpu guest's probes (fpu.S). Each has a label at its one instruction
 * that may trap (<name>_insn); a #NM handler that returns re-runs that instruction,
 * a fixup (arming <name>_insn to fpu_fixup) makes the probe return FPU_FAULTED.
 * The Swift code of the guest is built without SSE, so these are the only FPU
 * instructions the guest executes.
 */
#ifndef FPU_FPU_H
#define FPU_FPU_H
#include <stdint.h>

#define FPU_FAULTED 0xFA17FA17FA17FA17ULL

uint64_t fpu_sse_write(uint64_t value);   /* movq value -> %xmm1; returns 0 */
uint64_t fpu_sse_read(void);              /* movq %xmm1 -> result */
uint64_t fpu_x87_push(const uint64_t *v); /* fildq: st(0) = *v; returns 0 */
uint64_t fpu_x87_pop(uint64_t *v);        /* fistpq: *v = st(0), popped; returns 0 */
uint64_t fpu_read_cr0(void);              /* mov %cr0, %rax */
uint64_t fpu_write_cr0(uint64_t value);   /* mov value, %cr0; returns 0 */
uint64_t fpu_clts(void);                  /* clts; returns 0 */
uint64_t fpu_fninit(void);                /* fninit; returns 0 */

extern uint8_t fpu_sse_write_insn[1], fpu_sse_read_insn[1], fpu_x87_push_insn[1], fpu_x87_pop_insn[1];
extern uint8_t fpu_read_cr0_insn[1], fpu_write_cr0_insn[1], fpu_clts_insn[1], fpu_fninit_insn[1];
extern uint8_t fpu_fixup[1];

#define FPU_ADDRESS(symbol) \
    static inline __attribute__((always_inline)) uint64_t symbol##_address(void) { return (uint64_t)symbol; }
FPU_ADDRESS(fpu_sse_write_insn)
FPU_ADDRESS(fpu_sse_read_insn)
FPU_ADDRESS(fpu_x87_push_insn)
FPU_ADDRESS(fpu_x87_pop_insn)
FPU_ADDRESS(fpu_read_cr0_insn)
FPU_ADDRESS(fpu_write_cr0_insn)
FPU_ADDRESS(fpu_clts_insn)
FPU_ADDRESS(fpu_fninit_insn)
FPU_ADDRESS(fpu_fixup)
#undef FPU_ADDRESS
#endif
