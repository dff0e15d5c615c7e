// Target "evtchn-ops": event_channel_op over real EventChannelTables (Events/), driven by
// random command sequences from several domains, with every table's invariants checked
// after every step.
//
// Input: the domains first (2-4 of them: id, privilege, vCPUs, port capacity), then steps:
// decoded requests (ports and domains biased towards ones that exist), raw structures
// through `handle`, what guests do to their own shared_info words, pausing domains, VIRQs
// raised by the hypervisor, and domain destruction.
// Invariants (the table's header comment and the ABI): port 0 reserved; valid ports only
// grow, by buckets of 64, and nothing beyond them is bound; every notify vCPU exists;
// interdomain pairs are symmetric and never name a domain that is gone; the VIRQ slots and
// VIRQ ports agree, global VIRQs on vCPU 0 only; no pending bit on a free port; no selector
// bit or upcall appears without a pending unmasked port behind it, and a kick is reported
// exactly when an upcall became pending; a refused operation changes nothing (but, as in
// Xen, may have made a bucket valid); a successful one did what it said; an unprivileged
// caller reaches other domains only through the pairs it is part of.

final class FuzzEventBitmaps: EventBitmaps {
    var pending = [UInt64](repeating: 0, count: 64)
    var mask = [UInt64](repeating: 0, count: 64)
    var selector: [UInt64]
    var upcallPending: [UInt8]
    var upcallMask: [UInt8]

    init(vcpuCount: Int) {
        selector = [UInt64](repeating: 0, count: vcpuCount)
        upcallPending = [UInt8](repeating: 0, count: vcpuCount)
        upcallMask = [UInt8](repeating: 0, count: vcpuCount)
    }

    private func split(_ port: UInt32) -> (Int, UInt64) {
        invariant(port < 4096, "shared_info asked about port \(port), beyond the 2-level ABI")
        return (Int(port / 64), UInt64(1) << UInt64(port % 64))
    }
    private func checkVCPU(_ vcpu: UInt16) -> Int {
        invariant(Int(vcpu) < selector.count, "shared_info asked about vCPU \(vcpu) of \(selector.count)")
        return Int(vcpu)
    }

    func testAndSetPending(_ port: UInt32) -> Bool {
        let (w, b) = split(port); let old = pending[w] & b != 0; pending[w] |= b; return old
    }
    func testAndClearPending(_ port: UInt32) -> Bool {
        let (w, b) = split(port); let old = pending[w] & b != 0; pending[w] &= ~b; return old
    }
    func isPending(_ port: UInt32) -> Bool { let (w, b) = split(port); return pending[w] & b != 0 }
    func isMasked(_ port: UInt32) -> Bool { let (w, b) = split(port); return mask[w] & b != 0 }
    func testAndClearMask(_ port: UInt32) -> Bool {
        let (w, b) = split(port); let old = mask[w] & b != 0; mask[w] &= ~b; return old
    }
    func testAndSetSelector(vcpu: UInt16, word: Int) -> Bool {
        let v = checkVCPU(vcpu)
        invariant(word >= 0 && word < 64, "selector word \(word)")
        let bit = UInt64(1) << UInt64(word); let old = selector[v] & bit != 0; selector[v] |= bit; return old
    }
    func testAndSetUpcallPending(vcpu: UInt16) -> Bool {
        let v = checkVCPU(vcpu); let old = upcallPending[v] != 0; upcallPending[v] = 1; return old
    }
    func isUpcallPending(vcpu: UInt16) -> Bool { upcallPending[checkVCPU(vcpu)] != 0 }
    func isUpcallMasked(vcpu: UInt16) -> Bool { upcallMask[checkVCPU(vcpu)] != 0 }

    struct Snapshot: Equatable {
        var pending: [UInt64], mask: [UInt64], selector: [UInt64], upcallPending: [UInt8], upcallMask: [UInt8]
    }
    var snapshot: Snapshot { Snapshot(pending: pending, mask: mask, selector: selector,
                                      upcallPending: upcallPending, upcallMask: upcallMask) }
}

final class FuzzEventDirectory: EventChannelDirectory {
    struct Domain {
        var id: UInt16
        var storage: UnsafeMutableRawPointer
        var bitmaps: FuzzEventBitmaps
    }
    var domains: [Domain] = []
    var destroyed: [UInt16] = []
    var paused: Set<UInt16> = []
    var globalHandler: UInt16 = 0

    deinit { for domain in domains { domain.storage.deallocate() } }

    func add(id: UInt16, privileged: Bool, vcpus: Int, capacity: Int) {
        let bytes = EventChannelTable.storageBytes(portCapacity: capacity, vcpuCount: vcpus)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: EventChannelTable.storageAlignment)
        _ = EventChannelTable.format(storage, domain: id, isPrivileged: privileged, portCapacity: capacity, vcpuCount: vcpus)
        domains.append(Domain(id: id, storage: storage, bitmaps: FuzzEventBitmaps(vcpuCount: vcpus)))
    }

    func remove(_ id: UInt16) {
        guard let index = domains.firstIndex(where: { $0.id == id }) else { return }
        domains[index].storage.deallocate()
        domains.remove(at: index)
        destroyed.append(id)
    }

    func table(of domain: UInt16) -> EventChannelTable? {
        domains.first { $0.id == domain }.map { EventChannelTable(storage: $0.storage) }
    }
    func bitmaps(of domain: UInt16) -> FuzzEventBitmaps {
        guard let entry = domains.first(where: { $0.id == domain }) else {
            violation("bitmaps asked for domain \(domain), which has no table")
        }
        return entry.bitmaps
    }
    func isPausedByController(_ domain: UInt16) -> Bool { paused.contains(domain) }
    func globalVIRQHandler(_ virq: UInt32) -> UInt16 { globalHandler }

    subscript(id: UInt16) -> EventChannelTable { table(of: id)! }
    var ids: [UInt16] { domains.map(\.id) }
}

enum EventChannelOperationsFuzz {
    struct DomainSnapshot: Equatable {
        var ports: [EventChannelPort]
        var virqSlots: [UInt32]
        var validPorts: Int
        var bits: FuzzEventBitmaps.Snapshot
    }

    static func snapshot(_ d: FuzzEventDirectory) -> [UInt16: DomainSnapshot] {
        var result: [UInt16: DomainSnapshot] = [:]
        for id in d.ids {
            let table = d[id]
            var slots: [UInt32] = []
            for vcpu in 0..<table.vcpuCount {
                for virq in 0..<VIRQ.count { slots.append(table.virqPort(virq, vcpu: UInt16(vcpu))) }
            }
            // Valid ports only: the rest are free (setPort traps beyond them; checkBeyondValid).
            result[id] = DomainSnapshot(ports: (0..<table.validPorts).map { table.port(UInt32($0)) },
                                        virqSlots: slots, validPorts: table.validPorts,
                                        bits: d.bitmaps(of: id).snapshot)
        }
        return result
    }

    enum Step {
        case perform(EventChannelRequest, caller: UInt16)
        case handle(command: UInt32, caller: UInt16)
        case other
    }

    static func run(_ input: inout FuzzInput) {
        let d = FuzzEventDirectory()
        let domainCount = 2 + input.below(3)
        var usedLargeTable = false
        for index in 0..<domainCount {
            var id = input.pick([0, 1, 2, 3, 7, 0x7FEF] as [UInt16])
            while d.ids.contains(id) { id &+= 1 }
            let privileged = index == 0 ? input.byte() < 200 : input.byte() < 16
            let vcpus = input.byte() < 240 ? 1 + input.below(4) : 1 + input.below(16)
            // The 2-level ABI's full 4096 ports now and then (every step looks at every port).
            var capacity = input.pick([1, 2, 63, 64, 65, 96, 128, 130, 200, 4096, 129, 192])
            if capacity == 4096 { if usedLargeTable { capacity = 128 } else { usedLargeTable = true } }
            d.add(id: id, privileged: privileged, vcpus: vcpus, capacity: capacity)
        }
        var before = snapshot(d)
        checkStructure(d, before: before, after: before)
        var steps = 0
        while !input.isExhausted && steps < 160 {
            steps += 1
            let step = oneStep(d, &input, before: before)
            let after = snapshot(d)
            checkStructure(d, before: before, after: after)
            switch step.kind {
            case .perform(let request, let caller):
                checkOutcome(request, caller: caller, result: step.result, d, before: before, after: after)
            case .handle(let command, let caller):
                if let request = step.decoded {
                    checkOutcome(request, caller: caller, result: step.result, d, before: before, after: after)
                } else {
                    invariant(step.result.error == .notImplemented, "undecodable command \(command) gave \(step.result)")
                    invariant(after == before, "undecodable command \(command) by d\(caller) changed the tables")
                }
            case .other:
                if let kick = step.kick { checkKick(kick, before: before, after: after) }
            }
            before = after
        }
        checkBeyondValid(d)
        // Destroying every domain leaves nothing bound anywhere.
        for id in d.ids {
            EventChannelOperations.closeAll(domain: id, directory: d)
            invariant(d[id].activePorts == 0, "closeAll left d\(id) with \(d[id].activePorts) ports")
        }
    }

    struct StepResult {
        var kind: Step
        var result: Result<EventChannelReply, EventChannelError> = .failure(.notImplemented)
        var decoded: EventChannelRequest? = nil
        var kick: EventKick? = nil
    }

    static func oneStep(_ d: FuzzEventDirectory, _ input: inout FuzzInput,
                        before: [UInt16: DomainSnapshot]) -> StepResult {
        let ids = d.ids
        let caller = input.byte() < 250 ? input.pick(ids) : input.pick([UInt16(9), 0x7FF0])
        switch input.byte() % 16 {
        case 0...8:
            let request = randomRequest(&input, caller: caller, d)
            return StepResult(kind: .perform(request, caller: caller), result: perform(request, caller, d))
        case 9:
            let command = input.byte() < 240 ? UInt32(input.byte() % 16) : input.u32()
            let size = EventChannelRequest.argumentSize(command: command) ?? 0
            let structure = ExactBuffer(count: size)
            let given = input.take(size)
            if given.count > 0 { structure.pointer.copyMemory(from: given.baseAddress!, byteCount: given.count) }
            let original = structure.array
            let decoded = EventChannelRequest.decode(command: command, bytes: structure.raw)
            var result: Result<EventChannelReply, EventChannelError>
            do {
                result = .success(try EventChannelOperations.handle(command: command, bytes: structure.mutableRaw,
                                                                    caller: caller, directory: d))
            } catch {
                result = .failure(error)
            }
            // Only OUT fields change, and only after success.
            let after = structure.array
            if let layout = EventChannelRequestFuzz.layout(command) {
                for index in 0..<size where after[index] != original[index] {
                    invariant(result.reply != nil, "a refused command \(command) wrote its structure")
                    invariant(layout.outFields.contains { index >= $0.offset && index < $0.offset + $0.size },
                              "command \(command) wrote byte \(index), not an OUT field")
                }
            }
            return StepResult(kind: .handle(command: command, caller: caller), result: result, decoded: decoded)
        case 10:
            guard let id = ids.first(where: { $0 == caller }) else { return StepResult(kind: .other) }
            let b = d.bitmaps(of: id)
            let port = UInt32(input.below(4096))
            let word = Int(port / 64), bit = UInt64(1) << UInt64(port % 64)
            switch input.byte() % 5 {
            case 0: b.mask[word] |= bit
            case 1: b.mask[word] &= ~bit
            case 2: b.pending[word] &= ~bit
            case 3:
                let v = input.below(b.selector.count)
                b.upcallPending[v] = 0; b.selector[v] = 0
            default:
                let v = input.below(b.selector.count)
                b.upcallMask[v] ^= 1
            }
            return StepResult(kind: .other)
        case 11:
            let id = input.pick(ids)
            if input.bool() {
                if d.paused.contains(id) { d.paused.remove(id) } else { d.paused.insert(id) }
            } else {
                d.globalHandler = input.bool() ? id : input.u16()
            }
            return StepResult(kind: .other)
        case 12:
            if input.bool() {
                // Per-vCPU VIRQs only (or numbers that are none): the hypervisor raises global
                // ones with sendGlobalVIRQ.
                let virq = input.byte() < 240 ? input.pick([VIRQ.timer, VIRQ.debug, VIRQ.xenoprof, VIRQ.xenPMU])
                                              : VIRQ.count + input.u32() % 1000
                let vcpu = input.bool() ? UInt16(input.below(4)) : input.u16()
                let domain = input.byte() < 240 ? input.pick(ids) : input.u16()
                let kick = EventChannelOperations.sendVCPUVIRQ(virq, vcpu: vcpu, domain: domain, directory: d)
                if let table = d.table(of: domain), table.virqPort(virq, vcpu: vcpu) == 0 {
                    invariant(kick == nil, "an unbound VIRQ \(virq) kicked")
                }
                return StepResult(kind: .other, kick: kick)
            }
            let virq = input.bool() ? UInt32(input.below(24)) : input.u32()
            return StepResult(kind: .other, kick: EventChannelOperations.sendGlobalVIRQ(virq, directory: d))
        case 13:
            // Domain destruction: its ports close, its peers see their ends unbound.
            guard ids.count > 1, input.byte() < 64 else { return StepResult(kind: .other) }
            let id = input.pick(ids)
            EventChannelOperations.closeAll(domain: id, directory: d)
            invariant(d[id].activePorts == 0, "closeAll left \(d[id].activePorts) ports of d\(id)")
            d.remove(id)
            return StepResult(kind: .other)
        default:
            // A bind to a port really offered to the caller, so that pairs do form.
            for other in ids {
                let table = d[other]
                for p in 1..<max(1, table.validPorts) where table.port(UInt32(p)).binding == .unbound(remoteDomain: caller) {
                    if input.bool() {
                        let request = EventChannelRequest.bindInterdomain(remoteDomain: other, remotePort: UInt32(p))
                        return StepResult(kind: .perform(request, caller: caller), result: perform(request, caller, d))
                    }
                }
            }
            let request = EventChannelRequest.allocUnbound(domain: EventChannelLimits.domidSelf,
                                                           remoteDomain: input.pick(ids))
            return StepResult(kind: .perform(request, caller: caller), result: perform(request, caller, d))
        }
    }

    static func perform(_ request: EventChannelRequest, _ caller: UInt16,
                        _ d: FuzzEventDirectory) -> Result<EventChannelReply, EventChannelError> {
        do {
            return .success(try EventChannelOperations.perform(request, caller: caller, directory: d))
        } catch {
            return .failure(error)
        }
    }

    static func randomRequest(_ input: inout FuzzInput, caller: UInt16, _ d: FuzzEventDirectory) -> EventChannelRequest {
        func port() -> UInt32 {
            switch input.byte() % 16 {
            case 0: return input.u32()
            case 1: return 0
            case 2: return UInt32(60 + input.below(10))
            case 3: return UInt32(4090 + input.below(8))
            default: return UInt32(1 + input.below(8))
            }
        }
        func domain() -> UInt16 {
            switch input.byte() % 8 {
            case 0, 1, 2: return EventChannelLimits.domidSelf
            case 3: return input.u16()
            case 4: return d.destroyed.isEmpty ? 9 : input.pick(d.destroyed)
            default: return input.pick(d.ids)
            }
        }
        func vcpu() -> UInt32 {
            switch input.byte() % 10 {
            case 0: return input.u32()
            case 1: return UInt32.max
            default: return UInt32(input.below(5))
            }
        }
        switch input.byte() % 12 {
        case 0: return .allocUnbound(domain: domain(), remoteDomain: domain())
        case 1: return .bindInterdomain(remoteDomain: domain(), remotePort: port())
        case 2: return .bindVIRQ(virq: input.byte() < 240 ? UInt32(input.below(26)) : input.u32(), vcpu: vcpu())
        case 3: return .bindIPI(vcpu: vcpu())
        case 4: return .close(port: port())
        case 5, 6: return .send(port: port())
        case 7: return .status(domain: domain(), port: port())
        case 8: return .bindVCPU(port: port(), vcpu: vcpu())
        case 9: return .unmask(port: port())
        case 10: return .reset(domain: domain())
        default: return .bindPIRQ(pirq: input.u32(), flags: input.u32())
        }
    }

    static func port(_ snapshot: DomainSnapshot?, _ port: UInt32) -> EventChannelPort? {
        guard let snapshot, UInt64(port) < UInt64(snapshot.ports.count) else { return nil }
        return snapshot.ports[Int(port)]
    }

    /// What every table must satisfy after any step.
    static func checkStructure(_ d: FuzzEventDirectory, before: [UInt16: DomainSnapshot],
                               after: [UInt16: DomainSnapshot]) {
        for id in d.ids {
            let s = after[id]!, table = d[id]
            invariant(table.domain == id, "table of d\(id) says d\(table.domain)")
            invariant(s.ports[0].binding == .reserved, "d\(id) port 0 is \(s.ports[0])")
            if let old = before[id] {
                invariant(s.validPorts >= old.validPorts, "d\(id) valid ports shrank \(old.validPorts) -> \(s.validPorts)")
            }
            invariant(s.validPorts <= table.portCapacity, "d\(id) valid ports \(s.validPorts) beyond capacity")
            invariant(s.validPorts % 64 == 0 || s.validPorts == table.portCapacity, "d\(id) valid ports \(s.validPorts)")
            for (p, entry) in s.ports.enumerated() {
                invariant(Int(entry.notifyVCPU) < table.vcpuCount, "d\(id) port \(p) notifies vCPU \(entry.notifyVCPU)")
                if entry.binding == .free { invariant(entry.notifyVCPU == 0, "free d\(id) port \(p) keeps vCPU") }
                if case .interdomain(let rd, let rp) = entry.binding {
                    guard let peer = d.table(of: rd) else {
                        violation("d\(id) port \(p) is paired with d\(rd), which \(d.destroyed.contains(rd) ? "was destroyed" : "does not exist")")
                    }
                    invariant(peer.port(rp).binding == .interdomain(remoteDomain: id, remotePort: UInt32(p)),
                              "d\(id) port \(p) -> d\(rd) port \(rp), which is \(peer.port(rp).binding)")
                }
                if case .virq(let virq) = entry.binding {
                    invariant(virq < VIRQ.count, "d\(id) port \(p) bound to VIRQ \(virq)")
                    let slotVCPU = VIRQ.isGlobal(virq) ? 0 : entry.notifyVCPU
                    invariant(table.virqPort(virq, vcpu: slotVCPU) == UInt32(p),
                              "d\(id) VIRQ \(virq) port \(p) not in its slot (vCPU \(slotVCPU))")
                }
                if case .pirq = entry.binding { violation("d\(id) port \(p) bound to a PIRQ, which Apus never grants") }
                // Nothing but a guest marks ports pending, and closing clears the bit.
                if !entry.binding.isUsable && p < 4096 {
                    invariant(s.bits.pending[p / 64] & (1 << UInt64(p % 64)) == 0,
                              "d\(id) port \(p) is \(entry.binding) but pending")
                }
            }
            for (index, port) in s.virqSlots.enumerated() where port != 0 {
                let virq = UInt32(index % Int(VIRQ.count)), vcpu = index / Int(VIRQ.count)
                invariant(Int(port) < s.ports.count && s.ports[Int(port)].binding == .virq(virq),
                          "d\(id) VIRQ slot (\(vcpu), \(virq)) holds port \(port)")
                if VIRQ.isGlobal(virq) { invariant(vcpu == 0, "d\(id) global VIRQ \(virq) bound on vCPU \(vcpu)") }
                else { invariant(Int(s.ports[Int(port)].notifyVCPU) == vcpu, "d\(id) per-vCPU VIRQ \(virq) moved") }
            }
            // No selector bit or upcall without a pending, unmasked port behind it.
            guard let old = before[id]?.bits else { continue }
            let b = s.bits
            for v in 0..<table.vcpuCount {
                let newSelector = b.selector[v] & ~old.selector[v]
                for word in 0..<64 where newSelector & (1 << UInt64(word)) != 0 {
                    let justified = (word * 64..<min(word * 64 + 64, s.ports.count)).contains { p in
                        b.pending[word] & (1 << UInt64(p % 64)) != 0 && b.mask[word] & (1 << UInt64(p % 64)) == 0
                            && s.ports[p].notifyVCPU == UInt16(v)
                    }
                    invariant(justified, "selector word \(word) of d\(id) vCPU \(v) set without a pending port")
                }
                if b.upcallPending[v] > old.upcallPending[v] {
                    invariant(newSelector != 0, "d\(id) vCPU \(v) upcall without a new selector bit")
                }
            }
        }
    }

    /// Ports at or above `validPorts` stay free and never pending (checked once per input:
    /// only setPort writes ports, and it traps beyond the valid ones).
    static func checkBeyondValid(_ d: FuzzEventDirectory) {
        for id in d.ids {
            let table = d[id], bits = d.bitmaps(of: id)
            for p in table.validPorts..<table.portCapacity {
                invariant(table.port(UInt32(p)) == .free, "d\(id) port \(p) beyond the valid ones is \(table.port(UInt32(p)))")
                invariant(bits.pending[p / 64] & (1 << UInt64(p % 64)) == 0, "d\(id) port \(p) beyond the valid ones is pending")
            }
        }
    }

    static func checkKick(_ kick: EventKick, before: [UInt16: DomainSnapshot], after: [UInt16: DomainSnapshot]) {
        guard let old = before[kick.domain], let new = after[kick.domain] else {
            violation("kick for d\(kick.domain), which has no table")
        }
        invariant(Int(kick.vcpu) < new.bits.upcallPending.count, "kick for d\(kick.domain) vCPU \(kick.vcpu)")
        invariant(old.bits.upcallPending[Int(kick.vcpu)] == 0 && new.bits.upcallPending[Int(kick.vcpu)] == 1,
                  "kick for d\(kick.domain) vCPU \(kick.vcpu) whose upcall did not just become pending")
    }

    static func checkOutcome(_ request: EventChannelRequest, caller: UInt16,
                             result: Result<EventChannelReply, EventChannelError>,
                             _ d: FuzzEventDirectory, before: [UInt16: DomainSnapshot],
                             after: [UInt16: DomainSnapshot]) {
        let context = "\(request) by d\(caller)"
        // Upcalls that rose are reported by the kick, and only they.
        for id in d.ids {
            guard let old = before[id], let new = after[id] else { continue }
            for v in 0..<new.bits.upcallPending.count where new.bits.upcallPending[v] > old.bits.upcallPending[v] {
                invariant(result.reply?.kick == EventKick(domain: id, vcpu: UInt16(v)),
                          "\(context): d\(id) vCPU \(v) upcall rose, kick \(String(describing: result.reply?.kick))")
            }
        }
        if let kick = result.reply?.kick { checkKick(kick, before: before, after: after) }
        let resolve = { (domain: UInt16) -> UInt16 in domain == EventChannelLimits.domidSelf ? caller : domain }

        switch result {
        case .failure(let error):
            for id in d.ids {
                guard var expected = before[id] else { continue }
                // Ports of a bucket the refused call made valid must be free.
                let grown = max(0, after[id]!.validPorts - expected.validPorts)
                expected.ports += [EventChannelPort](repeating: .free, count: grown)
                expected.validPorts = after[id]!.validPorts
                invariant(after[id]! == expected, "\(context) refused (\(error)) but changed d\(id)")
            }
            if before[caller] == nil { invariant(error == .noSuchDomain, "\(context) by a missing domain gave \(error)") }
            return
        case .success(let reply):
            invariant(before[caller] != nil, "\(context) succeeded for a caller without a table")
            let own = d[caller]
            switch request {
            case .allocUnbound(let domain, let remote):
                let target = d[resolve(domain)]
                invariant(reply.port != 0 && target.isValid(reply.port), "\(context) gave port \(reply.port)")
                // A port beyond the valid ones before (the bucket just allocated) was free.
                invariant((port(before[target.domain], reply.port) ?? .free).binding == .free, "\(context) reused a bound port")
                invariant(target.port(reply.port).binding == .unbound(remoteDomain: resolve(remote)),
                          "\(context) left port \(reply.port) as \(target.port(reply.port).binding)")
                invariant(target.domain == caller || own.isPrivileged, "\(context): unprivileged alloc for another domain")
            case .bindInterdomain(let remoteDomain, let remotePort):
                let rd = resolve(remoteDomain)
                invariant(port(before[rd], remotePort)?.binding == .unbound(remoteDomain: caller),
                          "\(context) bound to a port not offered to it")
                invariant(own.port(reply.port).binding == .interdomain(remoteDomain: rd, remotePort: remotePort),
                          "\(context) left local port \(reply.port) as \(own.port(reply.port).binding)")
            case .bindVIRQ(let virq, let vcpu):
                invariant(own.port(reply.port) == EventChannelPort(binding: .virq(virq), notifyVCPU: UInt16(vcpu)),
                          "\(context) left port \(reply.port) as \(own.port(reply.port))")
                invariant(!VIRQ.isGlobal(virq) || vcpu == 0, "\(context): global VIRQ on vCPU \(vcpu)")
            case .bindIPI(let vcpu):
                invariant(own.port(reply.port) == EventChannelPort(binding: .ipi, notifyVCPU: UInt16(vcpu)),
                          "\(context) left port \(reply.port) as \(own.port(reply.port))")
            case .bindPIRQ:
                violation("\(context) succeeded, but no PIRQ is routed to guests")
            case .close(let port):
                invariant(self.port(after[caller], port) == .free, "\(context) left the port bound")
                invariant(port < 4096 && after[caller]!.bits.pending[Int(port / 64)] & (1 << UInt64(port % 64)) == 0,
                          "\(context) left the port pending")
            case .status(let domain, let port):
                let target = resolve(domain)
                invariant(reply.status?.binding == self.port(before[target], port)?.binding,
                          "\(context) reported \(String(describing: reply.status))")
                invariant(target == caller || own.isPrivileged, "\(context): unprivileged status of another domain")
            case .reset(let domain):
                let target = resolve(domain)
                invariant(d[target].activePorts == 0, "\(context) left \(d[target].activePorts) ports")
                invariant(target == caller || (own.isPrivileged && d.paused.contains(target)),
                          "\(context): reset of another domain not paused by a privileged caller")
            case .bindVCPU(let port, let vcpu):
                invariant(own.port(port).notifyVCPU == UInt16(vcpu), "\(context) did not move the port")
            case .send, .unmask:
                break
            }
        }

        // An unprivileged caller reaches other domains only through pairs it is part of.
        guard let callerTable = d.table(of: caller), !callerTable.isPrivileged else { return }
        for other in d.ids where other != caller {
            guard let old = before[other], let new = after[other] else { continue }
            var pairedPorts: Set<Int> = []
            for p in 0..<min(old.ports.count, new.ports.count) where old.ports[p] != new.ports[p] {
                switch old.ports[p].binding {
                case .unbound(let rd) where rd == caller: break
                case .interdomain(let rd, _) where rd == caller: break
                default: violation("\(context) changed d\(other) port \(p): \(old.ports[p]) -> \(new.ports[p])")
                }
            }
            for p in 0..<new.ports.count {
                if case .interdomain(let rd, _) = new.ports[p].binding, rd == caller { pairedPorts.insert(p) }
                if case .interdomain(let rd, _) = old.ports[p].binding, rd == caller { pairedPorts.insert(p) }
            }
            for word in 0..<64 {
                let changed = old.bits.pending[word] ^ new.bits.pending[word]
                for bit in 0..<64 where changed & (1 << UInt64(bit)) != 0 {
                    invariant(pairedPorts.contains(word * 64 + bit),
                              "\(context) marked d\(other) port \(word * 64 + bit), not paired with it")
                }
            }
            invariant(old.bits.mask == new.bits.mask, "\(context) changed d\(other)'s mask")
            invariant(old.validPorts == new.validPorts, "\(context) grew d\(other)'s valid ports")
        }
    }
}

extension Result where Success == EventChannelReply, Failure == EventChannelError {
    var error: EventChannelError? { if case .failure(let e) = self { return e } else { return nil } }
    var reply: EventChannelReply? { if case .success(let r) = self { return r } else { return nil } }
}
