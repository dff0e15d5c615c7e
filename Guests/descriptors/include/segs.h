/*
 * segs.h: segment-register probes of the descriptors guest (segs.S).
 *
 * A probe that may fault has a label at the faulting instruction (<name>_fault); the
 * guest arms the runtime's fixup there (Traps.arm) to resume at seg_fixup, which makes
 * the probe return 1 (SEG_FAULTED). Otherwise a load returns 0 and a read its value.
 */
#ifndef DESCRIPTORS_SEGS_H
#define DESCRIPTORS_SEGS_H
#include <stdint.h>

#define SEG_FAULTED 1

/* mov %di, %ds / %es / %fs: 0, or 1 when the load faulted. */
uint64_t seg_load_ds(uint64_t selector);
uint64_t seg_load_es(uint64_t selector);
uint64_t seg_load_fs(uint64_t selector);
/* The visible selector of %ds / %es / %fs / %cs. */
uint64_t seg_read_ds(void);
uint64_t seg_read_es(void);
uint64_t seg_read_fs(void);
/* movq (%rdi) through %ds, %es or %fs: the value (the fixup returns 1). */
uint64_t seg_read_via_ds(uint64_t offset);
uint64_t seg_read_via_es(uint64_t offset);
uint64_t seg_read_via_fs(uint64_t offset);
/* lar / lsl: the result, or ~0 when the instruction reports ZF = 0 (not accessible). */
uint64_t seg_lar(uint64_t selector);
uint64_t seg_lsl(uint64_t selector);
/*
 * Far return into code selector `selector` (lretq), read %cs there, far return to
 * FLAT_KERNEL_CS: the %cs seen in between, or 1 when the first lretq faulted (arm
 * seg_visit_cs_fault with seg_visit_fixup).
 */
uint64_t seg_visit_cs(uint64_t selector);

extern uint8_t seg_load_ds_fault[1], seg_load_es_fault[1], seg_load_fs_fault[1];
extern uint8_t seg_read_via_ds_fault[1], seg_read_via_es_fault[1], seg_read_via_fs_fault[1];
extern uint8_t seg_visit_cs_fault[1];
extern uint8_t seg_fixup[1], seg_visit_fixup[1];

#define SEG_ADDRESS(symbol) \
    static inline __attribute__((always_inline)) uint64_t symbol##_address(void) { return (uint64_t)symbol; }
SEG_ADDRESS(seg_load_ds_fault)
SEG_ADDRESS(seg_load_es_fault)
SEG_ADDRESS(seg_load_fs_fault)
SEG_ADDRESS(seg_read_via_ds_fault)
SEG_ADDRESS(seg_read_via_es_fault)
SEG_ADDRESS(seg_read_via_fs_fault)
SEG_ADDRESS(seg_visit_cs_fault)
SEG_ADDRESS(seg_fixup)
SEG_ADDRESS(seg_visit_fixup)
#undef SEG_ADDRESS
#endif
