// Serial console input: the UART's receive interrupt, routed through the IOAPIC, feeds
// ApusCore's ConsoleInputRouter, which makes each byte a debug key (Apus's input mode),
// a byte for dom0 (its console_io ring plus VIRQ_CONSOLE), or a CTRL-a x3 switch.
//
// Start of day: `start` routes the console port's ISA IRQ (com1= / com2=, 4 and 3 by
// default; MADT overrides honoured) to `vector` on this CPU and turns on the UART's
// receive interrupt. Input during boot is Apus's; `endOfBoot` hands it to dom0 (unless
// conswitch=...x) with Xen's message. Without an IOAPIC (acpi=off) or with irq 0 there is
// no console input, and the boot log says so.
// Invariants: the router and the ring are touched only under the hypervisor lock (the
// interrupt and the hypercall both run under it). The IRQ goes to the boot CPU.
// Everything that needs dom0's domain or vCPU records is in DebugKeyDumps.swift.
import ApusCore
import ArchX86

enum ConsoleInput {
    /// The serial port's interrupt vector (priority class 5, below the timer's 0xF0).
    static let vector = 0x50

    nonisolated(unsafe) static var router = ConsoleInputRouter(setting: ConsoleSwitch())
    nonisolated(unsafe) static var ring = ConsoleInputRing()
    nonisolated(unsafe) static var port: Serial16550? = nil

    static func start(_ options: BootOptions) {
        router = ConsoleInputRouter(setting: options.conswitch, highBit: Console.shared.serial?.highBit ?? .unused)
        guard let selected = options.console.serial, let serial = Console.shared.serial else { return }
        let irq = selected.port == 2 ? options.com2.irq : options.com1.irq
        let name: StaticString = selected.port == 2 ? "com2" : "com1"
        guard irq != 0 else {
            Log.line { c in c.write("Serial input: "); c.write(name); c.write(" irq 0: no console input (polling is not implemented)") }
            return
        }
        let route = Firmware.facts.isaRoute(irq)
        guard let target = Firmware.facts.ioAPICPin(for: route.gsi) else {
            Log.line { c in
                c.write("Serial input: no IOAPIC receives "); c.write(name); c.write(" IRQ "); c.write(decimal: UInt64(irq))
                c.write(": no console input")
            }
            return
        }
        let ioAPIC = IOAPIC(registerPage: DirectMap.address(of: target.address))
        ioAPIC.setRedirection(pin: target.pin, IOAPICRedirection(
            vector: UInt8(vector), activeLow: route.activeLow, levelTriggered: route.levelTriggered,
            destinationAPICID: UInt8(truncatingIfNeeded: LocalAPIC.apicID)))
        while serial.port.receive() != nil {}   // whatever the boot loader left unread
        serial.port.enableReceiveInterrupts()
        port = serial.port
        Log.line(.info) { c in
            c.write("Serial input: "); c.write(name); c.write(" IRQ "); c.write(decimal: UInt64(irq))
            c.write(" -> GSI "); c.write(decimal: UInt64(route.gsi)); c.write(" (IOAPIC at ")
            c.write(hex0x: target.address); c.write(" pin "); c.write(decimal: target.pin); c.write(") -> vector ")
            c.write(hex0x: UInt64(vector))
        }
    }

    /// Xen's console_endboot: input goes to dom0 now (or stays, with conswitch=...x).
    static func endOfBoot() {
        let target = router.endOfBoot(dom0Present: DebugKeyDumps.dom0Running)
        Log.line { router.writeSwitchMessage(for: target, into: &$0) }
    }

    /// The receive interrupt: every byte in the UART's FIFO, then EOI.
    static func interrupt(frame: TrapFrame) {
        if let port {
            var budget = 4096   // a stuck line must not hold the CPU forever
            while budget > 0, let byte = port.receive() {
                budget -= 1
                router.receive(byte) { action in
                    switch action {
                    case .switched(let target):
                        DebugKeys.printing { router.writeSwitchMessage(for: target, into: &$0); $0.newline() }
                    case .debugKey(let key):
                        DebugKeys.handle(key, frame: frame)
                    case .guestInput(let byte):
                        ring.append(byte)
                        DebugKeyDumps.raiseConsoleVIRQ()
                    }
                }
            }
        }
        LocalAPIC.endOfInterrupt()
    }

    /// CONSOLEIO_read into the guest buffer at `address`: bytes read, or -EFAULT.
    static func read(into address: UInt64, count: Int) -> Int64 {
        let result = ring.read(upTo: count) { piece, offset in
            GuestMemory.write(UnsafeRawPointer(piece.baseAddress!), to: address &+ UInt64(offset), count: piece.count)
        }
        switch result {
        case .read(let n): return Int64(n)
        case .fault: return Errno.EFAULT
        }
    }
}
