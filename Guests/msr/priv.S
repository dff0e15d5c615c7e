/*
 * priv.S: the msr guest's probes (see include/priv.h).
 */
    .text
.macro LABEL name
    .globl \name, \name\()_insn
.endm

    LABEL priv_rdmsr
priv_rdmsr:
    movl %edi, %ecx
priv_rdmsr_insn:
    rdmsr
    shlq $32, %rdx
    movl %eax, %eax
    orq %rdx, %rax
    ret

    LABEL priv_wrmsr
priv_wrmsr:
    movl %edi, %ecx
    movl %esi, %eax
    movq %rsi, %rdx
    shrq $32, %rdx
priv_wrmsr_insn:
    wrmsr
    xorl %eax, %eax
    ret

    LABEL priv_inb
priv_inb:
    movl %edi, %edx
    xorl %eax, %eax
priv_inb_insn:
    inb %dx, %al
    ret

    LABEL priv_inl
priv_inl:
    movl %edi, %edx
    xorl %eax, %eax
priv_inl_insn:
    inl %dx, %eax
    ret

    LABEL priv_outb
priv_outb:
    movl %edi, %edx
    movl %esi, %eax
priv_outb_insn:
    outb %al, %dx
    xorl %eax, %eax
    ret

    LABEL priv_outl
priv_outl:
    movl %edi, %edx
    movl %esi, %eax
priv_outl_insn:
    outl %eax, %dx
    xorl %eax, %eax
    ret

    LABEL priv_inb_0x80
priv_inb_0x80:
    xorl %eax, %eax
priv_inb_0x80_insn:
    inb $0x80, %al
    ret

    LABEL priv_outb_0x80
priv_outb_0x80:
    movl %edi, %eax
priv_outb_0x80_insn:
    outb %al, $0x80
    xorl %eax, %eax
    ret

    LABEL priv_rdtsc
priv_rdtsc:
priv_rdtsc_insn:
    rdtsc
    shlq $32, %rdx
    movl %eax, %eax
    orq %rdx, %rax
    ret

    LABEL priv_hlt
priv_hlt:
priv_hlt_insn:
    hlt
    xorl %eax, %eax
    ret

    LABEL priv_wbinvd
priv_wbinvd:
priv_wbinvd_insn:
    wbinvd
    xorl %eax, %eax
    ret

.macro READ_CR n
    LABEL priv_read_cr\n
priv_read_cr\n:
priv_read_cr\n\()_insn:
    movq %cr\n, %rax
    ret
.endm
    READ_CR 2
    READ_CR 3
    READ_CR 4

    LABEL priv_read_dr7
priv_read_dr7:
priv_read_dr7_insn:
    movq %dr7, %rax
    ret

    .globl priv_fixup
priv_fixup:
    movabsq $0xFA17FA17FA17FA17, %rax
    ret
