// What the ACPI tables say about this machine, printed the way Xen prints it, and the
// facts Apus keeps from them: CPUs and IOAPICs (MADT), the power-off and reset registers
// (FADT and the DSDT's _S5_), the HPET.
import ApusCore
import ArchX86

struct MachineFacts {
    var usableCPUs = 1
    var disabledCPUs = 0
    var ioAPICCount = 0
    var localAPICAddress: UInt64 = 0xFEE0_0000
    var hpetBase: UInt64? = nil
    /// A VGA text screen, unless the FADT says there is none (dom0 is told about it).
    var vgaPresent = true
    /// CMOS index of the RTC's century register (FADT), 0 if none.
    var rtcCenturyRegister: UInt8 = 0
    /// Local APIC ids of the enabled CPUs, in MADT order (the boot CPU among them), up to
    /// ImageLayout.maxCPUs; `enabledCPUs` counts them all.
    var cpuAPICIDs = InlineArray<8, UInt32>(repeating: 0)
    var enabledCPUs = 0
    /// IOAPIC register pages (up to 8), for the guest-mapping rule.
    var ioAPICFrames = InlineArray<8, UInt64>(repeating: 0)
    /// Each IOAPIC's register address and first GSI (MADT order), to route device IRQs.
    var ioAPICAddresses = InlineArray<8, UInt64>(repeating: 0)
    var ioAPICGSIBases = InlineArray<8, UInt32>(repeating: 0)
    /// MADT interrupt source overrides of the ISA IRQs 0-15.
    var isaOverrides = InlineArray<16, ISAInterruptRoute?>(repeating: nil)

    /// Where ISA IRQ `irq` arrives: its override, or the same-numbered GSI, edge, active high.
    func isaRoute(_ irq: UInt8) -> ISAInterruptRoute {
        (irq < 16 ? isaOverrides[Int(irq)] : nil) ?? .identity(irq)
    }

    /// The IOAPIC (register address) and pin that receive `gsi`, if one does.
    func ioAPICPin(for gsi: UInt32) -> (address: UInt64, pin: Int)? {
        for index in 0..<min(ioAPICCount, 8) where gsi >= ioAPICGSIBases[index] && gsi - ioAPICGSIBases[index] < 240 {
            let pin = Int(gsi - ioAPICGSIBases[index])
            if pin < IOAPIC(registerPage: DirectMap.address(of: ioAPICAddresses[index])).pinCount {
                return (ioAPICAddresses[index], pin)
            }
        }
        return nil
    }
}

enum Firmware {
    nonisolated(unsafe) static var facts = MachineFacts()

    /// The local APIC page: Apus's alone, no guest maps it (Xen: -EPERM).
    static func isHypervisorMMIO(_ frame: UInt64) -> Bool {
        frame == facts.localAPICAddress >> 12
    }

    /// IOAPIC and HPET pages: dom0 may read them, never write (Xen maps them read-only).
    static func isReadOnlyMMIO(_ frame: UInt64) -> Bool {
        if let hpet = facts.hpetBase, frame == hpet >> 12 { return true }
        for index in 0..<min(facts.ioAPICCount, 8) where facts.ioAPICFrames[index] == frame { return true }
        return false
    }

    static func discover(boot: BootInfo, options: BootOptions, reader: DirectMapReader) {
        if options.acpi == .off {
            Log.line { $0.write("ACPI: disabled by acpi=off; one CPU, legacy reset and power-off only") }
            return
        }
        guard let rsdp = RSDP.locate(reader: reader, multibootCopy: boot.acpiRSDPCopy, preferFirmwareCopy: true) else {
            Log.line { $0.write("ACPI: no RSDP found; assuming one CPU and legacy reset and power-off") }
            return
        }
        let directory: ACPITableDirectory
        do throws(ACPIError) {
            directory = try ACPITableDirectory.load(rsdp: rsdp, reader: reader)
        } catch {
            Log.line { error.describe(into: &$0) }
            return
        }
        Log.lines { ACPIPrinter.printDirectory(directory, into: &$0) }

        if let table = directory.first(.fadt), let window = table.bytes(reader: reader) {
            do throws(ACPIError) {
                let fadt = try FADT.parse(window)
                useFADT(fadt, directory: directory, reader: reader)
            } catch {
                Log.line { error.describe(into: &$0) }
            }
        }
        if let table = directory.first(.madt), let window = table.bytes(reader: reader) {
            do throws(ACPIError) {
                let madt = try MADT.parse(window)
                useMADT(madt, options: options)
            } catch {
                Log.line { error.describe(into: &$0) }
            }
        } else {
            Log.line { $0.write("ACPI: no MADT; assuming a single CPU") }
        }
        if let table = directory.first(.hpet), let window = table.bytes(reader: reader) {
            do throws(ACPIError) {
                let hpet = try HPETTable.parse(window)
                Log.lines { ACPIPrinter.printHPET(hpet, into: &$0) }
                if hpet.isMemoryMapped { facts.hpetBase = hpet.baseAddress.address }
            } catch {
                Log.line { error.describe(into: &$0) }
            }
        }
    }

    static func useFADT(_ fadt: FADT, directory: ACPITableDirectory, reader: DirectMapReader) {
        if fadt.vgaNotPresent { facts.vgaPresent = false }
        facts.rtcCenturyRegister = fadt.century
        Log.lines { ACPIPrinter.printPMTimer(fadt, into: &$0) }
        Log.lines { ACPIPrinter.printSleepInfo(fadt, facs: directory.first(.facs), into: &$0) }
        if fadt.canResetThroughRegister && fadt.resetRegister.isIOPort && fadt.resetRegister.address <= 0xFFFF {
            Platform.facts.resetPort = UInt16(fadt.resetRegister.address)
            Platform.facts.resetValue = fadt.resetValue
        }
        if fadt.pm1aControl.isIOPort && fadt.pm1aControl.isPresent && fadt.pm1aControl.address <= 0xFFFF {
            Platform.facts.pm1aControl = UInt16(fadt.pm1aControl.address)
        }
        if fadt.pm1bControl.isIOPort && fadt.pm1bControl.isPresent && fadt.pm1bControl.address <= 0xFFFF {
            Platform.facts.pm1bControl = UInt16(fadt.pm1bControl.address)
        }
        var sleep: ACPISleepType? = nil
        if let dsdt = ACPITable.load(at: fadt.dsdtAddress, reader: reader), let window = dsdt.bytes(reader: reader) {
            sleep = ACPISleepType.find(state: 5, in: window)
        }
        if let sleep {
            Platform.facts.haveS5 = true
            Platform.facts.sleepTypeA = UInt16(sleep.typeA)
            Platform.facts.sleepTypeB = UInt16(sleep.typeB)
        }
        Log.line(.info) { c in
            c.write("ACPI: reset "); 
            if let port = Platform.facts.resetPort {
                c.write("through port "); c.write(hex0x: UInt64(port)); c.write(" value "); c.write(hex0x: UInt64(Platform.facts.resetValue))
            } else { c.write("by the keyboard controller and port 0xcf9") }
            c.write("; power-off ")
            if let sleep, let a = Platform.facts.pm1aControl {
                c.write("through PM1a_CNT "); c.write(hex0x: UInt64(a)); c.write(" with S5 type ")
                c.write(decimal: UInt64(sleep.typeA))
            } else { c.write("through the emulators' ports (no _S5_ found)") }
        }
    }

    static func useMADT(_ madt: MADT, options: BootOptions) {
        Log.lines { c in
            ACPIPrinter.printLocalAPICAddress(madt, into: &c)
            if options.apicVerbosity != .normal { ACPIPrinter.printLocalAPICs(madt, into: &c); ACPIPrinter.printLocalNMIs(madt, into: &c) }
            ACPIPrinter.printIOAPICs(madt, into: &c)
            ACPIPrinter.printOverrides(madt, into: &c)
            ACPIPrinter.printLegacyIRQsUsedByOverrides(madt, into: &c)
            ACPIPrinter.printNMISources(madt, into: &c)
        }
        facts.localAPICAddress = madt.localAPICAddress
        facts.ioAPICCount = madt.ioAPICCount
        for index in 0..<min(madt.ioAPICCount, 8) {
            if let ioAPIC = madt.ioAPIC(index) { facts.ioAPICFrames[index] = UInt64(ioAPIC.address) >> 12 }
        }
        for index in 0..<min(madt.ioAPICCount, 8) {
            guard let ioAPIC = madt.ioAPIC(index) else { continue }
            facts.ioAPICAddresses[index] = UInt64(ioAPIC.address)
            facts.ioAPICGSIBases[index] = ioAPIC.gsiBase
        }
        for index in 0..<madt.overrideCount {
            guard let entry = madt.override(index), entry.bus == 0, entry.sourceIRQ < 16 else { continue }
            facts.isaOverrides[Int(entry.sourceIRQ)] = .overridden(gsi: entry.gsi, intiFlags: entry.flags.rawValue)
        }
        var usable = 0, disabled = 0
        for index in 0..<madt.cpuCount {
            guard let cpu = madt.cpu(index) else { continue }
            if cpu.isUsable { usable += 1 } else { disabled += 1 }
            if cpu.isEnabled {
                if facts.enabledCPUs < ImageLayout.maxCPUs { facts.cpuAPICIDs[facts.enabledCPUs] = cpu.apicID }
                facts.enabledCPUs += 1
            }
            Log.line(.info) { c in
                c.write("ACPI: CPU "); c.write(decimal: index); c.write(": APIC id "); c.write(decimal: UInt64(cpu.apicID))
                c.write(cpu.isEnabled ? " enabled" : (cpu.isOnlineCapable ? " online-capable" : " disabled"))
            }
        }
        facts.usableCPUs = max(usable, 1)
        facts.disabledCPUs = disabled
        Log.line { $0.write("Using ACPI (MADT) for SMP configuration information") }
        Log.line { c in
            c.write("SMP: Allowing "); c.write(decimal: facts.usableCPUs); c.write(" CPUs (")
            c.write(decimal: disabled); c.write(" hotplug CPUs)")
        }
        if options.smpDisabled {
            Log.line { $0.write("SMP: disabled by nosmp/ignorebiostables: only the boot CPU will run") }
        } else if let limit = options.maxCPUs, Int(limit) < facts.usableCPUs {
            Log.line { c in c.write("SMP: maxcpus="); c.write(decimal: UInt64(limit)); c.write(": the other CPUs stay offline") }
        }
    }
}
