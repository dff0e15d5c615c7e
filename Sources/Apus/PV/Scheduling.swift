// The credit scheduler (ApusCore's CreditScheduler) driving real CPUs: which vCPU each
// CPU runs, switching between them, the idle loop, waking waiting vCPUs and telling other
// CPUs to look again (the kick IPI).
//
// How a switch works: a vCPU only stops running when the CPU is in Apus because of it (a
// trap, hypercall or interrupt from the guest), and then its registers are the trap frame
// at the top of the CPU's guest-entry stack. Switching saves that frame and the state the
// CPU holds for the guest (FPU, data selectors, FS/GS bases, descriptor tables) into the
// vCPU's record, and loads the next vCPU's into the same places, so the ordinary return
// path (apus_restore_frame, iretq) resumes the next vCPU. With nothing to run the CPU
// enters `idleLoop` (halted with interrupts on, the hypervisor lock released) and leaves
// it only by entering a guest afresh.
// A vCPU is runnable when it is initialised, up, and not waiting (SCHEDOP_block/poll);
// `updateRunnable` tells the scheduler whenever one of those changes.
// All of this runs under the hypervisor lock (PerCPU.swift).
import ApusCore
import ApusPublic
import ArchX86
import X86Shim

enum Scheduling {
    static let kickVector = 0xF1
    nonisolated(unsafe) static var credit = CreditScheduler(
        config: CreditSchedulerConfig(), cpuCount: 1,
        vcpus: UnsafeMutableBufferPointer(start: nil, count: 0),
        domains: UnsafeMutableBufferPointer(start: nil, count: 0),
        cpus: UnsafeMutableBufferPointer(start: nil, count: 0), now: 0)
    nonisolated(unsafe) static var started = false
    /// vCPUs now in SCHEDOP_poll: only then must an event on a masked port be looked at.
    nonisolated(unsafe) static var pollingVCPUs = 0

    static var now: UInt64 { GuestTime.now }

    /// Creates the scheduler for dom0's `vcpuCount` vCPUs over the online CPUs; vCPU 0 is
    /// runnable, the others wait for VCPUOP_initialise/up. `pin`: vCPU n only on CPU n.
    static func start(options: BootOptions, vcpuCount: Int, pin: Bool) {
        let vcpuBytes = UInt64(MemoryLayout<CreditVCPU>.stride * vcpuCount)
        let domainBytes = UInt64(MemoryLayout<CreditDomain>.stride)
        let cpuBytes = UInt64(MemoryLayout<CreditCPU>.stride * PerCPU.onlineCount)
        guard let first = Memory.allocator.allocate(
            order: MachineToPhys.orderFor(bytes: vcpuBytes + domainBytes + cpuBytes + 128)) else {
            panic("No memory for the scheduler's records")
        }
        let base = DirectMap.address(of: first << 12)
        let vcpuStore = UnsafeMutablePointer<CreditVCPU>(bitPattern: UInt(base)).unsafelyUnwrapped
        let domainAddress = (base + vcpuBytes + 63) & ~63
        let domainStore = UnsafeMutablePointer<CreditDomain>(bitPattern: UInt(domainAddress)).unsafelyUnwrapped
        let cpuAddress = (domainAddress + domainBytes + 63) & ~63
        let cpuStore = UnsafeMutablePointer<CreditCPU>(bitPattern: UInt(cpuAddress)).unsafelyUnwrapped
        let config = CreditSchedulerConfig(timesliceMs: Int(options.creditTimesliceMs),
                                           ratelimitUs: Int(options.effectiveRateLimitUs))
        credit = CreditScheduler(config: config, cpuCount: PerCPU.onlineCount,
                                 vcpus: UnsafeMutableBufferPointer(start: vcpuStore, count: vcpuCount),
                                 domains: UnsafeMutableBufferPointer(start: domainStore, count: 1),
                                 cpus: UnsafeMutableBufferPointer(start: cpuStore, count: PerCPU.onlineCount), now: now)
        do throws(SchedulerError) {
            try credit.addDomain(0, weight: CreditSchedulerConfig.defaultWeight, cap: 0)
            for v in 0..<vcpuCount {
                let affinity = pin ? CPUMask.only(v % PerCPU.onlineCount) : CPUMask.first(PerCPU.onlineCount)
                try credit.addVCPU(v, domain: 0, affinity: affinity, now: now)
            }
        } catch {
            panic("The credit scheduler refused dom0's vCPUs")
        }
        started = true
    }

    // MARK: runnable or not

    static func isRunnable(_ v: Int) -> Bool {
        let record = PV.vcpu(v)
        guard record.pointee.isInitialised && record.pointee.isUp else { return false }
        if case .none = record.pointee.wait { return true }
        return false
    }

    /// Tells the scheduler what `v` is now; a CPU that must pick again is told to.
    static func updateRunnable(_ v: Int) {
        guard started else { return }
        let time = now
        let runnable = isRunnable(v)
        PV.vcpu(v).pointee.isAwake = runnable
        let cpu = runnable ? credit.wake(v, now: time) : credit.block(v, now: time)
        if let cpu { tickle(cpu) }
    }

    /// Asks `cpu` to pick again before it returns to a guest (an IPI if it is another).
    static func tickle(_ cpu: Int) {
        PerCPU.cpus[cpu].needsReschedule = true
        if cpu != PerCPU.index { SMP.sendIPI(toAPIC: PerCPU.cpus[cpu].apicID, vector: UInt8(kickVector)) }
    }

    /// The CPU a vCPU is running on right now, if any.
    static func cpuRunning(_ v: Int) -> Int? {
        for cpu in 0..<PerCPU.onlineCount where PerCPU.cpus[cpu].runningGuest && PerCPU.cpus[cpu].loadedVCPU == v {
            return cpu
        }
        return nil
    }

    // MARK: events and waits

    /// After an event became pending for `kicked` (its upcall flag newly set) or on a port
    /// someone may poll: wake what waits for it, and make a vCPU running on another CPU
    /// look at its events now rather than at its next exit.
    static func eventsChanged(kicked: EventKick?) {
        if let kicked, Int(kicked.vcpu) < PV.current.vcpuCount {
            let v = Int(kicked.vcpu)
            if case .none = PV.vcpu(v).pointee.wait {
                if let cpu = cpuRunning(v), cpu != PerCPU.index {
                    SMP.sendIPI(toAPIC: PerCPU.cpus[cpu].apicID, vector: UInt8(kickVector))
                }
            } else {
                recheckWait(v)
            }
        }
        if pollingVCPUs > 0 {
            for v in 0..<PV.current.vcpuCount { recheckWait(v) }
        }
    }

    /// Ends `v`'s wait if what it waits for has happened.
    static func recheckWait(_ v: Int) {
        let record = PV.vcpu(v)
        let info = DirectMap.pointer(to: record.pointee.vcpuInfoMachineAddress, as: UInt8.self)
        let upcallPending = info.pointee != 0
        switch record.pointee.wait {
        case .none:
            return
        case .event:
            guard upcallPending else { return }
        case .poll(let deadline):
            var done = upcallPending && !record.pointee.pollUpcallWasPending
            if deadline != 0 && now >= deadline { done = true }
            if !done {
                let bitmaps = Events.bitmaps
                for index in 0..<record.pointee.pollCount where bitmaps.isPending(record.pointee.pollPorts[index]) {
                    done = true
                    break
                }
            }
            guard done else { return }
            pollingVCPUs -= 1
        }
        record.pointee.wait = .none
        updateRunnable(v)
    }

    /// Puts the calling vCPU to wait; its hypercall has already produced its result, so
    /// it resumes after the hypercall when woken.
    static func wait(_ what: VCPUWait) {
        let v = PerCPU.cpus[PerCPU.index].loadedVCPU
        PV.vcpu(v).pointee.wait = what
        if case .poll = what { pollingVCPUs += 1 }
        updateRunnable(v)
    }

    static func yield() {
        let v = PerCPU.cpus[PerCPU.index].loadedVCPU
        if let cpu = credit.yield(v, now: now) { tickle(cpu) }
    }

    // MARK: ticks and decisions

    /// Every CPU's 10 ms tick.
    static func tick(cpu: Int) {
        guard started else { return }
        if credit.tick(cpu: cpu, now: now) { PerCPU.cpus[cpu].needsReschedule = true }
    }

    /// On the way back to a guest (frame at the top of this CPU's stack): pick again if
    /// asked to. Returns with `frame` holding whichever vCPU runs next; never returns if
    /// nothing is left to run here (the CPU idles).
    static func beforeReturnToGuest(_ frame: TrapFrame, cpu: Int) {
        guard PerCPU.cpus[cpu].needsReschedule else { return }
        PerCPU.cpus[cpu].needsReschedule = false
        let decision = credit.pickNext(cpu: cpu, now: now)
        if let other = decision.tickle, other != cpu { tickle(other) }
        let current = PerCPU.cpus[cpu].loadedVCPU
        guard let next = decision.vcpu else {
            VCPUContext.save(current, from: frame, cpu: cpu)
            idleLoop(cpu: cpu)
        }
        guard next != current else { return }
        VCPUContext.save(current, from: frame, cpu: cpu)
        VCPUContext.load(next, into: frame, cpu: cpu)
    }

    /// A CPU with nothing to run: halt until an interrupt, then ask the scheduler again.
    /// Called with the hypervisor lock held; leaves only into a guest.
    static func idleLoop(cpu: Int) -> Never {
        PerCPU.cpus[cpu].runningGuest = false
        while true {
            GuestTimers.check()
            if started && PerCPU.cpus[cpu].needsReschedule {
                PerCPU.cpus[cpu].needsReschedule = false
                let decision = credit.pickNext(cpu: cpu, now: now)
                if let other = decision.tickle, other != cpu { tickle(other) }
                if let next = decision.vcpu { enter(next, cpu: cpu) }
            }
            let held = HypervisorLock.releaseAll(cpu: cpu)
            x86_sti_hlt()
            CPU.disableInterrupts()
            HypervisorLock.reacquire(cpu: cpu, depth: max(held, 1))
        }
    }

    /// Enters vCPU `v` on this CPU from the idle loop (or the first time): its frame goes
    /// to the top of the CPU's guest-entry stack, where its next trap will put one.
    static func enter(_ v: Int, cpu: Int) -> Never {
        let top = ImageLayout.guestStackTop(cpu: cpu)
        let raw = UnsafeMutableRawPointer(bitPattern: UInt(top) - UInt(MemoryLayout<x86_trap_frame>.size)).unsafelyUnwrapped
        let frame = TrapFrame(raw)
        VCPUContext.load(v, into: frame, cpu: cpu)
        Events.deliverIfDue(frame)
        _ = HypervisorLock.releaseAll(cpu: cpu)
        apus_enter_guest(raw.assumingMemoryBound(to: x86_trap_frame.self))
    }
}
