/*
 * prefix.S: the forced-emulation signature in front of an instruction the hypervisor
 * does not emulate that way (a nop). See include/prefix.h.
 */
    .text
    .globl prefix_not_cpuid, prefix_not_cpuid_fault, prefix_not_cpuid_resume
    .type prefix_not_cpuid, @function
prefix_not_cpuid:
prefix_not_cpuid_fault:
    ud2
    .ascii "xen"
    nop
prefix_not_cpuid_resume:
    ret
    .size prefix_not_cpuid, . - prefix_not_cpuid
