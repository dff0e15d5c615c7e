// Where credit-scheduler work goes: the CPU a waking vCPU is queued at, which CPU to
// tickle, and stealing by a CPU that has only OVER work or none. Stealing takes the
// first queued vCPU (best priority first, peers in round-robin order from the next CPU)
// that is better than what the CPU has and whose hard affinity allows the CPU, so the
// scheduler is work-conserving. Imports nothing.

extension CreditScheduler {
    func isIdle(_ cpu: Int) -> Bool {
        cpus[cpu].current == CreditVCPU.noLink && cpus[cpu].queuedCount == 0
    }

    /// Runnable vCPUs at `cpu`, the one running included.
    func load(_ cpu: Int) -> Int {
        Int(cpus[cpu].queuedCount) + (cpus[cpu].current == CreditVCPU.noLink ? 0 : 1)
    }

    /// The CPU for a vCPU becoming runnable: where it last ran if that CPU is idle, else
    /// an idle CPU it may use, else where it last ran unless another CPU it may use has
    /// at least two fewer runnable vCPUs (then the least loaded one: placement spreads
    /// work, stealing only fixes what placement got wrong).
    func chooseCPU(for v: Int) -> Int {
        let affinity = vcpus[v].affinity
        let last = Int(vcpus[v].cpu)
        if affinity.contains(last) && isIdle(last) { return last }
        var best = -1
        var bestLoad = Int.max
        for step in 1..<(cpuCount + 1) {
            let c = (last + step) % cpuCount
            guard affinity.contains(c) else { continue }
            if isIdle(c) { return c }
            let l = load(c)
            if l < bestLoad {
                best = c
                bestLoad = l
            }
        }
        if affinity.contains(last) && (best < 0 || load(last) <= bestLoad + 1) { return last }
        return best >= 0 ? best : (affinity.lowest ?? 0)
    }

    /// An idle CPU other than `except` that `v` may run on.
    func idleCPU(for v: Int, except: Int) -> Int? {
        for c in 0..<cpuCount where c != except && vcpus[v].affinity.contains(c) && isIdle(c) {
            return c
        }
        return nil
    }

    /// Queues a runnable vCPU and returns the CPU that should reschedule for it, if any.
    mutating func place(_ v: Int) -> Int? {
        let cpu = chooseCPU(for: v)
        enqueue(v, cpu: cpu)
        let current = cpus[cpu].current
        if current == CreditVCPU.noLink { return cpu }
        return vcpus[v].priority > vcpus[Int(current)].priority ? cpu : nil
    }

    /// Removes and returns a vCPU queued at another CPU that may run on `cpu` and has a
    /// priority above `floor`.
    mutating func steal(cpu: Int, betterThan floor: CreditPriority) -> Int? {
        guard cpuCount > 1 else { return nil }
        for cls in 0..<3 {
            for step in 1..<cpuCount {
                let peer = (cpu + step) % cpuCount
                var link = cpus[peer].heads[cls]
                while link != CreditVCPU.noLink {
                    let v = Int(link)
                    if vcpus[v].priority <= floor { break }
                    if vcpus[v].affinity.contains(cpu) {
                        return v
                    }
                    link = vcpus[v].next
                }
            }
        }
        return nil
    }

    /// True when another CPU's queue holds work above `floor` that `cpu` may take.
    func hasStealableWork(for cpu: Int, betterThan floor: CreditPriority = .idle) -> Bool {
        guard cpuCount > 1 else { return false }
        for step in 1..<cpuCount {
            let peer = (cpu + step) % cpuCount
            guard cpus[peer].queuedCount > 0 else { continue }
            for cls in 0..<3 {
                var link = cpus[peer].heads[cls]
                while link != CreditVCPU.noLink {
                    let v = Int(link)
                    if vcpus[v].priority <= floor { break }
                    if vcpus[v].affinity.contains(cpu) { return true }
                    link = vcpus[v].next
                }
            }
        }
        return false
    }
}
