// event_channel_op's commands decoded from the bytes the guest passed, and their results
// encoded back, before and after anything is done (decode, perform, write back).
//
// The hypervisor asks `argumentSize(command:)` how many bytes to copy from the guest
// (nil: -ENOSYS before any copy, as Xen answers commands it does not have, the FIFO ABI's
// included), copies them (-EFAULT if it cannot), then `EventChannelOperations.handle`
// decodes, performs and writes the OUT fields into the same bytes; if `writesBack` says
// so it copies them all back (Xen copies the whole structure, so IN fields and unwritten
// parts return unchanged; a failed copy-back is -EFAULT with the operation done). For the old
// event_channel_op_compat the command is the first 4 bytes and the structure follows.
// Field offsets are those of event_channel.h. Imports nothing.

public enum EventChannelRequest: Equatable {
    case bindInterdomain(remoteDomain: UInt16, remotePort: UInt32)
    case bindVIRQ(virq: UInt32, vcpu: UInt32)
    case bindPIRQ(pirq: UInt32, flags: UInt32)
    case close(port: UInt32)
    case send(port: UInt32)
    case status(domain: UInt16, port: UInt32)
    case allocUnbound(domain: UInt16, remoteDomain: UInt16)
    case bindIPI(vcpu: UInt32)
    case bindVCPU(port: UInt32, vcpu: UInt32)
    case unmask(port: UInt32)
    case reset(domain: UInt16)

    /// Bytes of the command's structure, nil for a command Apus does not have.
    public static func argumentSize(command: UInt32) -> Int? {
        switch command {
        case 0, 1, 2: return 12          // bind_interdomain, bind_virq, bind_pirq
        case 3, 4, 9: return 4           // close, send, unmask
        case 5: return 24                // status
        case 6, 7, 8: return 8           // alloc_unbound, bind_ipi, bind_vcpu
        case 10, 14: return 2            // reset, reset_cont
        default: return nil              // 11-13: init_control, expand_array, set_priority (FIFO)
        }
    }

    /// Whether Xen copies the structure back after success: only the commands with OUT
    /// fields do, so a guest may pass read-only memory to close, send, unmask, bind_vcpu
    /// and reset without getting -EFAULT.
    public static func writesBack(command: UInt32) -> Bool {
        switch command {
        case 0, 1, 2, 5, 6, 7: return true
        default: return false
        }
    }

    /// Decodes `bytes` (at least `argumentSize(command:)` of them); nil for an unknown command.
    public static func decode(command: UInt32, bytes: UnsafeRawBufferPointer) -> EventChannelRequest? {
        guard let size = argumentSize(command: command) else { return nil }
        precondition(bytes.count >= size)
        func u16(_ offset: Int) -> UInt16 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
        func u32(_ offset: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        switch command {
        case 0: return .bindInterdomain(remoteDomain: u16(0), remotePort: u32(4))
        case 1: return .bindVIRQ(virq: u32(0), vcpu: u32(4))
        case 2: return .bindPIRQ(pirq: u32(0), flags: u32(4))
        case 3: return .close(port: u32(0))
        case 4: return .send(port: u32(0))
        case 5: return .status(domain: u16(0), port: u32(4))
        case 6: return .allocUnbound(domain: u16(0), remoteDomain: u16(2))
        case 7: return .bindIPI(vcpu: u32(0))
        case 8: return .bindVCPU(port: u32(0), vcpu: u32(4))
        case 9: return .unmask(port: u32(0))
        default: return .reset(domain: u16(0))
        }
    }
}

/// EVTCHNSTAT_* with the binding's details, as evtchn_status reports them.
public struct EventChannelStatus: Equatable {
    public var binding: EventChannelBinding
    public var vcpu: UInt32

    public init(binding: EventChannelBinding, vcpu: UInt32) {
        self.binding = binding
        self.vcpu = vcpu
    }

    public var statusCode: UInt32 {
        switch binding {
        case .free, .reserved: return 0
        case .unbound: return 1
        case .interdomain: return 2
        case .pirq: return 3
        case .virq: return 4
        case .ipi: return 5
        }
    }
}

/// What a successful operation reports back.
public struct EventChannelReply: Equatable {
    /// The port a bind or alloc_unbound gave (0 for other commands).
    public var port: UInt32
    public var status: EventChannelStatus?
    /// A vCPU whose upcall became pending (send, unmask, and bind_interdomain, which marks
    /// its new port pending in case the peer signalled while unbound).
    public var kick: EventKick?

    public init(port: UInt32 = 0, status: EventChannelStatus? = nil, kick: EventKick? = nil) {
        self.port = port
        self.status = status
        self.kick = kick
    }

    /// Writes the OUT fields of `command`'s structure into `bytes` (the guest's structure
    /// as copied in, at least `argumentSize(command:)` long).
    public func encode(command: UInt32, into bytes: UnsafeMutableRawBufferPointer) {
        func put16(_ value: UInt16, _ offset: Int) { bytes.storeBytes(of: value, toByteOffset: offset, as: UInt16.self) }
        func put32(_ value: UInt32, _ offset: Int) { bytes.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
        switch command {
        case 0, 1, 2: put32(port, 8)
        case 6, 7: put32(port, 4)
        case 5:
            guard let status else { return }
            put32(status.statusCode, 8)
            put32(status.vcpu, 12)
            switch status.binding {
            case .unbound(let remoteDomain): put16(remoteDomain, 16)
            case .interdomain(let remoteDomain, let remotePort): put16(remoteDomain, 16); put32(remotePort, 20)
            case .pirq(let pirq): put32(pirq, 16)
            case .virq(let virq): put32(virq, 16)
            case .free, .reserved, .ipi: break
            }
        default: break
        }
    }
}
