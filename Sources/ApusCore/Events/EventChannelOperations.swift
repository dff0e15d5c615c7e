// Performing decoded event_channel_op requests on the port tables, with Xen 4.17's
// checks in Xen's order (which check wins when several fail is part of the ABI).
//
// The directory gives the operations every domain's table and shared_info bitmaps; the
// caller is the domain making the hypercall. Ownership: a domain names its own ports only
// (close, send, unmask, bind_vcpu, bind_ipi, bind_virq take no domain); another domain's
// ports are reached only through an interdomain pair it set up (send marks the peer's
// port), a bind to an unbound port that names the caller, or, for the privileged
// domain, alloc_unbound, status and reset naming it. Imports nothing.

public protocol EventChannelDirectory {
    associatedtype Bitmaps: EventBitmaps
    /// The table of domain `domain`, nil when no such domain exists.
    func table(of domain: UInt16) -> EventChannelTable?
    /// Domain `domain`'s shared_info view (only asked for domains `table` knows).
    func bitmaps(of domain: UInt16) -> Bitmaps
    /// Whether the tools have paused `domain` (reset of another domain needs it).
    func isPausedByController(_ domain: UInt16) -> Bool
    /// The domain global VIRQ `virq` is raised in.
    func globalVIRQHandler(_ virq: UInt32) -> UInt16
}

extension EventChannelDirectory {
    public func isPausedByController(_ domain: UInt16) -> Bool { false }
    public func globalVIRQHandler(_ virq: UInt32) -> UInt16 { 0 }
}

public enum EventChannelOperations {
    /// The whole command over the structure the guest passed, copied into `bytes`:
    /// decode, perform, write the OUT fields. -ENOSYS for a command Apus does not have.
    public static func handle<D: EventChannelDirectory>(command: UInt32, bytes: UnsafeMutableRawBufferPointer,
                                                        caller: UInt16, directory: D) throws(EventChannelError) -> EventChannelReply {
        guard let request = EventChannelRequest.decode(command: command, bytes: UnsafeRawBufferPointer(bytes)) else {
            throw .notImplemented
        }
        let reply = try perform(request, caller: caller, directory: directory)
        reply.encode(command: command, into: bytes)
        return reply
    }

    public static func perform<D: EventChannelDirectory>(_ request: EventChannelRequest, caller: UInt16,
                                                         directory: D) throws(EventChannelError) -> EventChannelReply {
        guard let own = directory.table(of: caller) else { throw .noSuchDomain }
        switch request {
        case .allocUnbound(let domain, let remoteDomain):
            let target = try lookUp(domain, caller: caller, directory: directory)
            guard let port = target.allocateFreePort() else { throw .noFreePort }
            try checkTarget(target, own: own)
            let remote = remoteDomain == EventChannelLimits.domidSelf ? caller : remoteDomain
            target.setPort(port, EventChannelPort(binding: .unbound(remoteDomain: remote), notifyVCPU: 0))
            return EventChannelReply(port: port)

        case .bindInterdomain(let remoteDomain, let remotePort):
            let remote = try lookUp(remoteDomain, caller: caller, directory: directory)
            guard let localPort = own.allocateFreePort() else { throw .noFreePort }
            guard remote.isValid(remotePort),
                  remote.port(remotePort).binding == .unbound(remoteDomain: caller) else { throw .invalid }
            let remoteEntry = remote.port(remotePort)
            own.setPort(localPort, EventChannelPort(
                binding: .interdomain(remoteDomain: remote.domain, remotePort: remotePort), notifyVCPU: 0))
            remote.setPort(remotePort, EventChannelPort(
                binding: .interdomain(remoteDomain: caller, remotePort: localPort), notifyVCPU: remoteEntry.notifyVCPU))
            let kick = EventDelivery.setPending(localPort, vcpu: 0, domain: caller,
                                                bitmaps: directory.bitmaps(of: caller))
            return EventChannelReply(port: localPort, kick: kick)

        case .bindVIRQ(let virq, let vcpu):
            // Xen reads both as signed ints: values of 2^31 and up are negative, hence invalid.
            guard virq < VIRQ.count else { throw .invalid }
            if VIRQ.isGlobal(virq) && vcpu != 0 { throw .invalid }
            guard own.hasVCPU(vcpu) else { throw .noSuchVCPU }
            let notify = UInt16(vcpu)
            if own.virqPort(virq, vcpu: notify) != 0 { throw .alreadyBound }
            guard let port = own.allocateFreePort() else { throw .noFreePort }
            own.setPort(port, EventChannelPort(binding: .virq(virq), notifyVCPU: notify))
            own.setVIRQPort(virq, vcpu: notify, to: port)
            return EventChannelReply(port: port)

        case .bindPIRQ:
            // Apus routes no physical IRQ to guests yet: no PIRQ is the caller's to bind.
            throw .invalid

        case .bindIPI(let vcpu):
            guard own.hasVCPU(vcpu) else { throw .noSuchVCPU }
            guard let port = own.allocateFreePort() else { throw .noFreePort }
            own.setPort(port, EventChannelPort(binding: .ipi, notifyVCPU: UInt16(vcpu)))
            return EventChannelReply(port: port)

        case .close(let port):
            try close(port, in: own, directory: directory)
            return EventChannelReply()

        case .send(let port):
            guard own.isValid(port) else { throw .invalid }
            let entry = own.port(port)
            switch entry.binding {
            case .interdomain(let remoteDomain, let remotePort):
                guard let remote = directory.table(of: remoteDomain) else { return EventChannelReply() }
                let kick = EventDelivery.setPending(remotePort, vcpu: remote.port(remotePort).notifyVCPU,
                                                    domain: remoteDomain, bitmaps: directory.bitmaps(of: remoteDomain))
                return EventChannelReply(kick: kick)
            case .ipi:
                let kick = EventDelivery.setPending(port, vcpu: entry.notifyVCPU, domain: caller,
                                                    bitmaps: directory.bitmaps(of: caller))
                return EventChannelReply(kick: kick)
            case .unbound:
                return EventChannelReply()          // nobody listens yet: dropped, not refused
            default:
                throw .invalid
            }

        case .status(let domain, let port):
            let target = try lookUp(domain, caller: caller, directory: directory)
            guard target.isValid(port) else { throw .invalid }
            try checkTarget(target, own: own)
            let entry = target.port(port)
            return EventChannelReply(status: EventChannelStatus(binding: entry.binding, vcpu: UInt32(entry.notifyVCPU)))

        case .bindVCPU(let port, let vcpu):
            guard own.hasVCPU(vcpu) else { throw .noSuchVCPU }
            guard own.isValid(port) else { throw .invalid }
            var entry = own.port(port)
            switch entry.binding {
            case .virq(let virq) where VIRQ.isGlobal(virq): break
            case .unbound, .interdomain, .pirq: break
            default: throw .invalid
            }
            entry.notifyVCPU = UInt16(vcpu)
            own.setPort(port, entry)
            return EventChannelReply()

        case .unmask(let port):
            guard own.isValid(port) else { throw .invalid }
            let entry = own.port(port)
            guard entry.binding.isUsable else { return EventChannelReply() }
            let kick = EventDelivery.unmask(port, vcpu: entry.notifyVCPU, domain: caller,
                                            bitmaps: directory.bitmaps(of: caller))
            return EventChannelReply(kick: kick)

        case .reset(let domain):
            let target = try lookUp(domain, caller: caller, directory: directory)
            try checkTarget(target, own: own)
            if target.domain != caller && !directory.isPausedByController(target.domain) { throw .invalid }
            var port: UInt32 = 1
            while target.isValid(port) {
                try? close(port, in: target, directory: directory)
                port += 1
            }
            return EventChannelReply()
        }
    }

    /// Raises VIRQ `virq` (per-vCPU) on `vcpu` of `domain`, if the guest bound it there.
    public static func sendVCPUVIRQ<D: EventChannelDirectory>(_ virq: UInt32, vcpu: UInt16, domain: UInt16,
                                                              directory: D) -> EventKick? {
        guard let table = directory.table(of: domain) else { return nil }
        let port = table.virqPort(virq, vcpu: vcpu)
        guard port != 0 else { return nil }
        return EventDelivery.setPending(port, vcpu: vcpu, domain: domain, bitmaps: directory.bitmaps(of: domain))
    }

    /// Raises global VIRQ `virq` in the domain that handles it, on the vCPU its port notifies.
    public static func sendGlobalVIRQ<D: EventChannelDirectory>(_ virq: UInt32, directory: D) -> EventKick? {
        let domain = directory.globalVIRQHandler(virq)
        guard let table = directory.table(of: domain) else { return nil }
        let port = table.virqPort(virq, vcpu: 0)
        guard port != 0 else { return nil }
        return EventDelivery.setPending(port, vcpu: table.port(port).notifyVCPU, domain: domain,
                                        bitmaps: directory.bitmaps(of: domain))
    }

    /// Closes every port of `domain`, as when it is destroyed (peers see their ends unbound).
    public static func closeAll<D: EventChannelDirectory>(domain: UInt16, directory: D) {
        guard let table = directory.table(of: domain) else { return }
        var port: UInt32 = 1
        while table.isValid(port) {
            try? close(port, in: table, directory: directory)
            port += 1
        }
    }

    private static func lookUp<D: EventChannelDirectory>(_ domain: UInt16, caller: UInt16,
                                                         directory: D) throws(EventChannelError) -> EventChannelTable {
        let id = domain == EventChannelLimits.domidSelf ? caller : domain
        guard let table = directory.table(of: id) else { throw .noSuchDomain }
        return table
    }

    /// Xen's default policy for naming a domain: itself, or any domain when privileged.
    private static func checkTarget(_ target: EventChannelTable, own: EventChannelTable) throws(EventChannelError) {
        if target.domain != own.domain && !own.isPrivileged { throw .notPermitted }
    }

    private static func close<D: EventChannelDirectory>(_ port: UInt32, in table: EventChannelTable,
                                                        directory: D) throws(EventChannelError) {
        guard table.isValid(port) else { throw .invalid }
        let entry = table.port(port)
        switch entry.binding {
        case .free, .reserved:
            throw .invalid
        case .virq(let virq):
            for vcpu in 0..<table.vcpuCount where table.virqPort(virq, vcpu: UInt16(vcpu)) == port {
                table.setVIRQPort(virq, vcpu: UInt16(vcpu), to: 0)
            }
        case .interdomain(let remoteDomain, let remotePort):
            // The peer keeps its vCPU and any pending event; it waits for us to bind again.
            if let remote = directory.table(of: remoteDomain) {
                var peer = remote.port(remotePort)
                peer.binding = .unbound(remoteDomain: table.domain)
                remote.setPort(remotePort, peer)
            }
        case .unbound, .pirq, .ipi:
            break
        }
        EventDelivery.clearPending(port, bitmaps: directory.bitmaps(of: table.domain))
        table.setPort(port, .free)
    }
}
