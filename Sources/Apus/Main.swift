// Apus: the hypervisor proper. Owns start of day, the console, traps and panics, its own
// page tables, and the wiring of ApusCore's logic to ArchX86's hardware access. Only this
// module holds global state; it must not execute privileged instructions except through
// ArchX86.
//
// Start of day: the first Swift code, called from boot/multiboot.S on the boot CPU with
// the early page tables, interrupts off, and the boot loader's magic and info address.
//
// The order is Xen's where it can be: console first (so everything after can be
// reported), then the command line, memory, CPU, ACPI, timers, and finally dom0. Each
// step either completes or ends in a panic that says why.
import ApusCore
import ArchX86

@c(apus_kmain)
func apusMain(_ magic: UInt32, _ bootInfoPhysical: UInt32) {
    _ = Console.shared.serial?.port.configure(baud: 115_200, dataBits: 8, parity: .none, stopBits: 1)
    GuestTime.bootTSC = CPU.readTimeStampCounter()
    StackUsage.paintUnused()
    PerCPU.setUpThisCPU(0)
    HypervisorLock.acquire(cpu: 0)  // held by the boot CPU until it first idles
    LegacyPIC.remapAndMaskAll()
    Symbols.load()

    // The boot tables map the first 4 GiB at the direct-map address; boot information lives there.
    let earlyReader = DirectMapReader(limit: 4 << 30)
    let boot: BootInfo
    do throws(BootInfoError) {
        boot = try BootInfo.parse(magic: magic, infoAddress: UInt64(bootInfoPhysical), reader: earlyReader)
    } catch {
        Log.line { ApusBanner.write(into: &$0) }
        panic { error.describe(into: &$0) }
    }
    BootCommandLine.capture(boot.commandLine, reader: earlyReader)
    var options = BootCommandLine.parseSilently()
    FatalErrorPolicy.rebootOnPanic = !options.noReboot
    ConsoleSetup.apply(options)

    Log.line { ApusBanner.write(into: &$0) }
    Log.line { c in
        c.write("Bootloader: ")
        if let name = boot.bootloaderName, let text = name.read(from: earlyReader) { c.write(text) } else { c.write("unknown") }
        c.write(boot.bootProtocol == .multiboot2 ? " (multiboot2)" : " (multiboot)")
    }
    Log.line { c in c.write("Command line: "); c.write(BootCommandLine.text) }
    if BootCommandLine.truncatedFrom > 0 {
        Log.line { c in
            c.write("WARNING: command line of "); c.write(decimal: BootCommandLine.truncatedFrom)
            c.write(" bytes cut to "); c.write(decimal: ImageLayout.commandLineCapacity - 1)
        }
    }
    options = BootCommandLine.parseReporting()
    if !boot.anomalies.isEmpty {
        Log.line { c in c.write("WARNING: the boot information had defects that were skipped (flags "); c.write(hex0x: UInt64(boot.anomalies.rawValue)); c.write(")") }
    }
    Log.line { c in
        c.write("Xen image load base address: "); c.write(hex0x: ImageLayout.imageStartPhysical)
        c.write(" (text at "); c.write(hex0x: ImageLayout.textStart); c.write(")")
    }

    BootCPU.identify()
    Memory.buildMap(boot: boot, options: options, reader: earlyReader)

    let highest = Memory.map.highestUsableAddress ?? 0
    let maximumDirectMap: UInt64 = 60 << 30  // what the boot page-table pool can map
    var directMapBytes = max(4 << 30, (highest + (2 << 20) - 1) & ~((2 << 20) - 1))
    if directMapBytes > maximumDirectMap {
        Log.line { c in c.write("WARNING: RAM above "); c.write(size: maximumDirectMap); c.write(" is not used yet") }
        directMapBytes = maximumDirectMap
    }
    let tableFrames = HypervisorPageTables.buildAndSwitch(directMapBytes: directMapBytes) { chunk in
        Memory.holdsRAM(chunk, chunk + (2 << 20))
    }
    Log.line(.info) { c in
        c.write("Apus page tables: "); c.write(decimal: tableFrames); c.write(" frames; direct map of ")
        c.write(size: directMapBytes); c.write(" at "); c.write(hex0x: ImageLayout.directMapStart)
    }
    BootCPU.enableProtections()
    BootCPU.enableGuestFPU()
    SegmentDescriptors.setUp()
    let reader = DirectMapReader(limit: directMapBytes)
    Memory.startFrameAllocator(options: options, directMapLimit: directMapBytes)
    MachineToPhys.create()
    RAMBitmap.build()

    Firmware.discover(boot: boot, options: options, reader: reader)
    Timers.start(options: options)
    GuestTime.readWallClock()
    PerCPU.bringUpSecondaries(options: options)
    ConsoleSetup.report(options)
    ConsoleInput.start(options)
    Log.line { $0.write("Boot options in force:") }
    Log.lines { options.writeSummary(into: &$0, linePrefix: "  ") }

    Log.line { c in
        c.write("Using scheduler: SMP Credit Scheduler (credit)")
    }
    Log.line { c in
        c.write("Credit scheduler: timeslice "); c.write(decimal: UInt64(options.creditTimesliceMs)); c.write(" ms, ratelimit ")
        c.write(decimal: UInt64(options.effectiveRateLimitUs)); c.write(" us")
    }
    StackUsage.report()
    SelfTests.run(options.selfTest)
    Dom0.decideAndLaunch(boot: boot, options: options, reader: reader)
}

enum ApusBanner {
    static func write(into c: inout Console) {
        c.write("Apus version "); c.write(ApusVersion.string)
        c.write(" (Xen "); c.write(decimal: ApusVersion.xenInterfaceMajor); c.put(0x2E)
        c.write(decimal: ApusVersion.xenInterfaceMinor)
        c.write(" interface) ("); c.write(BuildInfo.builtBy); c.write(") ("); c.write(BuildInfo.compiler)
        c.write(") debug=n "); c.write(BuildInfo.date)
    }
}
