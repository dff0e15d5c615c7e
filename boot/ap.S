/*
 * boot/ap.S: how an application processor gets from its start-up IPI to 64-bit Swift.
 *
 * The boot CPU copies [apus_ap_trampoline, apus_ap_trampoline_end) to AP_TRAMPOLINE_BASE
 * (below 1 MiB) and sends INIT-SIPI-SIPI with vector AP_TRAMPOLINE_BASE >> 12; the AP
 * starts there in real mode with CS = AP_TRAMPOLINE_BASE >> 4. It enters protected mode
 * with the trampoline's own GDT, then runs apus_ap_start_32 from the image (paging off:
 * physical addresses), turns on long mode with the boot CPU's early page tables (they
 * identity-map the first 4 GiB and map the image window: multiboot.S), jumps to the
 * image's higher half, loads Apus's own page tables and stack, and calls
 * apus_ap_main(cpu). The boot CPU starts one AP at a time and fills the three
 * apus_ap_boot_* words before each start-up IPI.
 */
#include "layout.h"

    .section .boot.text, "ax"
    .code16
    .globl apus_ap_trampoline, apus_ap_trampoline_end
apus_ap_trampoline:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    lgdtl   (ap_gdt_pointer - apus_ap_trampoline)
    mov     %cr0, %eax
    or      $1, %eax                    /* PE */
    mov     %eax, %cr0
    ljmpl   $0x08, $(AP_TRAMPOLINE_BASE + ap_protected - apus_ap_trampoline)

    .code32
ap_protected:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     $apus_ap_start_32, %eax
    jmp     *%eax

    .balign 8
ap_gdt:
    .quad   0
    .quad   0x00CF9A000000FFFF          /* 0x08: 32-bit code */
    .quad   0x00CF92000000FFFF          /* 0x10: data */
    .quad   0x00AF9A000000FFFF          /* 0x18: 64-bit code */
ap_gdt_end:
ap_gdt_pointer:
    .short  ap_gdt_end - ap_gdt - 1
    .long   AP_TRAMPOLINE_BASE + ap_gdt - apus_ap_trampoline
apus_ap_trampoline_end:

/* In place in the image, paging still off. The same long-mode switch as the boot CPU's. */
    .code32
apus_ap_start_32:
    mov     %cr4, %eax
    or      $0xA0, %eax                 /* PAE | PGE */
    mov     %eax, %cr4
    mov     $early_pml4, %eax
    mov     %eax, %cr3
    mov     $0xC0000080, %ecx
    rdmsr
    or      $0x900, %eax                /* LME | NXE */
    wrmsr
    mov     %cr0, %eax
    or      $0x80010001, %eax           /* PG | WP | PE */
    mov     %eax, %cr0
    ljmp    $0x18, $ap_long_mode

    .code64
ap_long_mode:
    movabs  $apus_ap_start_64, %rax
    jmp     *%rax

    .text
apus_ap_start_64:
    mov     apus_ap_boot_cr3(%rip), %rax
    mov     %rax, %cr3
    mov     apus_ap_boot_stack(%rip), %rsp
    xor     %ebp, %ebp
    mov     apus_ap_boot_cpu(%rip), %edi
    call    apus_ap_main
1:  cli
    hlt
    jmp     1b

    .data
    .balign 8
    .globl apus_ap_boot_cr3, apus_ap_boot_stack, apus_ap_boot_cpu
apus_ap_boot_cr3:   .quad 0
apus_ap_boot_stack: .quad 0
apus_ap_boot_cpu:   .quad 0

/* Shared between CPUs, only through locked instructions (x86.h). */
    .balign 64
    .globl apus_hypervisor_lock, apus_cpu_flush_requests, apus_cpu_online, apus_cpu_dump_requests
    .globl apus_cpu_current_vcpu
apus_hypervisor_lock:    .long 0
    .balign 64
apus_cpu_flush_requests: .skip 4 * MAX_CPUS
    .balign 64
apus_cpu_online:         .skip 4 * MAX_CPUS
    .balign 64
apus_cpu_dump_requests:  .skip 4 * MAX_CPUS
/* Per CPU: the address of the vCPU record loaded there (PV.vcpu), written only by that CPU. */
    .balign 64
apus_cpu_current_vcpu:   .skip 8 * MAX_CPUS
