// Power.swift: ending the domain through sched_op(SCHEDOP_shutdown).
//
// For dom0 the hypervisor acts on the reason for the whole machine (power off, reboot).
// If the hypercall returns at all, something is wrong with it: say so, then spin,
// because a PV guest has no `hlt` of its own.
import XenGuestC
import ApusPublic

public enum Power {
    public static func off() -> Never { shutdown(reason: UInt32(SHUTDOWN_poweroff)) }

    public static func shutdown(reason: UInt32) -> Never {
        Console.flush()
        var request = sched_shutdown(reason: reason)
        let result = HYPERVISOR_sched_op(UInt32(SCHEDOP_shutdown), &request)
        Console.write("guest: SCHEDOP_shutdown returned ")
        Console.write(decimal: result)
        Console.newline()
        while true {
            var yieldArgument: UInt32 = 0
            _ = HYPERVISOR_sched_op(UInt32(SCHEDOP_yield), &yieldArgument)
        }
    }
}
