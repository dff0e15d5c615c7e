// The fatal-error rule, as Xen has it: print the reason in a box, then reboot after five
// seconds, or halt for good when the command line says `noreboot`.
import ApusCore
import ArchX86

enum FatalErrorPolicy {
    /// Set from the command line (`noreboot`); until then a panic reboots.
    nonisolated(unsafe) static var rebootOnPanic = true
}

func panic(_ message: StaticString) -> Never {
    panic { $0.write(message) }
}

func panic(_ body: (inout Console) -> Void) -> Never {
    CPU.disableInterrupts()
    Console.shared.lineVisible = true
    if !Console.shared.atLineStart { Console.shared.put(0x0A) }
    Log.line(.error) { $0.write("****************************************") }
    Log.line(.error) { $0.write("Panic on CPU 0:") }
    Log.line(.error) { body(&$0) }
    Log.line(.error) { $0.write("****************************************") }
    Log.line(.error) { _ in }
    if FatalErrorPolicy.rebootOnPanic {
        Log.line(.error) { $0.write("Reboot in five seconds...") }
        Platform.delay(milliseconds: 5000)
        Platform.reset()
    }
    Log.line(.error) { $0.write("Manual reset required ('noreboot' specified)") }
    CPU.haltForever()
}
