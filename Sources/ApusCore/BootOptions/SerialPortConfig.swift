// SerialPortConfig: what `com1=` and `com2=` say about a 16550 UART.
//
// Syntax (Xen 4.17, positional):
// `<baud>|auto[/<base-baud>][,[DPS][,[<io-base>|pci|amt][,[<irq>|msi][,<port-bdf>[,<bridge-bdf>]]]]]`.
// DPS is data bits 5-8, parity n/o/e/m/s and stop bits 1-2, as in `8n1`. Any field may be
// empty and any suffix may be left off. A missing field keeps the port's standard value:
// I/O 0x3f8 and IRQ 4 for COM1, I/O 0x2f8 and IRQ 3 for COM2, `auto` baud (whatever the
// firmware or loader set up), 8n1. Like Xen, each `comN=` is read on top of those
// standard values and not on top of an earlier `comN=`.
// Apus has no PCI UART discovery or MSI yet. `pci`, `amt`, `msi`, the BDF fields and Xen's
// `name=value` fields are accepted, then reported as not implemented.
// Imports nothing.

public enum SerialParity: UInt8, Equatable {
    case none = 0x6E  // 'n'
    case odd = 0x6F  // 'o'
    case even = 0x65  // 'e'
    case mark = 0x6D  // 'm'
    case space = 0x73  // 's'

    /// The letter used in DPS.
    public var letter: UInt8 { rawValue }
}

public enum SerialBaud: Equatable {
    /// Keep the divisor the firmware or boot loader programmed.
    case auto
    case bitsPerSecond(UInt32)
}

public struct SerialPortConfig: Equatable {
    public var baud: SerialBaud = .auto
    /// The UART clock divided by 16, when given as `/<base-baud>`. nil: the usual 115200.
    public var baseBaud: UInt32? = nil
    public var dataBits: UInt8 = 8
    public var parity: SerialParity = .none
    public var stopBits: UInt8 = 1
    public var ioBase: UInt16
    /// 0 means the port is polled, with no interrupt.
    public var irq: UInt8

    public init(ioBase: UInt16, irq: UInt8) {
        self.ioBase = ioBase
        self.irq = irq
    }

    public static var com1Default: SerialPortConfig { SerialPortConfig(ioBase: 0x3F8, irq: 4) }
    public static var com2Default: SerialPortConfig { SerialPortConfig(ioBase: 0x2F8, irq: 3) }

    /// Parses a `comN=` value on top of `defaults`.
    public static func parse(_ text: ByteText, defaults: SerialPortConfig) -> ParsedValue<SerialPortConfig> {
        var config = defaults
        var unsupported: StaticString? = nil
        var position = 0
        var entries = text.listEntries()
        while let field = entries.next() {
            defer { position += 1 }
            if field.firstIndex(of: 0x3D) != nil {  // '=': Xen's name=value fields start here
                unsupported = unsupported ?? "name=value serial settings are not supported, they are ignored"
                continue
            }
            if field.isEmpty { continue }
            switch position {
            case 0:
                guard parseBaud(field, into: &config) else {
                    return .malformed(reason: "expected a baud rate like 115200 or auto, optionally /<base-baud>")
                }
            case 1:
                guard parseDPS(field, into: &config) else {
                    return .malformed(reason: "expected data bits 5-8, parity n/o/e/m/s and stop bits 1-2, like 8n1")
                }
            case 2:
                if field.equals("pci") || field.equals("amt") {
                    unsupported = unsupported ?? "PCI serial ports are not supported; using the standard I/O port"
                } else if let port = BootValueSyntax.unsigned(field, in: 1...0xFFFF) {
                    config.ioBase = UInt16(port)
                } else {
                    return .malformed(reason: "expected an I/O port base like 0x3f8")
                }
            case 3:
                if field.equals("msi") {
                    unsupported = unsupported ?? "MSI for serial ports is not supported; using the standard IRQ"
                } else if let irq = BootValueSyntax.unsigned(field, in: 0...15) {
                    config.irq = UInt8(irq)
                } else {
                    return .malformed(reason: "expected an ISA IRQ 0-15 (0 polls)")
                }
            case 4, 5:
                unsupported = unsupported ?? "PCI serial port locations are not supported, they are ignored"
            default:
                return .malformed(reason: "too many fields: <baud>,DPS,<io-base>,<irq>[,<port-bdf>[,<bridge-bdf>]]")
            }
        }
        if let unsupported { return .unsupported(config, note: unsupported) }
        return .value(config)
    }

    private static func parseBaud(_ field: ByteText, into config: inout SerialPortConfig) -> Bool {
        let (rate, base) = field.split(at: 0x2F)  // '/'
        if rate.equals("auto") {
            config.baud = .auto
        } else if let value = BootValueSyntax.unsigned(rate, in: 1...UInt64(UInt32.max)) {
            config.baud = .bitsPerSecond(UInt32(value))
        } else {
            return false
        }
        if let base {
            guard let value = BootValueSyntax.unsigned(base, in: 1...UInt64(UInt32.max)) else { return false }
            config.baseBaud = UInt32(value)
        }
        return true
    }

    private static func parseDPS(_ field: ByteText, into config: inout SerialPortConfig) -> Bool {
        guard field.count == 3,
              (0x35...0x38).contains(field[0]),  // '5'...'8'
              let parity = SerialParity(rawValue: field[1]),
              (0x31...0x32).contains(field[2])  // '1'...'2'
        else { return false }
        config.dataBits = field[0] - 0x30
        config.parity = parity
        config.stopBits = field[2] - 0x30
        return true
    }

    /// Back in `comN=` syntax, every positional field written out: `115200,8n1,0x3f8,4`.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        switch baud {
        case .auto: sink.write("auto")
        case .bitsPerSecond(let rate): sink.write(decimal: UInt64(rate))
        }
        if let baseBaud {
            sink.put(0x2F)
            sink.write(decimal: UInt64(baseBaud))
        }
        sink.put(0x2C)
        sink.put(dataBits + 0x30)
        sink.put(parity.letter)
        sink.put(stopBits + 0x30)
        sink.put(0x2C)
        sink.write(hex0x: UInt64(ioBase))
        sink.put(0x2C)
        sink.write(decimal: UInt64(irq))
    }
}
