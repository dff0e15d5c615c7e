// What Apus does when the CPU traps into it: the C-ABI entry `apus_trap`, called by the
// common stub in boot/entry.S for every vector.
//
// Exceptions raised by Apus itself are fatal: print what Xen prints for a hypervisor
// fault (vector, error code, RIP with its symbol, CR2, registers, a frame-pointer call
// trace) and follow the fatal-error rule. A `ud2` in Apus's text is a failed Swift
// runtime check (overflow, bounds, precondition): at -Osize Swift leaves no message, so
// the symbol is what points at the line. Guest exceptions arrive here too once guests
// run (the dom0 issue bounces them); interrupts go to `Interrupts.handle`.
import ApusCore
import ArchX86

@c(apus_trap)
func apusTrap(_ raw: UnsafeMutableRawPointer) {
    let frame = TrapFrame(raw)
    let cpu = PerCPU.index
    // A TLB-flush request is answered without the hypervisor lock: its sender holds it.
    if frame.vector == TLBShootdown.vector {
        TLBShootdown.serviceRequest(cpu: cpu)
        LocalAPIC.endOfInterrupt()
        return
    }
    HypervisorLock.acquire(cpu: cpu)
    defer { HypervisorLock.release(cpu: cpu) }
    if frame.vector == 0x80 && !frame.fromHypervisor {
        GuestTraps.handle(frame)
        returnToGuest(frame, cpu: cpu)
        return
    }
    if frame.vector >= 32 && frame.vector < 256 {
        Interrupts.handle(vector: frame.vector, frame: frame, cpu: cpu)
        if !frame.fromHypervisor { returnToGuest(frame, cpu: cpu) }
        return
    }
    // A guest pointer that faulted inside the guest-copy routine: the copy stops short.
    if frame.vector == 14 && frame.fromHypervisor, let fixup = GuestEntry.copyFaultFixup(for: frame.rip) {
        // Apus writing a page log-dirty keeps read-only marks it dirty like a guest write.
        if frame.errorCode & 3 == 3 && Shadows.writeFault(CPU.cr2) { return }
        frame.rip = fixup
        return
    }
    if frame.fromHypervisor && frame.rip == GuestEntry.guestIretAddress && frame.vector >= 10 && frame.vector <= 14 {
        GuestTraps.refusedReturn(frame)
        return
    }
    if (frame.vector == 13 || frame.vector == 11) && frame.fromHypervisor,
       let fixup = GuestEntry.segmentLoadFixup(for: frame.rip) {
        frame.rip = fixup
        return
    }
    if (frame.vector == 13 || frame.vector == 11 || frame.vector == 12) && frame.fromHypervisor,
       GuestCPUState.selectorLoadFixup(frame) {
        return
    }
    if !frame.fromHypervisor {
        GuestTraps.handle(frame)
        // Still going back to the guest (a shutdown does not come back).
        if !frame.fromHypervisor { returnToGuest(frame, cpu: cpu) }
        return
    }
    fatalTrap(frame)
}

/// Every way back to a guest: the scheduler may switch vCPUs (or idle this CPU), then an
/// event that became deliverable is delivered now, as Xen does on every exit.
@inline(__always)
func returnToGuest(_ frame: TrapFrame, cpu: Int) {
    Scheduling.beforeReturnToGuest(frame, cpu: cpu)
    Events.deliverIfDue(frame)
}

enum ExceptionNames {
    static func name(_ vector: Int) -> StaticString {
        switch vector {
        case 0: return "divide error"
        case 1: return "debug"
        case 2: return "nmi"
        case 3: return "int3"
        case 4: return "overflow"
        case 5: return "bounds"
        case 6: return "invalid opcode"
        case 7: return "device not available"
        case 8: return "double fault"
        case 9: return "coprocessor segment overrun"
        case 10: return "invalid TSS"
        case 11: return "segment not found"
        case 12: return "stack error"
        case 13: return "general protection fault"
        case 14: return "page fault"
        case 16: return "coprocessor error"
        case 17: return "alignment check"
        case 18: return "machine check"
        case 19: return "simd error"
        case 20: return "virtualisation exception"
        case 21: return "control-flow protection"
        default: return "reserved"
        }
    }
}

func fatalTrap(_ frame: TrapFrame) -> Never {
    let cr2 = CPU.cr2
    Console.shared.lineVisible = true
    if !Console.shared.atLineStart { Console.shared.put(0x0A) }
    Log.always { $0.write("----[ Apus-"); $0.write(ApusVersion.string); $0.write("  x86_64  Not tainted ]----") }
    Log.always { c in c.write("CPU:    "); c.write(decimal: PerCPU.index) }
    Log.always { c in
        c.write("RIP:    "); c.write(hex: frame.cs, minimumDigits: 4); c.write(":[<")
        c.write(hex: frame.rip, minimumDigits: 16); c.write(">] ")
        Symbols.describe(frame.rip, into: &c)
    }
    Log.always { c in
        c.write("RFLAGS: "); c.write(hex: frame.rflags, minimumDigits: 16)
        c.write(frame.fromHypervisor ? "   CONTEXT: hypervisor" : "   CONTEXT: guest")
    }
    var column = 0
    var line = RegisterLine()
    frame.forEachRegister { name, value in
        line.add(name, value)
        column += 1
        if column == 3 { line.flush(); column = 0 }
    }
    line.flush()
    Log.always { c in
        c.write("cr0: "); c.write(hex: CPU.cr0, minimumDigits: 16)
        c.write("   cr4: "); c.write(hex: CPU.cr4, minimumDigits: 16)
    }
    Log.always { c in
        c.write("cr3: "); c.write(hex: CPU.cr3, minimumDigits: 16)
        c.write("   cr2: "); c.write(hex: cr2, minimumDigits: 16)
    }
    if frame.fromHypervisor { CallTrace.print(from: frame.rbp, rip: frame.rip) }

    let swiftCheck = frame.vector == 6 && Symbols.isHypervisorText(frame.rip)
        && UnsafePointer<UInt16>(bitPattern: UInt(frame.rip)).unsafelyUnwrapped.pointee == 0x0B0F
    panic { c in
        if frame.vector == 14 {
            c.write("FATAL PAGE FAULT")
        } else {
            c.write("FATAL TRAP: vector = "); c.write(decimal: frame.vector)
            c.write(" ("); c.write(ExceptionNames.name(frame.vector)); c.write(")")
        }
        c.newline()
        c.write("[error_code="); c.write(hex: frame.errorCode, minimumDigits: 4); c.write("]")
        if frame.vector == 14 {
            c.newline()
            c.write("Faulting linear address: "); c.write(hex: cr2, minimumDigits: 16)
        }
        if swiftCheck {
            c.newline()
            c.write("A Swift runtime check failed here (overflow, bounds or precondition)")
        }
        if frame.vector == 8 && frame.rsp >= ImageLayout.stackGuardPage
            && frame.rsp < ImageLayout.stackGuardPage + 4096 + 512 {
            c.newline()
            c.write("Apus stack overflow: the boot stack ran into its guard page")
        }
        for cpu in 0..<ImageLayout.maxCPUs where frame.vector == 8
            && frame.rsp >= ImageLayout.guestStackGuardPage(cpu: cpu)
            && frame.rsp < ImageLayout.guestStackGuardPage(cpu: cpu) + 4096 + 512 {
            c.newline()
            c.write("Apus stack overflow: CPU"); c.write(decimal: cpu); c.write("'s stack ran into its guard page")
        }
    }
}

/// Three registers to a line, as Xen prints them.
struct RegisterLine {
    var names: (StaticString, StaticString, StaticString) = ("", "", "")
    var values: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var count = 0

    mutating func add(_ name: StaticString, _ value: UInt64) {
        switch count {
        case 0: names.0 = name; values.0 = value
        case 1: names.1 = name; values.1 = value
        default: names.2 = name; values.2 = value
        }
        count += 1
    }

    mutating func flush() {
        guard count > 0 else { return }
        let n = count, names = self.names, values = self.values
        Log.always { c in
            for i in 0..<n {
                if i > 0 { c.write("   ") }
                let name = i == 0 ? names.0 : (i == 1 ? names.1 : names.2)
                let value = i == 0 ? values.0 : (i == 1 ? values.1 : values.2)
                c.write(name); c.write(": ")
                if name.utf8CodeUnitCount == 2 { c.put(0x20) }
                c.write(hex: value, minimumDigits: 16)
            }
        }
        count = 0
    }
}

/// Walks the frame-pointer chain (Embedded Swift keeps frame pointers) within Apus's
/// own stacks, printing each return address with its symbol.
enum CallTrace {
    static func print(from rbp: UInt64, rip: UInt64) {
        Log.always { $0.write("Xen call trace:") }
        Log.always { c in c.write("   [<"); c.write(hex: rip, minimumDigits: 16); c.write(">] R "); Symbols.describe(rip, into: &c) }
        var framePointer = rbp
        var depth = 0
        var previous: UInt64 = 0
        var repeats = 0
        // Deep recursion prints one line and a count, not a screenful of the same frame.
        while depth < 4096, isPlausibleFrame(framePointer) {
            let slots = UnsafePointer<UInt64>(bitPattern: UInt(framePointer)).unsafelyUnwrapped
            let returnAddress = slots[1]
            guard Symbols.isHypervisorText(returnAddress) else { break }
            framePointer = slots[0]
            depth += 1
            if returnAddress == previous { repeats += 1; continue }
            flushRepeats(repeats)
            repeats = 0
            previous = returnAddress
            guard depth <= 64 else { continue }
            Log.always { c in
                c.write("   [<"); c.write(hex: returnAddress, minimumDigits: 16); c.write(">] F ")
                Symbols.describe(returnAddress, into: &c)
            }
        }
        flushRepeats(repeats)
    }

    static func flushRepeats(_ repeats: Int) {
        guard repeats > 0 else { return }
        Log.always { c in c.write("   ... the same frame "); c.write(decimal: repeats); c.write(" more times") }
    }

    static func isPlausibleFrame(_ address: UInt64) -> Bool {
        guard address & 7 == 0 else { return false }
        let inBootStack = address >= ImageLayout.bootStackBottom && address + 16 <= ImageLayout.bootStackTop
        let inISTStacks = address >= ImageLayout.istStacks && address + 16 <= ImageLayout.istStacksEnd
        let inGuestStack = ImageLayout.cpuOwningStack(address + 16) != nil
        return inBootStack || inISTStacks || inGuestStack
    }
}
