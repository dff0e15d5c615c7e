// ConsoleInputRouter: where each byte typed on the serial console goes, as Xen 4.17's
// console decides it.
//
// Until the end of boot every byte is Apus's (a debug key). At the end of boot input
// moves to dom0 and the console says so ("*** Serial input to DOM0 (type 'CTRL-a' three
// times to switch input)"), unless `conswitch=` ends in `x`: then it stays with Apus and
// the message names Xen. CTRL-<switch char> typed three times in a row switches between
// the two; fewer than three followed by any other byte are passed on as ordinary input
// before that byte, so a lone CTRL-a still reaches dom0. A backtick switch character
// turns switching off (no hint in the message). With no dom0 a switch lands on Apus
// again. Xen keeps calling the hypervisor side "Xen" in these messages, and so does Apus:
// the words are what people and their expect scripts look for.
//
// On a shared line (`com1H`/`com1L`) only bytes with bit 7 set (H) or clear (L) are for
// this console; every accepted byte loses bit 7, as Xen's serial driver strips it.
// Owns: the switch state machine. The caller prints, runs keys and queues dom0's bytes.
// Imports nothing.

public enum ConsoleInputTarget: Equatable {
    case hypervisor
    case dom0
}

/// What one received byte makes the console do.
public enum ConsoleInputAction: Equatable {
    /// Input now goes to `to`: print `writeSwitchMessage(for:)`.
    case switched(to: ConsoleInputTarget)
    /// A debug key for Apus.
    case debugKey(UInt8)
    /// A byte for dom0's input ring (raise VIRQ_CONSOLE even when the ring is full).
    case guestInput(UInt8)
}

public struct ConsoleInputRouter {
    public let setting: ConsoleSwitch
    public let highBit: SerialHighBit
    public private(set) var target: ConsoleInputTarget = .hypervisor
    public private(set) var dom0Present = false
    /// Switch codes received in a row and not yet acted on (0...2).
    public private(set) var pendingSwitchCodes = 0

    public init(setting: ConsoleSwitch, highBit: SerialHighBit = .unused) {
        self.setting = setting
        self.highBit = highBit
    }

    /// Xen's console_endboot: hands input to dom0 (or keeps it, with `x`) and returns where
    /// it went; the caller prints `writeSwitchMessage(for:)` for it.
    public mutating func endOfBoot(dom0Present: Bool) -> ConsoleInputTarget {
        self.dom0Present = dom0Present
        if setting.autoSwitchToDom0 {
            target = .hypervisor
            switchInput()
        } else {
            target = .hypervisor
        }
        return target
    }

    /// Routes one byte as it came off the wire; `act` runs for each resulting action, in order.
    public mutating func receive(_ raw: UInt8, _ act: (ConsoleInputAction) -> Void) {
        switch highBit {
        case .unused: break
        case .set: guard raw & 0x80 != 0 else { return }
        case .clear: guard raw & 0x80 == 0 else { return }
        }
        let byte = raw & 0x7F
        if let code = setting.controlCode, byte == code {
            pendingSwitchCodes += 1
            if pendingSwitchCodes == 3 {
                pendingSwitchCodes = 0
                switchInput()
                act(.switched(to: target))
            }
            return
        }
        if let code = setting.controlCode {
            while pendingSwitchCodes > 0 {
                pendingSwitchCodes -= 1
                act(deliver(code))
            }
        }
        act(deliver(byte))
    }

    private func deliver(_ byte: UInt8) -> ConsoleInputAction {
        target == .hypervisor ? .debugKey(byte) : .guestInput(byte)
    }

    private mutating func switchInput() {
        target = (target == .hypervisor && dom0Present) ? .dom0 : .hypervisor
    }

    /// `*** Serial input to DOM0 (type 'CTRL-a' three times to switch input)`, without the
    /// hint when switching is off. No newline.
    public func writeSwitchMessage<Sink: TextSink>(for target: ConsoleInputTarget, into sink: inout Sink) {
        sink.write(target == .dom0 ? "*** Serial input to DOM0" : "*** Serial input to Xen")
        if setting.switchingEnabled {
            sink.write(" (type 'CTRL-")
            sink.put(setting.switchCharacter)
            sink.write("' three times to switch input)")
        }
    }
}
