// External interrupts (vectors 32-255): each CPU's local APIC timer (the 10 ms tick that
// drives guest timers and the scheduler), the kick IPI (look at the scheduler and events
// again: the work is done on the way out), and the spurious vector; anything else is
// reported once and acknowledged. The TLB-flush IPI is answered in Traps.swift.
import ApusCore
import ArchX86

enum Interrupts {
    static let spuriousVector = 0xFF
    static let timerVector = 0xF0
    nonisolated(unsafe) static var timerTicks: UInt64 = 0
    nonisolated(unsafe) static var unexpectedReported = false

    static func handle(vector: Int, frame: TrapFrame, cpu: Int) {
        switch vector {
        case spuriousVector:
            return  // no EOI for the spurious vector
        case ConsoleInput.vector: ConsoleInput.interrupt(frame: frame)
        case timerVector:
            if cpu == 0 { timerTicks &+= 1 }
            PerCPU.cpus[cpu].ticks &+= 1
            LocalAPIC.endOfInterrupt()
            GuestTimers.check()
            Scheduling.tick(cpu: cpu)
        case Scheduling.kickVector:
            LocalAPIC.endOfInterrupt()
        case DebugKeyDumps.dumpVector:
            LocalAPIC.endOfInterrupt()
            DebugKeyDumps.answerDumpRequest(frame: frame)
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
