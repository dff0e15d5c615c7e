// The hypervisor's command line: copied out of the boot loader's memory into Apus's own
// buffer (so ByteTexts into it stay valid for good), parsed, and turned into the console
// configuration. The parse runs twice: once silently to learn how to set up the console,
// then again printing every diagnostic on the console it configured, as Xen does.
import ApusCore
import ArchX86

enum BootCommandLine {
    nonisolated(unsafe) static var text = ByteText.empty
    nonisolated(unsafe) static var truncatedFrom = 0

    /// Copies the loader's command line (at most the buffer's size) and drops an image
    /// path if the loader passed one.
    static func capture(_ location: PhysicalText?, reader: DirectMapReader) {
        guard let location, let source = location.read(from: reader) else { return }
        let buffer = UnsafeMutablePointer<UInt8>(bitPattern: UInt(ImageLayout.commandLineBuffer)).unsafelyUnwrapped
        let count = min(source.count, ImageLayout.commandLineCapacity - 1)
        for index in 0..<count { buffer[index] = source[index] }
        buffer[count] = 0
        if source.count > count { truncatedFrom = source.count }
        text = BootOptions.stripImageName(ByteText(base: UnsafePointer(buffer), count: count))
    }

    static func parseSilently() -> BootOptions {
        var ignore = IgnoredBootOptionDiagnostics()
        return BootOptions.parse(text, diagnostics: &ignore)
    }

    /// Parses again, printing every unknown, malformed or not-yet-implemented option.
    static func parseReporting() -> BootOptions {
        var printer = ConsoleDiagnostics()
        return BootOptions.parse(text, diagnostics: &printer)
    }
}

struct ConsoleDiagnostics: BootOptionDiagnostics {
    mutating func report(_ diagnostic: BootOptionDiagnostic) {
        Log.line { diagnostic.writeLogLine(into: &$0) }
    }
}

enum ConsoleSetup {
    /// Points the console at the devices `console=` names, with `comN=` line settings.
    static func apply(_ options: BootOptions) {
        var console = Console.shared
        console.thresholds = options.logLevels
        console.guestThresholds = options.guestLogLevels
        console.serial = nil
        if let selected = options.console.serial {
            let config = selected.port == 2 ? options.com2 : options.com1
            let port = Serial16550(ioBase: config.ioBase)
            var baud: UInt32? = nil
            if case .bitsPerSecond(let rate) = config.baud { baud = rate }
            let parity: Serial16550.Parity
            switch config.parity {
            case .odd: parity = .odd
            case .even: parity = .even
            case .mark: parity = .mark
            case .space: parity = .space
            default: parity = .none
            }
            if port.configure(baud: baud, dataBits: Int(config.dataBits), parity: parity, stopBits: Int(config.stopBits)) {
                console.serial = SerialOutput(port: port, highBit: selected.highBit)
            }
        }
        if options.console.vga && console.vga == nil {
            console.vga = VGAText(bufferVirtualAddress: DirectMap.address(of: 0xB8000))
        } else if !options.console.vga {
            console.vga = nil
        }
        Console.shared = console
    }

    /// `Serial: com1 at 0x3f8, 115200 8n1, polled` and the console device list.
    static func report(_ options: BootOptions) {
        Log.line { c in
            c.write("Console: "); options.console.write(into: &c)
            if Console.shared.serial == nil && options.console.serial != nil { c.write(" (no UART answered: serial output off)") }
        }
        if let selected = options.console.serial, Console.shared.serial != nil {
            let config = selected.port == 2 ? options.com2 : options.com1
            Log.line { c in
                c.write(selected.port == 2 ? "com2" : "com1"); c.write(": ")
                config.write(into: &c)
                c.write(" (io "); c.write(hex0x: UInt64(config.ioBase)); c.write(", polled, synchronous)")
                if case .auto = config.baud {
                    c.write(", baud kept from the boot loader: ")
                    c.write(decimal: UInt64(Console.shared.serial!.port.currentBaud()))
                }
            }
        }
        Log.line { c in
            c.write("Allocated console ring of "); c.write(decimal: ConsoleRing.capacity / 1024); c.write(" KiB.")
        }
    }
}
