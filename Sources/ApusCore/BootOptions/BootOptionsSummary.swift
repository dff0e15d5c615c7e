// BootOptionsSummary: writes BootOptions back out as text.
//
// - `writeSummary` writes one line per option in command-line syntax (`com1=115200,8n1,0x3f8,4`),
//   so what Apus took can be compared with what was typed. It always writes the console,
//   each serial port the console uses, both log levels and the scheduler, and any other
//   option whose value is not the default. Parsing the lines again, joined with spaces,
//   gives the same BootOptions (the tests check this).
// - `writeLoglevelBanner` writes Xen's two end-of-boot lines, `Std. Loglevel: ...` and
//   `Guest Loglevel: ...`.
// - `writeDom0CommandLineAdditions` writes the Linux-syntax options that Xen passes on to
//   dom0 when dom0's own command line lacks them.
// Imports nothing.

extension BootOptions {
    /// Writes the summary lines, each preceded by `linePrefix` and ended by a newline.
    public func writeSummary<Sink: TextSink>(into sink: inout Sink, linePrefix: StaticString = "") {
        let defaults = BootOptions()
        var raw: UInt8 = 0
        while raw < BootOption.count {
            defer { raw += 1 }
            guard let option = BootOption(rawValue: raw), isInSummary(option, defaults: defaults) else { continue }
            sink.write(linePrefix)
            sink.write(option.name)
            if !option.isBoolean {
                sink.put(0x3D)
                writeValue(of: option, into: &sink)
            }
            sink.newline()
        }
    }

    /// Xen's lines, e.g. `Std. Loglevel: Errors and warnings` and
    /// `Guest Loglevel: Nothing (Rate-limited: Errors and warnings)`, each ended by a newline.
    public func writeLoglevelBanner<Sink: TextSink>(into sink: inout Sink, linePrefix: StaticString = "") {
        sink.write(linePrefix)
        sink.write("Std. Loglevel: ")
        logLevels.writeXenDescription(into: &sink)
        sink.newline()
        sink.write(linePrefix)
        sink.write("Guest Loglevel: ")
        guestLogLevels.writeXenDescription(into: &sink)
        sink.newline()
    }

    /// Appends ` noapic`, ` acpi=<mode>` and ` acpi_skip_timer_override` when they were given
    /// and `existing` (dom0's command line) does not mention them. This is Xen's rule: dom0
    /// shares the platform set-up, so it must see the same choices.
    public func writeDom0CommandLineAdditions<Sink: TextSink>(existing: ByteText, into sink: inout Sink) {
        if noAPIC && !existing.contains("noapic") {
            sink.write(" noapic")
        }
        if acpi != .automatic && !existing.contains("acpi=") {
            sink.write(" acpi=")
            sink.write(acpi.name)
        }
        if acpiSkipTimerOverride && !existing.contains("acpi_skip_timer_override") {
            sink.write(" acpi_skip_timer_override")
        }
    }

    private func isInSummary(_ option: BootOption, defaults: BootOptions) -> Bool {
        switch option {
        case .console, .loglvl, .guestLoglvl, .sched: return true
        case .com1: return console.serial?.port == 1 || com1 != defaults.com1
        case .com2: return console.serial?.port == 2 || com2 != defaults.com2
        case .reboot: return false  // recorded as noreboot
        case .noreboot: return noReboot
        case .nosmp: return noSMP
        case .ignorebiostables: return ignoreBIOSTables
        case .maxcpus: return maxCPUs != nil
        case .watchdog: return watchdog
        case .noirqbalance: return noIRQBalance
        case .badpage: return !badPages.isEmpty
        case .vga: return vga != defaults.vga
        case .noRealMode: return noRealMode
        case .edid: return edid != defaults.edid
        case .edd: return edd != defaults.edd
        case .consoleToRing: return consoleToRing
        case .syncConsole: return syncConsole
        case .conswitch: return conswitch != defaults.conswitch
        case .nmi: return nmi != defaults.nmi
        case .apusSelfTest: return selfTest != defaults.selfTest
        case .mem: return memLimitBytes != nil
        case .dom0Mem: return !dom0Memory.isEmpty
        case .dom0MaxVCPUs: return dom0VCPUs != defaults.dom0VCPUs
        case .dom0VCPUsPin: return dom0VCPUsPin
        case .apusDom0Shadow: return dom0Shadow
        case .tbufSize: return traceBufferPages != defaults.traceBufferPages
        case .schedCreditTsliceMs: return creditTimesliceMs != defaults.creditTimesliceMs
        case .schedRatelimitUs: return schedulerRateLimitUs != defaults.schedulerRateLimitUs
        case .apicVerbosity: return apicVerbosity != defaults.apicVerbosity
        case .lapic: return forceLocalAPIC
        case .nolapic: return ignoreLocalAPIC
        case .apic: return apicDriver != defaults.apicDriver
        case .dmaBits: return dmaBits != defaults.dmaBits
        case .dmaEmergencyPool: return dmaEmergencyPoolBytes != nil
        case .hap: return hap
        case .acpi: return acpi != defaults.acpi
        case .acpiSkipTimerOverride: return acpiSkipTimerOverride
        case .noapic: return noAPIC
        }
    }

    /// The value part of a non-boolean option, in the syntax its parser reads.
    private func writeValue<Sink: TextSink>(of option: BootOption, into sink: inout Sink) {
        switch option {
        case .console: console.write(into: &sink)
        case .com1: com1.write(into: &sink)
        case .com2: com2.write(into: &sink)
        case .conswitch: conswitch.write(into: &sink)
        case .vga: vga.write(into: &sink)
        case .edid: sink.write(edid.name)
        case .edd: sink.write(edd.name)
        case .loglvl: logLevels.write(into: &sink)
        case .guestLoglvl: guestLogLevels.write(into: &sink)
        case .nmi: sink.write(nmi.name)
        case .apusSelfTest: sink.write(selfTest.name)
        case .mem: sink.write(bootOptionSize: memLimitBytes ?? 0)
        case .dom0Mem: dom0Memory.write(into: &sink)
        case .badpage: badPages.write(into: &sink)
        case .maxcpus: sink.write(decimal: UInt64(maxCPUs ?? 0))
        case .dom0MaxVCPUs: dom0VCPUs.write(into: &sink)
        case .tbufSize: sink.write(decimal: UInt64(traceBufferPages))
        case .sched: sink.write(scheduler.name)
        case .schedCreditTsliceMs: sink.write(decimal: UInt64(creditTimesliceMs))
        case .schedRatelimitUs: sink.write(decimal: UInt64(schedulerRateLimitUs))
        case .apicVerbosity: sink.write(apicVerbosity.name)
        case .apic: sink.write(apicDriver.name)
        case .dmaBits: sink.write(decimal: UInt64(dmaBits))
        case .dmaEmergencyPool: sink.write(bootOptionSize: dmaEmergencyPoolBytes ?? 0)
        case .acpi: sink.write(acpi.name)
        case .reboot: sink.write("no")
        default: break  // booleans have no value part
        }
    }
}
