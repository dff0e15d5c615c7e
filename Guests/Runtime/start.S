/*
 * start.S: the first instructions of an Apus test guest (a 64-bit PV kernel), its Xen
 * ELF notes, the hypercall page and the boot stack.
 *
 * The domain builder (Apus's or Xen's) reads the notes, loads the image at
 * GUEST_VIRT_BASE + physical address, fills hypercall_page with the call stubs and
 * enters _start in ring 3 with rsi = start_info and rsp on its own boot stack, events
 * masked. We keep both values for the checks, move to our own stack and call the
 * guest's Swift entry point `guest_main`. If that ever returns, the guest powers off.
 * Nothing here may depend on a trap table: there is none until the guest sets one.
 */
#include <ApusPublic/elfnote.h>
#include <ApusPublic/features.h>
#include <ApusPublic/hypercalls.h>
#include <ApusPublic/sched_op.h>

#define GUEST_VIRT_BASE 0xFFFFFFFF80000000

/* One Xen note: 4-byte name size, descriptor size, type; "Xen\0"; descriptor. */
#define ELFNOTE(type, body)                        \
    .pushsection .note.Xen, "a", @note;            \
    .balign 4;                                     \
    .long 2f - 1f;                                 \
    .long 4f - 3f;                                 \
    .long type;                                    \
1:  .asciz "Xen";                                  \
2:  .balign 4;                                     \
3:  body;                                          \
4:  .balign 4;                                     \
    .popsection

    ELFNOTE(XEN_ELFNOTE_GUEST_OS,       .asciz "Apus-test-guest")
    ELFNOTE(XEN_ELFNOTE_GUEST_VERSION,  .asciz "1")
    ELFNOTE(XEN_ELFNOTE_XEN_VERSION,    .asciz "xen-3.0")
    ELFNOTE(XEN_ELFNOTE_LOADER,         .asciz "generic")
    ELFNOTE(XEN_ELFNOTE_VIRT_BASE,      .quad GUEST_VIRT_BASE)
    ELFNOTE(XEN_ELFNOTE_PADDR_OFFSET,   .quad 0)
    ELFNOTE(XEN_ELFNOTE_ENTRY,          .quad _start)
    ELFNOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)
    ELFNOTE(XEN_ELFNOTE_FEATURES,       .asciz "!writable_page_tables|pae_pgdir_above_4gb")
    ELFNOTE(XEN_ELFNOTE_SUPPORTED_FEATURES,
            .long (1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_dom0))
    ELFNOTE(XEN_ELFNOTE_PAE_MODE,       .asciz "yes")

    .section .text.start, "ax"
    .globl _start
    .type _start, @function
_start:
    cld
    movq %rsi, xen_start_info_va(%rip)
    movq %rsp, xen_entry_rsp(%rip)
    leaq guest_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call guest_main
    /* guest_main returned: sched_op(SCHEDOP_shutdown, &{SHUTDOWN_poweroff}). */
    subq $16, %rsp
    movl $SHUTDOWN_poweroff, (%rsp)
    movl $SCHEDOP_shutdown, %edi
    movq %rsp, %rsi
    call hypercall_page + __HYPERVISOR_sched_op * HYPERCALL_STUB_BYTES
1:  jmp 1b
    .size _start, . - _start

/*
 * The hypervisor overwrites this page with the stubs before the guest runs. int3
 * filling makes a guest whose page was not written trap at once instead of sliding.
 */
    .section .text.hypercall_page, "ax"
    .balign 4096
    .globl hypercall_page
    .type hypercall_page, @object
hypercall_page:
    .fill 4096, 1, 0xcc
    .size hypercall_page, 4096

    .section .data.start, "aw"
    .balign 8
    .globl xen_start_info_va, xen_entry_rsp
xen_start_info_va:  .quad 0
xen_entry_rsp:      .quad 0

    .section .bss.start, "aw", @nobits
    .balign 16
    .globl xg_console_buffer
xg_console_buffer:  .skip 256
    /* Scratch buffers for hypercall arguments (strings, memory maps): 8 KiB. */
    .balign 4096
    .globl xg_scratch
xg_scratch:         .skip 8192
    /* A page whose mapping a guest may replace (update_va_mapping) to look at a frame. */
    .globl xg_map_window
xg_map_window:      .skip 4096
guest_stack:        .skip 32768
guest_stack_top:
