// Tests for what BootOptions writes out: diagnostic log lines, the summary, Xen's loglevel
// banner and the dom0 command-line additions, with a summary round-trip property test.
import ApusCore
import XCTest

final class BootOptionsOutputTests: XCTestCase {
    private func summary(_ options: BootOptions, prefix: StaticString = "") -> String {
        var sink = ByteBufferSink()
        options.writeSummary(into: &sink, linePrefix: prefix)
        return sink.text
    }

    func testLogLinesForEveryKind() {
        let (_, recorder) = parseBootOptions("frobnicate com1=xyz hap loglvl=info loglvl=all")
        XCTAssertEqual(recorder.diagnostics.map(\.logLine), [
            "parameter \"frobnicate\" unknown!\n",
            "parameter \"com1\" has invalid value \"xyz\": expected a baud rate like 115200 or auto, optionally /<base-baud>\n",
            "parameter \"hap\" accepted but not implemented by Apus yet: Apus runs PV guests only and uses no hardware-assisted paging\n",
            "parameter \"loglvl\" given again, the last value wins\n",
        ])
    }

    func testPrinterWritesEachDiagnosticToItsSink() {
        var printer = BootOptionDiagnosticPrinter(sink: ByteBufferSink())
        let options = withByteText("foo nosmp dma_bits=99") { BootOptions.parse($0, diagnostics: &printer) }
        XCTAssertTrue(options.noSMP)
        XCTAssertEqual(printer.reported, 2)
        XCTAssertEqual(printer.sink.text,
                       "parameter \"foo\" unknown!\nparameter \"dma_bits\" has invalid value \"99\": expected a bit width in 24...64\n")
        var ignored = IgnoredBootOptionDiagnostics()
        XCTAssertEqual(withByteText("foo nosmp") { BootOptions.parse($0, diagnostics: &ignored) }, options)
    }

    func testSummaryOfTheDefaults() {
        XCTAssertEqual(summary(BootOptions(), prefix: "(XEN) "), """
            (XEN) com1=auto,8n1,0x3f8,4
            (XEN) console=com1,vga
            (XEN) loglvl=warning
            (XEN) guest_loglvl=none/warning
            (XEN) sched=credit

            """)
    }

    func testSummaryOfTheRealisticCommandLine() {
        let options = parseBootOptionsClean(
            "dom0_mem=512M,max:512M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot")
        XCTAssertEqual(summary(options), """
            noreboot
            com1=115200,8n1,0x3f8,4
            console=com1
            loglvl=all
            guest_loglvl=all
            dom0_mem=512M,max:512M
            sched=credit

            """)
    }

    func testSummaryShowsEveryChangedOption() {
        let line = "nosmp ignorebiostables maxcpus=2 watchdog noirqbalance badpage=0x10-0x20,0x99 com2=9600,7e1 "
            + "console=com2H,vga vga=text-80x50,keep no-real-mode edid=no edd=skipmbr console_to_ring sync_console "
            + "conswitch=bx loglvl=info/debug guest_loglvl=error nmi=ignore mem=1073610752B dom0_mem=-64M,min:128M "
            + "dom0_max_vcpus=2-4 dom0_vcpus_pin tbuf_size=8 sched=credit2 sched_credit_tslice_ms=10 "
            + "sched_ratelimit_us=500 apic_verbosity=debug lapic nolapic apic=bigsmp dma_bits=32 "
            + "dma_emergency_pool=16M hap acpi=noirq acpi_skip_timer_override noapic noreboot"
        let options = parseBootOptions(line).0
        XCTAssertEqual(summary(options), """
            noreboot
            nosmp
            ignorebiostables
            maxcpus=2
            watchdog
            noirqbalance
            badpage=0x10-0x20,0x99
            com2=9600,7e1,0x2f8,3
            console=com2H,vga
            vga=text-80x50,keep
            no-real-mode
            edid=no
            edd=skipmbr
            console_to_ring
            sync_console
            conswitch=bx
            loglvl=info/debug
            guest_loglvl=error
            nmi=ignore
            mem=1048448K
            dom0_mem=-64M,min:128M
            dom0_max_vcpus=2-4
            dom0_vcpus_pin
            tbuf_size=8
            sched=credit2
            sched_credit_tslice_ms=10
            sched_ratelimit_us=500
            apic_verbosity=debug
            lapic
            nolapic
            apic=bigsmp
            dma_bits=32
            dma_emergency_pool=16M
            hap
            acpi=noirq
            acpi_skip_timer_override
            noapic

            """)
        XCTAssertEqual(reparsedSummary(of: options), options)
    }

    func testLoglevelBannerMatchesRealXen() {
        // ../reference/xen-4.17-dom0-linux-boot.log, lines 133-134, for loglvl=all guest_loglvl=all.
        var sink = ByteBufferSink()
        parseBootOptionsClean("loglvl=all guest_loglvl=all").writeLoglevelBanner(into: &sink, linePrefix: "(XEN) ")
        XCTAssertEqual(sink.text, "(XEN) Std. Loglevel: All\n(XEN) Guest Loglevel: All\n")
        sink = ByteBufferSink()
        BootOptions().writeLoglevelBanner(into: &sink)
        XCTAssertEqual(sink.text,
                       "Std. Loglevel: Errors and warnings\nGuest Loglevel: Nothing (Rate-limited: Errors and warnings)\n")
    }

    func testDom0CommandLineAdditions() {
        func additions(_ line: String, existing: String) -> String {
            var sink = ByteBufferSink()
            let options = parseBootOptionsClean(line)
            withByteText(existing) { options.writeDom0CommandLineAdditions(existing: $0, into: &sink) }
            return sink.text
        }
        XCTAssertEqual(additions("", existing: "console=hvc0"), "")
        XCTAssertEqual(additions("noapic acpi=off acpi_skip_timer_override", existing: "console=hvc0"),
                       " noapic acpi=off acpi_skip_timer_override")
        XCTAssertEqual(additions("noapic acpi=ht acpi_skip_timer_override",
                                 existing: "root=/dev/xvda1 noapic acpi=force"), " acpi_skip_timer_override")
        XCTAssertEqual(additions("acpi=noirq", existing: "acpi_skip_timer_override"), " acpi=noirq")
        XCTAssertEqual(additions("no-noapic", existing: ""), "")
    }

    /// Property: the summary, read back as a command line, gives the same options.
    func testSummaryRoundTripsForRandomValidCommandLines() {
        let pool = [
            "noreboot", "nosmp", "ignorebiostables", "maxcpus=3", "maxcpus=0", "watchdog", "noirqbalance",
            "badpage=0x1234", "badpage=5-9,0x100", "com1=115200,8n1", "com1=9600,7e2,0x3e8,0", "com2=38400",
            "com2=auto/1843200,,0x2e8", "console=com1", "console=vga", "console=com2L,vga", "console=none",
            "vga=ask", "vga=gfx-1024x768x32,keep", "vga=mode-0x318", "vga=keep", "no-real-mode", "edid=force",
            "edd=off", "console_to_ring", "sync_console", "conswitch=c", "conswitch=`x", "loglvl=all",
            "loglvl=error/info", "guest_loglvl=debug", "guest_loglvl=none/all", "nmi=dom0", "nmi=ignore",
            "mem=4G", "mem=12345", "dom0_mem=512M", "dom0_mem=max:1G", "dom0_mem=min:-128M", "dom0_mem=25%",
            "dom0_mem=1G+10%,max:3G", "dom0_max_vcpus=4", "dom0_max_vcpus=2-", "dom0_max_vcpus=-6",
            "dom0_vcpus_pin", "tbuf_size=32", "sched=credit", "sched=null", "sched_credit_tslice_ms=7",
            "sched_ratelimit_us=0", "apic_verbosity=verbose", "lapic", "nolapic", "apic=summit", "dma_bits=40",
            "dma_emergency_pool=1M", "hap", "acpi=off", "acpi=verbose", "acpi_skip_timer_override", "noapic",
            "reboot=n", "no-nosmp", "hap=0", "com1=115200,8n1,pci",
        ]
        var random = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let count = Int(random.next() % 12)
            let line = (0..<count).map { _ in pool[Int(random.next() % UInt64(pool.count))] }.joined(separator: " ")
            let (options, recorder) = parseBootOptions(line)
            XCTAssertTrue(recorder.tokens.allSatisfy(\.applied), line)
            XCTAssertEqual(reparsedSummary(of: options), options, line)
        }
    }

    private func reparsedSummary(of options: BootOptions) -> BootOptions {
        let text = summary(options).split(separator: "\n").joined(separator: " ")
        let (reparsed, recorder) = parseBootOptions(text)
        XCTAssertTrue(recorder.tokens.allSatisfy(\.applied), text)
        XCTAssertFalse(recorder.diagnostics.contains { $0.kind == .overridden }, text)
        return reparsed
    }
}
