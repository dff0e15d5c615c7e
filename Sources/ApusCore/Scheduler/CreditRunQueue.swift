// Per-CPU run queues of the credit scheduler: three FIFO lists per CPU (boost, under,
// over) threaded through CreditVCPU.next/prev. A vCPU joins the tail of its priority's
// list, so equal priorities take turns (Xen inserts behind all of equal priority).
// Imports nothing.

extension CreditScheduler {
    mutating func enqueue(_ v: Int, cpu: Int) {
        let cls = vcpus[v].priority.queueClass
        let tail = cpus[cpu].tails[cls]
        vcpus[v].prev = tail
        vcpus[v].next = CreditVCPU.noLink
        if tail == CreditVCPU.noLink {
            cpus[cpu].heads[cls] = UInt16(v)
        } else {
            vcpus[Int(tail)].next = UInt16(v)
        }
        cpus[cpu].tails[cls] = UInt16(v)
        cpus[cpu].queuedCount += 1
        vcpus[v].queued = true
        vcpus[v].cpu = UInt8(cpu)
    }

    /// Removes `v` from the queue it is on; its priority must not have changed since.
    mutating func dequeue(_ v: Int) {
        guard vcpus[v].queued else { return }
        let cpu = Int(vcpus[v].cpu)
        let cls = vcpus[v].priority.queueClass
        let prev = vcpus[v].prev
        let next = vcpus[v].next
        if prev == CreditVCPU.noLink { cpus[cpu].heads[cls] = next } else { vcpus[Int(prev)].next = next }
        if next == CreditVCPU.noLink { cpus[cpu].tails[cls] = prev } else { vcpus[Int(next)].prev = prev }
        vcpus[v].prev = CreditVCPU.noLink
        vcpus[v].next = CreditVCPU.noLink
        vcpus[v].queued = false
        cpus[cpu].queuedCount -= 1
    }

    /// Changes a vCPU's priority, moving it between lists when it is queued.
    mutating func setPriority(_ v: Int, _ priority: CreditPriority) {
        guard vcpus[v].priority != priority else { return }
        if vcpus[v].queued && vcpus[v].priority.queueClass != priority.queueClass {
            let cpu = Int(vcpus[v].cpu)
            dequeue(v)
            vcpus[v].priority = priority
            enqueue(v, cpu: cpu)
        } else {
            vcpus[v].priority = priority
        }
    }

    /// The best vCPU queued at `cpu`. A vCPU that just yielded is passed over once for
    /// the next lower-priority one, when there is one (as Xen queues a yielder behind one
    /// lower-priority vCPU).
    func bestQueued(cpu: Int) -> Int? {
        for cls in 0..<3 {
            let head = cpus[cpu].heads[cls]
            guard head != CreditVCPU.noLink else { continue }
            let h = Int(head)
            if vcpus[h].yielding && vcpus[h].next == CreditVCPU.noLink {
                for lower in (cls + 1)..<3 where cpus[cpu].heads[lower] != CreditVCPU.noLink {
                    return Int(cpus[cpu].heads[lower])
                }
            }
            if vcpus[h].yielding && vcpus[h].next != CreditVCPU.noLink {
                return Int(vcpus[h].next)
            }
            return h
        }
        return nil
    }

    /// Priority of the best queued vCPU (idle when the queue is empty).
    func bestQueuedPriority(cpu: Int) -> CreditPriority {
        for cls in 0..<3 where cpus[cpu].heads[cls] != CreditVCPU.noLink {
            return vcpus[Int(cpus[cpu].heads[cls])].priority
        }
        return .idle
    }
}
