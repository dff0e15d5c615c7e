// BootOptionsParser: turns Apus's command line into BootOptions, reporting as it goes.
//
// Rules, Xen's unless noted:
// - Tokens are separated by blanks, and each is `name` or `name=value`.
// - Boolean options take `name`, `no-name` and `name=<1|0|yes|no|on|off|true|false|enable|disable>`.
//   Combining `no-` with a value (`no-name=...`) is malformed here; Xen leaves it undefined.
//   Any other option given as `no-name` gets the value `no`, as in Xen.
// - An unknown name is reported and skipped. A malformed value is reported with a reason,
//   and the option keeps the value it had. Parsing always goes on to the next token.
// - When an option is given again the last one wins, and the repeat is reported as
//   `.overridden`. `dom0_mem` merges part by part, as Xen's does.
// - An accepted option or value that Apus does not act on is reported as `.notImplemented`,
//   with the note from BootOption.swift's table.
// Invariants: no allocation and no trap for any input. Exactly one `finished` call per token.
// Imports nothing.

extension BootOptions {
    /// Parses `commandLine` over the defaults. Strip the image name first (`stripImageName`).
    public static func parse(_ commandLine: ByteText, diagnostics: inout some BootOptionDiagnostics) -> BootOptions {
        var options = BootOptions()
        options.apply(commandLine: commandLine, diagnostics: &diagnostics)
        return options
    }

    /// Applies the options in `commandLine` on top of the current values. Parse a built-in
    /// command line first and then the loader's, and the loader's wins.
    public mutating func apply(commandLine: ByteText, diagnostics: inout some BootOptionDiagnostics) {
        var seen: UInt64 = 0
        var index = 0
        while index < commandLine.count {
            if ByteText.isBlank(commandLine[index]) {
                index += 1
                continue
            }
            let start = index
            while index < commandLine.count && !ByteText.isBlank(commandLine[index]) { index += 1 }
            let token = commandLine.slice(start, index)
            let (option, applied) = apply(token: token, seen: &seen, diagnostics: &diagnostics)
            diagnostics.finished(token: token, option: option, applied: applied)
        }
    }

    /// Drops the image path that some loaders put first (`/boot/apus.elf dom0_mem=...`): a
    /// first token that starts with `/`, or with `(` as in a GRUB legacy `(hd0,0)/...` path,
    /// and has no `=`. Leading blanks are dropped too. Anything else is returned unchanged.
    public static func stripImageName(_ commandLine: ByteText) -> ByteText {
        var start = 0
        while start < commandLine.count && ByteText.isBlank(commandLine[start]) { start += 1 }
        let rest = commandLine.dropFirst(start)
        guard rest.first == 0x2F || rest.first == 0x28 else { return rest }
        var end = 0
        while end < rest.count && !ByteText.isBlank(rest[end]) {
            if rest[end] == 0x3D { return rest }  // '=': an option, not a path
            end += 1
        }
        while end < rest.count && ByteText.isBlank(rest[end]) { end += 1 }
        return rest.dropFirst(end)
    }
}

/// One option occurrence being applied: what the diagnostics name.
private struct TokenContext {
    let option: BootOption
    let name: ByteText
    let value: ByteText

    func diagnostic(_ kind: BootOptionDiagnostic.Kind, value: ByteText? = nil) -> BootOptionDiagnostic {
        BootOptionDiagnostic(kind: kind, option: option, name: name, value: value ?? self.value)
    }
}

extension BootOptions {
    private mutating func apply(token: ByteText, seen: inout UInt64,
                                diagnostics: inout some BootOptionDiagnostics) -> (BootOption?, Bool) {
        let (name, valueText) = token.split(at: 0x3D)  // '='
        let hasValue = valueText != nil
        var value = valueText ?? .empty

        var negated = false
        var found = BootOption.named(name)
        if found == nil && name.hasPrefix("no-") {
            found = BootOption.named(name.dropFirst(3))
            negated = found != nil
        }
        guard let option = found else {
            diagnostics.report(BootOptionDiagnostic(kind: .unknown, option: nil, name: name, value: value))
            return (nil, false)
        }

        if negated && hasValue {
            let context = TokenContext(option: option, name: name, value: value)
            diagnostics.report(context.diagnostic(.malformed(reason: "no- cannot be combined with a value")))
            return (option, false)
        }
        if negated && !option.isBoolean { value = BootOptions.noValue }
        let context = TokenContext(option: option, name: name, value: value)

        let applied: Bool
        if option.isBoolean {
            applied = applyBoolean(context, hasValue: hasValue, negated: negated, diagnostics: &diagnostics)
        } else {
            applied = applyValue(context, diagnostics: &diagnostics)
        }
        guard applied else { return (option, false) }

        let bit: UInt64 = 1 << UInt64(option.rawValue)
        if seen & bit != 0 { diagnostics.report(context.diagnostic(.overridden)) }
        seen |= bit
        return (option, true)
    }

    private static var noValue: ByteText {
        let literal: StaticString = "no"
        return ByteText(base: literal.utf8Start, count: literal.utf8CodeUnitCount)
    }

    // MARK: Boolean options

    private mutating func applyBoolean(_ context: TokenContext, hasValue: Bool, negated: Bool,
                                       diagnostics: inout some BootOptionDiagnostics) -> Bool {
        var flag = !negated
        if hasValue {
            guard let parsed = BootValueSyntax.boolean(context.value) else {
                diagnostics.report(context.diagnostic(.malformed(
                    reason: "expected a boolean: 1, 0, yes, no, on, off, true, false, enable or disable")))
                return false
            }
            flag = parsed
        }
        switch context.option {
        case .noreboot: noReboot = flag
        case .nosmp: noSMP = flag
        case .ignorebiostables: ignoreBIOSTables = flag
        case .watchdog: watchdog = flag
        case .noirqbalance: noIRQBalance = flag
        case .noRealMode: noRealMode = flag
        case .consoleToRing: consoleToRing = flag
        case .syncConsole: syncConsole = flag
        case .dom0VCPUsPin: dom0VCPUsPin = flag
        case .apusDom0Shadow: dom0Shadow = flag
        case .lapic: forceLocalAPIC = flag
        case .nolapic: ignoreLocalAPIC = flag
        case .hap: hap = flag
        case .acpiSkipTimerOverride: acpiSkipTimerOverride = flag
        case .noapic: noAPIC = flag
        default: return false  // unreachable: isBoolean lists exactly the cases above
        }
        if flag, let note = context.option.support.note {
            diagnostics.report(context.diagnostic(.notImplemented(note: note)))
        }
        return true
    }

    // MARK: Options with values

    /// Takes the value out of `parsed`, reporting what needs reporting. nil when malformed.
    private func take<Value>(_ parsed: ParsedValue<Value>, _ context: TokenContext,
                             _ diagnostics: inout some BootOptionDiagnostics) -> Value? {
        switch parsed {
        case .value(let value):
            return value
        case .unsupported(let value, let note):
            diagnostics.report(context.diagnostic(.notImplemented(note: note)))
            return value
        case .malformed(let reason):
            diagnostics.report(context.diagnostic(.malformed(reason: reason)))
            return nil
        }
    }

    private static func number(_ text: ByteText, in range: ClosedRange<UInt64>,
                               reason: StaticString) -> ParsedValue<UInt64> {
        guard let value = BootValueSyntax.unsigned(text, in: range) else { return .malformed(reason: reason) }
        return .value(value)
    }

    private static func size(_ text: ByteText) -> ParsedValue<UInt64> {
        guard let bytes = BootValueSyntax.size(text) else {
            return .malformed(reason: "expected a size like 512M: a number with B, K, M, G or T (K if none)")
        }
        return .value(bytes)
    }

    private static func rateLimit(_ text: ByteText) -> ParsedValue<UInt64> {
        guard let value = BootValueSyntax.unsigned(text, in: 0...500_000), value == 0 || value >= 100 else {
            return .malformed(reason: "expected 0 (off) or microseconds in 100...500000")
        }
        return .value(value)
    }

    private mutating func applyValue(_ context: TokenContext, diagnostics: inout some BootOptionDiagnostics) -> Bool {
        let value = context.value
        var valueNote: StaticString? = nil
        switch context.option {
        case .reboot:
            guard let setting = take(RebootSetting.parse(value), context, &diagnostics) else { return false }
            if setting.noReboot { noReboot = true }
            if setting.namesMethod { valueNote = BootOptionValueSupport.rebootMethods }
        case .maxcpus:
            guard let count = take(BootOptions.number(value, in: 0...UInt64(UInt32.max),
                                                      reason: "expected a CPU count (0 means all)"),
                                   context, &diagnostics)
            else { return false }
            maxCPUs = count == 0 ? nil : UInt32(count)
        case .badpage:
            guard let list = take(BadPageList.parse(value), context, &diagnostics) else { return false }
            badPages = list
        case .com1:
            guard let port = take(SerialPortConfig.parse(value, defaults: .com1Default), context, &diagnostics)
            else { return false }
            com1 = port
        case .com2:
            guard let port = take(SerialPortConfig.parse(value, defaults: .com2Default), context, &diagnostics)
            else { return false }
            com2 = port
        case .console:
            let parsed = ConsoleSelection.parse(value) { entry, reason, notImplemented in
                let kind: BootOptionDiagnostic.Kind = notImplemented
                    ? .notImplemented(note: reason) : .malformed(reason: reason)
                diagnostics.report(context.diagnostic(kind, value: entry))
            }
            guard let selection = take(parsed, context, &diagnostics) else { return false }
            console = selection
        case .vga:
            guard let option = take(VGAOption.parse(value), context, &diagnostics) else { return false }
            vga = option
            valueNote = BootOptionValueSupport.vga(option)
        case .edid:
            guard let mode = take(EDIDMode.parse(value), context, &diagnostics) else { return false }
            edid = mode
            valueNote = BootOptionValueSupport.edid(mode)
        case .edd:
            guard let mode = take(EDDMode.parse(value), context, &diagnostics) else { return false }
            edd = mode
            valueNote = BootOptionValueSupport.edd(mode)
        case .conswitch:
            guard let setting = take(ConsoleSwitch.parse(value), context, &diagnostics) else { return false }
            conswitch = setting
        case .loglvl:
            guard let levels = take(LogThresholds.parse(value), context, &diagnostics) else { return false }
            logLevels = levels
        case .guestLoglvl:
            guard let levels = take(LogThresholds.parse(value), context, &diagnostics) else { return false }
            guestLogLevels = levels
        case .apusSelfTest:
            guard let test = take(SelfTest.parse(value), context, &diagnostics) else { return false }
            selfTest = test
        case .nmi:
            guard let action = take(NMIAction.parse(value), context, &diagnostics) else { return false }
            nmi = action
            valueNote = BootOptionValueSupport.nmi(action)
        case .mem:
            guard let bytes = take(BootOptions.size(value), context, &diagnostics) else { return false }
            memLimitBytes = bytes == 0 ? nil : bytes  // Xen: mem=0 sets no limit
        case .dom0Mem:
            guard let spec = take(Dom0MemorySpec.parse(value, over: dom0Memory), context, &diagnostics)
            else { return false }
            dom0Memory = spec
        case .dom0MaxVCPUs:
            guard let limits = take(Dom0VCPULimits.parse(value), context, &diagnostics) else { return false }
            dom0VCPUs = limits
        case .tbufSize:
            guard let pages = take(BootOptions.number(value, in: 0...UInt64(UInt32.max),
                                                      reason: "expected a page count"),
                                   context, &diagnostics)
            else { return false }
            traceBufferPages = UInt32(pages)
        case .sched:
            guard let name = SchedulerName.named(value) else {
                diagnostics.report(context.diagnostic(.malformed(reason: "unknown scheduler, using credit")))
                return false
            }
            scheduler = name
            valueNote = BootOptionValueSupport.scheduler(name)
        case .schedCreditTsliceMs:
            guard let ms = take(BootOptions.number(value, in: 1...1000, reason: "expected milliseconds in 1...1000"),
                                context, &diagnostics)
            else { return false }
            creditTimesliceMs = UInt32(ms)
        case .schedRatelimitUs:
            guard let us = take(BootOptions.rateLimit(value), context, &diagnostics) else { return false }
            schedulerRateLimitUs = UInt32(us)
        case .apicVerbosity:
            guard let verbosity = take(APICVerbosity.parse(value), context, &diagnostics) else { return false }
            apicVerbosity = verbosity
        case .apic:
            guard let driver = take(APICDriver.parse(value), context, &diagnostics) else { return false }
            apicDriver = driver
        case .dmaBits:
            guard let bits = take(BootOptions.number(value, in: 24...64, reason: "expected a bit width in 24...64"),
                                  context, &diagnostics)
            else { return false }
            dmaBits = UInt8(bits)
        case .dmaEmergencyPool:
            guard let bytes = take(BootOptions.size(value), context, &diagnostics) else { return false }
            dmaEmergencyPoolBytes = bytes
        case .acpi:
            guard let mode = take(ACPIMode.parse(value), context, &diagnostics) else { return false }
            acpi = mode
        default:
            return false  // unreachable: the boolean options never get here
        }
        if let note = valueNote ?? context.option.support.note {
            diagnostics.report(context.diagnostic(.notImplemented(note: note)))
        }
        return true
    }
}
