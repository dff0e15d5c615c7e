// The credit scheduler's part of the `r` debug key, in Xen 4.17's format:
//   writeInfo          the `info:` block (tab-indented settings), `idlers:` (hex CPU
//                      bitmap) and `active units:` with one line per active vCPU;
//   writeRunQueueSummary  `nr_run=N, sort=S` of one CPU (the caller prints `CPU[nn] `
//                      before it and the topology after it);
//   writeRunQueue      `\trun: ` for the running vCPU, then `\t  n: ` per queued one.
// A vCPU line is `[dom.vcpu] pri=P flags=F cpu=C credit=K [w=W,cap=C]` with flags in hex
// (0x1 parked, 0x2 yielding). Names come from the caller (it owns domain ids); the
// `(XEN) ` prefix is the console's. Imports nothing.

extension CreditScheduler {
    public func writeInfo<Sink: TextSink>(into sink: inout Sink, name: (Int) -> (domain: Int, vcpu: Int)) {
        var weight: UInt64 = 0
        for d in 0..<domains.count where domains[d].inUse {
            weight += UInt64(domains[d].weight) * UInt64(domains[d].activeVCPUs)
        }
        sink.writeLine("info:")
        sink.write("\tncpus              = "); sink.write(decimal: cpuCount); sink.newline()
        sink.write("\tmaster             = 0"); sink.newline()
        sink.write("\tcredit             = "); sink.write(decimal: config.creditsPerTimeslice * cpuCount); sink.newline()
        sink.write("\tcredit balance     = "); sink.write(decimal: Int(creditBalance / 1000)); sink.newline()
        sink.write("\tweight             = "); sink.write(decimal: weight); sink.newline()
        sink.write("\trunq_sort          = "); sink.write(decimal: accountingRounds); sink.newline()
        sink.write("\tdefault-weight     = "); sink.write(decimal: CreditSchedulerConfig.defaultWeight); sink.newline()
        sink.write("\ttslice             = "); sink.write(decimal: config.timesliceMs); sink.writeLine("ms")
        sink.write("\tratelimit          = "); sink.write(decimal: config.ratelimitUs); sink.writeLine("us")
        sink.write("\tcredits per msec   = "); sink.write(decimal: CreditSchedulerConfig.creditsPerMs); sink.newline()
        sink.write("\tticks per tslice   = "); sink.write(decimal: CreditSchedulerConfig.ticksPerTimeslice); sink.newline()
        sink.writeLine("\tmigration delay    = 0us")
        var idlers: UInt64 = 0
        for cpu in 0..<cpuCount where cpus[cpu].current == CreditVCPU.noLink { idlers |= 1 << UInt64(cpu) }
        sink.write("idlers: "); sink.write(hex: idlers); sink.newline()
        sink.writeLine("active units:")
        var index = 0
        for v in 0..<vcpus.count where vcpus[v].inUse && vcpus[v].active {
            index += 1
            sink.put(0x09)
            sink.write(decimal: UInt64(index), minimumWidth: 3)
            sink.write(": ")
            writeVCPU(v, into: &sink, name: name)
        }
    }

    public func writeRunQueueSummary<Sink: TextSink>(cpu: Int, into sink: inout Sink) {
        guard cpu >= 0 && cpu < cpuCount else { return }
        let running = cpus[cpu].current == CreditVCPU.noLink ? 0 : 1
        sink.write("nr_run="); sink.write(decimal: Int(cpus[cpu].queuedCount) + running)
        sink.write(", sort="); sink.write(decimal: accountingRounds)
    }

    public func writeRunQueue<Sink: TextSink>(cpu: Int, into sink: inout Sink, name: (Int) -> (domain: Int, vcpu: Int)) {
        guard cpu >= 0 && cpu < cpuCount else { return }
        if cpus[cpu].current != CreditVCPU.noLink {
            sink.write("\trun: ")
            writeVCPU(Int(cpus[cpu].current), into: &sink, name: name)
        }
        var index = 0
        for cls in 0..<3 {
            var link = cpus[cpu].heads[cls]
            while link != CreditVCPU.noLink {
                index += 1
                sink.put(0x09)
                sink.write(decimal: UInt64(index), minimumWidth: 3)
                sink.write(": ")
                writeVCPU(Int(link), into: &sink, name: name)
                link = vcpus[Int(link)].next
            }
        }
    }

    func writeVCPU<Sink: TextSink>(_ v: Int, into sink: inout Sink, name: (Int) -> (domain: Int, vcpu: Int)) {
        let id = name(v)
        let record = vcpus[v]
        let domain = domains[Int(record.domain)]
        sink.put(0x5B); sink.write(decimal: id.domain); sink.put(0x2E); sink.write(decimal: id.vcpu); sink.put(0x5D)
        sink.write(" pri="); sink.write(decimal: Int(record.priority.rawValue))
        sink.write(" flags="); sink.write(hex: (record.parked ? 1 : 0) | (record.yielding ? 2 : 0))
        sink.write(" cpu="); sink.write(decimal: Int(record.cpu))
        sink.write(" credit="); sink.write(decimal: Int(record.milliCredit / 1000))
        sink.write(" [w="); sink.write(decimal: Int(domain.weight))
        sink.write(",cap="); sink.write(decimal: Int(domain.cap))
        sink.writeLine("]")
    }
}
