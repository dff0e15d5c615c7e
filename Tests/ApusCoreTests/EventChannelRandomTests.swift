// Seeded random sequences of event-channel operations by three domains (dom0 privileged),
// interleaved with what guests do to their own bitmaps, checking after every step the
// invariants the design promises.
import XCTest
@testable import ApusCore

final class EventChannelRandomTests: XCTestCase {
    private struct DomainSnapshot: Equatable {
        var ports: [EventChannelPort]
        var virqSlots: [UInt32]
        var validPorts: Int
        var bits: ArrayEventBitmaps.Snapshot
    }

    private let ids: [UInt16] = [0, 1, 2]

    private func snapshot(_ d: TestEventDirectory) -> [UInt16: DomainSnapshot] {
        var result: [UInt16: DomainSnapshot] = [:]
        for id in ids {
            let table = d[id]
            var slots: [UInt32] = []
            for vcpu in 0..<table.vcpuCount {
                for virq in 0..<VIRQ.count { slots.append(table.virqPort(virq, vcpu: UInt16(vcpu))) }
            }
            result[id] = DomainSnapshot(ports: (0..<table.portCapacity).map { table.port(UInt32($0)) },
                                        virqSlots: slots, validPorts: table.validPorts,
                                        bits: d.bitmaps(of: id).snapshot)
        }
        return result
    }

    private func randomRequest(_ rng: inout SeededGenerator, caller: UInt16, _ d: TestEventDirectory) -> EventChannelRequest {
        // Half the binds aim at a port really offered to the caller, so pairs do form.
        if Int.random(in: 0..<6, using: &rng) == 0 {
            for other in ids.shuffled(using: &rng) {
                let table = d[other]
                for p in 1..<table.validPorts where table.port(UInt32(p)).binding == .unbound(remoteDomain: caller) {
                    return .bindInterdomain(remoteDomain: other, remotePort: UInt32(p))
                }
            }
        }
        func port() -> UInt32 {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0: return UInt32.random(in: 64...UInt32.max, using: &rng)
            case 1: return 0
            default: return UInt32.random(in: 1..<72, using: &rng)
            }
        }
        func domain() -> UInt16 {
            [0, 1, 2, EventChannelLimits.domidSelf, EventChannelLimits.domidSelf, 9][Int.random(in: 0..<6, using: &rng)]
        }
        func vcpu() -> UInt32 { Int.random(in: 0..<10, using: &rng) == 0 ? UInt32.max : UInt32.random(in: 0..<4, using: &rng) }
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return .allocUnbound(domain: domain(), remoteDomain: domain())
        case 1, 2: return .bindInterdomain(remoteDomain: domain(), remotePort: port())
        case 3: return .bindVIRQ(virq: UInt32.random(in: 0..<26, using: &rng), vcpu: vcpu())
        case 4: return .bindIPI(vcpu: vcpu())
        case 5: return .close(port: port())
        case 6, 7: return .send(port: port())
        case 8: return .status(domain: domain(), port: port())
        case 9: return .bindVCPU(port: port(), vcpu: vcpu())
        case 10: return .unmask(port: port())
        default: return Int.random(in: 0..<8, using: &rng) == 0 ? .reset(domain: domain()) : .send(port: port())
        }
    }

    func testRandomOperationsKeepTheInvariants() {
        var outcomes: [String: (succeeded: Int, refused: Int)] = [:]
        for seed in UInt64(1)...30 {
            var rng = SeededGenerator(seed: seed)
            let d = TestEventDirectory()
            // Small tables keep each step's full snapshot cheap; the 4096 limit has its own test.
            d.add(0, privileged: true, vcpus: 2, capacity: 160)
            d.add(1, vcpus: 2, capacity: 96)
            d.add(2, vcpus: 3, capacity: 70)
            for step in 0..<600 {
                let context = "seed \(seed) step \(step)"
                let caller = ids[Int.random(in: 0..<3, using: &rng)]
                // Guests' own writes to their words, now and then.
                if Int.random(in: 0..<4, using: &rng) == 0 {
                    let b = d.bitmaps(of: caller)
                    let p = UInt32.random(in: 0..<96, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: b.setMask(p, true)
                    case 1: b.setMask(p, false)
                    case 2: _ = b.testAndClearPending(p)
                    default: b.acknowledge(vcpu: Int.random(in: 0..<d[caller].vcpuCount, using: &rng))
                    }
                }
                if Int.random(in: 0..<50, using: &rng) == 0 {
                    if d.paused.contains(2) { d.paused.remove(2) } else { d.paused.insert(2) }
                }
                let request = randomRequest(&rng, caller: caller, d)
                let before = snapshot(d)
                let result = d.run(request, as: caller)
                let name = String(describing: request).prefix { $0 != "(" }
                outcomes[String(name), default: (0, 0)].0 += result.reply != nil ? 1 : 0
                outcomes[String(name), default: (0, 0)].1 += result.error != nil ? 1 : 0
                let after = snapshot(d)
                check(request, caller: caller, result: result, before: before, after: after, d, context)
            }
        }
        // The sequences really exercise both sides of every command.
        for name in ["allocUnbound", "bindInterdomain", "bindVIRQ", "bindIPI", "close", "send", "status",
                     "bindVCPU", "unmask", "reset"] {
            XCTAssertGreaterThan(outcomes[name]?.succeeded ?? 0, 20, "\(name) \(outcomes[name] ?? (0, 0))")
            XCTAssertGreaterThan(outcomes[name]?.refused ?? 0, 20, "\(name) \(outcomes[name] ?? (0, 0))")
        }
    }

    private func check(_ request: EventChannelRequest, caller: UInt16, result: Result<EventChannelReply, EventChannelError>,
                       before: [UInt16: DomainSnapshot], after: [UInt16: DomainSnapshot],
                       _ d: TestEventDirectory, _ context: String) {
        // Structure of every table.
        for id in ids {
            let s = after[id]!, table = d[id]
            XCTAssertEqual(s.ports[0].binding, .reserved, context)
            XCTAssertGreaterThanOrEqual(s.validPorts, before[id]!.validPorts, context)
            XCTAssertTrue(s.validPorts % 64 == 0 || s.validPorts == table.portCapacity, context)
            for p in s.validPorts..<table.portCapacity { XCTAssertEqual(s.ports[p], .free, context) }
            for (p, entry) in s.ports.enumerated() {
                XCTAssertLessThan(Int(entry.notifyVCPU), table.vcpuCount, context)
                if entry.binding == .free { XCTAssertEqual(entry.notifyVCPU, 0, context) }
                // Interdomain pairs are symmetric.
                if case .interdomain(let rd, let rp) = entry.binding {
                    XCTAssertEqual(d[rd].port(rp).binding, .interdomain(remoteDomain: id, remotePort: UInt32(p)), context)
                }
                // Every VIRQ port sits in exactly the slot it belongs to.
                if case .virq(let virq) = entry.binding {
                    let slotVCPU = VIRQ.isGlobal(virq) ? 0 : entry.notifyVCPU
                    XCTAssertEqual(table.virqPort(virq, vcpu: slotVCPU), UInt32(p), context)
                    if !VIRQ.isGlobal(virq) { XCTAssertEqual(entry.notifyVCPU, slotVCPU, context) }
                }
            }
            for (index, port) in s.virqSlots.enumerated() where port != 0 {
                let virq = UInt32(index % Int(VIRQ.count)), vcpu = index / Int(VIRQ.count)
                XCTAssertEqual(s.ports[Int(port)].binding, .virq(virq), context)
                if VIRQ.isGlobal(virq) { XCTAssertEqual(vcpu, 0, context) }
            }
            // No selector bit or upcall appears without a pending, unmasked port behind it.
            let b = s.bits, old = before[id]!.bits
            for v in 0..<table.vcpuCount {
                let newSelector = b.selector[v] & ~old.selector[v]
                for word in 0..<64 where newSelector & (1 << UInt64(word)) != 0 {
                    let justified = (word * 64..<min(word * 64 + 64, table.portCapacity)).contains { p in
                        b.pending[word] & (1 << UInt64(p % 64)) != 0 && b.mask[word] & (1 << UInt64(p % 64)) == 0
                            && s.ports[p].notifyVCPU == UInt16(v)
                    }
                    XCTAssertTrue(justified, "\(context): selector word \(word) of d\(id)v\(v)")
                }
                if b.upcallPending[v] > old.upcallPending[v] {
                    XCTAssertNotEqual(newSelector, 0, context)
                    XCTAssertEqual(result.reply?.kick, EventKick(domain: id, vcpu: UInt16(v)), context)
                }
            }
        }
        // A kick is reported only for an upcall that just became pending.
        if let kick = result.reply?.kick {
            XCTAssertEqual(before[kick.domain]!.bits.upcallPending[Int(kick.vcpu)], 0, context)
            XCTAssertEqual(after[kick.domain]!.bits.upcallPending[Int(kick.vcpu)], 1, context)
        }

        switch result {
        case .failure:
            // A refusal changes nothing but, as in Xen, may have made a bucket valid.
            for id in ids {
                var expected = before[id]!
                expected.validPorts = after[id]!.validPorts
                XCTAssertEqual(after[id]!, expected, "\(context): \(request) refused but changed d\(id)")
            }
        case .success:
            if case .close(let port) = request {
                XCTAssertEqual(after[caller]!.ports[Int(port)], .free, context)
                XCTAssertFalse(after[caller]!.bits.pending[Int(port / 64)] & (1 << UInt64(port % 64)) != 0, context)
            }
            if case .reset(let target) = request {
                let id = target == EventChannelLimits.domidSelf ? caller : target
                XCTAssertEqual(d[id].activePorts, 0, context)
            }
        }

        // An unprivileged caller reaches other domains only through pairs it is part of.
        guard !d[caller].isPrivileged else { return }
        for other in ids where other != caller {
            let old = before[other]!, new = after[other]!
            var pairedPorts: Set<Int> = []
            for p in 0..<old.ports.count where old.ports[p] != new.ports[p] {
                switch old.ports[p].binding {
                case .unbound(let rd) where rd == caller: break
                case .interdomain(let rd, _) where rd == caller: break
                default: XCTFail("\(context): \(request) by d\(caller) changed d\(other) port \(p)")
                }
            }
            for p in 0..<new.ports.count {
                if case .interdomain(let rd, _) = new.ports[p].binding, rd == caller { pairedPorts.insert(p) }
                if case .interdomain(let rd, _) = old.ports[p].binding, rd == caller { pairedPorts.insert(p) }
            }
            for word in 0..<64 {
                let changed = old.bits.pending[word] ^ new.bits.pending[word]
                for bit in 0..<64 where changed & (1 << UInt64(bit)) != 0 {
                    XCTAssertTrue(pairedPorts.contains(word * 64 + bit),
                                  "\(context): \(request) by d\(caller) marked d\(other) port \(word * 64 + bit)")
                }
            }
            XCTAssertEqual(old.bits.mask, new.bits.mask, context)
            XCTAssertEqual(old.validPorts, new.validPorts, context)
        }
    }
}
