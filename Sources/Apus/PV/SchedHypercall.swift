// sched_op for the one-vCPU world: yield and block return at once (nothing else to run,
// no events yet), shutdown ends dom0 and with it the machine, as on Xen.
import ApusCore
import ApusPublic
import ArchX86

enum SchedHypercall {
    static func perform(_ args: HypercallArguments) -> Int64 {
        switch Int32(truncatingIfNeeded: args.a0) {
        case SCHEDOP_yield, SCHEDOP_block:
            return 0
        case SCHEDOP_shutdown:
            guard let reason = GuestMemory.read(UInt32.self, at: args.a1) else { return Errno.EFAULT }
            shutDownDom0(reason: reason)
        case SCHEDOP_shutdown_code:
            guard GuestMemory.read(UInt32.self, at: args.a1) != nil else { return Errno.EFAULT }
            return 0
        case SCHEDOP_remote_shutdown:
            guard let request = GuestMemory.read(sched_remote_shutdown.self, at: args.a1) else { return Errno.EFAULT }
            guard request.domain_id == PV.current.id else { return Errno.ESRCH }
            shutDownDom0(reason: request.reason)
        default:
            return Errno.ENOSYS
        }
    }

    /// The hardware domain's shutdown is the machine's: Xen's wording, then ACPI.
    static func shutDownDom0(reason: UInt32) -> Never {
        switch Int32(truncatingIfNeeded: reason) {
        case SHUTDOWN_poweroff:
            Log.line { $0.write("Hardware Dom0 halted: halting machine") }
            Platform.powerOff()
        case SHUTDOWN_reboot:
            Log.line { $0.write("Hardware Dom0 shutdown: rebooting machine") }
            Platform.reset()
        case SHUTDOWN_crash:
            panic("Hardware Dom0 crashed: rebooting machine in 5 seconds.")
        default:
            Log.line { c in c.write("Hardware Dom0 shutdown (reason "); c.write(decimal: UInt64(reason)); c.write("): halting machine") }
            Platform.powerOff()
        }
    }
}
