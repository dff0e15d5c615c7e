// BootOptions: the effective configuration that Apus takes from its command line.
//
// A plain value. Every field has the default Xen documents, or the default of Xen's release
// build where the manual states none. It holds no pointers, so it can sit in a global or
// on the stack before there is any allocator. Options that Apus records but does not
// implement are stored all the same (see BootOption.swift's support table), so that
// implementing one later does not mean touching the parser.
// Parsing lives in BootOptionsParser.swift and printing in BootOptionsSummary.swift.
// Imports nothing.

public struct BootOptions: Equatable {
    // MARK: Console and serial

    public var console = ConsoleSelection.xenDefault
    public var com1 = SerialPortConfig.com1Default
    public var com2 = SerialPortConfig.com2Default
    public var conswitch = ConsoleSwitch()
    public var syncConsole = false
    public var consoleToRing = false
    public var vga = VGAOption()
    public var noRealMode = false
    public var edid = EDIDMode.automatic
    public var edd = EDDMode.on

    // MARK: Logging

    /// `loglvl=`.
    public var logLevels = LogThresholds.hypervisorDefault
    /// `guest_loglvl=`.
    public var guestLogLevels = LogThresholds.guestDefault

    // MARK: Memory

    /// `mem=`: RAM above this physical address is ignored. nil: no limit.
    public var memLimitBytes: UInt64? = nil
    public var dom0Memory = Dom0MemorySpec()
    public var badPages = BadPageList()
    /// `dma_bits=`, 24...64. 30 means DMA-able memory is the first GiB.
    public var dmaBits: UInt8 = 30
    /// `dma_emergency_pool=`. nil: not given.
    public var dmaEmergencyPoolBytes: UInt64? = nil

    // MARK: CPUs and scheduling

    public var noSMP = false
    /// Only the `nosmp` it implies has a defined meaning (see `smpDisabled`).
    public var ignoreBIOSTables = false
    /// `maxcpus=`: the most CPUs to bring up. nil: all of them (Xen reads `maxcpus=0` the same way).
    public var maxCPUs: UInt32? = nil
    public var dom0VCPUs = Dom0VCPULimits()
    public var dom0VCPUsPin = false
    /// apus_dom0_shadow: dom0 on shadow page tables, shadow_op on itself allowed.
    public var dom0Shadow = false
    /// `sched=`: what was asked for. Apus always runs `credit` (see BootOptionValueSupport).
    public var scheduler = SchedulerName.credit
    /// `sched_credit_tslice_ms=`, 1...1000.
    public var creditTimesliceMs: UInt32 = 30
    /// `sched_ratelimit_us=`: 0 (off) or 100...500000.
    public var schedulerRateLimitUs: UInt32 = 1000
    /// `tbuf_size=`: per-CPU trace buffer pages.
    public var traceBufferPages: UInt32 = 0

    // MARK: Platform

    public var noReboot = false
    public var watchdog = false
    public var noIRQBalance = false
    /// Xen's debug-build default. Its release build defaults to `dom0`, which Apus lacks.
    public var nmi = NMIAction.fatal
    public var apicVerbosity = APICVerbosity.normal
    /// `lapic`: use the local APIC even if the BIOS left it off.
    public var forceLocalAPIC = false
    /// `nolapic`: ignore the local APIC on a uniprocessor system.
    public var ignoreLocalAPIC = false
    public var apicDriver = APICDriver.automatic
    public var hap = false

    // MARK: Linux-syntax options that are also passed on to dom0

    public var acpi = ACPIMode.automatic
    public var acpiSkipTimerOverride = false
    public var noAPIC = false
    public var selfTest = SelfTest.none

    public init() {}

    /// Whether to stay on the boot CPU: `nosmp`, or the `ignorebiostables` that implies it,
    /// whatever order they were given in.
    public var smpDisabled: Bool { noSMP || ignoreBIOSTables }

    /// The ratelimit the credit scheduler should use. Xen lowers it to the timeslice when it is longer.
    public var effectiveRateLimitUs: UInt32 { Swift.min(schedulerRateLimitUs, creditTimesliceMs * 1000) }
}
