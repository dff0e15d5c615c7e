// BootOption: every boot option Apus knows, and the one table of what Apus implements.
//
// The names are Xen's, spelled as in the Xen manual's "Xen Boot Options" section. Xen 4
// added `dom0_max_vcpus`, `maxcpus`, the credit scheduler's tuning options and `reboot=`.
// Apus takes and records every option here. Some of them it does not act on yet. That is
// decided only in `support` and `BootOptionValueSupport` below, so whoever implements a
// feature changes its entry here and nowhere else. The parser reports an option, or an
// option value, that Apus accepts but does not implement, with the note from this table.
// Imports nothing.

public enum BootOption: UInt8 {
    case noreboot
    case reboot
    case nosmp
    case ignorebiostables
    case maxcpus
    case watchdog
    case noirqbalance
    case badpage
    case com1
    case com2
    case console
    case vga
    case noRealMode
    case edid
    case edd
    case consoleToRing
    case syncConsole
    case conswitch
    case loglvl
    case guestLoglvl
    case nmi
    case mem
    case dom0Mem
    case dom0MaxVCPUs
    case dom0VCPUsPin
    case tbufSize
    case sched
    case schedCreditTsliceMs
    case schedRatelimitUs
    case apicVerbosity
    case lapic
    case nolapic
    case apic
    case dmaBits
    case dmaEmergencyPool
    case hap
    case acpi
    case acpiSkipTimerOverride
    case noapic
    /// Apus's own (not Xen's): runs one crash or power path on purpose, for the boot tests.
    case apusSelfTest
    /// Apus's own: dom0 runs on shadow page tables and may use shadow_op (log-dirty) on
    /// itself, which Xen never lets a domain do; for the shadow-paging boot test.
    case apusDom0Shadow

    /// How many options there are; raw values run from 0 to count - 1.
    public static var count: UInt8 { BootOption.apusDom0Shadow.rawValue + 1 }

    /// The option spelled exactly `text`, or nil.
    public static func named(_ text: ByteText) -> BootOption? {
        var raw: UInt8 = 0
        while raw < count {
            if let option = BootOption(rawValue: raw), text.equals(option.name) { return option }
            raw += 1
        }
        return nil
    }

    /// The name as written on the command line.
    public var name: StaticString {
        switch self {
        case .noreboot: return "noreboot"
        case .reboot: return "reboot"
        case .nosmp: return "nosmp"
        case .ignorebiostables: return "ignorebiostables"
        case .maxcpus: return "maxcpus"
        case .watchdog: return "watchdog"
        case .noirqbalance: return "noirqbalance"
        case .badpage: return "badpage"
        case .com1: return "com1"
        case .com2: return "com2"
        case .console: return "console"
        case .vga: return "vga"
        case .noRealMode: return "no-real-mode"
        case .edid: return "edid"
        case .edd: return "edd"
        case .consoleToRing: return "console_to_ring"
        case .syncConsole: return "sync_console"
        case .conswitch: return "conswitch"
        case .loglvl: return "loglvl"
        case .guestLoglvl: return "guest_loglvl"
        case .nmi: return "nmi"
        case .mem: return "mem"
        case .dom0Mem: return "dom0_mem"
        case .dom0MaxVCPUs: return "dom0_max_vcpus"
        case .dom0VCPUsPin: return "dom0_vcpus_pin"
        case .tbufSize: return "tbuf_size"
        case .sched: return "sched"
        case .schedCreditTsliceMs: return "sched_credit_tslice_ms"
        case .schedRatelimitUs: return "sched_ratelimit_us"
        case .apicVerbosity: return "apic_verbosity"
        case .lapic: return "lapic"
        case .nolapic: return "nolapic"
        case .apic: return "apic"
        case .dmaBits: return "dma_bits"
        case .dmaEmergencyPool: return "dma_emergency_pool"
        case .hap: return "hap"
        case .acpi: return "acpi"
        case .acpiSkipTimerOverride: return "acpi_skip_timer_override"
        case .noapic: return "noapic"
        case .apusSelfTest: return "apus_selftest"
        case .apusDom0Shadow: return "apus_dom0_shadow"
        }
    }

    /// A boolean option takes `name`, `no-name` or `name=<boolean>`. The others take `name=<value>`.
    public var isBoolean: Bool {
        switch self {
        case .noreboot, .nosmp, .ignorebiostables, .watchdog, .noirqbalance, .noRealMode, .consoleToRing,
             .syncConsole, .dom0VCPUsPin, .lapic, .nolapic, .hap, .acpiSkipTimerOverride, .noapic, .apusDom0Shadow:
            return true
        default:
            return false
        }
    }

    /// THE table: what Apus does with each option once it has parsed it.
    public var support: BootOptionSupport {
        switch self {
        case .noreboot, .nosmp, .maxcpus, .badpage, .com1, .com2, .console, .syncConsole, .conswitch,
             .loglvl, .guestLoglvl, .mem, .dom0Mem, .dom0MaxVCPUs, .dom0VCPUsPin, .schedCreditTsliceMs,
             .schedRatelimitUs, .apicVerbosity, .lapic, .nolapic, .acpi, .acpiSkipTimerOverride, .noapic,
             .dmaBits, .apusSelfTest, .apusDom0Shadow:
            return .implemented
        case .noRealMode:
            // Apus never runs real-mode code, so the option is honoured by construction.
            return .implemented
        case .reboot, .vga, .edid, .edd, .nmi, .sched:
            return .dependsOnValue
        case .ignorebiostables:
            return .notImplemented(note: "only the nosmp it implies is honoured")
        case .watchdog:
            return .notImplemented(note: "there is no NMI watchdog yet")
        case .noirqbalance:
            return .notImplemented(note: "there is no IRQ balancing control yet")
        case .consoleToRing:
            return .notImplemented(note: "guest console output is not copied to the console ring yet")
        case .tbufSize:
            return .notImplemented(note: "there are no trace buffers yet")
        case .apic:
            return .notImplemented(note: "APIC driver selection is not implemented, the default driver is used")
        case .dmaEmergencyPool:
            return .notImplemented(note: "there is no DMA emergency pool yet")
        case .hap:
            return .notImplemented(note: "Apus runs PV guests only and uses no hardware-assisted paging")
        }
    }
}

public enum BootOptionSupport {
    case implemented
    /// Apus records the value but does not act on it (the note says what is missing).
    case notImplemented(note: StaticString)
    /// Some values are implemented: see `BootOptionValueSupport`.
    case dependsOnValue

    public var note: StaticString? {
        if case .notImplemented(let note) = self { return note }
        return nil
    }
}

/// The rest of the table: which values of a `.dependsOnValue` option Apus acts on.
/// Each function returns nil when Apus honours the value, otherwise the note to report.
public enum BootOptionValueSupport {
    public static func vga(_ option: VGAOption) -> StaticString? {
        guard option.mode == .text(rows: 25) else {
            return "only text-80x25 is implemented: Apus keeps the mode the boot loader set"
        }
        return option.keep ? "keep is not implemented: VGA output stops when dom0 starts" : nil
    }

    public static func nmi(_ action: NMIAction) -> StaticString? {
        action == .dom0 ? "passing NMI errors to dom0 is not implemented" : nil
    }

    public static func scheduler(_ name: SchedulerName) -> StaticString? {
        name == .credit ? nil : "this scheduler is not available in Apus, using credit"
    }

    public static func edid(_ mode: EDIDMode) -> StaticString? {
        mode == .force ? "Apus never reads EDID" : nil
    }

    public static func edd(_ mode: EDDMode) -> StaticString? {
        mode == .off ? nil : "Apus never reads EDD from the BIOS"
    }

    /// For `reboot=` values that name a method, warm or cold.
    public static var rebootMethods: StaticString? { "reboot methods are not implemented, only n[o] is" }
}
