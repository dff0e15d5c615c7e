// PlatformOptions: the small closed-choice values of Xen's boot options, and dom0's vCPU count.
//
// Each type here parses the words Xen accepts for its option and writes them back the same
// way. What Apus does with each value is decided in BootOption.swift's support table, not
// here.
// Imports nothing.

/// `nmi=`: what to do with an NMI that reports a parity or I/O error.
public enum NMIAction: Equatable {
    case fatal
    case dom0
    case ignore

    public static func parse(_ text: ByteText) -> ParsedValue<NMIAction> {
        if text.equals("fatal") { return .value(.fatal) }
        if text.equals("dom0") { return .value(.dom0) }
        if text.equals("ignore") { return .value(.ignore) }
        return .malformed(reason: "expected fatal, dom0 or ignore")
    }

    public var name: StaticString {
        switch self {
        case .fatal: return "fatal"
        case .dom0: return "dom0"
        case .ignore: return "ignore"
        }
    }
}

/// `apus_selftest=`: Apus's own option. At the end of boot, instead of looking for dom0,
/// Apus takes one of the paths that otherwise only a bug or dom0 would take, so the boot
/// tests can check what a person sees then: a failed Swift runtime check, a page fault,
/// a stack overflow onto the guard page, an ACPI power-off, a reset.
public enum SelfTest: Equatable {
    case none
    case swiftTrap
    case pageFault
    case stackOverflow
    case powerOff
    case reset

    public static func parse(_ text: ByteText) -> ParsedValue<SelfTest> {
        if text.equals("swift-trap") { return .value(.swiftTrap) }
        if text.equals("page-fault") { return .value(.pageFault) }
        if text.equals("stack-overflow") { return .value(.stackOverflow) }
        if text.equals("poweroff") { return .value(.powerOff) }
        if text.equals("reset") { return .value(.reset) }
        return .malformed(reason: "expected swift-trap, page-fault, stack-overflow, poweroff or reset")
    }

    public var name: StaticString {
        switch self {
        case .none: return "none"
        case .swiftTrap: return "swift-trap"
        case .pageFault: return "page-fault"
        case .stackOverflow: return "stack-overflow"
        case .powerOff: return "poweroff"
        case .reset: return "reset"
        }
    }
}

/// `apic_verbosity=`.
public enum APICVerbosity: Equatable {
    case normal
    case verbose
    case debug

    public static func parse(_ text: ByteText) -> ParsedValue<APICVerbosity> {
        if text.equals("verbose") { return .value(.verbose) }
        if text.equals("debug") { return .value(.debug) }
        return .malformed(reason: "expected verbose or debug")
    }

    public var name: StaticString {
        switch self {
        case .normal: return "normal"
        case .verbose: return "verbose"
        case .debug: return "debug"
        }
    }
}

/// `apic=`: Xen's APIC driver (the manual calls it the NUMA platform).
public enum APICDriver: Equatable {
    /// Not given: probe.
    case automatic
    case bigsmp
    case `default`
    case es7000
    case summit

    public static func parse(_ text: ByteText) -> ParsedValue<APICDriver> {
        if text.equals("bigsmp") { return .value(.bigsmp) }
        if text.equals("default") { return .value(.default) }
        if text.equals("es7000") { return .value(.es7000) }
        if text.equals("summit") { return .value(.summit) }
        return .malformed(reason: "expected bigsmp, default, es7000 or summit")
    }

    public var name: StaticString {
        switch self {
        case .automatic: return "automatic"
        case .bigsmp: return "bigsmp"
        case .default: return "default"
        case .es7000: return "es7000"
        case .summit: return "summit"
        }
    }
}

/// `edid=`: whether monitor EDID is read through VESA DDC.
public enum EDIDMode: Equatable {
    case automatic
    case no
    case force

    public static func parse(_ text: ByteText) -> ParsedValue<EDIDMode> {
        if text.equals("no") { return .value(.no) }
        if text.equals("force") { return .value(.force) }
        return .malformed(reason: "expected no or force")
    }

    public var name: StaticString {
        switch self {
        case .automatic: return "automatic"
        case .no: return "no"
        case .force: return "force"
        }
    }
}

/// `edd=`: whether Extended Disc Data is read from the BIOS. Xen's default is `on`.
public enum EDDMode: Equatable {
    case on
    case off
    case skipMBR

    public static func parse(_ text: ByteText) -> ParsedValue<EDDMode> {
        if text.equals("on") { return .value(.on) }
        if text.equals("off") { return .value(.off) }
        if text.equals("skipmbr") { return .value(.skipMBR) }
        return .malformed(reason: "expected off, on or skipmbr")
    }

    public var name: StaticString {
        switch self {
        case .on: return "on"
        case .off: return "off"
        case .skipMBR: return "skipmbr"
        }
    }
}

/// `acpi=`: a Linux-syntax option that Xen acts on and also passes on to dom0.
public enum ACPIMode: Equatable {
    /// Not given: use ACPI unless the firmware is known to be broken.
    case automatic
    /// `acpi=off` (or any boolean false word).
    case off
    case force
    case strict
    case ht
    case noirq
    case verbose

    public static func parse(_ text: ByteText) -> ParsedValue<ACPIMode> {
        if BootValueSyntax.boolean(text) == false { return .value(.off) }
        if text.equals("force") { return .value(.force) }
        if text.equals("strict") { return .value(.strict) }
        if text.equals("ht") { return .value(.ht) }
        if text.equals("noirq") { return .value(.noirq) }
        if text.equals("verbose") { return .value(.verbose) }
        return .malformed(reason: "expected off, force, strict, ht, noirq or verbose")
    }

    public var name: StaticString {
        switch self {
        case .automatic: return "automatic"
        case .off: return "off"
        case .force: return "force"
        case .strict: return "strict"
        case .ht: return "ht"
        case .noirq: return "noirq"
        case .verbose: return "verbose"
        }
    }
}

/// `sched=`: the scheduler asked for. Apus has only `credit`; asking for another is reported.
public enum SchedulerName: Equatable {
    case credit
    case credit2
    case rtds
    case rt
    case null
    case arinc653
    case sedf

    /// A scheduler some Xen release knows by this name, or nil.
    public static func named(_ text: ByteText) -> SchedulerName? {
        if text.equals("credit") { return .credit }
        if text.equals("credit2") { return .credit2 }
        if text.equals("rtds") { return .rtds }
        if text.equals("rt") { return .rt }
        if text.equals("null") { return .null }
        if text.equals("arinc653") { return .arinc653 }
        if text.equals("sedf") { return .sedf }
        return nil
    }

    public var name: StaticString {
        switch self {
        case .credit: return "credit"
        case .credit2: return "credit2"
        case .rtds: return "rtds"
        case .rt: return "rt"
        case .null: return "null"
        case .arinc653: return "arinc653"
        case .sedf: return "sedf"
        }
    }
}

/// `reboot=`: Xen's list of reboot settings, each picked by its first letter. `n[o]` is the
/// same as `noreboot`. The methods (`t k a p P e x`) and `w[arm]`/`c[old]` are checked but
/// not recorded, because Apus has only one way to reset.
public enum RebootSetting {
    /// Returns whether the list says `n[o]` and whether it names anything else.
    public static func parse(_ text: ByteText) -> ParsedValue<(noReboot: Bool, namesMethod: Bool)> {
        var noReboot = false
        var namesMethod = false
        var entries = text.listEntries()
        while let entry = entries.next() {
            switch entry.first {
            case 0x6E: noReboot = true  // n
            case 0x74, 0x6B, 0x61, 0x70, 0x50, 0x65, 0x78, 0x77, 0x63:  // t k a p P e x w c
                namesMethod = true
            default:
                return .malformed(reason: "expected n[o], t[riple], k[bd], a[cpi], p[ci], P[ower], e[fi], w[arm], c[old]")
            }
        }
        return .value((noReboot, namesMethod))
    }
}

/// `dom0_max_vcpus=`: `<n>`, `<min>-`, `<min>-<max>` or `-<max>`.
public struct Dom0VCPULimits: Equatable {
    /// At least 1.
    public var minimum: UInt32 = 1
    /// nil: no upper limit other than the platform's.
    public var maximum: UInt32? = nil

    public init(minimum: UInt32 = 1, maximum: UInt32? = nil) {
        self.minimum = Swift.max(minimum, 1)
        self.maximum = maximum
    }

    public static func parse(_ text: ByteText) -> ParsedValue<Dom0VCPULimits> {
        let malformed = ParsedValue<Dom0VCPULimits>.malformed(
            reason: "expected <n>, <min>-, <min>-<max> or -<max> with counts up to 4294967295")
        if text.first == 0x2D {  // "-<max>"
            guard let maximum = count(text.dropFirst(1)), maximum > 0 else { return malformed }
            return .value(Dom0VCPULimits(minimum: 1, maximum: maximum))
        }
        let (number, rest) = text.parseUnsignedPrefix()
        guard let number, number <= UInt64(UInt32.max) else { return malformed }
        let minimum = Swift.max(UInt32(number), 1)  // Xen reads 0 as 1
        if rest.isEmpty { return .value(Dom0VCPULimits(minimum: minimum, maximum: minimum)) }
        guard rest.first == 0x2D else { return malformed }
        if rest.count == 1 { return .value(Dom0VCPULimits(minimum: minimum, maximum: nil)) }
        guard let maximum = count(rest.dropFirst(1)), maximum > 0 else { return malformed }
        return .value(Dom0VCPULimits(minimum: minimum, maximum: maximum))
    }

    private static func count(_ text: ByteText) -> UInt32? {
        BootValueSyntax.unsigned(text, in: 0...UInt64(UInt32.max)).map { UInt32($0) }
    }

    /// dom0's vCPU count: one per physical CPU, raised to the minimum, then lowered to the
    /// maximum (the maximum wins), then to `platformLimit`.
    public func count(physicalCPUs: Int, platformLimit: Int) -> Int {
        var count = Swift.max(physicalCPUs, Int(minimum))
        if let maximum { count = Swift.min(count, Int(maximum)) }
        return Swift.max(1, Swift.min(count, platformLimit))
    }

    public func write<Sink: TextSink>(into sink: inout Sink) {
        sink.write(decimal: UInt64(minimum))
        guard maximum != minimum else { return }
        sink.put(0x2D)
        if let maximum { sink.write(decimal: UInt64(maximum)) }
    }
}
