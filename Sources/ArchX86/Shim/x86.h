/*
 * x86.h: the privileged instructions Apus uses, as static inline functions Swift can
 * call. Nothing else in Apus writes assembly outside boot/ and the entry stubs.
 *
 * Only the ArchX86 Swift module imports this header. Each wrapper is one instruction
 * (or an indivisible pair); policy lives in Swift. Clobbers: anything that changes how
 * memory is seen (CR3, INVLPG, LGDT, CLI/STI) says "memory" so the compiler cannot move
 * loads and stores across it.
 */
#ifndef APUS_X86_H
#define APUS_X86_H

#include <stdint.h>

#define X86_INLINE static inline __attribute__((always_inline))

/* Port I/O */
X86_INLINE void x86_outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
X86_INLINE void x86_outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
X86_INLINE void x86_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
X86_INLINE uint8_t x86_inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
X86_INLINE uint16_t x86_inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
X86_INLINE uint32_t x86_inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* CPUID: results through pointers because C structs by value are clumsy from Swift. */
X86_INLINE void x86_cpuid(uint32_t leaf, uint32_t subleaf,
                          uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}

/* MSRs */
X86_INLINE uint64_t x86_rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
X86_INLINE void x86_wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* Control registers */
X86_INLINE uint64_t x86_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
X86_INLINE void x86_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
X86_INLINE uint64_t x86_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
X86_INLINE uint64_t x86_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
X86_INLINE void x86_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
X86_INLINE uint64_t x86_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
X86_INLINE void x86_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
X86_INLINE void x86_clts(void) { __asm__ volatile("clts" ::: "memory"); }
X86_INLINE void x86_wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }
X86_INLINE void x86_invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" :: "r"(va) : "memory"); }

/* Locked bit operations on memory a guest shares (shared_info's event bitmaps). */
X86_INLINE _Bool x86_test_and_set_bit(uint64_t *word, unsigned bit) {
    unsigned char old;
    __asm__ volatile("lock btsq %2, %0; setc %1" : "+m"(*word), "=q"(old) : "r"((uint64_t)bit) : "memory", "cc");
    return old;
}
X86_INLINE _Bool x86_test_and_clear_bit(uint64_t *word, unsigned bit) {
    unsigned char old;
    __asm__ volatile("lock btrq %2, %0; setc %1" : "+m"(*word), "=q"(old) : "r"((uint64_t)bit) : "memory", "cc");
    return old;
}

/* Interrupt flag and halting */
X86_INLINE void x86_cli(void) { __asm__ volatile("cli" ::: "memory"); }
X86_INLINE void x86_sti(void) { __asm__ volatile("sti" ::: "memory"); }
X86_INLINE void x86_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
X86_INLINE void x86_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
X86_INLINE void x86_pause(void) { __asm__ volatile("pause"); }
/* Spin locks and counters shared between CPUs: one locked instruction each. */
X86_INLINE uint32_t x86_exchange32(volatile uint32_t *word, uint32_t value) {
    return __atomic_exchange_n(word, value, __ATOMIC_ACQUIRE);
}
X86_INLINE void x86_store_release32(volatile uint32_t *word, uint32_t value) {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}
X86_INLINE uint32_t x86_load_acquire32(const volatile uint32_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }
X86_INLINE uint64_t x86_load_acquire64(const volatile uint64_t *word) { return __atomic_load_n(word, __ATOMIC_ACQUIRE); }
X86_INLINE uint64_t x86_fetch_add64(volatile uint64_t *word, uint64_t value) {
    return __atomic_fetch_add(word, value, __ATOMIC_ACQ_REL);
}
X86_INLINE _Bool x86_compare_exchange32(volatile uint32_t *word, uint32_t expected, uint32_t desired) {
    return __atomic_compare_exchange_n(word, &expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
/* Words shared between CPUs (boot/ap.S): the hypervisor lock, and per CPU a TLB-flush
 * request flag, an "online" flag and a register-dump request flag (debug key 'd'). */
extern uint32_t apus_hypervisor_lock, apus_cpu_flush_requests, apus_cpu_online, apus_cpu_dump_requests;
X86_INLINE volatile uint32_t *x86_hypervisor_lock(void) { return &apus_hypervisor_lock; }
X86_INLINE volatile uint32_t *x86_cpu_flush_request(unsigned cpu) { return &apus_cpu_flush_requests + cpu; }
X86_INLINE volatile uint32_t *x86_cpu_online(unsigned cpu) { return &apus_cpu_online + cpu; }
X86_INLINE volatile uint32_t *x86_cpu_dump_request(unsigned cpu) { return &apus_cpu_dump_requests + cpu; }
extern uint64_t apus_cpu_current_vcpu;
X86_INLINE uint64_t x86_cpu_current_vcpu(unsigned cpu) { return (&apus_cpu_current_vcpu)[cpu & 7]; }
X86_INLINE void x86_set_cpu_current_vcpu(unsigned cpu, uint64_t record) { (&apus_cpu_current_vcpu)[cpu & 7] = record; }
X86_INLINE void x86_fence(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
/* The FPU/SSE state of a guest vCPU (512-byte, 16-byte-aligned area): boot/guest_state.S,
 * the only place Apus's image holds FPU instructions (check-image.sh knows). */
void apus_fpu_save(void *area);
void apus_fpu_restore(const void *area);
void apus_fpu_reset(void);
/* Loads a guest's ds, es, fs, gs; a selector that faults is replaced by null. */
void apus_load_data_selectors(uint16_t ds, uint16_t es, uint16_t fs, uint16_t gs);
extern char apus_selector_loads_start, apus_selector_loads_end;
X86_INLINE uint64_t x86_selector_loads_start(void) { return (uint64_t)(uintptr_t)&apus_selector_loads_start; }
X86_INLINE uint64_t x86_selector_loads_end(void) { return (uint64_t)(uintptr_t)&apus_selector_loads_end; }
/* Data segment selectors of a guest, saved and restored on a vCPU switch. */
X86_INLINE uint16_t x86_read_ds(void) { uint16_t v; __asm__ volatile("mov %%ds, %0" : "=r"(v)); return v; }
X86_INLINE uint16_t x86_read_es(void) { uint16_t v; __asm__ volatile("mov %%es, %0" : "=r"(v)); return v; }
X86_INLINE uint16_t x86_read_fs(void) { uint16_t v; __asm__ volatile("mov %%fs, %0" : "=r"(v)); return v; }
X86_INLINE uint16_t x86_read_gs(void) { uint16_t v; __asm__ volatile("mov %%gs, %0" : "=r"(v)); return v; }
X86_INLINE uint64_t x86_read_flags(void) { uint64_t f; __asm__ volatile("pushfq; popq %0" : "=r"(f)); return f; }

X86_INLINE uint64_t x86_read_rsp(void) { uint64_t v; __asm__ volatile("mov %%rsp, %0" : "=r"(v)); return v; }

/* Time */
X86_INLINE uint64_t x86_rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Descriptor tables. The pointer structure is packed: limit then base. */
struct __attribute__((packed)) x86_table_pointer { uint16_t limit; uint64_t base; };
X86_INLINE void x86_lgdt(const struct x86_table_pointer *p) { __asm__ volatile("lgdt (%0)" :: "r"(p) : "memory"); }
X86_INLINE void x86_lidt(const struct x86_table_pointer *p) { __asm__ volatile("lidt (%0)" :: "r"(p) : "memory"); }
X86_INLINE void x86_ltr(uint16_t selector) { __asm__ volatile("ltr %0" :: "r"(selector) : "memory"); }
X86_INLINE void x86_lldt(uint16_t selector) { __asm__ volatile("lldt %0" :: "r"(selector) : "memory"); }

/* Reload CS (far return) and the data segments after a new GDT; in boot/entry.S. */
void x86_reload_segments(uint16_t code_selector, uint16_t data_selector);

/* A deliberate triple fault: the last resort of reset. */
X86_INLINE void x86_triple_fault(void) {
    struct x86_table_pointer none = { 0, 0 };
    __asm__ volatile("lidt (%0); int3" :: "r"(&none) : "memory");
}

/* Addresses the linker script defines. Declared as single chars: Swift cannot import
 * incomplete arrays (embedded-swift-notes §4). */
extern char __image_start_phys, __text_start, __text_end, __rodata_start, __rodata_end;
extern char __data_start, __data_end, __bss_start, __bss_end, __symbols_start, __image_end;
extern char boot_stack_bottom, boot_stack_top, apus_stack_guard;
extern char __build_id_note, __build_id_note_end, apus_ldt_area;
extern char apus_cpu_stacks, apus_cpu_stacks_end;
extern char apus_symbol_table, apus_symbol_table_end, apus_console_ring, apus_page_table_pool, apus_page_table_pool_end;
extern char apus_ist_stacks, apus_ist_stacks_end, apus_gdt_area, apus_idt, apus_tss, apus_command_line;
#define X86_LINKER_ADDRESS(name) \
    X86_INLINE uint64_t x86_##name(void) { return (uint64_t)(uintptr_t)&name; }
X86_LINKER_ADDRESS(__image_start_phys)
X86_LINKER_ADDRESS(__text_start)
X86_LINKER_ADDRESS(__text_end)
X86_LINKER_ADDRESS(__rodata_start)
X86_LINKER_ADDRESS(__rodata_end)
X86_LINKER_ADDRESS(__data_start)
X86_LINKER_ADDRESS(__data_end)
X86_LINKER_ADDRESS(__bss_start)
X86_LINKER_ADDRESS(__bss_end)
X86_LINKER_ADDRESS(__symbols_start)
X86_LINKER_ADDRESS(__image_end)
X86_LINKER_ADDRESS(boot_stack_bottom)
X86_LINKER_ADDRESS(boot_stack_top)
X86_LINKER_ADDRESS(apus_stack_guard)
X86_LINKER_ADDRESS(__build_id_note)
X86_LINKER_ADDRESS(apus_ldt_area)
X86_LINKER_ADDRESS(__build_id_note_end)
X86_LINKER_ADDRESS(apus_cpu_stacks)
X86_LINKER_ADDRESS(apus_cpu_stacks_end)
X86_LINKER_ADDRESS(apus_symbol_table)
X86_LINKER_ADDRESS(apus_symbol_table_end)
X86_LINKER_ADDRESS(apus_console_ring)
X86_LINKER_ADDRESS(apus_page_table_pool)
X86_LINKER_ADDRESS(apus_page_table_pool_end)
X86_LINKER_ADDRESS(apus_ist_stacks)
X86_LINKER_ADDRESS(apus_ist_stacks_end)
X86_LINKER_ADDRESS(apus_gdt_area)
X86_LINKER_ADDRESS(apus_idt)
X86_LINKER_ADDRESS(apus_tss)
X86_LINKER_ADDRESS(apus_command_line)

#include "trapframe.h"

#endif
