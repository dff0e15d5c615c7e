// Event-channel vocabulary shared by the port table, the operations and delivery: the
// errno each refusal maps to, the port limits of the 2-level ABI, VIRQ numbers and which
// of them are global, and what a port is bound to.
//
// Facts (Xen 4.17's public xen.h, event_channel.h and common/event_channel.c): the
// 2-level ABI addresses 64 words of 64 bits, so 4096 ports on x86-64; port 0 is reserved
// at domain creation; ports become addressable ("valid") in buckets of 64 (a page of
// 64-byte channel records), and a bucket stays valid once allocated. NR_VIRQS is 24;
// VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF and VIRQ_XENPMU are per-vCPU, every other VIRQ
// (the arch ones included, on x86) is global and raised in the domain that handles it,
// dom0 unless the tools say otherwise. Imports nothing.

/// Xen's errno for each way an event-channel operation is refused (the hypercall returns
/// the negated value).
public enum EventChannelError: Error, Equatable {
    /// -EPERM: naming another domain without the privilege to.
    case notPermitted
    /// -ENOENT: no such vCPU in the domain.
    case noSuchVCPU
    /// -ESRCH: no such domain.
    case noSuchDomain
    /// -EINVAL: a port that is not valid, or not in the state the operation needs.
    case invalid
    /// -EEXIST: the VIRQ is already bound on that vCPU.
    case alreadyBound
    /// -ENOSPC: every port of the domain is in use.
    case noFreePort
    /// -ENOSYS: an unknown command, or one of the FIFO ABI, which Apus does not offer.
    case notImplemented

    public var xenErrno: Int32 {
        switch self {
        case .notPermitted: return 1
        case .noSuchVCPU: return 2
        case .noSuchDomain: return 3
        case .invalid: return 22
        case .alreadyBound: return 17
        case .noFreePort: return 28
        case .notImplemented: return 38
        }
    }
}

public enum EventChannelLimits {
    /// Ports the 2-level ABI can name: 64 selector bits x 64 bits per pending word.
    public static let twoLevelPorts = 4096
    public static let bitsPerWord = 64
    /// Ports become valid 64 at a time, as Xen allocates its channel records.
    public static let portsPerBucket = 64
    /// Xen's DOMID_SELF.
    public static let domidSelf: UInt16 = 0x7FF0
}

/// VIRQ_* numbers (Xen's public xen.h).
public enum VIRQ {
    public static let timer: UInt32 = 0
    public static let debug: UInt32 = 1
    public static let console: UInt32 = 2
    public static let domainException: UInt32 = 3
    public static let traceBuffer: UInt32 = 4
    public static let debugger: UInt32 = 6
    public static let xenoprof: UInt32 = 7
    public static let consoleRing: UInt32 = 8
    public static let pcpuState: UInt32 = 9
    public static let memoryEvent: UInt32 = 10
    public static let argo: UInt32 = 11
    public static let outOfMemory: UInt32 = 12
    public static let xenPMU: UInt32 = 13
    /// VIRQ_ARCH_0; on x86 it is VIRQ_MCA.
    public static let arch0: UInt32 = 16
    public static let count: UInt32 = 24

    /// Global VIRQs are bound on vCPU 0 only and raised in the domain that handles them;
    /// the others are bound once per vCPU and raised on that vCPU.
    public static func isGlobal(_ virq: UInt32) -> Bool {
        switch virq {
        case timer, debug, xenoprof, xenPMU: return false
        default: return true
        }
    }
}

/// What a port is bound to (Xen's ECS_* states).
public enum EventChannelBinding: Equatable {
    case free
    /// Port 0: never allocated, reads as closed.
    case reserved
    /// Waiting for `remoteDomain` to bind to it.
    case unbound(remoteDomain: UInt16)
    case interdomain(remoteDomain: UInt16, remotePort: UInt32)
    case pirq(UInt32)
    case virq(UInt32)
    case ipi

    /// Free and reserved ports can be neither raised nor unmasked (Xen's evtchn_usable).
    public var isUsable: Bool {
        switch self {
        case .free, .reserved: return false
        default: return true
        }
    }
}

/// One entry of a domain's port table.
public struct EventChannelPort: Equatable {
    public var binding: EventChannelBinding
    /// The vCPU that gets the upcall when the port becomes pending.
    public var notifyVCPU: UInt16

    public init(binding: EventChannelBinding, notifyVCPU: UInt16) {
        self.binding = binding
        self.notifyVCPU = notifyVCPU
    }

    public static var free: EventChannelPort { EventChannelPort(binding: .free, notifyVCPU: 0) }
}

/// "Run this vCPU's upcall soon": the hypervisor wakes or interrupts it.
public struct EventKick: Equatable {
    public var domain: UInt16
    public var vcpu: UInt16

    public init(domain: UInt16, vcpu: UInt16) {
        self.domain = domain
        self.vcpu = vcpu
    }
}
