/*
 * boot/multiboot.S: from the boot loader to 64-bit Swift.
 *
 * Owns: the multiboot2 and multiboot1 headers, the 32-bit entry, the check that this CPU
 * can run Apus (with a readable message on the serial port and the VGA screen when it
 * cannot), the early page tables, and the jump to `apus_start_64` in the higher half.
 *
 * Early page tables (all in .boot.bss, physical = virtual here):
 *   PML4[0]   -> identity map of 0-4 GiB with 2 MiB pages (this code, the boot info)
 *   PML4[262] -> the same tables: the direct map at DIRECTMAP_VIRT_START
 *   PML4[261] -> PDPT[321] -> the first GiB: the image window at IMAGE_VIRT_OFFSET
 * Swift replaces all of this with W^X tables in Apus's own memory (HypervisorPageTables).
 *
 * Both loaders leave us in 32-bit protected mode, paging off, with eax = magic and
 * ebx = physical address of the boot information. We keep both in edi/esi for kmain.
 */
#include "layout.h"

#define MB2_MAGIC      0xE85250D6
#define MB2_ARCH_I386  0
#define MB1_MAGIC      0x1BADB002
#define MB1_FLAGS      0x00000003  /* page-align modules, want a memory map */
#define COM1           0x3F8

    .section .multiboot, "a"
    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Module alignment tag: modules start on page boundaries (dom0 builder maps them). */
    .balign 8
    .short 6, 0
    .long 8
    /* End tag. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:

    .balign 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .section .boot.text, "ax"
    .code32
    .globl apus_start_32
apus_start_32:
    cli
    cld
    mov     %eax, boot_magic
    mov     %ebx, boot_info
    mov     $boot_stack32_top, %esp

    /* Can this CPU run Apus? Long mode, NX, PAE and PSE are not negotiable. */
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      no_long_mode
    mov     $0x80000001, %eax
    cpuid
    bt      $29, %edx                   /* LM */
    jnc     no_long_mode
    bt      $20, %edx                   /* NX */
    jnc     no_nx
    mov     $1, %eax
    cpuid
    bt      $6, %edx                    /* PAE */
    jnc     no_pae
    bt      $3, %edx                    /* PSE */
    jnc     no_pae

    /* Clear the early tables: a loader need not zero NOBITS space. */
    mov     $early_tables_start, %edi
    mov     $early_tables_end, %ecx
    sub     %edi, %ecx
    shr     $2, %ecx
    xor     %eax, %eax
    rep stosl

    /* Four page directories: 2048 entries of 2 MiB covering 0-4 GiB. */
    mov     $early_pd, %edi
    mov     $0x83, %eax                 /* present, writable, 2 MiB */
    xor     %edx, %edx
    mov     $2048, %ecx
1:  mov     %eax, (%edi)
    mov     %edx, 4(%edi)
    add     $0x200000, %eax
    adc     $0, %edx
    add     $8, %edi
    loop    1b

    /* PDPT for the identity map and the direct map: four 1 GiB slots. */
    mov     $early_pdpt_low, %edi
    mov     $early_pd + 0x3, %eax
    mov     %eax, 0(%edi)
    add     $0x1000, %eax
    mov     %eax, 8(%edi)
    add     $0x1000, %eax
    mov     %eax, 16(%edi)
    add     $0x1000, %eax
    mov     %eax, 24(%edi)

    /* PDPT for the image window: slot 321 is the first GiB of RAM. */
    mov     $early_pd + 0x3, %eax
    mov     %eax, early_pdpt_image + 321 * 8

    mov     $early_pml4, %edi
    mov     $early_pdpt_low + 0x3, %eax
    mov     %eax, 0(%edi)
    mov     %eax, 262 * 8(%edi)
    mov     $early_pdpt_image + 0x3, %eax
    mov     %eax, 261 * 8(%edi)

    /* PAE + PGE, then EFER.LME and NXE, then paging. */
    mov     %cr4, %eax
    or      $0xA0, %eax
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

    lgdt    early_gdt_pointer
    ljmp    $0x08, $long_mode_entry

no_long_mode:
    mov     $msg_no_long_mode, %esi
    jmp     refuse
no_nx:
    mov     $msg_no_nx, %esi
    jmp     refuse
no_pae:
    mov     $msg_no_pae, %esi
    /* fall through */

/* Print the NUL-terminated message at esi on COM1 (polled, 115200 8n1) and the top
 * of the VGA text screen, then halt for good: there is nothing else we can do. */
refuse:
    mov     %esi, %ebx
    mov     $COM1 + 1, %dx;  xor %al, %al;   out %al, %dx   /* no interrupts */
    mov     $COM1 + 3, %dx;  mov $0x80, %al; out %al, %dx   /* DLAB */
    mov     $COM1 + 0, %dx;  mov $1, %al;    out %al, %dx   /* 115200 */
    mov     $COM1 + 1, %dx;  xor %al, %al;   out %al, %dx
    mov     $COM1 + 3, %dx;  mov $0x03, %al; out %al, %dx   /* 8n1 */
    mov     $0xB8000, %edi
2:  movzbl  (%esi), %eax
    test    %al, %al
    jz      4f
    mov     %al, %cl
    mov     $COM1 + 5, %dx
3:  in      %dx, %al
    test    $0x20, %al
    jz      3b
    mov     $COM1, %dx
    mov     %cl, %al
    out     %al, %dx
    movb    %cl, (%edi)
    movb    $0x4F, 1(%edi)
    add     $2, %edi
    inc     %esi
    jmp     2b
4:  cli
    hlt
    jmp     4b

    .code64
long_mode_entry:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    movabs  $apus_start_64, %rax
    jmp     *%rax

    .section .boot.rodata, "a"
msg_no_long_mode:
    .asciz  "Apus: this CPU has no 64-bit long mode; Apus needs an x86-64 CPU.\r\n"
msg_no_nx:
    .asciz  "Apus: this CPU has no NX (execute disable) bit; Apus needs it to protect itself and its guests.\r\n"
msg_no_pae:
    .asciz  "Apus: this CPU lacks PAE or PSE paging; Apus needs both.\r\n"

    .balign 16
early_gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF          /* 0x08: 64-bit code */
    .quad   0x00CF92000000FFFF          /* 0x10: data */
early_gdt_end:
early_gdt_pointer:
    .short  early_gdt_end - early_gdt - 1
    .long   early_gdt

    .section .boot.data, "aw"
    .balign 8
    .globl boot_magic, boot_info
boot_magic: .long 0
boot_info:  .long 0

    .section .boot.bss, "aw", @nobits
    .balign 4096
early_tables_start:
    .globl early_pml4
early_pml4:       .skip 4096
early_pdpt_low:   .skip 4096
early_pdpt_image: .skip 4096
early_pd:         .skip 4 * 4096
early_tables_end:
    .balign 16
    .skip 1024
boot_stack32_top:

/* 64-bit, higher half: set up the real stack and call Swift. */
    .text
    .globl apus_start_64
apus_start_64:
    movabs  $boot_stack_top, %rsp
    xor     %ebp, %ebp
    movl    boot_magic, %edi            /* the identity map is still in place */
    movl    boot_info, %esi
    call    apus_kmain
5:  cli
    hlt
    jmp     5b

