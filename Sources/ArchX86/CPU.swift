// CPU, MSR, Port and ImageLayout: one-instruction wrappers and the linker's addresses.
import X86Shim

public enum CPU {
    @inline(__always) public static func disableInterrupts() { x86_cli() }
    @inline(__always) public static func enableInterrupts() { x86_sti() }
    @inline(__always) public static func halt() { x86_hlt() }
    @inline(__always) public static func pause() { x86_pause() }
    @inline(__always) public static func readTimeStampCounter() -> UInt64 { x86_rdtsc() }
    @inline(__always) public static var interruptsEnabled: Bool { x86_read_flags() & 0x200 != 0 }

    /// Stops this CPU for good: interrupts off, halt forever (an NMI only wakes it to halt again).
    public static func haltForever() -> Never {
        while true { x86_cli(); x86_hlt() }
    }

    public struct CPUIDResult {
        public var eax, ebx, ecx, edx: UInt32
        public init(eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
            self.eax = eax; self.ebx = ebx; self.ecx = ecx; self.edx = edx
        }
    }

    public static func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> CPUIDResult {
        var a: UInt32 = 0, b: UInt32 = 0, c: UInt32 = 0, d: UInt32 = 0
        x86_cpuid(leaf, subleaf, &a, &b, &c, &d)
        return CPUIDResult(eax: a, ebx: b, ecx: c, edx: d)
    }

    @inline(__always) public static func readMSR(_ msr: UInt32) -> UInt64 { x86_rdmsr(msr) }
    @inline(__always) public static func writeMSR(_ msr: UInt32, _ value: UInt64) { x86_wrmsr(msr, value) }

    @inline(__always) public static var cr0: UInt64 { get { x86_read_cr0() } }
    @inline(__always) public static func writeCR0(_ v: UInt64) { x86_write_cr0(v) }
    @inline(__always) public static var cr2: UInt64 { x86_read_cr2() }
    @inline(__always) public static var stackPointer: UInt64 { x86_read_rsp() }
    @inline(__always) public static var cr3: UInt64 { x86_read_cr3() }
    @inline(__always) public static func writeCR3(_ v: UInt64) { x86_write_cr3(v) }
    @inline(__always) public static var cr4: UInt64 { x86_read_cr4() }
    @inline(__always) public static func writeCR4(_ v: UInt64) { x86_write_cr4(v) }
    /// Drops every TLB entry, global ones too (toggling CR4.PGE).
    public static func flushAllTranslations() {
        let cr4 = x86_read_cr4()
        x86_write_cr4(cr4 & ~(1 << 7))
        x86_write_cr4(cr4)
    }
    @inline(__always) public static func clearTaskSwitched() { x86_clts() }
    public static func writeBackAndInvalidateCaches() { x86_wbinvd() }
    @inline(__always) public static func invalidatePage(_ virtualAddress: UInt64) { x86_invlpg(virtualAddress) }

    public static func tripleFault() -> Never {
        x86_triple_fault()
        haltForever()
    }
}

public enum MSR {
    public static let efer: UInt32 = 0xC000_0080
    public static let star: UInt32 = 0xC000_0081
    public static let lstar: UInt32 = 0xC000_0082
    public static let cstar: UInt32 = 0xC000_0083
    public static let fmask: UInt32 = 0xC000_0084
    public static let fsBase: UInt32 = 0xC000_0100
    public static let gsBase: UInt32 = 0xC000_0101
    public static let kernelGSBase: UInt32 = 0xC000_0102
    public static let apicBase: UInt32 = 0x1B
    public static let pat: UInt32 = 0x277
}

public enum Port {
    @inline(__always) public static func out8(_ port: UInt16, _ value: UInt8) { x86_outb(port, value) }
    @inline(__always) public static func out16(_ port: UInt16, _ value: UInt16) { x86_outw(port, value) }
    @inline(__always) public static func out32(_ port: UInt16, _ value: UInt32) { x86_outl(port, value) }
    @inline(__always) public static func in8(_ port: UInt16) -> UInt8 { x86_inb(port) }
    @inline(__always) public static func in16(_ port: UInt16) -> UInt16 { x86_inw(port) }
    @inline(__always) public static func in32(_ port: UInt16) -> UInt32 { x86_inl(port) }
}

/// Addresses the linker script defines (virtual unless the name says physical).
public enum ImageLayout {
    public static var imageStartPhysical: UInt64 { x86___image_start_phys() }
    public static var textStart: UInt64 { x86___text_start() }
    public static var textEnd: UInt64 { x86___text_end() }
    public static var rodataStart: UInt64 { x86___rodata_start() }
    public static var rodataEnd: UInt64 { x86___rodata_end() }
    public static var dataStart: UInt64 { x86___data_start() }
    public static var dataEnd: UInt64 { x86___data_end() }
    public static var bssStart: UInt64 { x86___bss_start() }
    public static var bssEnd: UInt64 { x86___bss_end() }
    public static var symbolsStart: UInt64 { x86___symbols_start() }
    public static var imageEnd: UInt64 { x86___image_end() }
    public static var bootStackBottom: UInt64 { x86_boot_stack_bottom() }
    public static var bootStackTop: UInt64 { x86_boot_stack_top() }
    public static var stackGuardPage: UInt64 { x86_apus_stack_guard() }
    /// Per-CPU areas (boot/reservations.S): CPU n's copy is at base + n * size.
    public static let maxCPUs = 8
    public static let cpuStackStride: UInt64 = 0x10000  // boot/layout.h CPU_STACK_STRIDE
    public static var cpuStacks: UInt64 { x86_apus_cpu_stacks() }
    public static var cpuStacksEnd: UInt64 { x86_apus_cpu_stacks_end() }
    public static func guestStackGuardPage(cpu: Int) -> UInt64 { cpuStacks + UInt64(cpu) * cpuStackStride }
    public static func guestStackBottom(cpu: Int) -> UInt64 { guestStackGuardPage(cpu: cpu) + 4096 }
    public static func guestStackTop(cpu: Int) -> UInt64 { guestStackGuardPage(cpu: cpu) + cpuStackStride }
    public static func ldtArea(cpu: Int) -> UInt64 { x86_apus_ldt_area() + UInt64(cpu) * 16 * 4096 }
    public static func gdtArea(cpu: Int) -> UInt64 { x86_apus_gdt_area() + UInt64(cpu) * 16 * 4096 }
    public static func istStacks(cpu: Int) -> UInt64 { x86_apus_ist_stacks() + UInt64(cpu) * 3 * 0x2000 }
    public static func tss(cpu: Int) -> UInt64 { x86_apus_tss() + UInt64(cpu) * 128 }
    /// Which CPU's guest-entry stack `rsp` is in (nil: another stack, e.g. the boot stack).
    @inline(__always) public static func cpuOwningStack(_ rsp: UInt64) -> Int? {
        let base = cpuStacks
        guard rsp > base, rsp <= cpuStacksEnd else { return nil }
        return Int((rsp - base - 1) >> 16)
    }
    /// The descriptor bytes of the image's GNU build-id note (empty if it has none).
    public static var buildID: UnsafeRawBufferPointer {
        let start = x86___build_id_note(), end = x86___build_id_note_end()
        guard end >= start + 16 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        let note = UnsafeRawPointer(bitPattern: UInt(start)).unsafelyUnwrapped
        let nameSize = Int(note.load(fromByteOffset: 0, as: UInt32.self))
        let descSize = Int(note.load(fromByteOffset: 4, as: UInt32.self))
        let descOffset = 12 + ((nameSize + 3) & ~3)
        guard UInt64(descOffset + descSize) <= end - start else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: note + descOffset, count: descSize)
    }
    public static var symbolTable: UInt64 { x86_apus_symbol_table() }
    public static var symbolTableEnd: UInt64 { x86_apus_symbol_table_end() }
    public static var consoleRing: UInt64 { x86_apus_console_ring() }
    public static var pageTablePool: UInt64 { x86_apus_page_table_pool() }
    public static var pageTablePoolEnd: UInt64 { x86_apus_page_table_pool_end() }
    public static var istStacks: UInt64 { x86_apus_ist_stacks() }
    public static var istStacksEnd: UInt64 { x86_apus_ist_stacks_end() }
    public static var commandLineBuffer: UInt64 { x86_apus_command_line() }
    public static let commandLineCapacity = 1024
    /// virtual = physical + imageVirtualOffset inside the image window (boot/layout.h).
    public static let imageVirtualOffset: UInt64 = 0xFFFF_82D0_4000_0000
    public static let directMapStart: UInt64 = 0xFFFF_8300_0000_0000
    public static let directMapEnd: UInt64 = 0xFFFF_8800_0000_0000
}
