// Each CPU's GDT and TSS, the IDT they share, and loading them.
//
// Layout decisions (encodings are in ApusCore/X86/Descriptors.swift):
// - The GDT area is 16 pages, as Xen's: selectors below 0xe000 belong to the guest's own
//   GDT (set_gdt, later), Apus's descriptors sit at Xen's selector values from 0xe000.
// - IST stacks: #DF on IST1, NMI on IST2, #MC on IST3, so that these three always run on
//   a known-good stack even if the fault came from a broken one.
// - Every vector is an interrupt gate (IF cleared on entry) with DPL 0, except int3,
//   into and 0x80, which a PV guest raises directly (DPL 3, as in Xen's IDT).
import ApusCore
import X86Shim

public enum DescriptorTables {
    public static let istDoubleFault = 1
    public static let istNMI = 2
    public static let istMachineCheck = 3
    public static let istStackSize: UInt64 = 0x2000

    static var idtBase: UInt64 { x86_apus_idt() }

    static func gdtSlot(_ selector: UInt16, cpu: Int) -> UnsafeMutablePointer<UInt64> {
        UnsafeMutablePointer<UInt64>(bitPattern: UInt(ImageLayout.gdtArea(cpu: cpu)) + UInt(selector & ~7)).unsafelyUnwrapped
    }

    /// Fills and loads CPU `cpu`'s GDT (reloading every segment register) and TSS, and
    /// the IDT (filled by the boot CPU, CPU 0; the others only load it).
    public static func install(cpu: Int) {
        func gdtSlot(_ selector: UInt16) -> UnsafeMutablePointer<UInt64> { Self.gdtSlot(selector, cpu: cpu) }
        let gdtBase = ImageLayout.gdtArea(cpu: cpu), tssBase = ImageLayout.tss(cpu: cpu)
        gdtSlot(Selector.hypervisorCode64).pointee = SegmentDescriptor.flatCode(dpl: 0, long: true)
        gdtSlot(Selector.hypervisorData).pointee = SegmentDescriptor.flatData(dpl: 0)
        gdtSlot(Selector.ring3Code32).pointee = SegmentDescriptor.flatCode(dpl: 3, long: false)
        gdtSlot(Selector.ring3Data).pointee = SegmentDescriptor.flatData(dpl: 3)
        gdtSlot(Selector.ring3Code64).pointee = SegmentDescriptor.flatCode(dpl: 3, long: true)
        gdtSlot(Selector.hypervisorCode32).pointee = SegmentDescriptor.flatCode(dpl: 0, long: false)

        let tss = UnsafeMutableRawPointer(bitPattern: UInt(tssBase)).unsafelyUnwrapped
        tss.initializeMemory(as: UInt8.self, repeating: 0, count: TSSLayout.size)
        let istBase = ImageLayout.istStacks(cpu: cpu)
        for slot in istDoubleFault...istMachineCheck {
            let top = istBase + UInt64(slot) * istStackSize  // slot n uses the n-th stack's top
            tss.storeBytes(of: top, toByteOffset: TSSLayout.istOffset(slot), as: UInt64.self)
        }
        // No I/O bitmap: the base points past the limit.
        tss.storeBytes(of: UInt16(TSSLayout.size), toByteOffset: TSSLayout.ioMapBaseOffset, as: UInt16.self)
        let tssDescriptor = SystemDescriptor(base: tssBase, limit: UInt32(TSSLayout.size - 1),
                                             type: SystemDescriptor.availableTSS)
        gdtSlot(Selector.tss).pointee = tssDescriptor.low
        gdtSlot(Selector.tss + 8).pointee = tssDescriptor.high

        var gdtr = x86_table_pointer(limit: UInt16(16 * 4096 - 1), base: gdtBase)
        x86_lgdt(&gdtr)
        x86_reload_segments(Selector.hypervisorCode64, Selector.hypervisorData)
        x86_ltr(Selector.tss)

        var idtr = x86_table_pointer(limit: UInt16(256 * 16 - 1), base: idtBase)
        defer { x86_lidt(&idtr) }
        guard cpu == 0 else { return }
        let idt = UnsafeMutablePointer<UInt64>(bitPattern: UInt(idtBase)).unsafelyUnwrapped
        for vector in 0..<256 {
            let ist: Int
            switch vector {
            case 2: ist = istNMI
            case 8: ist = istDoubleFault
            case 18: ist = istMachineCheck
            default: ist = 0
            }
            // int3, into and int $0x80 may be raised from ring 3 (a PV guest's kernel too).
            let dpl = vector == 3 || vector == 4 || vector == 0x80 ? 3 : 0
            let gate = GateDescriptor(handler: x86_trap_stub(UInt32(vector)), selector: Selector.hypervisorCode64,
                                      ist: ist, kind: .interrupt, dpl: dpl)
            idt[vector * 2] = gate.low
            idt[vector * 2 + 1] = gate.high
        }
    }

    /// Points the LDT slot (selector 0xe050) at `base` for `entries` descriptors and loads
    /// it; 0 entries loads the null LDT.
    public static func loadLDT(base: UInt64, entries: Int, cpu: Int) {
        guard entries > 0 else {
            x86_lldt(0)
            return
        }
        let descriptor = SystemDescriptor(base: base, limit: UInt32(entries * 8 - 1), type: SystemDescriptor.ldt)
        gdtSlot(Selector.ldt, cpu: cpu).pointee = descriptor.low
        gdtSlot(Selector.ldt + 8, cpu: cpu).pointee = descriptor.high
        x86_lldt(Selector.ldt)
    }

    /// Ring-0 stack the CPU switches to on an interrupt from ring 3 (TSS.RSP0).
    public static func setKernelStack(_ top: UInt64, cpu: Int) {
        let tss = UnsafeMutableRawPointer(bitPattern: UInt(ImageLayout.tss(cpu: cpu))).unsafelyUnwrapped
        tss.storeBytes(of: top, toByteOffset: TSSLayout.rsp0Offset, as: UInt64.self)
    }
}
