// Debug keys: what each key in ApusCore's DebugKeyTable does, printed as Xen 4.17 prints
// it ("(XEN) " prefixed, Xen's headings and order). Keys run in the serial interrupt, with
// interrupts off, like Xen's IRQ-context handlers (Apus has no tasklets; the output is the
// same). Their lines bypass the log-level filter, as Xen's console_start_log_everything
// does. Per-domain and per-vCPU dumps live in DebugKeyDumps.swift.
import ApusCore
import ArchX86

enum DebugKeys {
    nonisolated(unsafe) static var clockSkew = ClockSkewRecord()

    /// Writes lines that no log level hides, starting on a fresh line.
    static func printing(_ body: (inout Console) -> Void) {
        let visible = Console.shared.lineVisible
        Console.shared.lineVisible = true
        if !Console.shared.atLineStart { Console.shared.put(0x0A) }
        body(&Console.shared)
        if !Console.shared.atLineStart { Console.shared.put(0x0A) }
        Console.shared.lineVisible = visible
    }

    static func handle(_ key: UInt8, frame: TrapFrame) {
        guard let entry = DebugKeyTable.lookup(key) else { return }
        run(entry, frame: frame)
    }

    static func run(_ entry: DebugKey, frame: TrapFrame) {
        let key = entry.key
        switch key {
        case 0x68:  // h
            printing { DebugKeyTable.writeHandlers(pressed: key, into: &$0) }
        case 0x2A:  // *
            printing { c in c.put(0x27); c.put(key); c.write("' pressed -> firing all diagnostic keyhandlers") }
            DebugKeyTable.forEachDiagnostic { diagnostic in
                printing { DebugKeyTable.writeAnnouncement(diagnostic, into: &$0) }
                run(diagnostic, frame: frame)
            }
        case 0x52:  // R
            printing { c in c.put(0x27); c.put(key); c.write("' pressed -> rebooting machine") }
            Platform.reset()
        case 0x74:  // t
            // One CPU reads its own clocks: no skew yet. With SMP each CPU reads
            // GuestTime.now and the TSC at a common instant and the spread goes here.
            clockSkew.record(stimeSkewNs: 0, cycleSkew: 0)
            printing { clockSkew.write(into: &$0) }
        case 0x6D:  // m
            printing { c in
                DebugKeyPrinting.writeMemoryInfo(zoneCount: FrameZones.count, dmaBits: Memory.allocator.dmaBits,
                                                 freeFrames: { Memory.allocator.freeFrames(inBitZone: $0) }, into: &c)
            }
        case 0x65:  // e
            printing { c in c.put(0x27); c.put(key); c.write("' pressed -> dumping event-channel info") }
            DebugKeyDumps.eventChannels(frame: frame)
        case 0x71:  // q
            DebugKeyDumps.domains(key: key, frame: frame)
        case 0x72:  // r
            DebugKeyDumps.runQueues(frame: frame)
        case 0x64:  // d
            printing { c in c.put(0x27); c.put(key); c.write("' pressed -> dumping registers"); c.newline(); c.newline() }
            DebugKeyDumps.registers(frame: frame)
        case 0x30:  // 0
            DebugKeyDumps.dom0Registers(key: key, frame: frame)
        default:
            break
        }
    }

    /// Xen's register block (show_registers): RIP, RFLAGS and context, the general
    /// registers three to a line with cr0/cr4 after r15, cr3/cr2, the FS/GS bases, and the
    /// stack selector and code selector.
    /// `guest` is the vCPU whose registers these are (nil: Apus's own); `cpu` nil leaves
    /// out the banner and CPU line, as Xen does for a vCPU's saved state ('0').
    static func writeRegisters(_ frame: TrapFrame, cpu: Int?, guest: Int?, eventMask: UInt8?, cr3: UInt64,
                               bases: (fs: UInt64, gs: UInt64, gsShadow: UInt64)) {
        printing { c in
            if let cpu {
                c.write("----[ Apus-"); c.write(ApusVersion.string); c.write("  x86_64  debug=n  Not tainted ]----")
                c.newline()
                c.write("CPU:    "); c.write(decimal: UInt64(cpu)); c.newline()
            }
            c.write("RIP:    "); c.write(hex: frame.cs, minimumDigits: 4); c.write(":[<")
            c.write(hex: frame.rip, minimumDigits: 16); c.write(">]")
            if guest == nil { c.put(0x20); Symbols.describe(frame.rip, into: &c) }
            c.newline()
            c.write("RFLAGS: "); c.write(hex: frame.rflags, minimumDigits: 16); c.write("   ")
            if let eventMask { c.write("EM: "); c.write(decimal: UInt64(eventMask != 0 ? 1 : 0)); c.write("   ") }
            if let guest {
                c.write("CONTEXT: pv guest ("); DebugKeyPrinting.writeVCPUName(domain: PV.current.id, vcpu: guest, into: &c)
                c.put(0x29)
            } else {
                c.write("CONTEXT: hypervisor")
            }
            c.newline()
            var row = RegisterRow()
            for slot in 0..<16 {
                let number = RegisterRow.xenOrder(slot)
                row.add(RegisterRow.name(number), frame.register(number), into: &c)
            }
            row.add("cr0", CPU.cr0, into: &c); row.add("cr4", CPU.cr4, into: &c)
            row.add("cr3", cr3, into: &c); row.add("cr2", CPU.cr2, into: &c); row.end(into: &c)
            row.add("fsb", bases.fs, into: &c); row.add("gsb", bases.gs, into: &c); row.add("gss", bases.gsShadow, into: &c)
            c.write("ss: "); c.write(hex: frame.ss, minimumDigits: 4)
            c.write("   cs: "); c.write(hex: frame.cs, minimumDigits: 4); c.newline()
        }
        if guest == nil { CallTrace.print(from: frame.rbp, rip: frame.rip) }
    }
}

/// Xen's register lines: `name: value` three to a line, two-letter names padded.
struct RegisterRow {
    var column = 0

    /// Xen prints rax rbx rcx rdx rsi rdi rbp rsp r8-r15; `number` is the encoding's order.
    static func xenOrder(_ slot: Int) -> Int {
        switch slot {
        case 1: return 3
        case 2: return 1
        case 3: return 2
        case 4: return 6
        case 5: return 7
        case 6: return 5
        case 7: return 4
        default: return slot
        }
    }

    static func name(_ number: Int) -> StaticString {
        switch number {
        case 0: return "rax"
        case 1: return "rcx"
        case 2: return "rdx"
        case 3: return "rbx"
        case 4: return "rsp"
        case 5: return "rbp"
        case 6: return "rsi"
        case 7: return "rdi"
        case 8: return "r8"
        case 9: return "r9"
        case 10: return "r10"
        case 11: return "r11"
        case 12: return "r12"
        case 13: return "r13"
        case 14: return "r14"
        default: return "r15"
        }
    }

    mutating func add(_ name: StaticString, _ value: UInt64, into c: inout Console) {
        if column > 0 { c.write("   ") }
        c.write(name); c.write(": ")
        if name.utf8CodeUnitCount == 2 { c.put(0x20) }
        c.write(hex: value, minimumDigits: 16)
        column += 1
        if column == 3 { end(into: &c) }
    }

    mutating func end(into c: inout Console) {
        if column > 0 { c.newline() }
        column = 0
    }
}
