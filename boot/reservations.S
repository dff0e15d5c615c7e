/*
 * boot/reservations.S: fixed-size memory Apus needs before it has an allocator.
 * Zeroed .bss; sizes come from boot/layout.h. Swift reaches them through x86.h.
 */
#include "layout.h"

    .bss

/* The boot CPU's stack, with an unmapped guard page below it (HypervisorPageTables
 * leaves it out) so that an overflow faults instead of overwriting .bss. */
    .balign 4096
    .globl apus_stack_guard, boot_stack_bottom, boot_stack_top
apus_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .balign 4096
    .globl apus_console_ring
apus_console_ring:
    .skip CONSOLE_RING_SIZE

    .balign 4096
    .globl apus_page_table_pool, apus_page_table_pool_end
apus_page_table_pool:
    .skip PAGE_TABLE_POOL_PAGES * 4096
apus_page_table_pool_end:

/* Per CPU (MAX_CPUS of each, CPU n at base + n * size): three IST stacks (NMI, #DF, #MC). */
    .balign 4096
    .globl apus_ist_stacks, apus_ist_stacks_end
apus_ist_stacks:
    .skip MAX_CPUS * 3 * IST_STACK_SIZE
apus_ist_stacks_end:

/* Per CPU: the GDT area, 16 pages as in Xen: entries 0-0x1BFF show the running vCPU's own
 * GDT frames (SegmentDescriptors maps them there), Apus's entries from 0x1C00 (selector 0xe000). */
    .balign 4096
    .globl apus_gdt_area
apus_gdt_area:
    .skip MAX_CPUS * 16 * 4096

    .balign 4096
    .globl apus_idt
apus_idt:
    .skip 256 * 16

/* Per CPU: the TSS (128 bytes each). */
    .balign 64
    .globl apus_tss
apus_tss:
    .skip MAX_CPUS * 128

/* Apus's copy of the boot loader's command line (Xen's limit is 1024 bytes too). */
    .globl apus_command_line
apus_command_line:
    .skip COMMAND_LINE_SIZE

/* Per CPU, CPU_STACK_STRIDE apart: a guard page, then the stack the CPU switches to when a
 * guest traps (TSS.RSP0) or makes a syscall; every hypercall, bounce and the CPU's idle
 * loop run on it. Which stack RSP is in tells Swift which CPU it runs on (PerCPU.swift). */
    .balign CPU_STACK_STRIDE
    .globl apus_cpu_stacks, apus_cpu_stacks_end
apus_cpu_stacks:
    .skip MAX_CPUS * CPU_STACK_STRIDE
apus_cpu_stacks_end:

/* Per CPU: the window the CPU reads the running vCPU's LDT through: 16 pages (8192
 * descriptors) that Apus maps on first use to the guest's own LDT frames, after checking
 * them (SegmentDescriptors.swift). Unmapped until then, so a use faults into Apus. */
    .balign 4096
    .globl apus_ldt_area
apus_ldt_area:
    .skip MAX_CPUS * 16 * 4096
