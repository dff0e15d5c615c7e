// Tests for the console-related options: console=, com1=/com2=, conswitch=, vga=, loglvl=, guest_loglvl=.
import ApusCore
import XCTest

final class BootOptionsConsoleTests: XCTestCase {
    // MARK: console=

    func testConsoleLists() {
        let cases: [(String, ConsoleSelection)] = [
            ("com1", ConsoleSelection(vga: false, serial: SerialConsole(port: 1))),
            ("vga", ConsoleSelection(vga: true, serial: nil)),
            ("com1,vga", .xenDefault),
            ("vga,com1", .xenDefault),
            ("com2H,vga", ConsoleSelection(vga: true, serial: SerialConsole(port: 2, highBit: .set))),
            ("com1L", ConsoleSelection(vga: false, serial: SerialConsole(port: 1, highBit: .clear))),
            ("com1,com2", ConsoleSelection(vga: false, serial: SerialConsole(port: 2))),
            ("none", ConsoleSelection(vga: false, serial: nil)),
            ("none,vga", ConsoleSelection(vga: true, serial: nil)),
            ("com1,,vga", .xenDefault),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(parseBootOptionsClean("console=\(value)").console, expected, value)
        }
    }

    func testUnknownConsoleEntriesAreReportedAndTheRestKept() {
        let (options, recorder) = parseBootOptions("console=com1,foo,vga,com3")
        XCTAssertEqual(options.console, .xenDefault)
        XCTAssertEqual(recorder.kinds(), [.malformed, .malformed])
        XCTAssertEqual(recorder.diagnostics.map(\.value), ["foo", "com3"])
        XCTAssertEqual(recorder.tokens.first?.applied, true)
        XCTAssertEqual(recorder.diagnostics.first?.logLine,
                       "parameter \"console\" has invalid value \"foo\": unknown console, ignored "
                        + "(vga, com1, com2, com1H, com1L, com2H, com2L, none)\n")
    }

    func testAConsoleListWithNothingUsableIsRejected() {
        for value in ["foo", "COM1", "com1h", "com", "com12", "ttyS0", "", "com1H2"] {
            let (options, recorder) = parseBootOptions("console=vga console=\(value)")
            XCTAssertEqual(options.console, ConsoleSelection(vga: true, serial: nil), value)
            XCTAssertEqual(recorder.tokens.last?.applied, false, value)
            XCTAssertEqual(recorder.diagnostics.last?.detail,
                           "no usable console in the list (vga, com1, com2, com1H, com1L, com2H, com2L, none)")
        }
    }

    func testXensUSBAndPVConsolesAreNotImplemented() {
        let (options, recorder) = parseBootOptions("console=dbgp,vga,xhci")
        XCTAssertEqual(options.console, ConsoleSelection(vga: true, serial: nil))
        XCTAssertEqual(recorder.kinds(), [.notImplemented, .notImplemented])
        XCTAssertEqual(recorder.diagnostics.map(\.value), ["dbgp", "xhci"])
        let (alone, aloneRecorder) = parseBootOptions("console=ehci")
        XCTAssertEqual(alone.console, .xenDefault)
        XCTAssertEqual(aloneRecorder.kinds(), [.notImplemented, .malformed])
        XCTAssertEqual(aloneRecorder.tokens.first?.applied, false)
    }

    // MARK: com1= and com2=

    func testSerialPortFullAndPrefixForms() {
        var expected = SerialPortConfig.com1Default
        expected.baud = .bitsPerSecond(115200)
        XCTAssertEqual(parseBootOptionsClean("com1=115200,8n1").com1, expected)
        XCTAssertEqual(parseBootOptionsClean("com1=115200").com1, expected)

        var manual = SerialPortConfig.com1Default  // the manual's example, without its spaces
        manual.baud = .bitsPerSecond(9600)
        manual.ioBase = 0x408
        manual.irq = 5
        XCTAssertEqual(parseBootOptionsClean("com1=9600,8n1,0x408,5").com1, manual)

        var odd = SerialPortConfig.com2Default
        odd.dataBits = 7
        odd.parity = .even
        odd.stopBits = 2
        XCTAssertEqual(parseBootOptionsClean("com2=,7e2").com2, odd)

        XCTAssertEqual(parseBootOptionsClean("com1=auto").com1, .com1Default)
        XCTAssertEqual(parseBootOptionsClean("com1").com1, .com1Default)
        XCTAssertEqual(parseBootOptionsClean("com1=").com1, .com1Default)
        XCTAssertEqual(parseBootOptionsClean("com1=,,,0").com1.irq, 0)
        XCTAssertEqual(parseBootOptionsClean("com1=,,0x3e8").com1.ioBase, 0x3E8)
        XCTAssertEqual(parseBootOptionsClean("com1=115200/1843200").com1.baseBaud, 1_843_200)
        XCTAssertEqual(parseBootOptionsClean("com2=38400").com2.ioBase, 0x2F8, "com2 keeps its own defaults")
        XCTAssertEqual(parseBootOptionsClean("com2=38400").com2.irq, 3)
        for parity in ["n": SerialParity.none, "o": .odd, "e": .even, "m": .mark, "s": .space] {
            XCTAssertEqual(parseBootOptionsClean("com1=,8\(parity.key)1").com1.parity, parity.value)
        }
        for bits in 5...8 {
            XCTAssertEqual(parseBootOptionsClean("com1=,\(bits)n1").com1.dataBits, UInt8(bits))
        }
    }

    func testEachSerialOptionStartsFromThePortDefaultsAsInXen() {
        let (options, _) = parseBootOptions("com1=,,0x2e8 com1=9600")
        XCTAssertEqual(options.com1.ioBase, 0x3F8)
        XCTAssertEqual(options.com1.baud, .bitsPerSecond(9600))
    }

    func testMalformedSerialValues() {
        let cases: [(String, String)] = [
            ("0", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("fast", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("4294967296", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("115200/", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("115200/0", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("AUTO", "expected a baud rate like 115200 or auto, optionally /<base-baud>"),
            ("115200,9n1", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,4n1", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8x1", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8N1", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8n3", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8n", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8n11", "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1"),
            ("115200,8n1,0x10000", "expected an I/O port base like 0x3f8"),
            ("115200,8n1,0", "expected an I/O port base like 0x3f8"),
            ("115200,8n1,port", "expected an I/O port base like 0x3f8"),
            ("115200,8n1,0x3f8,16", "expected an ISA IRQ 0-15 (0 polls)"),
            ("115200,8n1,0x3f8,four", "expected an ISA IRQ 0-15 (0 polls)"),
            ("115200,8n1,0x3f8,4,0:1.0,0:2.0,x",
             "too many fields: <baud>,DPS,<io-base>,<irq>[,<port-bdf>[,<bridge-bdf>]]"),
        ]
        for (value, reason) in cases {
            XCTAssertEqual(expectMalformedBootOption("com1=\(value)"), reason, value)
        }
    }

    func testPCIAndMSISerialSettingsAreAcceptedButNotImplemented() {
        let cases: [(String, SerialPortConfig)] = [
            ("115200,8n1,pci", { var c = SerialPortConfig.com1Default; c.baud = .bitsPerSecond(115200); return c }()),
            ("115200,8n1,amt,5", {
                var c = SerialPortConfig.com1Default; c.baud = .bitsPerSecond(115200); c.irq = 5; return c
            }()),
            ("115200,8n1,0x3f8,msi", { var c = SerialPortConfig.com1Default; c.baud = .bitsPerSecond(115200); return c }()),
            ("115200,8n1,0x3f8,4,0:1.0", { var c = SerialPortConfig.com1Default; c.baud = .bitsPerSecond(115200); return c }()),
            ("baud=115200,parity=n", .com1Default),
            ("9600,8n1,0x3f8,4,reg-width=4", {
                var c = SerialPortConfig.com1Default; c.baud = .bitsPerSecond(9600); return c
            }()),
        ]
        for (value, expected) in cases {
            let (options, recorder) = parseBootOptions("com1=\(value)")
            XCTAssertEqual(options.com1, expected, value)
            XCTAssertEqual(recorder.kinds(), [.notImplemented], value)
            XCTAssertEqual(recorder.tokens.first?.applied, true, value)
        }
    }

    func testSerialConfigWritesBackEveryField() {
        var sink = ByteBufferSink()
        parseBootOptionsClean("com1=115200/1843200,7o2,0x2e8,0").com1.write(into: &sink)
        XCTAssertEqual(sink.text, "115200/1843200,7o2,0x2e8,0")
        sink = ByteBufferSink()
        SerialPortConfig.com2Default.write(into: &sink)
        XCTAssertEqual(sink.text, "auto,8n1,0x2f8,3")
    }

    // MARK: conswitch=

    func testConsoleSwitch() {
        let b = parseBootOptionsClean("conswitch=b").conswitch
        XCTAssertEqual(b.switchCharacter, UInt8(ascii: "b"))
        XCTAssertTrue(b.autoSwitchToDom0)
        XCTAssertEqual(b.controlCode, 0x02)

        let ax = parseBootOptionsClean("conswitch=ax").conswitch
        XCTAssertEqual(ax.switchCharacter, UInt8(ascii: "a"))
        XCTAssertFalse(ax.autoSwitchToDom0)
        XCTAssertEqual(ax.controlCode, 0x01)

        let off = parseBootOptionsClean("conswitch=`").conswitch
        XCTAssertFalse(off.switchingEnabled)
        XCTAssertNil(off.controlCode)
        XCTAssertTrue(off.autoSwitchToDom0)

        XCTAssertTrue(parseBootOptionsClean("conswitch=a1").conswitch.autoSwitchToDom0, "any other second char")
        XCTAssertFalse(parseBootOptionsClean("conswitch=`x").conswitch.autoSwitchToDom0)
        XCTAssertEqual(parseBootOptionsClean("conswitch=z").conswitch.controlCode, 26)
        XCTAssertEqual(BootOptions().conswitch.controlCode, 0x01)

        for value in ["", "A", "abc", "1", "{", "@x"] {
            XCTAssertEqual(expectMalformedBootOption("conswitch=\(value)"),
                           "expected a letter a-z (or ` to disable switching), optionally followed by x", value)
        }
    }

    // MARK: vga=

    func testVGAModes() {
        let cases: [(String, VGAMode, Bool)] = [
            ("ask", .ask, false),
            ("current", .current, false),
            ("text-80x25", .text(rows: 25), false),
            ("text-80x28", .text(rows: 28), false),
            ("text-80x30", .text(rows: 30), false),
            ("text-80x34", .text(rows: 34), false),
            ("text-80x43", .text(rows: 43), false),
            ("text-80x50,keep", .text(rows: 50), true),
            ("text-80x60", .text(rows: 60), false),
            ("gfx-1024x768x32", .graphics(width: 1024, height: 768, depthBits: 32), false),
            ("gfx-800x600x16,keep", .graphics(width: 800, height: 600, depthBits: 16), true),
            ("mode-0x0335", .modeNumber(0x335), false),
            ("mode-0X318", .modeNumber(0x318), false),
            ("keep", .text(rows: 25), true),
        ]
        for (value, mode, keep) in cases {
            let option = parseBootOptions("vga=\(value)").0.vga
            XCTAssertEqual(option.mode, mode, value)
            XCTAssertEqual(option.keep, keep, value)
        }
    }

    func testOnlyTheBootTextModeIsImplemented() {
        parseBootOptionsClean("vga=text-80x25")
        for value in ["ask", "current", "text-80x50", "gfx-1024x768x32", "mode-0x335", "text-80x25,keep", "keep"] {
            let (_, recorder) = parseBootOptions("vga=\(value)")
            XCTAssertEqual(recorder.kinds(), [.notImplemented], value)
        }
    }

    func testMalformedVGAModes() {
        for value in ["", "text", "text-80x99", "text-80x024", "text-132x25", "gfx-1024x768x31", "gfx-0x768x32",
                      "gfx-1024x768", "gfx-1024x768x32x1", "gfx-99999x768x32", "mode-335", "mode-0x10000",
                      "mode-0x", "text-80x25,kep", "text-80x25,keep,keep", "keep,keep", "TEXT-80x25", "gfx--1x1x8"] {
            expectMalformedBootOption("vga=\(value)")
        }
    }

    func testVGAWritesBack() {
        for value in ["ask", "current", "text-80x50,keep", "gfx-1024x768x32", "mode-0x335"] {
            var sink = ByteBufferSink()
            parseBootOptions("vga=\(value)").0.vga.write(into: &sink)
            XCTAssertEqual(sink.text, value)
        }
    }

    // MARK: loglvl= and guest_loglvl=

    func testLogLevels() {
        XCTAssertEqual(parseBootOptionsClean("loglvl=all").logLevels, LogThresholds(printedUpTo: .all, rateLimitedUpTo: .all))
        XCTAssertEqual(parseBootOptionsClean("loglvl=none/all").logLevels,
                       LogThresholds(printedUpTo: .none, rateLimitedUpTo: .all))
        XCTAssertEqual(parseBootOptionsClean("loglvl=info/debug").logLevels,
                       LogThresholds(printedUpTo: .info, rateLimitedUpTo: .debug))
        XCTAssertEqual(parseBootOptionsClean("guest_loglvl=error/warning").guestLogLevels,
                       LogThresholds(printedUpTo: .error, rateLimitedUpTo: .warning))
        let raised = parseBootOptionsClean("loglvl=debug/error").logLevels
        XCTAssertEqual(raised.printedUpTo, .debug)
        XCTAssertEqual(raised.rateLimitedUpTo, .debug, "Xen raises a lower rate-limit level to the first")
        for level in ["none", "error", "warning", "info", "debug", "all"] {
            XCTAssertEqual(parseBootOptionsClean("guest_loglvl=\(level)").guestLogLevels.printedUpTo.name.description, level)
        }
    }

    func testMalformedLogLevels() {
        for value in ["", "verbose", "Warning", "warning/", "/all", "warning/loud", "all/all/all", "warnings", "4"] {
            expectMalformedBootOption("loglvl=\(value)")
            expectMalformedBootOption("guest_loglvl=\(value)")
        }
    }

    func testLogLevelOrderAndDisposition() {
        let ordered: [LogLevel] = [.none, .error, .warning, .info, .debug, .all]
        XCTAssertEqual(ordered.sorted(), ordered)
        XCTAssertEqual(ordered.shuffled().sorted(), ordered)

        let hypervisor = LogThresholds.hypervisorDefault
        XCTAssertEqual(hypervisor.disposition(of: .error), .print)
        XCTAssertEqual(hypervisor.disposition(of: .warning), .print)
        XCTAssertEqual(hypervisor.disposition(of: .info), .discard)
        XCTAssertEqual(hypervisor.disposition(of: .debug), .discard)

        let guest = LogThresholds.guestDefault
        XCTAssertEqual(guest.disposition(of: .error), .printRateLimited)
        XCTAssertEqual(guest.disposition(of: .warning), .printRateLimited)
        XCTAssertEqual(guest.disposition(of: .info), .discard)

        let all = LogThresholds(printedUpTo: .all, rateLimitedUpTo: .all)
        XCTAssertEqual(all.disposition(of: .debug), .print)
        let nothing = LogThresholds(printedUpTo: .none, rateLimitedUpTo: .none)
        XCTAssertEqual(nothing.disposition(of: .error), .discard)
        XCTAssertEqual(nothing.disposition(of: .none), .discard, "severity none is treated as an error")
    }

    func testLogLevelsWriteBackAndDescribeThemselvesLikeXen() {
        func written(_ thresholds: LogThresholds) -> (String, String) {
            var syntax = ByteBufferSink()
            var xen = ByteBufferSink()
            thresholds.write(into: &syntax)
            thresholds.writeXenDescription(into: &xen)
            return (syntax.text, xen.text)
        }
        XCTAssertEqual(written(.hypervisorDefault).0, "warning")
        XCTAssertEqual(written(.hypervisorDefault).1, "Errors and warnings")
        XCTAssertEqual(written(.guestDefault).0, "none/warning")
        XCTAssertEqual(written(.guestDefault).1, "Nothing (Rate-limited: Errors and warnings)")
        XCTAssertEqual(written(LogThresholds(printedUpTo: .debug, rateLimitedUpTo: .all)).1, "All")
        XCTAssertEqual(written(LogThresholds(printedUpTo: .error, rateLimitedUpTo: .info)).1,
                       "Errors (Rate-limited: Errors, warnings and info)")
    }
}
