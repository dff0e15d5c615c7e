// EventChannelDump: the `e` debug key's section for one domain, in Xen 4.17's format:
//   Event channel information for domain 0:
//   Polling vCPUs: {0}
//       port [p/m/s]
//          1 [0/1/0]: s=5 n=0 x=0 v=0
// p and m are the port's pending and mask bits in shared_info; s is the 2-level selector
// bit of the port's word in its notify vCPU's vcpu_info. s= is Xen's ECS_* number (2
// unbound, 3 interdomain, 4 pirq, 5 virq, 6 ipi; 1 reserved), n= the notify vCPU, x= 1
// only for channels Xen itself consumes (Apus has none). Then " d=<remote>" for unbound,
// " d=<remote> p=<port>" for interdomain, " p=<pirq> i=<irq>" for a pirq (Apus has no
// physical IRQs to name, it prints the pirq again), " v=<virq>" for a VIRQ. Ports run from
// 1 to the last valid one; free ports are skipped.
// Imports nothing.

public enum EventChannelDump {
    /// Xen's ECS_* number for a binding.
    public static func stateNumber(_ binding: EventChannelBinding) -> Int {
        switch binding {
        case .free: return 0
        case .reserved: return 1
        case .unbound: return 2
        case .interdomain: return 3
        case .pirq: return 4
        case .virq: return 5
        case .ipi: return 6
        }
    }

    public static func write<Bitmaps: EventBitmaps, Sink: TextSink>(
        table: EventChannelTable, bitmaps: Bitmaps, pollingVCPUs: UInt64,
        selectorIsSet: (_ vcpu: UInt16, _ word: Int) -> Bool, into sink: inout Sink
    ) {
        sink.write("Event channel information for domain "); sink.write(decimal: UInt64(table.domain)); sink.put(0x3A)
        sink.newline()
        sink.write("Polling vCPUs: {"); DebugKeyPrinting.writeCPUList(pollingVCPUs, into: &sink); sink.writeLine("}")
        sink.writeLine("    port [p/m/s]")
        var port: UInt32 = 1
        while Int(port) < table.validPorts {
            defer { port += 1 }
            let entry = table.port(port)
            if entry.binding == .free { continue }
            sink.write("    "); sink.write(decimal: UInt64(port), minimumWidth: 4)
            sink.write(" ["); sink.write(decimal: UInt64(bitmaps.isPending(port) ? 1 : 0))
            sink.put(0x2F); sink.write(decimal: UInt64(bitmaps.isMasked(port) ? 1 : 0))
            sink.put(0x2F)
            let word = Int(port) / EventChannelLimits.bitsPerWord
            sink.write(decimal: UInt64(selectorIsSet(entry.notifyVCPU, word) ? 1 : 0))
            sink.write("]: s="); sink.write(decimal: stateNumber(entry.binding))
            sink.write(" n="); sink.write(decimal: UInt64(entry.notifyVCPU))
            sink.write(" x=0")
            switch entry.binding {
            case .unbound(let remote):
                sink.write(" d="); sink.write(decimal: UInt64(remote))
            case .interdomain(let remote, let remotePort):
                sink.write(" d="); sink.write(decimal: UInt64(remote))
                sink.write(" p="); sink.write(decimal: UInt64(remotePort))
            case .pirq(let pirq):
                sink.write(" p="); sink.write(decimal: UInt64(pirq))
                sink.write(" i="); sink.write(decimal: UInt64(pirq))
            case .virq(let virq):
                sink.write(" v="); sink.write(decimal: UInt64(virq))
            case .free, .reserved, .ipi:
                break
            }
            sink.newline()
        }
    }
}
