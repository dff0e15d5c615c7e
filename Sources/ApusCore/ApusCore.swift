// ApusCore: the hypervisor's pure logic.
//
// Owns: everything that can be decided without touching hardware: boot-option parsing
// and the dom0 memory decision (BootOptions/), the memory map and the buddy frame
// allocator (Memory/), multiboot, ACPI and symbol-table parsing (Firmware/), page-table
// and descriptor encodings (Paging/, X86/), CPUID decoding, and text output (Support/).
//
// Must not import: ArchX86, Apus, or anything that executes a privileged instruction.
// It builds twice: hosted for XCTest (`swift test`) and Embedded with -no-allocations
// for the hypervisor (scripts/build.sh), so it holds no Swift heap objects: values,
// fixed-capacity storage, and memory the caller hands in. Hardware reaches it only
// through small protocols (PhysicalMemoryReader, PageTableMemory, TextSink).
