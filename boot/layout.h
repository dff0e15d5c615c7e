/*
 * Apus's virtual memory layout, shared by the boot assembly, the linker script (through
 * the C preprocessor) and Swift (through the ArchX86 shim).
 *
 * The 64-bit PV ABI leaves 0xFFFF800000000000-0xFFFF87FFFFFFFFFF to the hypervisor in
 * every address space; Apus lives only there, at the same places Xen uses, so guests and
 * people reading addresses in logs find things where they expect them:
 *
 *   0xFFFF800000000000  read-only machine-to-phys table for guests   (later issues)
 *   0xFFFF82D040000000  image window: virtual = physical + IMAGE_VIRT_OFFSET for the
 *                        first GiB of RAM; the image itself is loaded at 2 MiB
 *   0xFFFF830000000000  direct map of all physical memory (DIRECTMAP_VIRT_START)
 */
#ifndef APUS_LAYOUT_H
#define APUS_LAYOUT_H

#define IMAGE_PHYS_BASE      0x200000
#define IMAGE_VIRT_OFFSET    0xFFFF82D040000000
#define DIRECTMAP_VIRT_START 0xFFFF830000000000
#define DIRECTMAP_VIRT_END   0xFFFF880000000000

/* Stacks: the boot CPU's main stack and one IST stack each for NMI, #DF and #MC.
 * Boot-time code keeps large fixed-capacity tables (memory map, ACPI directory) in
 * values, hence 256 KiB; the log reports the high-water mark. */
#define BOOT_STACK_SIZE      0x40000
#define IST_STACK_SIZE       0x2000
#define GUEST_ENTRY_STACK_SIZE 0xF000

/* The console ring (Xen: "Allocated console ring of 16 KiB"). */
#define CONSOLE_RING_SIZE    0x4000
/* Frames for Apus's own page tables before the frame allocator exists: enough for the
 * image in 4 KiB pages and a direct map of 64 GiB in 2 MiB pages. */
#define PAGE_TABLE_POOL_PAGES 64

/* CPUs Apus runs on at most; each has its own GDT and LDT windows, TSS, IST stacks and
 * guest-entry stack in .bss (about 190 KiB per CPU). Xen's NR_CPUS is larger; more CPUs
 * than this are reported and left offline. */
#define MAX_CPUS             8
/* Distance between two CPUs' guest-entry stacks (a guard page, then the stack): a power
 * of two, so that finding the CPU from the stack pointer is a subtract and a shift. */
#define CPU_STACK_STRIDE     0x10000
/* Where the AP start-up code is copied: below 1 MiB, page aligned (SIPI vector 0x08). */
#define AP_TRAMPOLINE_BASE   0x8000

/* Longest hypervisor command line kept (Xen: COMMAND_LINE_SIZE). */
#define COMMAND_LINE_SIZE    1024

#endif
