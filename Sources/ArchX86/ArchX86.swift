// ArchX86: the only Swift module that executes privileged instructions.
//
// Owns: thin typed wrappers over the C shim in Shim/x86.h (ports, MSRs, control
// registers, CPUID, descriptor-table loads, the interrupt flag), the boot CPU's GDT, TSS
// and IDT, and drivers that are only register pokes (16550 UART, VGA text, local APIC,
// PIT, legacy PIC). It holds no policy: what to map, when to print, how to react to a
// fault is decided in the Apus module.
//
// Must not import: Apus. May import ApusCore for pure types (TextSink, encodings).
