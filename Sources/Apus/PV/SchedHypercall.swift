// sched_op: yield gives the CPU to the scheduler, block and poll make the vCPU wait
// (GuestTimers, Scheduling), shutdown ends dom0 and with it the machine, as on Xen.
import ApusCore
import ApusPublic
import ArchX86

enum SchedHypercall {
    static func perform(_ args: HypercallArguments) -> Int64 {
        switch SchedRequest.decode(command: args.a0, argument: args.a1) {
        case .yield:
            Scheduling.yield()
            return 0
        case .block:
            return GuestTimers.block()
        case .poll(let argument):
            return GuestTimers.poll(argument)
        case .shutdown(let argument):
            guard let reason = GuestMemory.read(UInt32.self, at: argument) else { return Errno.EFAULT }
            shutDownDom0(reason: reason)
        case .shutdownCode(let argument):
            guard GuestMemory.read(UInt32.self, at: argument) != nil else { return Errno.EFAULT }
            return 0
        case .remoteShutdown(let argument):
            guard let request = GuestMemory.read(sched_remote_shutdown.self, at: argument) else { return Errno.EFAULT }
            guard request.domain_id == PV.current.id else { return Errno.ESRCH }
            shutDownDom0(reason: request.reason)
        case .watchdog, .unknown:
            return Errno.ENOSYS
        }
    }

    /// The hardware domain's shutdown is the machine's: Xen's wording, then ACPI.
    static func shutDownDom0(reason: UInt32) -> Never {
        switch ShutdownReason(rawValue: reason) {
        case .powerOff:
            Log.line { $0.write("Hardware Dom0 halted: halting machine") }
            Platform.powerOff()
        case .reboot:
            Log.line { $0.write("Hardware Dom0 shutdown: rebooting machine") }
            Platform.reset()
        case .crash:
            panic("Hardware Dom0 crashed: rebooting machine in 5 seconds.")
        default:
            Log.line { c in c.write("Hardware Dom0 shutdown (reason "); c.write(decimal: UInt64(reason)); c.write("): halting machine") }
            Platform.powerOff()
        }
    }
}
