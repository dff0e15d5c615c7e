// StartOfDay.swift: what the guest was handed at entry, and views of the tables the
// PV ABI lets every guest read (start_info, its p2m list, the machine-to-phys table).
//
// start.S stores rsi (start_info) and the entry rsp before any Swift runs. Everything
// here reads memory the hypervisor set up; nothing allocates.
import XenGuestC
import ApusPublic

public enum StartOfDay {
    /// The start_info the hypervisor passed in rsi.
    public static var startInfo: UnsafeMutablePointer<start_info> {
        UnsafeMutablePointer(bitPattern: UInt(xen_start_info_va))!
    }

    /// rsi as the guest received it (a virtual address).
    public static var startInfoAddress: UInt64 { xen_start_info_va }

    /// rsp as the guest received it: the top of the hypervisor-built boot stack.
    public static var entryStackPointer: UInt64 { xen_entry_rsp }

    public static var imageStart: UInt64 { xg_image_start() }
    public static var imageEnd: UInt64 { xg_image_end() }
    public static var hypercallPage: UInt64 { xg_hypercall_page() }

    /// The guest's p2m list entry: the machine frame behind pseudo-physical frame pfn.
    public static func machineFrame(ofPseudoPhysical pfn: UInt64) -> UInt64 {
        xg_read64(startInfo.pointee.mfn_list &+ pfn &* 8)
    }

    /// The machine-to-phys table entry for a machine frame (readable by every PV guest).
    public static func pseudoPhysicalFrame(ofMachine mfn: UInt64) -> UInt64 {
        xg_read64(MACH2PHYS_VIRT_START &+ mfn &* 8)
    }

    /// The kernel command line from start_info, as a pointer and length.
    /// Whether the kernel command line holds `word` as a whole word.
    public static func commandLineHasWord(_ word: StaticString) -> Bool {
        let line = commandLine()
        var start = 0
        while start < line.length {
            while start < line.length && line.address[start] == 0x20 { start += 1 }
            var end = start
            while end < line.length && line.address[end] != 0x20 { end += 1 }
            if end > start && Text.equals(line.address + start, length: end - start, word) { return true }
            start = end
        }
        return false
    }

    public static func commandLine() -> (address: UnsafePointer<UInt8>, length: Int) {
        let base = UnsafeRawPointer(startInfo).advanced(by: MemoryLayout<start_info>.offset(of: \.cmd_line)!)
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        var length = 0
        while length < Int(MAX_GUEST_CMDLINE) && bytes[length] != 0 { length += 1 }
        return (bytes, length)
    }
}

/// The runtime's scratch memory (8 KiB, page-aligned, zeroed at start): argument
/// buffers for hypercalls that copy strings or tables out. One user at a time.
public enum Scratch {
    public static let size = 8192
    public static var bytes: UnsafeMutablePointer<UInt8> { xg_scratch_address()! }
    public static var raw: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bytes) }

    /// Zeroes the first count bytes and returns the buffer.
    public static func cleared(_ count: Int = size) -> UnsafeMutableRawPointer {
        for index in 0..<count { bytes[index] = 0 }
        return raw
    }
}
