// Tests for the command-line tokeniser and dispatcher: boolean forms, unknown and repeated
// options, the realistic command line, image-name stripping. Also holds the recording
// diagnostics sink that the other BootOptions*Tests files share.
import ApusCore
import XCTest

/// A diagnostic copied out of the command line's bytes.
struct RecordedDiagnostic: Equatable, CustomStringConvertible {
    enum Kind: Equatable { case unknown, malformed, notImplemented, overridden }
    var kind: Kind
    var option: BootOption?
    var name: String
    var value: String
    /// The reason or note.
    var detail: String
    var logLine: String

    var description: String { logLine }
}

/// One token's verdict and the diagnostics reported for it.
struct RecordedToken {
    var token: String
    var option: BootOption?
    var applied: Bool
    var diagnostics: [RecordedDiagnostic]
}

struct RecordingDiagnostics: BootOptionDiagnostics {
    var diagnostics: [RecordedDiagnostic] = []
    var tokens: [RecordedToken] = []
    private var pending: [RecordedDiagnostic] = []

    mutating func report(_ diagnostic: BootOptionDiagnostic) {
        var line = ByteBufferSink()
        diagnostic.writeLogLine(into: &line)
        let kind: RecordedDiagnostic.Kind
        let detail: String
        switch diagnostic.kind {
        case .unknown: kind = .unknown; detail = ""
        case .malformed(let reason): kind = .malformed; detail = reason.description
        case .notImplemented(let note): kind = .notImplemented; detail = note.description
        case .overridden: kind = .overridden; detail = ""
        }
        let recorded = RecordedDiagnostic(
            kind: kind, option: diagnostic.option, name: diagnostic.name.description,
            value: diagnostic.value.description, detail: detail, logLine: line.text)
        diagnostics.append(recorded)
        pending.append(recorded)
    }

    mutating func finished(token: ByteText, option: BootOption?, applied: Bool) {
        tokens.append(RecordedToken(token: token.description, option: option, applied: applied, diagnostics: pending))
        pending = []
    }

    var unattributed: [RecordedDiagnostic] { pending }

    func kinds() -> [RecordedDiagnostic.Kind] { diagnostics.map(\.kind) }
}

/// Parses `line` (image name not stripped) and returns the options and what was reported.
func parseBootOptions(_ line: String) -> (BootOptions, RecordingDiagnostics) {
    var recorder = RecordingDiagnostics()
    let options = withByteText(line) { BootOptions.parse($0, diagnostics: &recorder) }
    return (options, recorder)
}

/// Parses `line` and fails the test if anything at all was reported.
@discardableResult
func parseBootOptionsClean(_ line: String, file: StaticString = #filePath, line lineNumber: UInt = #line) -> BootOptions {
    let (options, recorder) = parseBootOptions(line)
    XCTAssertEqual(recorder.diagnostics, [], "unexpected diagnostics for \(line)", file: file, line: lineNumber)
    return options
}

/// Parses a single token that must be rejected as malformed, and returns the reason.
@discardableResult
func expectMalformedBootOption(_ token: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    let (options, recorder) = parseBootOptions(token)
    XCTAssertEqual(options, BootOptions(), "\(token) changed the options", file: file, line: line)
    XCTAssertEqual(recorder.tokens.count, 1, file: file, line: line)
    XCTAssertEqual(recorder.tokens.first?.applied, false, "\(token) was applied", file: file, line: line)
    XCTAssertEqual(recorder.kinds(), [.malformed], "\(token): \(recorder.diagnostics)", file: file, line: line)
    return recorder.diagnostics.first?.detail ?? ""
}

/// All options, in table order.
func allBootOptions() -> [BootOption] {
    (0..<BootOption.count).map { BootOption(rawValue: $0)! }
}

/// The field a boolean option sets.
func booleanField(_ options: BootOptions, _ option: BootOption) -> Bool? {
    switch option {
    case .noreboot: return options.noReboot
    case .nosmp: return options.noSMP
    case .ignorebiostables: return options.ignoreBIOSTables
    case .watchdog: return options.watchdog
    case .noirqbalance: return options.noIRQBalance
    case .noRealMode: return options.noRealMode
    case .consoleToRing: return options.consoleToRing
    case .syncConsole: return options.syncConsole
    case .dom0VCPUsPin: return options.dom0VCPUsPin
    case .apusDom0Shadow: return options.dom0Shadow
    case .lapic: return options.forceLocalAPIC
    case .nolapic: return options.ignoreLocalAPIC
    case .hap: return options.hap
    case .acpiSkipTimerOverride: return options.acpiSkipTimerOverride
    case .noapic: return options.noAPIC
    default: return nil
    }
}

final class BootOptionsParserTests: XCTestCase {
    func testEmptyAndBlankCommandLinesGiveDefaultsAndNoTokens() {
        for line in ["", " ", "   \t  ", "\n", "\r\n"] {
            let (options, recorder) = parseBootOptions(line)
            XCTAssertEqual(options, BootOptions())
            XCTAssertTrue(recorder.diagnostics.isEmpty)
            XCTAssertTrue(recorder.tokens.isEmpty)
        }
    }

    func testDefaultsAreTheManualsAndXenReleaseBuilds() {
        let defaults = BootOptions()
        XCTAssertEqual(defaults.console, ConsoleSelection(vga: true, serial: SerialConsole(port: 1)))
        XCTAssertEqual(defaults.com1.ioBase, 0x3F8)
        XCTAssertEqual(defaults.com1.irq, 4)
        XCTAssertEqual(defaults.com2.ioBase, 0x2F8)
        XCTAssertEqual(defaults.com2.irq, 3)
        XCTAssertEqual(defaults.com1.baud, .auto)
        XCTAssertEqual(defaults.logLevels, LogThresholds(printedUpTo: .warning, rateLimitedUpTo: .warning))
        XCTAssertEqual(defaults.guestLogLevels, LogThresholds(printedUpTo: .none, rateLimitedUpTo: .warning))
        XCTAssertEqual(defaults.conswitch.switchCharacter, UInt8(ascii: "a"))
        XCTAssertTrue(defaults.conswitch.autoSwitchToDom0)
        XCTAssertEqual(defaults.scheduler, .credit)
        XCTAssertEqual(defaults.creditTimesliceMs, 30)
        XCTAssertEqual(defaults.schedulerRateLimitUs, 1000)
        XCTAssertEqual(defaults.dmaBits, 30)
        XCTAssertEqual(defaults.traceBufferPages, 0)
        XCTAssertNil(defaults.memLimitBytes)
        XCTAssertTrue(defaults.dom0Memory.isEmpty)
        XCTAssertTrue(defaults.badPages.isEmpty)
        XCTAssertEqual(defaults.vga.mode, .text(rows: 25))
        XCTAssertFalse(defaults.vga.keep)
        XCTAssertEqual(defaults.edd, .on)
        XCTAssertEqual(defaults.dom0VCPUs, Dom0VCPULimits(minimum: 1, maximum: nil))
        XCTAssertNil(defaults.maxCPUs)
        for option in allBootOptions() where option.isBoolean {
            XCTAssertEqual(booleanField(defaults, option), false, "\(option.name) should default to false")
        }
    }

    func testEveryBooleanOptionAcceptsEveryXenForm() {
        let trueWords = ["1", "yes", "on", "true", "enable"]
        let falseWords = ["0", "no", "off", "false", "disable"]
        var booleans = 0
        for option in allBootOptions() where option.isBoolean {
            booleans += 1
            let name = option.name.description
            XCTAssertEqual(booleanField(parseBootOptions(name).0, option), true, name)
            XCTAssertEqual(booleanField(parseBootOptions("\(name) no-\(name)").0, option), false, name)
            for word in trueWords {
                XCTAssertEqual(booleanField(parseBootOptions("\(name)=\(word)").0, option), true, "\(name)=\(word)")
            }
            for word in falseWords {
                XCTAssertEqual(booleanField(parseBootOptions("\(name) \(name)=\(word)").0, option), false,
                               "\(name)=\(word)")
            }
        }
        XCTAssertEqual(booleans, 15)
    }

    func testBooleanValuesOutsideXensWordsAreMalformed() {
        for token in ["nosmp=2", "nosmp=", "nosmp=YES", "nosmp=On", "nosmp=y", "nosmp=01", "noreboot=truee"] {
            let reason = expectMalformedBootOption(token)
            XCTAssertTrue(reason.hasPrefix("expected a boolean"), reason)
        }
    }

    func testNoPrefixWithAValueIsMalformed() {
        expectMalformedBootOption("no-nosmp=1")
        expectMalformedBootOption("no-dom0_mem=512M")
    }

    func testNoPrefixOnAValueOptionPassesNoAsXenDoes() {
        let options = parseBootOptionsClean("no-acpi")
        XCTAssertEqual(options.acpi, .off)
        let (_, recorder) = parseBootOptions("no-console")
        XCTAssertEqual(recorder.kinds(), [.malformed, .malformed])  // the entry "no", then the whole list
        XCTAssertEqual(recorder.diagnostics.first?.value, "no")
        XCTAssertEqual(recorder.tokens.first?.applied, false)
    }

    func testNoRealModeIsItsOwnNameAndCanBeNegatedAgain() {
        XCTAssertTrue(parseBootOptionsClean("no-real-mode").noRealMode)
        XCTAssertFalse(parseBootOptions("no-real-mode no-no-real-mode").0.noRealMode)
        XCTAssertTrue(parseBootOptionsClean("no-real-mode=yes").noRealMode)
    }

    func testUnknownOptionsAreReportedWithXensWordingAndSkipped() {
        let (options, recorder) = parseBootOptions("foo bar=1 no-foo =x dom0-mem=512M Nosmp nosmp")
        XCTAssertEqual(recorder.diagnostics.map(\.logLine), [
            "parameter \"foo\" unknown!\n",
            "parameter \"bar\" unknown!\n",
            "parameter \"no-foo\" unknown!\n",
            "parameter \"\" unknown!\n",
            "parameter \"dom0-mem\" unknown!\n",
            "parameter \"Nosmp\" unknown!\n",
        ])
        XCTAssertEqual(recorder.diagnostics.map(\.option), Array(repeating: nil, count: 6))
        XCTAssertEqual(recorder.diagnostics[1].value, "1")
        XCTAssertEqual(recorder.tokens.map(\.applied), [false, false, false, false, false, false, true])
        XCTAssertTrue(options.noSMP)
        XCTAssertTrue(options.dom0Memory.isEmpty)
    }

    func testRepeatedOptionsLastOneWinsAndTheRepeatIsReported() {
        let (options, recorder) = parseBootOptions("loglvl=error console=vga loglvl=debug console=com2 nosmp no-nosmp")
        XCTAssertEqual(options.logLevels, LogThresholds(printedUpTo: .debug, rateLimitedUpTo: .debug))
        XCTAssertEqual(options.console, ConsoleSelection(vga: false, serial: SerialConsole(port: 2)))
        XCTAssertFalse(options.noSMP)
        XCTAssertEqual(recorder.diagnostics.filter { $0.kind == .overridden }.map(\.option), [.loglvl, .console, .nosmp])
        XCTAssertEqual(recorder.diagnostics.first?.logLine, "parameter \"loglvl\" given again, the last value wins\n")
    }

    func testAMalformedRepeatDoesNotOverrideTheEarlierValue() {
        let (options, recorder) = parseBootOptions("loglvl=info loglvl=loud")
        XCTAssertEqual(options.logLevels.printedUpTo, .info)
        XCTAssertEqual(recorder.kinds(), [.malformed])
    }

    func testTheRealisticGrubCommandLine() {
        let line = "/boot/apus.elf dom0_mem=512M,max:512M sched=credit console=com1 com1=115200,8n1 "
            + "loglvl=all guest_loglvl=all noreboot"
        var recorder = RecordingDiagnostics()
        let options = withByteText(line) { BootOptions.parse(BootOptions.stripImageName($0), diagnostics: &recorder) }
        XCTAssertEqual(recorder.diagnostics, [])
        XCTAssertEqual(recorder.tokens.map(\.option), [.dom0Mem, .sched, .console, .com1, .loglvl, .guestLoglvl, .noreboot])
        XCTAssertTrue(recorder.tokens.allSatisfy(\.applied))

        var expected = BootOptions()
        expected.dom0Memory = Dom0MemorySpec(amount: Dom0MemoryQuantity(bytes: 512 << 20),
                                             maximum: Dom0MemoryQuantity(bytes: 512 << 20))
        expected.console = ConsoleSelection(vga: false, serial: SerialConsole(port: 1))
        expected.com1.baud = .bitsPerSecond(115200)
        expected.logLevels = LogThresholds(printedUpTo: .all, rateLimitedUpTo: .all)
        expected.guestLogLevels = LogThresholds(printedUpTo: .all, rateLimitedUpTo: .all)
        expected.noReboot = true
        XCTAssertEqual(options, expected)

        let decision = options.dom0Memory.decide(availableBytes: 1 << 30)
        XCTAssertEqual(decision.bytes, 512 << 20)
        XCTAssertEqual(decision.maximumBytes, 512 << 20)
    }

    func testTheReferenceXenCommandLineParsesCleanly() {
        // As printed by real Xen 4.17 in ../reference/xen-4.17-dom0-linux-boot.log.
        let options = parseBootOptionsClean(
            "dom0_mem=256M,max:256M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot")
        XCTAssertEqual(options.dom0Memory.decide(availableBytes: 1_048_060 << 10).bytes, 256 << 20)
    }

    func testTabsNewlinesAndRunsOfSpacesSeparateTokens() {
        let options = parseBootOptionsClean("  nosmp\tnoreboot \n\r  sync_console   ")
        XCTAssertTrue(options.noSMP && options.noReboot && options.syncConsole)
    }

    func testABuiltInCommandLineIsOverriddenByTheLoaders() {
        var options = BootOptions()
        var recorder = RecordingDiagnostics()
        withByteText("loglvl=info nosmp") { options.apply(commandLine: $0, diagnostics: &recorder) }
        withByteText("loglvl=error") { options.apply(commandLine: $0, diagnostics: &recorder) }
        XCTAssertEqual(options.logLevels.printedUpTo, .error)
        XCTAssertTrue(options.noSMP)
        XCTAssertEqual(recorder.diagnostics, [], "a second command line is not a repeat")
    }

    func testRejectedTokensLeaveEverythingAsItWas() {
        let prefix = "dom0_mem=512M console=com2 loglvl=info badpage=0x100 com1=9600 vga=text-80x50"
        let bad = ["dom0_mem=lots", "console=tty0", "loglvl=chatty", "badpage=x", "com1=9600,8n9", "vga=text-80x99",
                   "nosmp=maybe", "no-hap=1", "unknown_option=5", "sched=bvt", "mem=1Q", "maxcpus=-1",
                   "conswitch=", "dom0_max_vcpus=4-x", "reboot=q", "nmi=panic"]
        let (before, _) = parseBootOptions(prefix)
        for token in bad {
            let (after, recorder) = parseBootOptions(prefix + " " + token)
            XCTAssertEqual(after, before, token)
            XCTAssertEqual(recorder.tokens.last?.applied, false, token)
        }
    }

    func testNotImplementedIsReportedOnlyWhenTheFeatureIsAskedFor() {
        let (hap, hapRecorder) = parseBootOptions("hap")
        XCTAssertTrue(hap.hap)
        XCTAssertEqual(hapRecorder.diagnostics.map(\.logLine), [
            "parameter \"hap\" accepted but not implemented by Apus yet: "
                + "Apus runs PV guests only and uses no hardware-assisted paging\n",
        ])
        XCTAssertEqual(hapRecorder.tokens.first?.applied, true)
        parseBootOptionsClean("no-hap watchdog=off")
        parseBootOptionsClean("hap=0")
        for token in ["watchdog", "noirqbalance", "tbuf_size=16", "console_to_ring", "apic=bigsmp",
                      "dma_emergency_pool=16M", "ignorebiostables", "vga=ask", "nmi=dom0", "edd=on", "edid=force",
                      "sched=credit2", "reboot=warm", "com1=115200,8n1,pci"] {
            let (_, recorder) = parseBootOptions(token)
            XCTAssertEqual(recorder.kinds(), [.notImplemented], token)
            XCTAssertEqual(recorder.tokens.first?.applied, true, token)
        }
        for token in ["dma_bits=32", "apus_selftest=poweroff", "vga=text-80x25", "nmi=fatal", "nmi=ignore", "edd=off", "edid=no", "sched=credit", "reboot=n"] {
            parseBootOptionsClean(token)
        }
    }

    func testSelfTestValues() {
        for (text, expected) in [("swift-trap", SelfTest.swiftTrap), ("page-fault", .pageFault),
                                 ("stack-overflow", .stackOverflow), ("poweroff", .powerOff), ("reset", .reset)] {
            let (options, recorder) = parseBootOptions("apus_selftest=" + text)
            XCTAssertEqual(options.selfTest, expected, text)
            XCTAssertEqual(recorder.kinds(), [], text)
        }
        let (options, recorder) = parseBootOptions("apus_selftest=explode")
        XCTAssertEqual(options.selfTest, SelfTest.none)
        XCTAssertEqual(recorder.kinds(), [.malformed])
    }

    func testSupportTableCoversEveryOptionConsistently() {
        var names = Set<String>()
        for option in allBootOptions() {
            let name = option.name.description
            XCTAssertTrue(names.insert(name).inserted, "duplicate name \(name)")
            XCTAssertEqual(withByteText(name) { BootOption.named($0) }, option)
            if case .dependsOnValue = option.support { XCTAssertFalse(option.isBoolean, name) }
            if case .notImplemented(let note) = option.support { XCTAssertFalse(note.description.isEmpty) }
            XCTAssertFalse(name.contains("="))
            XCTAssertFalse(name.contains(" "))
        }
        XCTAssertEqual(Int(BootOption.count), 41)
        XCTAssertNil(BootOption(rawValue: BootOption.count))
        XCTAssertNil(withByteText("") { BootOption.named($0) })
        XCTAssertNil(withByteText("console_") { BootOption.named($0) })
    }

    func testStripImageName() {
        let cases: [(String, String)] = [
            ("/boot/apus.elf dom0_mem=512M", "dom0_mem=512M"),
            ("  /boot/apus.elf   nosmp  ", "nosmp  "),
            ("/boot/apus.elf", ""),
            ("(hd0,0)/boot/xen.gz noreboot", "noreboot"),
            ("dom0_mem=512M /boot/apus.elf", "dom0_mem=512M /boot/apus.elf"),
            ("/weird=option nosmp", "/weird=option nosmp"),
            ("apus.elf nosmp", "apus.elf nosmp"),
            ("  nosmp", "nosmp"),
            ("", ""),
            ("   ", ""),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(withByteText(input) { BootOptions.stripImageName($0).description }, expected, input)
        }
    }

    func testDiagnosticsNameTheOptionAsWrittenAndTheValue() {
        let (_, recorder) = parseBootOptions("no-nosmp=yes com1=fast")
        XCTAssertEqual(recorder.diagnostics.map(\.name), ["no-nosmp", "com1"])
        XCTAssertEqual(recorder.diagnostics.map(\.value), ["yes", "fast"])
        XCTAssertEqual(recorder.diagnostics.map(\.option), [.nosmp, .com1])
        XCTAssertEqual(recorder.diagnostics[1].logLine,
                       "parameter \"com1\" has invalid value \"fast\": "
                        + "expected a baud rate like 115200 or auto, optionally /<base-baud>\n")
    }
}
