// ConsoleSelection and ConsoleSwitch: where `console=` sends Apus's output and how
// `conswitch=` moves serial input between Apus and dom0.
//
// `console=` is a comma list of `vga`, `com1`, `com2`, `com1H`, `com1L`, `com2H`, `com2L`
// and `none`, and the default is `com1,vga`. Xen drives at most one serial console, so the
// last `comN` in the list wins. H and L set or clear the top bit of every character on
// that port, so that two users can share one line. Unknown entries are reported and the
// rest of the list is kept. A list in which nothing is usable is rejected as a whole, so a
// typo cannot silence the console. Xen's USB and PV consoles (`dbgp ehci xhci pv`) are
// reported as not implemented.
// `conswitch=<c>[x]`: the input switch is CTRL-<c> typed three times, `a` by default. A
// backtick turns switching off. A trailing `x` keeps input with Apus when dom0 boots.
// Imports nothing.

/// How a shared serial port uses bit 7 of each character (`comNH` / `comNL`).
public enum SerialHighBit: Equatable {
    case unused
    case set
    case clear
}

public struct SerialConsole: Equatable {
    /// 1 or 2.
    public var port: UInt8
    public var highBit: SerialHighBit

    public init(port: UInt8, highBit: SerialHighBit = .unused) {
        self.port = port
        self.highBit = highBit
    }
}

public struct ConsoleSelection: Equatable {
    public var vga: Bool
    public var serial: SerialConsole?

    public init(vga: Bool, serial: SerialConsole?) {
        self.vga = vga
        self.serial = serial
    }

    /// `console=com1,vga`.
    public static var xenDefault: ConsoleSelection { ConsoleSelection(vga: true, serial: SerialConsole(port: 1)) }

    /// Parses a `console=` list. `reportEntry` hears about each entry that is ignored, with
    /// a reason and whether it is a real Xen console that Apus lacks (`true`) or unknown.
    public static func parse(
        _ text: ByteText, reportEntry: (_ entry: ByteText, _ reason: StaticString, _ notImplemented: Bool) -> Void
    ) -> ParsedValue<ConsoleSelection> {
        var selection = ConsoleSelection(vga: false, serial: nil)
        var usable = 0
        var entries = text.listEntries()
        while let entry = entries.next() {
            if entry.isEmpty { continue }
            if entry.equals("vga") {
                selection.vga = true
            } else if entry.equals("none") {
                // Chooses nothing. It is still a valid choice.
            } else if let serial = serialConsole(entry) {
                selection.serial = serial
            } else if entry.equals("dbgp") || entry.equals("ehci") || entry.equals("xhci") || entry.equals("pv") {
                reportEntry(entry, "USB debug-port and PV consoles are not supported, ignored", true)
                continue
            } else {
                reportEntry(entry, "unknown console, ignored (vga, com1, com2, com1H, com1L, com2H, com2L, none)", false)
                continue
            }
            usable += 1
        }
        guard usable > 0 else {
            return .malformed(reason: "no usable console in the list (vga, com1, com2, com1H, com1L, com2H, com2L, none)")
        }
        return .value(selection)
    }

    private static func serialConsole(_ entry: ByteText) -> SerialConsole? {
        guard entry.hasPrefix("com"), entry.count == 4 || entry.count == 5 else { return nil }
        let port: UInt8
        switch entry[3] {
        case 0x31: port = 1
        case 0x32: port = 2
        default: return nil
        }
        guard entry.count == 5 else { return SerialConsole(port: port) }
        switch entry[4] {
        case 0x48: return SerialConsole(port: port, highBit: .set)  // 'H'
        case 0x4C: return SerialConsole(port: port, highBit: .clear)  // 'L'
        default: return nil
        }
    }

    /// Back in `console=` syntax: `com1,vga`, `vga`, `com2H` or `none`.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        if let serial {
            sink.write("com")
            sink.put(0x30 + serial.port)
            switch serial.highBit {
            case .unused: break
            case .set: sink.put(0x48)
            case .clear: sink.put(0x4C)
            }
            if vga { sink.write(",vga") }
        } else if vga {
            sink.write("vga")
        } else {
            sink.write("none")
        }
    }
}

public struct ConsoleSwitch: Equatable {
    /// The letter typed with CTRL, or a backtick when switching is off.
    public var switchCharacter: UInt8 = 0x61  // 'a'
    /// Whether serial input moves to dom0 by itself when dom0 boots.
    public var autoSwitchToDom0 = true

    public init() {}

    public var switchingEnabled: Bool { switchCharacter != 0x60 }

    /// The byte that CTRL-<switchCharacter> sends (CTRL-a is 0x01), or nil when switching is off.
    public var controlCode: UInt8? { switchingEnabled ? switchCharacter - 0x60 : nil }

    public static func parse(_ text: ByteText) -> ParsedValue<ConsoleSwitch> {
        guard text.count == 1 || text.count == 2, (0x60...0x7A).contains(text[0]) else {
            return .malformed(reason: "expected a letter a-z (or ` to disable switching), optionally followed by x")
        }
        var result = ConsoleSwitch()
        result.switchCharacter = text[0]
        result.autoSwitchToDom0 = !(text.count == 2 && text[1] == 0x78)  // 'x'
        return .value(result)
    }

    public func write<Sink: TextSink>(into sink: inout Sink) {
        sink.put(switchCharacter)
        if !autoSwitchToDom0 { sink.put(0x78) }
    }
}
