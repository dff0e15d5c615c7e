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
    if Console.shared.rateLimit.suppressed > 0 {
        let count = Console.shared.rateLimit.suppressed
        Console.shared.rateLimit.suppressed = 0
        Log.always { c in c.write("printk: "); c.write(decimal: count); c.write(" messages suppressed.") }
    }
    Log.always { $0.write("****************************************") }
    Log.always { $0.write("Panic on CPU 0:") }
    Log.always { body(&$0) }
    Log.always { $0.write("****************************************") }
    Log.always { _ in }
    if FatalErrorPolicy.rebootOnPanic {
        Log.always { $0.write("Reboot in five seconds...") }
        Platform.delay(milliseconds: 5000)
        Platform.reset()
    }
    Log.always { $0.write("Manual reset required ('noreboot' specified)") }
    CPU.haltForever()
}
