// External interrupts (vectors 32-255): for now only the local APIC timer and the
// spurious vector are expected; anything else is reported once and acknowledged.
import ApusCore
import ArchX86

enum Interrupts {
    static let spuriousVector = 0xFF
    static let timerVector = 0xF0
    nonisolated(unsafe) static var timerTicks: UInt64 = 0
    nonisolated(unsafe) static var unexpectedReported = false

    static func handle(vector: Int, frame: TrapFrame) {
        switch vector {
        case spuriousVector:
            return  // no EOI for the spurious vector
        case timerVector:
            timerTicks &+= 1
            LocalAPIC.endOfInterrupt()
            GuestTimers.check()
        default:
            if !unexpectedReported {
                unexpectedReported = true
                Log.line(.warning) { c in
                    c.write("Unexpected interrupt on vector "); c.write(hex0x: UInt64(vector))
                    c.write(" (reported once)")
                }
            }
            LocalAPIC.endOfInterrupt()
        }
    }
}
