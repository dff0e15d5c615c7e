// Tests for the platform, CPU and scheduler options: nmi, apic*, edid, edd, acpi, sched,
// reboot, dom0_max_vcpus, ignorebiostables, badpage.
import ApusCore
import XCTest

final class BootOptionsPlatformTests: XCTestCase {
    func testNMI() {
        XCTAssertEqual(parseBootOptionsClean("nmi=fatal").nmi, .fatal)
        XCTAssertEqual(parseBootOptionsClean("nmi=ignore").nmi, .ignore)
        XCTAssertEqual(parseBootOptions("nmi=dom0").0.nmi, .dom0)
        XCTAssertEqual(expectMalformedBootOption("nmi=panic"), "expected fatal, dom0 or ignore")
        expectMalformedBootOption("nmi=")
        expectMalformedBootOption("nmi")
    }

    func testAPICOptions() {
        XCTAssertEqual(parseBootOptionsClean("apic_verbosity=debug").apicVerbosity, .debug)
        XCTAssertEqual(parseBootOptionsClean("apic_verbosity=verbose").apicVerbosity, .verbose)
        expectMalformedBootOption("apic_verbosity=debug,verbose")
        expectMalformedBootOption("apic_verbosity=quiet")
        for (value, driver) in [("bigsmp", APICDriver.bigsmp), ("default", .default), ("es7000", .es7000),
                                ("summit", .summit)] {
            XCTAssertEqual(parseBootOptions("apic=\(value)").0.apicDriver, driver)
        }
        expectMalformedBootOption("apic=flat")
        let both = parseBootOptionsClean("lapic nolapic")
        XCTAssertTrue(both.forceLocalAPIC && both.ignoreLocalAPIC, "separate options, both recorded")
    }

    func testEDIDAndEDD() {
        XCTAssertEqual(parseBootOptionsClean("edid=no").edid, .no)
        XCTAssertEqual(parseBootOptions("edid=force").0.edid, .force)
        expectMalformedBootOption("edid=yes")
        XCTAssertEqual(parseBootOptionsClean("edd=off").edd, .off)
        XCTAssertEqual(parseBootOptions("edd=skipmbr").0.edd, .skipMBR)
        XCTAssertEqual(parseBootOptions("edd=off edd=on").0.edd, .on)
        expectMalformedBootOption("edd=skipMBR")
        expectMalformedBootOption("edd=1")
    }

    func testACPIAndTheOtherLinuxSyntaxOptions() {
        for word in ["off", "0", "no", "false", "disable"] {
            XCTAssertEqual(parseBootOptionsClean("acpi=\(word)").acpi, .off, word)
        }
        for (value, mode) in [("force", ACPIMode.force), ("strict", .strict), ("ht", .ht), ("noirq", .noirq),
                              ("verbose", .verbose)] {
            XCTAssertEqual(parseBootOptionsClean("acpi=\(value)").acpi, mode)
        }
        for value in ["on", "1", "rsdt", "", "OFF"] {
            expectMalformedBootOption("acpi=\(value)")
        }
        let linux = parseBootOptionsClean("acpi_skip_timer_override noapic")
        XCTAssertTrue(linux.acpiSkipTimerOverride && linux.noAPIC)
    }

    func testSchedulerNames() {
        XCTAssertEqual(parseBootOptionsClean("sched=credit").scheduler, .credit)
        for (value, name) in [("credit2", SchedulerName.credit2), ("rtds", .rtds), ("rt", .rt), ("null", .null),
                              ("arinc653", .arinc653), ("sedf", .sedf)] {
            let (options, recorder) = parseBootOptions("sched=\(value)")
            XCTAssertEqual(options.scheduler, name)
            XCTAssertEqual(recorder.diagnostics.map(\.logLine), [
                "parameter \"sched\" accepted but not implemented by Apus yet: "
                    + "this scheduler is not available in Apus, using credit\n",
            ])
        }
        for value in ["bvt", "", "Credit", "credit3"] {
            XCTAssertEqual(expectMalformedBootOption("sched=\(value)"), "unknown scheduler, using credit")
        }
    }

    func testRebootMapsNoToNoreboot() {
        for value in ["n", "no", "t,n", "no,warm", "n,c"] {
            XCTAssertTrue(parseBootOptions("reboot=\(value)").0.noReboot, value)
        }
        for value in ["t", "kbd", "acpi", "pci", "Power", "efi", "warm", "cold", "xen"] {
            let (options, recorder) = parseBootOptions("reboot=\(value)")
            XCTAssertFalse(options.noReboot, value)
            XCTAssertEqual(recorder.kinds(), [.notImplemented], value)
        }
        for value in ["", "q", "n,", ",n", "yes"] {
            expectMalformedBootOption("reboot=\(value)")
        }
    }

    func testIgnoreBIOSTablesImpliesNoSMPInAnyOrder() {
        XCTAssertTrue(parseBootOptions("ignorebiostables").0.smpDisabled)
        XCTAssertTrue(parseBootOptions("ignorebiostables nosmp=0").0.smpDisabled)
        XCTAssertTrue(parseBootOptions("nosmp=0 ignorebiostables").0.smpDisabled)
        XCTAssertTrue(parseBootOptionsClean("nosmp").smpDisabled)
        XCTAssertFalse(BootOptions().smpDisabled)
    }

    func testDom0MaxVCPUsForms() {
        let cases: [(String, Dom0VCPULimits)] = [
            ("4", Dom0VCPULimits(minimum: 4, maximum: 4)),
            ("0", Dom0VCPULimits(minimum: 1, maximum: 1)),
            ("4-8", Dom0VCPULimits(minimum: 4, maximum: 8)),
            ("4-", Dom0VCPULimits(minimum: 4, maximum: nil)),
            ("-8", Dom0VCPULimits(minimum: 1, maximum: 8)),
            ("8-4", Dom0VCPULimits(minimum: 8, maximum: 4)),
            ("0x10", Dom0VCPULimits(minimum: 16, maximum: 16)),
        ]
        for (value, limits) in cases {
            XCTAssertEqual(parseBootOptionsClean("dom0_max_vcpus=\(value)").dom0VCPUs, limits, value)
        }
        for value in ["", "-", "-0", "4-0", "four", "4-x", "4--8", "4-8-", "4294967296", "1-4294967296", "+4"] {
            expectMalformedBootOption("dom0_max_vcpus=\(value)")
        }
    }

    func testDom0VCPUCountFollowsXensTable() {
        // docs/misc/xen-command-line: with dom0_max_vcpus=4-8.
        let limits = parseBootOptionsClean("dom0_max_vcpus=4-8").dom0VCPUs
        for (pcpus, vcpus) in [(2, 4), (4, 4), (6, 6), (8, 8), (10, 8)] {
            XCTAssertEqual(limits.count(physicalCPUs: pcpus, platformLimit: 128), vcpus)
        }
        XCTAssertEqual(BootOptions().dom0VCPUs.count(physicalCPUs: 6, platformLimit: 128), 6)
        XCTAssertEqual(BootOptions().dom0VCPUs.count(physicalCPUs: 600, platformLimit: 128), 128)
        XCTAssertEqual(Dom0VCPULimits(minimum: 8, maximum: 4).count(physicalCPUs: 2, platformLimit: 128), 4,
                       "the maximum wins")
        XCTAssertEqual(Dom0VCPULimits(minimum: 0, maximum: nil).minimum, 1)
        XCTAssertEqual(BootOptions().dom0VCPUs.count(physicalCPUs: 0, platformLimit: 128), 1)
    }

    func testBadPages() {
        let list = parseBootOptionsClean("badpage=0x12345,0x20000-0x200ff,7").badPages
        XCTAssertEqual(list.count, 3)
        XCTAssertEqual(list[0], BadPageRange(first: 0x12345, last: 0x12345))
        XCTAssertEqual(list[1], BadPageRange(first: 0x20000, last: 0x200FF))
        XCTAssertEqual(list[2], BadPageRange(first: 7, last: 7))
        XCTAssertTrue(list.contains(frame: 0x12345))
        XCTAssertTrue(list.contains(frame: 0x200FF))
        XCTAssertTrue(list.contains(frame: 0x20080))
        XCTAssertFalse(list.contains(frame: 0x12346))
        XCTAssertFalse(list.contains(frame: 0x20100))
        XCTAssertTrue(parseBootOptionsClean("badpage=5-5").badPages.contains(frame: 5))

        var sink = ByteBufferSink()
        list.write(into: &sink)
        XCTAssertEqual(sink.text, "0x12345,0x20000-0x200ff,0x7")

        let replaced = parseBootOptions("badpage=1 badpage=2").0.badPages
        XCTAssertEqual(replaced.count, 1)
        XCTAssertEqual(replaced[0].first, 2)
    }

    func testBadPageCapacityIsAReportedMalformationNotACrash() {
        let full = (0..<32).map { String($0 * 2) }.joined(separator: ",")
        XCTAssertEqual(parseBootOptionsClean("badpage=\(full)").badPages.count, 32)
        let tooMany = full + ",999"
        XCTAssertEqual(expectMalformedBootOption("badpage=\(tooMany)"), "more than 32 bad-page entries")
        let huge = (0..<1000).map { "\($0)-\($0 + 1)" }.joined(separator: ",")
        expectMalformedBootOption("badpage=\(huge)")
    }

    func testMalformedBadPages() {
        XCTAssertEqual(expectMalformedBootOption("badpage=0x200-0x100"), "a range ends before it starts")
        for value in ["", "x", "0x12345,", ",1", "1,,2", "1-", "-1", "1-2-3", "0x1g", "18446744073709551616", "1-x"] {
            expectMalformedBootOption("badpage=\(value)")
        }
    }
}
