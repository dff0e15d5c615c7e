// Consistency checks of the credit scheduler's records, for tests and debug builds:
// queue links and counts, the queued/running/parked/blocked exclusions, each queued
// vCPU in the list of its priority at a CPU of its affinity, and the per-domain
// vCPU and active counts. O(slots); never on a hot path. Imports nothing.

public enum CreditSchedulerInconsistency: Equatable {
    case brokenLink(cpu: Int)
    case queueCount(cpu: Int)
    case queuedButNotRunnable(vcpu: Int)
    case runnableButNowhere(vcpu: Int)
    case wrongList(vcpu: Int)
    case outsideAffinity(vcpu: Int)
    case currentMismatch(cpu: Int)
    case domainCounts(domain: Int)
}

extension CreditScheduler {
    /// nil when every invariant holds, else the first one found broken.
    public func checkInvariants() -> CreditSchedulerInconsistency? {
        var seenQueued = 0
        for cpu in 0..<cpuCount {
            var count = 0
            for cls in 0..<3 {
                var prev = CreditVCPU.noLink
                var link = cpus[cpu].heads[cls]
                while link != CreditVCPU.noLink {
                    let v = Int(link)
                    guard v < vcpus.count, vcpus[v].prev == prev, count <= vcpus.count else { return .brokenLink(cpu: cpu) }
                    guard vcpus[v].queued && Int(vcpus[v].cpu) == cpu else { return .brokenLink(cpu: cpu) }
                    guard vcpus[v].inUse && !vcpus[v].blocked && !vcpus[v].parked && !vcpus[v].running else {
                        return .queuedButNotRunnable(vcpu: v)
                    }
                    guard vcpus[v].priority.queueClass == cls else { return .wrongList(vcpu: v) }
                    guard vcpus[v].affinity.contains(cpu) else { return .outsideAffinity(vcpu: v) }
                    count += 1
                    prev = link
                    link = vcpus[v].next
                }
                guard cpus[cpu].tails[cls] == prev else { return .brokenLink(cpu: cpu) }
            }
            guard count == Int(cpus[cpu].queuedCount) else { return .queueCount(cpu: cpu) }
            seenQueued += count
            let current = cpus[cpu].current
            if current != CreditVCPU.noLink {
                let v = Int(current)
                guard vcpus[v].inUse && vcpus[v].running && Int(vcpus[v].cpu) == cpu && !vcpus[v].queued else {
                    return .currentMismatch(cpu: cpu)
                }
            }
        }
        var queuedTotal = 0
        for v in 0..<vcpus.count where vcpus[v].inUse {
            if vcpus[v].queued { queuedTotal += 1 }
            if vcpus[v].running && cpus[Int(vcpus[v].cpu)].current != UInt16(v) {
                return .currentMismatch(cpu: Int(vcpus[v].cpu))
            }
            if !vcpus[v].blocked && !vcpus[v].parked && !vcpus[v].running && !vcpus[v].queued {
                return .runnableButNowhere(vcpu: v)
            }
        }
        guard queuedTotal == seenQueued else { return .queueCount(cpu: -1) }
        for d in 0..<domains.count where domains[d].inUse {
            var count = 0
            var active = 0
            for v in 0..<vcpus.count where vcpus[v].inUse && Int(vcpus[v].domain) == d {
                count += 1
                if vcpus[v].active { active += 1 }
            }
            guard count == Int(domains[d].vcpuCount) && active == Int(domains[d].activeVCPUs) else {
                return .domainCounts(domain: d)
            }
        }
        return nil
    }
}
