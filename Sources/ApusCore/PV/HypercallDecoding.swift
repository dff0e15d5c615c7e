// Decoding hypercall arguments into typed requests, before anything is done with them.
//
// Each decoder takes the raw values a guest passed (registers, or fields it copied in)
// and returns either a request Apus can act on or the reason it cannot, mapped to Xen's
// errno by the caller. Nothing here touches memory or state: the hypervisor reads guest
// memory, decodes, then performs (the seL4 pattern in the design notes). Imports nothing.

/// CONSOLEIO_* (console_io.h).
public enum ConsoleIORequest: Equatable {
    case write(count: Int)
    case read(count: Int)
    /// A negative count: -EINVAL.
    case invalidCount
    /// An unknown command: -ENOSYS.
    case unknown

    public static func decode(command: UInt64, count: UInt64) -> ConsoleIORequest {
        let signedCount = Int64(Int32(truncatingIfNeeded: count))
        switch UInt32(truncatingIfNeeded: command) {
        case 0: return signedCount < 0 ? .invalidCount : .write(count: Int(signedCount))
        case 1: return signedCount < 0 ? .invalidCount : .read(count: Int(signedCount))
        default: return .unknown
        }
    }
}

/// SHUTDOWN_* (sched_op.h).
public enum ShutdownReason: UInt32, Equatable {
    case powerOff = 0, reboot = 1, suspend = 2, crash = 3, watchdog = 4, softReset = 5
}

/// SCHEDOP_* (sched_op.h); the argument is a guest pointer for most commands.
public enum SchedRequest: Equatable {
    case yield
    case block
    case shutdown(argument: UInt64)
    case poll(argument: UInt64)
    case remoteShutdown(argument: UInt64)
    case shutdownCode(argument: UInt64)
    case watchdog(argument: UInt64)
    case unknown

    public static func decode(command: UInt64, argument: UInt64) -> SchedRequest {
        switch UInt32(truncatingIfNeeded: command) {
        case 0: return .yield
        case 1: return .block
        case 2: return .shutdown(argument: argument)
        case 3: return .poll(argument: argument)
        case 4: return .remoteShutdown(argument: argument)
        case 5: return .shutdownCode(argument: argument)
        case 6: return .watchdog(argument: argument)
        default: return .unknown
        }
    }
}

/// update_va_mapping's flags: which flush, and on which vCPUs.
public struct UpdateVAFlags: Equatable {
    public enum Flush: Equatable { case none, wholeTLB, onePage }
    public enum Scope: Equatable { case local, allVCPUs, vcpuMask(pointer: UInt64) }

    public var flush: Flush
    public var scope: Scope

    /// UVMF_FLUSHTYPE_MASK is bits 0-1 (3 names no flush: Xen 4.17 takes it and flushes
    /// nothing); UVMF_ALL is bit 2; otherwise the bits above 2 are a pointer to a vCPU
    /// bitmap (0: this vCPU only).
    public static func decode(_ flags: UInt64) -> UpdateVAFlags? {
        let flush: Flush
        switch flags & 3 {
        case 1: flush = .wholeTLB
        case 2: flush = .onePage
        default: flush = .none
        }
        if flags & 4 != 0 { return UpdateVAFlags(flush: flush, scope: .allVCPUs) }
        let pointer = flags & ~7
        return UpdateVAFlags(flush: flush, scope: pointer == 0 ? .local : .vcpuMask(pointer: pointer))
    }
}

/// One mmuext_op record (mmu.h).
public enum MMUExtRequest: Equatable {
    case pin(level: Int, frame: UInt64)
    case unpin(frame: UInt64)
    case newBasePointer(frame: UInt64)
    case newUserBasePointer(frame: UInt64)
    case flushTLB
    case invalidatePage(address: UInt64)
    case setLDT(base: UInt64, entries: UInt64)
    case clearPage(frame: UInt64)
    case copyPage(destination: UInt64, source: UInt64)
    case flushCache
    /// MMUEXT_MARK_SUPER/UNMARK_SUPER: gone from Xen 4.17 (-EOPNOTSUPP).
    case superpage
    /// Fields out of range for the command: -EINVAL.
    case invalid
    /// A command Apus does not know or offer: -ENOSYS.
    case unknown

    public static let maximumLDTEntries: UInt64 = 8192

    public static func decode(command: UInt32, argument1: UInt64, argument2: UInt64) -> MMUExtRequest {
        switch command {
        case 0...3: return .pin(level: Int(command) + 1, frame: argument1)
        case 4: return .unpin(frame: argument1)
        case 5: return .newBasePointer(frame: argument1)
        case 6, 8, 10: return .flushTLB                  // local, multi (vCPU mask), all
        case 7, 9, 11: return .invalidatePage(address: argument1)
        case 13:
            let entries = argument2 & 0xFFFF_FFFF
            guard argument1 & 0xFFF == 0, entries <= maximumLDTEntries else { return .invalid }
            return .setLDT(base: argument1, entries: entries)
        case 12, 18: return .flushCache
        case 15: return .newUserBasePointer(frame: argument1)
        case 16: return .clearPage(frame: argument1)
        case 17: return .copyPage(destination: argument1, source: argument2)
        case 19, 20: return .superpage
        default: return .unknown
        }
    }
}
