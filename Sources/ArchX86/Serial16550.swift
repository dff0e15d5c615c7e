// A 16550-compatible UART: output by polling, input by interrupt.
//
// Polling keeps output synchronous: a line is on the wire before the next instruction,
// so a crash never loses the message that explains it (Xen's sync_console behaviour is
// therefore always on). Input raises the "received data available" interrupt once the
// console routes the port's IRQ; the handler drains the FIFO with `receive()`, which
// also lowers the line so the next byte makes a new edge.
import X86Shim

public struct Serial16550 {
    public let ioBase: UInt16

    public init(ioBase: UInt16) { self.ioBase = ioBase }

    public enum Parity: UInt8 { case none = 0, odd = 1, even = 3, mark = 5, space = 7 }

    /// Programs the line. `baud` nil keeps the divisor the boot loader set ("auto").
    /// Returns false when no UART answers at this port (scratch register test).
    public func configure(baud: UInt32?, dataBits: Int, parity: Parity, stopBits: Int) -> Bool {
        Port.out8(ioBase + 7, 0x5A)
        guard Port.in8(ioBase + 7) == 0x5A else { return false }
        Port.out8(ioBase + 1, 0x00)                   // no UART interrupts yet
        let lineControl = UInt8(truncatingIfNeeded: (dataBits - 5) & 3)
            | (stopBits == 2 ? 0x04 : 0) | (parity.rawValue << 3)
        if let baud, baud > 0 {
            let divisor = UInt16(truncatingIfNeeded: max(1, 115_200 / baud))
            Port.out8(ioBase + 3, 0x80)               // DLAB: divisor latch
            Port.out8(ioBase + 0, UInt8(truncatingIfNeeded: divisor))
            Port.out8(ioBase + 1, UInt8(truncatingIfNeeded: divisor >> 8))
        }
        Port.out8(ioBase + 3, lineControl)
        Port.out8(ioBase + 2, 0xC7)                   // FIFOs on, cleared, 14-byte trigger
        Port.out8(ioBase + 4, 0x03)                   // DTR, RTS
        return true
    }

    /// The baud rate the divisor latch holds now (for `com1=auto`).
    public func currentBaud() -> UInt32 {
        let lcr = Port.in8(ioBase + 3)
        Port.out8(ioBase + 3, lcr | 0x80)
        let divisor = UInt32(Port.in8(ioBase)) | UInt32(Port.in8(ioBase + 1)) << 8
        Port.out8(ioBase + 3, lcr)
        return divisor == 0 ? 0 : 115_200 / divisor
    }

    @inline(__always) public func put(_ byte: UInt8) {
        var spins = 0
        // Bounded wait: a UART that never drains must not hang the hypervisor.
        while Port.in8(ioBase + 5) & 0x20 == 0 && spins < 100_000 { x86_pause(); spins += 1 }
        Port.out8(ioBase, byte)
    }

    public func receive() -> UInt8? {
        Port.in8(ioBase + 5) & 0x01 != 0 ? Port.in8(ioBase) : nil
    }

    /// Interrupt on received data only (never on transmit: output stays polled), with
    /// OUT2 set, which gates the UART's IRQ line onto the bus on PC hardware.
    public func enableReceiveInterrupts() {
        Port.out8(ioBase + 4, Port.in8(ioBase + 4) | 0x08)
        Port.out8(ioBase + 1, 0x01)
    }

    public func disableInterrupts() {
        Port.out8(ioBase + 1, 0x00)
    }
}
