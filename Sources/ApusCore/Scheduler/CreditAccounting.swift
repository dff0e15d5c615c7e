// Credit-scheduler ticks and accounting. A tick charges the running vCPU, puts it on
// the active list (it now earns credit), drops its BOOST, and makes it OVER once its
// credit is spent; the CPU reschedules when better work waits here or can be stolen.
// Once per accounting period (the timeslice), the first tick past the deadline hands
// out `creditsPerTimeslice` per CPU among domains with active vCPUs, in proportion to
// weight x active vCPUs, each domain's share limited to what its active vCPUs could run
// and to its cap (what it cannot use goes to the domains after it), then split evenly
// among its active vCPUs (rounded up, as Xen does, but in thousandths of a credit).
// Then per vCPU:
//   - credit < 0: OVER; a capped vCPU more than its per-vCPU cap in debt is parked;
//     no vCPU keeps more than one timeslice of debt;
//   - otherwise UNDER, unparked, and if it holds more than one timeslice of credit it
//     leaves the active list with half of it (an idle vCPU must not hoard credit).
// Imports nothing.

extension CreditScheduler {
    public mutating func tick(cpu: Int, now: UInt64) -> Bool {
        guard cpu >= 0 && cpu < cpuCount else { return false }
        let current = cpus[cpu].current
        if current != CreditVCPU.noLink {
            let v = Int(current)
            charge(cpu: cpu, now: now)
            activate(v)
            if vcpus[v].priority == .boost { vcpus[v].priority = .under }
            // Apus refinement: a vCPU that has spent its credit is OVER from this tick on,
            // not from the next accounting, so it stops holding the CPU against vCPUs
            // that still have credit (keeps shares within 2% of the weights).
            if vcpus[v].milliCredit < 0 { vcpus[v].priority = .over }
        }
        if now >= nextAccountingNs {
            account()
            let period = config.timesliceNs
            let missed = (now - nextAccountingNs) / period
            nextAccountingNs += (missed + 1) * period
        }
        if current == CreditVCPU.noLink {
            return cpus[cpu].queuedCount > 0 || hasStealableWork(for: cpu)
        }
        let v = Int(current)
        if vcpus[v].parked || vcpus[v].blocked { return true }
        if bestQueuedPriority(cpu: cpu) > vcpus[v].priority { return true }
        return vcpus[v].priority == .over && hasStealableWork(for: cpu, betterThan: .over)
    }

    mutating func activate(_ v: Int) {
        guard !vcpus[v].active else { return }
        vcpus[v].active = true
        domains[Int(vcpus[v].domain)].activeVCPUs += 1
    }

    mutating func deactivate(_ v: Int) {
        guard vcpus[v].active else { return }
        vcpus[v].active = false
        domains[Int(vcpus[v].domain)].activeVCPUs -= 1
    }

    mutating func park(_ v: Int) {
        guard !vcpus[v].parked else { return }
        vcpus[v].parked = true
        if vcpus[v].queued { dequeue(v) }
    }

    mutating func unpark(_ v: Int) {
        guard vcpus[v].parked else { return }
        vcpus[v].parked = false
        if !vcpus[v].blocked && !vcpus[v].running && !vcpus[v].queued { _ = place(v) }
    }

    /// One accounting period. Runs over every slot: O(vCPU slots), once per timeslice.
    mutating func account() {
        accountingRounds &+= 1
        var weightTotal: Int64 = 0
        for d in 0..<domains.count where domains[d].inUse && domains[d].activeVCPUs > 0 {
            weightTotal += Int64(domains[d].weight) * Int64(domains[d].activeVCPUs)
        }
        guard weightTotal > 0 else {
            creditBalance = 0
            return
        }
        let perTimeslice = Int64(config.creditsPerTimeslice) * 1000
        // Credit the active vCPUs ended last period in debt (beyond what the lower bound
        // forgave) is handed out again, so the machine's credit converges back to zero.
        // Bounded by what the machine can run in a period, which also keeps the products
        // below in range.
        let debt = Swift.min(Swift.max(0, -creditBalance), perTimeslice * Int64(cpuCount))
        var creditTotal = perTimeslice * Int64(cpuCount) + debt
        var weightLeft = weightTotal
        // Domains that could not use their whole share last period go first, so what
        // they leave over is handed to the domains after them (Xen's order, lazily kept).
        for pass in 0..<2 {
            for d in 0..<domains.count where domains[d].inUse && domains[d].activeVCPUs > 0
                && domains[d].reachedPeak == (pass == 0) && domains[d].accountedRound != accountingRounds {
                domains[d].accountedRound = accountingRounds
                let weight = Int64(domains[d].weight)
                let active = Int64(domains[d].activeVCPUs)
                weightLeft -= weight * active
                // A domain may earn at most what its active vCPUs can run (more only to
                // work off machine-wide debt), and no more than its cap.
                var peak = perTimeslice * active + (debt * weight * active + weightTotal - 1) / weightTotal
                var capPerVCPU = Int64.max
                if domains[d].cap > 0 {
                    let capCredits = Int64(domains[d].cap) * perTimeslice / 100
                    peak = Swift.min(peak, capCredits)
                    capPerVCPU = (capCredits + active - 1) / active
                }
                var fair = (creditTotal * weight * active + weightTotal - 1) / weightTotal
                if fair < peak {
                    domains[d].reachedPeak = false
                } else {
                    if weightLeft > 0 {
                        creditTotal += ((fair - peak) * weightTotal + weightLeft - 1) / weightLeft
                    }
                    fair = peak
                    domains[d].reachedPeak = true
                }
                domains[d].creditPerVCPU = (fair + active - 1) / active
                domains[d].capPerVCPU = capPerVCPU
            }
        }
        var balance: Int64 = 0
        for v in 0..<vcpus.count where vcpus[v].inUse && vcpus[v].active {
            let domain = domains[Int(vcpus[v].domain)]
            let perVCPU = domain.creditPerVCPU
            let capPerVCPU = domain.capPerVCPU
            var credit = vcpus[v].milliCredit + perVCPU
            if credit < 0 {
                setPriority(v, .over)
                if domain.cap > 0 && credit < -capPerVCPU { park(v) }
                credit = Swift.max(credit, -perTimeslice)
            } else {
                setPriority(v, .under)
                unpark(v)
                if credit > perTimeslice {
                    deactivate(v)
                    credit /= 2
                }
            }
            vcpus[v].milliCredit = credit
            balance += credit
        }
        creditBalance = balance
    }
}
