// Identifies the boot CPU, refuses one that lacks what Apus relies on, and turns on the
// protections it offers (SMEP: Apus never executes a guest's page).
import ApusCore
import ArchX86

enum BootCPU {
    nonisolated(unsafe) static var identity = CPUIdentity(CPUIDLeaves())

    static func identify() {
        var leaves = CPUIDLeaves()
        let leaf0 = CPU.cpuid(0)
        leaves.maxBasicLeaf = leaf0.eax
        leaves.vendor = (leaf0.ebx, leaf0.edx, leaf0.ecx)
        let leaf1 = CPU.cpuid(1)
        leaves.leaf1 = (leaf1.eax, leaf1.ebx, leaf1.ecx, leaf1.edx)
        if leaves.maxBasicLeaf >= 7 {
            let leaf7 = CPU.cpuid(7)
            leaves.leaf7 = (leaf7.ebx, leaf7.ecx, leaf7.edx)
        }
        leaves.maxExtendedLeaf = CPU.cpuid(0x8000_0000).eax
        if leaves.maxExtendedLeaf >= 0x8000_0001 {
            let ext1 = CPU.cpuid(0x8000_0001)
            leaves.extended1 = (ext1.ecx, ext1.edx)
        }
        if leaves.maxExtendedLeaf >= 0x8000_0007 { leaves.extended7edx = CPU.cpuid(0x8000_0007).edx }
        if leaves.maxExtendedLeaf >= 0x8000_0008 { leaves.addressSizes = CPU.cpuid(0x8000_0008).eax }
        identity = CPUIdentity(leaves)

        Log.line { identity.writeSummary(into: &$0) }
        if let missing = identity.missingRequiredFeature {
            panic { c in c.write("This CPU lacks a feature Apus requires: "); c.write(missing.name) }
        }
        Log.line { c in
            c.write("CPU features Apus relies on:")
            CPUIdentity.forEachFeature { f in if f.required { c.put(0x20); c.write(f.name) } }
        }
        Log.line { c in
            c.write("CPU features Apus uses when present:")
            CPUIdentity.forEachFeature { f in
                guard !f.required else { return }
                c.put(0x20); c.write(f.name); c.write(identity.has(f) ? "+" : "-")
            }
        }
        Log.line { c in
            c.write("Physical address width: "); c.write(decimal: identity.physicalAddressBits); c.write(" bits")
        }
    }

    /// CR4 protections: SMEP when offered. SMAP stays off: a 64-bit PV guest kernel runs in
    /// ring 3 and QEMU 7.2 faults its iretq under SMAP (DESIGN.md).
    /// The FPU and SSE belong to the guests: CR0.MP|NE (no emulation, native errors) and
    /// CR4.OSFXSR|OSXMMEXCPT so their SSE code runs; Apus itself never touches them.
    static func enableGuestFPU() {
        var cr0 = CPU.cr0
        cr0 |= (1 << 1) | (1 << 5)
        cr0 &= ~((1 << 2) | (1 << 3))
        CPU.writeCR0(cr0)
        CPU.writeCR4(CPU.cr4 | (1 << 9) | (1 << 10))
    }

    /// On every CPU; the boot CPU reports it (`quiet` for the others).
    static func enableProtections(quiet: Bool = false) {
        if identity.has(.smep) {
            CPU.writeCR4(CPU.cr4 | (1 << 20))
            if !quiet { Log.line { $0.write("Supervisor Mode Execution Protection enabled") } }
        }
        if !quiet { Log.line { $0.write("NX (Execute Disable) protection active") } }
    }
}
