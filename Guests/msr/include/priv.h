/*
 * priv.h: privileged and sensitive instructions of the msr guest (priv.S), each a
 * function whose one interesting instruction has a label (<name>_insn). A PV kernel
 * runs in ring 3, so these fault in hardware; the hypervisor either emulates them (the
 * guest sees no trap) or bounces the #GP. The guest arms <name>_insn to resume at
 * priv_fixup, which returns PRIV_FAULTED, and counts traps to tell the two apart.
 */
#ifndef MSR_PRIV_H
#define MSR_PRIV_H
#include <stdint.h>

#define PRIV_FAULTED 0xFA17FA17FA17FA17ULL

uint64_t priv_rdmsr(uint32_t msr);                  /* edx:eax */
uint64_t priv_wrmsr(uint32_t msr, uint64_t value);  /* 0 */
uint64_t priv_inb(uint32_t port);
uint64_t priv_inl(uint32_t port);
uint64_t priv_outb(uint32_t port, uint32_t value);  /* 0 */
uint64_t priv_outl(uint32_t port, uint32_t value);  /* 0 */
uint64_t priv_inb_0x80(void);                       /* in $0x80, %al (immediate form) */
uint64_t priv_outb_0x80(uint32_t value);            /* out %al, $0x80; 0 */
uint64_t priv_rdtsc(void);
uint64_t priv_hlt(void);                            /* 0 */
uint64_t priv_wbinvd(void);                         /* 0 */
uint64_t priv_read_cr2(void);
uint64_t priv_read_cr3(void);
uint64_t priv_read_cr4(void);
uint64_t priv_read_dr7(void);

#define PRIV_LABEL(name) \
    extern uint8_t name##_insn[1]; \
    static inline __attribute__((always_inline)) uint64_t name##_insn_address(void) { return (uint64_t)name##_insn; }
PRIV_LABEL(priv_rdmsr)
PRIV_LABEL(priv_wrmsr)
PRIV_LABEL(priv_inb)
PRIV_LABEL(priv_inl)
PRIV_LABEL(priv_outb)
PRIV_LABEL(priv_outl)
PRIV_LABEL(priv_inb_0x80)
PRIV_LABEL(priv_outb_0x80)
PRIV_LABEL(priv_rdtsc)
PRIV_LABEL(priv_hlt)
PRIV_LABEL(priv_wbinvd)
PRIV_LABEL(priv_read_cr2)
PRIV_LABEL(priv_read_cr3)
PRIV_LABEL(priv_read_cr4)
PRIV_LABEL(priv_read_dr7)
#undef PRIV_LABEL
extern uint8_t priv_fixup[1];
static inline __attribute__((always_inline)) uint64_t priv_fixup_address(void) { return (uint64_t)priv_fixup; }
#endif
