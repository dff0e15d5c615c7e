// Dom0LayoutError: why dom0's initial address space cannot be laid out, with Xen's wording
// where Xen has a message for it. Imports nothing.

public enum Dom0LayoutError: Error, Equatable {
    /// The kernel's range is reversed or starts below VIRT_BASE.
    case kernelOutsideMapping(virtBase: UInt64, kernelStart: UInt64, kernelEnd: UInt64)
    /// Laying out the initrd, p2m list, page tables and stack runs past 2^64.
    case addressOverflow
    /// A range that is not all in the lower or all in the upper canonical half.
    case notCanonical(VirtualRange)
    /// A range inside 0xffff800000000000-0xffff87ffffffffff, which the hypervisor keeps.
    case overlapsHypervisor(VirtualRange)
    /// dom0_mem is smaller than the initial mapping plus the initrd.
    case tooSmallForKernel(neededPages: UInt64, nrPages: UInt64)
    /// INIT_P2M puts the p2m list on (or touching) the initial mapping.
    case p2mOverlapsMapping(p2m: VirtualRange, mapping: VirtualRange)
    /// The p2m list at INIT_P2M needs more pages (list and its page tables) than dom0 has.
    case tooSmallForP2M(neededPages: UInt64, nrPages: UInt64)
    /// XEN_ELFNOTE_HYPERCALL_PAGE outside [v_start, v_end).
    case hypercallPageOutsideMapping(address: UInt64, mapping: VirtualRange)
}

extension Dom0LayoutError {
    public func write<Sink: TextSink>(to sink: inout Sink) {
        switch self {
        case .kernelOutsideMapping(let virtBase, let start, let end):
            sink.write("the kernel's range ")
            sink.write(hex0x: start)
            sink.write("->")
            sink.write(hex0x: end)
            sink.write(" does not start at or above VIRT_BASE ")
            sink.write(hex0x: virtBase)
        case .addressOverflow:
            sink.write("the initial mapping (kernel, initrd, p2m list, start info, page tables, stack) runs past the top of the address space")
        case .notCanonical(let range):
            sink.write("the range ")
            Dom0LayoutError.writeRange(range, &sink)
            sink.write(" is not canonical (it crosses the hole between the lower and upper halves)")
        case .overlapsHypervisor(let range):
            sink.write("DOM0 image overlaps with Xen private area: ")
            Dom0LayoutError.writeRange(range, &sink)
            sink.write(" touches ffff800000000000->ffff880000000000")
        case .tooSmallForKernel(let needed, let nrPages):
            sink.write("Domain 0 allocation is too small for kernel image: it needs ")
            sink.write(decimal: needed)
            sink.write(" pages, dom0_mem gives ")
            sink.write(decimal: nrPages)
        case .p2mOverlapsMapping(let p2m, let mapping):
            sink.write("DOM0 P->M table overlaps initial mapping: ")
            Dom0LayoutError.writeRange(p2m, &sink)
            sink.write(" and ")
            Dom0LayoutError.writeRange(mapping, &sink)
        case .tooSmallForP2M(let needed, let nrPages):
            sink.write("Dom0 allocation too small for initial P->M table: it needs ")
            sink.write(decimal: needed)
            sink.write(" pages, dom0_mem gives ")
            sink.write(decimal: nrPages)
        case .hypercallPageOutsideMapping(let address, let mapping):
            sink.write("Invalid HYPERCALL_PAGE field in ELF notes: ")
            sink.write(hex0x: address)
            sink.write(" is outside the initial mapping ")
            Dom0LayoutError.writeRange(mapping, &sink)
        }
    }

    static func writeRange<Sink: TextSink>(_ range: VirtualRange, _ sink: inout Sink) {
        sink.write(hex: range.start, minimumDigits: 16)
        sink.write("->")
        sink.write(hex: range.end, minimumDigits: 16)
    }
}
