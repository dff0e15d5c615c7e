/*
 * isolation.h: the isolation guest's probes (probes.S) and the grant-table operations
 * it misuses (their layouts as the Xen public ABI defines them for 64-bit guests).
 *
 * A probe that may fault has a label at the faulting instruction (<name>_fault); the
 * guest arms the runtime's fixup there (Traps.arm) to resume at the probe's fixup,
 * which makes it return ISO_FAULTED.
 */
#ifndef ISOLATION_H
#define ISOLATION_H
#include <stdint.h>

#define ISO_FAULTED 1
#define ISO_GATE_TAKEN 2

/* lcallq through GDT/LDT selector `selector` (a call gate): 0 never (the call does not
 * come back that way), ISO_GATE_TAKEN if the gate was taken (its target is
 * iso_gate_landing, which far-returns), ISO_FAULTED if the call faulted. */
uint64_t iso_far_call(uint64_t selector);
/* lretq to selector:iso_far_return_landing, which reads %cs and far-returns to
 * FLAT_KERNEL_CS: the %cs seen there, or ISO_FAULTED. */
uint64_t iso_far_return(uint64_t selector);
/* int $0x20: returns 0 once the handler resumed it. */
uint64_t iso_int20(void);
/* %cs now. */
uint64_t iso_read_cs(void);
/* mov %di, %fs: 0, or ISO_FAULTED. */
uint64_t iso_load_fs(uint64_t selector);

extern uint8_t iso_far_call_fault[1], iso_far_call_fixup[1], iso_gate_landing[1];
extern uint8_t iso_far_return_fault[1], iso_far_return_fixup[1];
extern uint8_t iso_int20_after[1];
extern uint8_t iso_load_fs_fault[1], iso_load_fs_fixup[1];

#define ISO_ADDRESS(symbol) \
    static inline __attribute__((always_inline)) uint64_t symbol##_address(void) { return (uint64_t)symbol; }
ISO_ADDRESS(iso_far_call_fault)
ISO_ADDRESS(iso_far_call_fixup)
ISO_ADDRESS(iso_gate_landing)
ISO_ADDRESS(iso_far_return_fault)
ISO_ADDRESS(iso_far_return_fixup)
ISO_ADDRESS(iso_int20_after)
ISO_ADDRESS(iso_load_fs_fault)
ISO_ADDRESS(iso_load_fs_fixup)
#undef ISO_ADDRESS

/* GNTMAP_* (gnttab_map_grant_ref.flags) and GNTCOPY_* (gnttab_copy.flags). */
#define ISO_GNTMAP_host_map     (1 << 1)
#define ISO_GNTMAP_readonly     (1 << 2)
#define ISO_GNTCOPY_source_gref (1 << 0)
#define ISO_GNTCOPY_dest_gref   (1 << 1)

struct iso_gnttab_map_grant_ref {
    uint64_t host_addr;
    uint32_t flags;
    uint32_t ref;
    uint16_t dom;
    int16_t status;
    uint32_t handle;
    uint64_t dev_bus_addr;
};
_Static_assert(sizeof(struct iso_gnttab_map_grant_ref) == 32, "map_grant_ref size");

struct iso_gnttab_unmap_grant_ref {
    uint64_t host_addr;
    uint64_t dev_bus_addr;
    uint32_t handle;
    int16_t status;
    uint16_t _pad;
};
_Static_assert(sizeof(struct iso_gnttab_unmap_grant_ref) == 24, "unmap_grant_ref size");

struct iso_gnttab_copy_ptr {
    uint64_t ref_or_gmfn;   /* a grant reference, or a frame when the flag is clear */
    uint16_t domid;
    uint16_t offset;
    uint32_t _pad;
};
struct iso_gnttab_copy {
    struct iso_gnttab_copy_ptr source, dest;
    uint16_t len;
    uint16_t flags;
    int16_t status;
    uint16_t _pad;
};
_Static_assert(sizeof(struct iso_gnttab_copy) == 40, "gnttab_copy size");
#endif
