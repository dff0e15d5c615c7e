// The physical CPUs: which one this code runs on, what each is doing, bringing up the
// application processors, and the per-CPU hardware set-up every CPU does for itself.
//
// Which CPU: every CPU runs Apus's code on its own guest-entry stack (boot/reservations.S),
// so the stack pointer names the CPU (a compare and a divide, no MSR or APIC read); the
// boot stack is CPU 0's, and the IST stacks are per CPU too.
// Invariant: `cpus[n].loadedVCPU` is the vCPU whose registers, page tables and segment
// state are on CPU n (even while n idles), so `PV.vcpu` is always a valid record.
import ApusCore
import ArchX86

struct CPUState {
    var apicID: UInt32 = 0
    /// The vCPU (index in PV's vCPU table) whose state is loaded here.
    var loadedVCPU = 0
    /// Running a vCPU (false: in the idle loop).
    var runningGuest = false
    var ticks: UInt64 = 0
    /// Set when the scheduler should pick again on this CPU before it returns to a guest.
    var needsReschedule = false
}

enum PerCPU {
    nonisolated(unsafe) static var cpus = InlineArray<8, CPUState>(repeating: CPUState())
    /// CPUs running (the boot CPU and every AP that came up), numbered 0..<onlineCount.
    nonisolated(unsafe) static var onlineCount = 1

    @inline(__always) static var index: Int {
        let rsp = SMP.stackPointer
        if let cpu = ImageLayout.cpuOwningStack(rsp) { return cpu }
        return otherStackIndex(rsp)
    }

    /// The boot stack is CPU 0's; an IST stack names its CPU; anything else is a bug
    /// found while reporting one, so CPU 0 is as good an answer as any.
    static func otherStackIndex(_ rsp: UInt64) -> Int {
        let ist = ImageLayout.istStacks(cpu: 0)
        if rsp > ist && rsp <= ImageLayout.istStacksEnd { return Int((rsp - ist - 1) / (3 * 0x2000)) }
        return 0
    }

    /// What every CPU sets up for itself: descriptor tables, the syscall entry and the
    /// stack guests trap onto, CR0/CR4 as Apus wants them.
    static func setUpThisCPU(_ cpu: Int) {
        DescriptorTables.install(cpu: cpu)
        GuestEntry.installSyscall(cpu: cpu)
        GuestEntry.setEntryStack(top: ImageLayout.guestStackTop(cpu: cpu), cpu: cpu)
    }

    /// Starts the other enabled CPUs the MADT lists, one at a time, as far as nosmp and
    /// maxcpus= allow, and prints Xen's summary.
    static func bringUpSecondaries(options: BootOptions) {
        cpus[0].apicID = LocalAPIC.apicID
        SMP.setOnline(cpu: 0)
        var allowed = min(Firmware.facts.enabledCPUs, ImageLayout.maxCPUs)
        if options.smpDisabled { allowed = 1 }
        if let limit = options.maxCPUs { allowed = min(allowed, max(1, Int(limit))) }
        if Firmware.facts.enabledCPUs > ImageLayout.maxCPUs {
            Log.line(.warning) { c in
                c.write("WARNING: "); c.write(decimal: Firmware.facts.enabledCPUs); c.write(" CPUs present; Apus runs at most ")
                c.write(decimal: ImageLayout.maxCPUs)
            }
        }
        var next = 1
        for slot in 0..<min(Firmware.facts.enabledCPUs, ImageLayout.maxCPUs) where next < allowed {
            let apicID = Firmware.facts.cpuAPICIDs[slot]
            guard apicID != cpus[0].apicID else { continue }
            if start(cpu: next, apicID: apicID) { next += 1 }
        }
        onlineCount = next
        Log.line { c in c.write("Brought up "); c.write(decimal: onlineCount); c.write(onlineCount == 1 ? " CPU" : " CPUs") }
    }

    static func start(cpu: Int, apicID: UInt32) -> Bool {
        cpus[cpu].apicID = apicID
        Log.line(.info) { c in
            c.write("Booting processor "); c.write(decimal: cpu); c.write("/"); c.write(decimal: UInt64(apicID))
            c.write(" eip "); c.write(hex: SMP.trampolineBase)
        }
        SMP.startProcessor(apicID: apicID, cpu: cpu, pageTableRoot: HypervisorPageTables.rootFrame << 12,
                           // Below the top: the first guest frame goes there while this code runs.
                           stackTop: ImageLayout.guestStackTop(cpu: cpu) - 1024,
                           image: DirectMap.address(of: SMP.trampolinePhysical),
                           lowMemory: DirectMap.address(of: SMP.trampolineBase),
                           delay: { Platform.delay(microseconds: $0) })
        // The AP takes the hypervisor lock for its own set-up: let it.
        let depth = HypervisorLock.releaseAll(cpu: 0)
        defer { HypervisorLock.reacquire(cpu: 0, depth: depth) }
        let deadline = CPU.readTimeStampCounter() &+ 1000 &* Platform.facts.tscPerMillisecond
        while !SMP.isOnline(cpu: cpu) {
            if CPU.readTimeStampCounter() > deadline {
                Log.line(.warning) { c in
                    c.write("WARNING: CPU"); c.write(decimal: cpu); c.write(" (APIC id "); c.write(decimal: UInt64(apicID))
                    c.write(") did not come up within 1 s; left offline")
                }
                return false
            }
            SMP.pause()
        }
        return true
    }
}

/// The first Swift code an application processor runs (boot/ap.S), on its own
/// guest-entry stack with Apus's page tables. It sets itself up like the boot CPU, says
/// so, and becomes an idle CPU of the scheduler.
@c(apus_ap_main)
func apusAPMain(_ cpu: UInt32) {
    let index = Int(cpu)
    HypervisorLock.acquire(cpu: index)
    PerCPU.setUpThisCPU(index)
    BootCPU.enableProtections(quiet: true)
    BootCPU.enableGuestFPU()
    Timers.startOnSecondary()
    Log.line(.info) { c in
        c.write("CPU"); c.write(decimal: index); c.write(": APIC id "); c.write(decimal: UInt64(LocalAPIC.apicID))
        c.write(", online")
    }
    SMP.setOnline(cpu: index)
    Scheduling.idleLoop(cpu: index)
}

/// One lock serialises Apus's own work across CPUs: every entry from a guest or an
/// interrupt takes it and every way back out releases it, so the hypercall, event,
/// memory and scheduler code written for one CPU stays correct on many; guests still run
/// in parallel. Recursive per CPU (a fault inside Apus re-enters). While a CPU spins for
/// it, it still answers TLB-flush requests, so a CPU holding the lock can wait for them.
enum HypervisorLock {
    nonisolated(unsafe) static var depth = InlineArray<8, Int>(repeating: 0)

    static func acquire(cpu: Int) {
        let owner = UInt32(cpu + 1)
        if SMP.lockOwner == owner { depth[cpu] += 1; return }
        while !SMP.tryLock(owner: owner) {
            TLBShootdown.serviceRequest(cpu: cpu)
            SMP.pause()
        }
        depth[cpu] = 1
    }

    static func release(cpu: Int) {
        guard depth[cpu] > 0 else { return }
        depth[cpu] -= 1
        if depth[cpu] == 0 { SMP.unlock() }
    }

    /// Drops the lock however deep this CPU holds it (before waiting or entering a
    /// guest); returns the depth to restore.
    static func releaseAll(cpu: Int) -> Int {
        let held = depth[cpu]
        guard held > 0 else { return 0 }
        depth[cpu] = 0
        SMP.unlock()
        return held
    }

    static func reacquire(cpu: Int, depth held: Int) {
        guard held > 0 else { return }
        acquire(cpu: cpu)
        depth[cpu] = held
    }

    static func isHeld(cpu: Int) -> Bool { SMP.lockOwner == UInt32(cpu + 1) }
}
