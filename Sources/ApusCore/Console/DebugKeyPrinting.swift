// DebugKeyPrinting: the parts of the debug-key dumps that are pure formatting, in Xen
// 4.17's words and layout, so the host tests pin them:
//   writeCPUList         Xen's "%*pbl" cpumask list ("0-1,3", empty for none);
//   writeVCPUName        Xen's "%pv" ("d0v1", "d[IDLE]v0");
//   writePeriodicTimer   `q`'s timer line;
//   writeVCPUStateLine   `q`'s "    VCPU0: CPU0 [has=F] poll=0 upcall_pend=00 upcall_mask=00 ";
//   writeMemoryInfo      `m` over the frame allocator's per-bit-zone free counts;
//   ClockSkewRecord      `t`'s two "Synced ... skew" lines and the running statistics.
// The `(XEN) ` prefix is the console's. Imports nothing.

public enum DebugKeyPrinting {
    /// A set of CPUs (or vCPUs) as Xen lists them: ranges joined by commas.
    public static func writeCPUList<Sink: TextSink>(_ mask: UInt64, into sink: inout Sink) {
        var bit = 0
        var first = true
        while bit < 64 {
            guard mask & (1 << UInt64(bit)) != 0 else { bit += 1; continue }
            var end = bit
            while end + 1 < 64 && mask & (1 << UInt64(end + 1)) != 0 { end += 1 }
            if !first { sink.put(0x2C) }
            first = false
            sink.write(decimal: UInt64(bit))
            if end > bit { sink.put(0x2D); sink.write(decimal: UInt64(end)) }
            bit = end + 1
        }
    }

    /// "d0v1"; `domain` nil names the idle domain ("d[IDLE]v0").
    public static func writeVCPUName<Sink: TextSink>(domain: UInt16?, vcpu: Int, into sink: inout Sink) {
        sink.put(0x64)
        if let domain { sink.write(decimal: UInt64(domain)) } else { sink.write("[IDLE]") }
        sink.put(0x76)
        sink.write(decimal: UInt64(vcpu))
    }

    /// "No periodic timer" or "100 Hz periodic timer (period 10 ms)".
    public static func writePeriodicTimer<Sink: TextSink>(periodNs: UInt64, into sink: inout Sink) {
        if periodNs == 0 { sink.write("No periodic timer"); return }
        sink.write(decimal: 1_000_000_000 / periodNs); sink.write(" Hz periodic timer (period ")
        sink.write(decimal: periodNs / 1_000_000); sink.write(" ms)")
    }

    /// `q`'s first vCPU line, trailing space included (Xen then adds "dirty_cpu=N" while the
    /// vCPU's state is loaded on a CPU). `pollingPort` is Xen's poll_evtchn: 0 when not
    /// polling, the port when polling one, -1 when polling several.
    public static func writeVCPUStateLine<Sink: TextSink>(vcpu: Int, cpu: Int, running: Bool, pollingPort: Int,
                                                         upcallPending: UInt8, upcallMask: UInt8, into sink: inout Sink) {
        sink.write("    VCPU"); sink.write(decimal: UInt64(vcpu))
        sink.write(": CPU"); sink.write(decimal: UInt64(cpu))
        sink.write(running ? " [has=T]" : " [has=F]")
        sink.write(" poll="); sink.write(decimal: pollingPort)
        sink.write(" upcall_pend="); sink.write(hex: UInt64(upcallPending), minimumDigits: 2)
        sink.write(" upcall_mask="); sink.write(hex: UInt64(upcallMask), minimumDigits: 2)
        sink.put(0x20)
    }

    /// `m`: "Physical memory information:", the Xen heap (always empty: Apus, like Xen on
    /// x86, has one heap), each non-empty bit zone as "heap[zz]", a "DMA heap" total where
    /// the zones below 2^dmaBits end, and the "Dom heap" total of the zones after it. Bit
    /// zone z holds frames [2^(z-1), 2^z); frame 0 (Apus's zone 0) counts in zone 1, as in
    /// Xen. `freeFrames(z)` gives the free frames of bit zone z. Like Xen, the DMA line comes
    /// when the walk reaches zone dmaBits - 12, before that zone is added: the last zone
    /// below 2^dmaBits is counted in the Dom heap line.
    public static func writeMemoryInfo<Sink: TextSink>(zoneCount: Int, dmaBits: Int?, freeFrames: (Int) -> UInt64,
                                                      into sink: inout Sink) {
        sink.writeLine("Physical memory information:")
        sink.writeLine("    Xen heap: 0kB free")
        var total: UInt64 = 0
        var zone = 1
        while zone < zoneCount {
            if let dmaBits, zone + 12 == dmaBits {
                sink.write("    DMA heap: "); sink.write(decimal: total * 4); sink.writeLine("kB free")
                total = 0
            }
            let free = freeFrames(zone) + (zone == 1 ? freeFrames(0) : 0)
            if free != 0 {
                total += free
                sink.write("    heap["); sink.write(decimal: UInt64(zone), minimumWidth: 2, pad: 0x30)
                sink.write("]: "); sink.write(decimal: free * 4); sink.writeLine("kB free")
            }
            zone += 1
        }
        sink.write("    Dom heap: "); sink.write(decimal: total * 4); sink.writeLine("kB free")
    }
}

/// `t`: the skew between the CPUs' readings of system time and of the TSC, taken at (about)
/// the same instant, and the maximum and average over every press since boot.
public struct ClockSkewRecord: Equatable {
    public private(set) var samples: UInt32 = 0
    public private(set) var maxStimeNs: UInt64 = 0
    public private(set) var sumStimeNs: UInt64 = 0
    public private(set) var maxCycles: UInt64 = 0
    public private(set) var sumCycles: UInt64 = 0
    public private(set) var lastStimeNs: UInt64 = 0
    public private(set) var lastCycles: UInt64 = 0

    public init() {}

    /// One press: the spread (max - min) of the CPUs' system times and TSC values.
    public mutating func record(stimeSkewNs: UInt64, cycleSkew: UInt64) {
        samples &+= 1
        lastStimeNs = stimeSkewNs
        lastCycles = cycleSkew
        maxStimeNs = Swift.max(maxStimeNs, stimeSkewNs)
        maxCycles = Swift.max(maxCycles, cycleSkew)
        sumStimeNs &+= stimeSkewNs
        sumCycles &+= cycleSkew
    }

    /// The spread of a set of readings (one per CPU): max - min, 0 for one reading.
    public static func spread(_ readings: UnsafeBufferPointer<UInt64>) -> UInt64 {
        guard var low = readings.first else { return 0 }
        var high = low
        for value in readings { low = Swift.min(low, value); high = Swift.max(high, value) }
        return high - low
    }

    public func write<Sink: TextSink>(into sink: inout Sink) {
        let n = UInt64(Swift.max(samples, 1))
        sink.write("Synced stime skew: max="); sink.write(decimal: maxStimeNs)
        sink.write("ns avg="); sink.write(decimal: sumStimeNs / n)
        sink.write("ns samples="); sink.write(decimal: UInt64(samples))
        sink.write(" current="); sink.write(decimal: lastStimeNs); sink.writeLine("ns")
        sink.write("Synced cycles skew: max="); sink.write(decimal: maxCycles)
        sink.write(" avg="); sink.write(decimal: sumCycles / n)
        sink.write(" samples="); sink.write(decimal: UInt64(samples))
        sink.write(" current="); sink.write(decimal: lastCycles); sink.newline()
    }
}
