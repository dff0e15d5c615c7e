// The debug-key dumps that read domains, vCPUs, CPUs and the scheduler (`q`, `e`, `r`, `d`,
// `0`), and console input's two touch points with dom0 (is it running; raise
// VIRQ_CONSOLE). Everything that knows the shape of PV's vCPU records, PerCPU and
// Scheduling is here, so that is the one file to change when they change.
// Formats are Xen 4.17's (see ../shared/reference/xen-4.17-debugkeys.log); what Apus does
// not keep (rangesets, reference counts beyond one, shared-memory statistics) is left out
// rather than invented. Runs under the hypervisor lock, on the CPU that took the serial
// interrupt.
import ApusCore
import ApusPublic
import ArchX86
import X86Shim

enum DebugKeyDumps {
    static var dom0Running: Bool { PV.current.started && Events.tableStorage != 0 }

    /// Global VIRQ_CONSOLE to dom0, waking the vCPU that waits for it.
    static func raiseConsoleVIRQ() {
        guard dom0Running else { return }
        let kick = EventChannelOperations.sendGlobalVIRQ(VIRQ.console, directory: CurrentDomainEvents())
        Scheduling.eventsChanged(kicked: kick)
    }

    // MARK: vCPU state

    /// The CPU running vCPU `v` now, or where its state is loaded, or 0.
    static func processor(of v: Int) -> Int {
        if let cpu = Scheduling.cpuRunning(v) { return cpu }
        for cpu in 0..<PerCPU.onlineCount where PerCPU.cpus[cpu].loadedVCPU == v { return cpu }
        return 0
    }

    /// vCPU `v`'s registers: the trap frame on its CPU's stack while it runs there (it
    /// trapped into Apus to get here), the copy in its record otherwise.
    static func guestFrame(_ v: Int) -> TrapFrame {
        if let cpu = Scheduling.cpuRunning(v) {
            let top = ImageLayout.guestStackTop(cpu: cpu)
            return TrapFrame(UnsafeMutableRawPointer(bitPattern: UInt(top) - UInt(MemoryLayout<x86_trap_frame>.size))
                .unsafelyUnwrapped)
        }
        return TrapFrame(UnsafeMutableRawPointer(PV.vcpu(v)).advanced(by: MemoryLayout<PVVCPU>.offset(of: \.frame)!))
    }

    static func vcpuInfo(_ v: Int) -> UInt64 { DirectMap.address(of: PV.vcpu(v).pointee.vcpuInfoMachineAddress) }
    static func upcallPending(_ v: Int) -> UInt8 { UnsafePointer<UInt8>(bitPattern: UInt(vcpuInfo(v))).unsafelyUnwrapped.pointee }
    static func upcallMask(_ v: Int) -> UInt8 { UnsafePointer<UInt8>(bitPattern: UInt(vcpuInfo(v) + 1)).unsafelyUnwrapped.pointee }
    static func selectorWord(_ v: Int) -> UInt64 {
        UnsafePointer<UInt64>(bitPattern: UInt(vcpuInfo(v) + 8)).unsafelyUnwrapped.pointee
    }

    /// Xen's poll_evtchn: 0 when not in SCHEDOP_poll, the port when polling one, -1 for several.
    static func polledPort(_ v: Int) -> Int {
        let record = PV.vcpu(v)
        guard case .poll = record.pointee.wait else { return 0 }
        return record.pointee.pollCount == 1 ? Int(record.pointee.pollPorts[0]) : -1
    }

    static func isWaiting(_ v: Int) -> Bool {
        if case .none = PV.vcpu(v).pointee.wait { return false }
        return true
    }

    static var onlineMask: UInt64 { PerCPU.onlineCount >= 64 ? ~0 : (UInt64(1) << UInt64(PerCPU.onlineCount)) - 1 }

    // MARK: e

    static func eventChannels(frame: TrapFrame) {
        guard dom0Running, let table = CurrentDomainEvents().table(of: PV.current.id) else { return }
        var polling: UInt64 = 0
        for v in 0..<min(PV.current.vcpuCount, 64) where polledPort(v) != 0 { polling |= 1 << UInt64(v) }
        DebugKeys.printing { c in
            EventChannelDump.write(table: table, bitmaps: Events.bitmaps, pollingVCPUs: polling,
                                   selectorIsSet: { v, word in selectorWord(Int(v)) & (1 << UInt64(word)) != 0 }, into: &c)
        }
    }

    // MARK: q

    static func domains(key: UInt8, frame: TrapFrame) {
        DebugKeys.printing { c in
            c.put(0x27); c.put(key); c.write("' pressed -> dumping domain info (now = ")
            c.write(decimal: GuestTime.now); c.writeLine(")")
        }
        guard dom0Running else { return }
        let id = PV.current.id
        var dirty: UInt64 = 0
        for cpu in 0..<PerCPU.onlineCount where PerCPU.cpus[cpu].runningGuest { dirty |= 1 << UInt64(cpu) }
        DebugKeys.printing { c in
            c.write("General information for domain "); c.write(decimal: UInt64(id)); c.writeLine(":")
            c.writeLine("    refcnt=1 dying=0 pause_count=0")
            c.write("    nr_pages="); c.write(decimal: PV.current.pageCount)
            c.write(" xenheap_pages=1 dirty_cpus={"); DebugKeyPrinting.writeCPUList(dirty, into: &c)
            c.write("} max_pages="); c.write(decimal: PV.current.maximumPageCount); c.newline()
            c.write("    handle=00000000-0000-0000-0000-000000000000 vm_assist=")
            c.write(hex: PV.current.vmAssist, minimumDigits: 8); c.newline()
            c.write("Memory pages belonging to domain "); c.write(decimal: UInt64(id)); c.writeLine(":")
            c.writeLine("    DomPage list too long to display")
            let mfn = PV.current.sharedInfoFrame
            let info = mfn < UInt64(Memory.allocator.frameCount) ? Memory.allocator.frameTable[Int(mfn)] : FrameInfo()
            c.write("    XenPage "); c.write(hex: mfn, minimumDigits: 16)
            c.write(": caf="); c.write(hex: info.countInfo, minimumDigits: 8)
            c.write(", taf="); c.write(hex: info.typeInfo, minimumDigits: 16); c.newline()
            c.write("NODE affinity for domain "); c.write(decimal: UInt64(id)); c.writeLine(": [0]")
            c.write("VCPU information and callbacks for domain "); c.write(decimal: UInt64(id)); c.writeLine(":")
        }
        for v in 0..<PV.current.vcpuCount {
            let running = Scheduling.cpuRunning(v) != nil
            let record = PV.vcpu(v)
            DebugKeys.printing { c in
                c.write("  UNIT"); c.write(decimal: UInt64(v)); c.write(" affinities: hard={")
                DebugKeyPrinting.writeCPUList(onlineMask, into: &c); c.write("} soft={")
                DebugKeyPrinting.writeCPUList(onlineMask, into: &c); c.writeLine("}")
                DebugKeyPrinting.writeVCPUStateLine(vcpu: v, cpu: processor(of: v), running: running,
                                                    pollingPort: polledPort(v), upcallPending: upcallPending(v),
                                                    upcallMask: upcallMask(v), into: &c)
                if running { c.write("dirty_cpu="); c.write(decimal: UInt64(processor(of: v))) }
                c.newline()
                // pause_flags: Xen's VPF_blocked (1) while waiting, VPF_down (2) while down.
                let flags: UInt64 = (isWaiting(v) ? 1 : 0) | (record.pointee.isUp ? 0 : 2)
                c.write("    pause_count=0 pause_flags="); c.write(hex: flags); c.newline()
                DebugKeyPrinting.writePeriodicTimer(periodNs: record.pointee.periodNs, into: &c); c.newline()
            }
        }
        for v in 0..<PV.current.vcpuCount {
            let port = CurrentDomainEvents().table(of: id)?.virqPort(VIRQ.debug, vcpu: UInt16(v)) ?? 0
            DebugKeys.printing { c in
                c.write("Notifying guest "); c.write(decimal: UInt64(id)); c.put(0x3A); c.write(decimal: UInt64(v))
                c.write(" (virq 1, port "); c.write(decimal: UInt64(port)); c.write(")")
            }
            let kick = EventChannelOperations.sendVCPUVIRQ(VIRQ.debug, vcpu: UInt16(v), domain: id,
                                                           directory: CurrentDomainEvents())
            Scheduling.eventsChanged(kicked: kick)
        }
    }

    // MARK: r

    /// Xen's dump_runq: the pool, the credit scheduler's info block, then each CPU's
    /// current vCPU, run-queue summary and queue.
    static func runQueues(frame: TrapFrame) {
        let name: (Int) -> (domain: Int, vcpu: Int) = { v in (0, v) }
        DebugKeys.printing { c in
            c.writeLine("sched_smt_power_savings: disabled")
            c.write("NOW="); c.write(decimal: GuestTime.now); c.newline()
            c.write("Online Cpus: "); DebugKeyPrinting.writeCPUList(onlineMask, into: &c); c.newline()
            c.writeLine("Cpupool 0:")
            c.write("Cpus: "); DebugKeyPrinting.writeCPUList(onlineMask, into: &c); c.newline()
            c.writeLine("Scheduling granularity: cpu, 1 CPU per sched-resource")
            c.writeLine("Scheduler: SMP Credit Scheduler (credit)")
            if Scheduling.started { Scheduling.credit.writeInfo(into: &c, name: name) }
            c.writeLine("CPUs info:")
            for cpu in 0..<PerCPU.onlineCount {
                let state = PerCPU.cpus[cpu]
                c.write("CPU["); c.write(decimal: UInt64(cpu), minimumWidth: 2, pad: 0x30); c.write("] current=")
                let onGuest = state.runningGuest && dom0Running
                DebugKeyPrinting.writeVCPUName(domain: onGuest ? PV.current.id : nil,
                                               vcpu: onGuest ? state.loadedVCPU : cpu, into: &c)
                c.write(", curr=")
                DebugKeyPrinting.writeVCPUName(domain: onGuest ? PV.current.id : nil,
                                               vcpu: onGuest ? state.loadedVCPU : cpu, into: &c)
                c.writeLine(", prev=NULL")
                guard Scheduling.started else { continue }
                c.write("CPU["); c.write(decimal: UInt64(cpu), minimumWidth: 2, pad: 0x30); c.write("] ")
                Scheduling.credit.writeRunQueueSummary(cpu: cpu, into: &c)
                c.write(", sibling={"); c.write(decimal: UInt64(cpu)); c.write("}, core={")
                DebugKeyPrinting.writeCPUList(onlineMask, into: &c); c.writeLine("}")
                Scheduling.credit.writeRunQueue(cpu: cpu, into: &c, name: name)
            }
        }
    }

    // MARK: d and 0

    static let dumpVector = 0xF3

    /// Xen's 'd': this CPU's state, then each other online CPU's, one at a time: the CPU
    /// gets a dump request and an IPI and prints its own state from its interrupt
    /// (`answerDumpRequest`), while this one waits with the hypervisor lock released.
    static func registers(frame: TrapFrame) {
        registersOfThisCPU(frame: frame)
        let me = PerCPU.index
        for cpu in 0..<PerCPU.onlineCount where cpu != me {
            SMP.setDumpRequest(cpu: cpu, true)
            SMP.sendIPI(toAPIC: PerCPU.cpus[cpu].apicID, vector: UInt8(dumpVector))
            let held = HypervisorLock.releaseAll(cpu: me)
            let deadline = CPU.readTimeStampCounter() &+ 200 &* Platform.facts.tscPerMillisecond
            while SMP.hasDumpRequest(cpu: cpu) && CPU.readTimeStampCounter() < deadline { SMP.pause() }
            HypervisorLock.reacquire(cpu: me, depth: held)
            if SMP.hasDumpRequest(cpu: cpu) {
                SMP.setDumpRequest(cpu: cpu, false)
                DebugKeys.printing { c in c.write("CPU"); c.write(decimal: UInt64(cpu)); c.write(" did not answer within 200 ms") }
            }
        }
    }

    /// The dump IPI on another CPU (under the hypervisor lock).
    static func answerDumpRequest(frame: TrapFrame) {
        let cpu = PerCPU.index
        guard SMP.hasDumpRequest(cpu: cpu) else { return }
        registersOfThisCPU(frame: frame)
        SMP.setDumpRequest(cpu: cpu, false)
    }

    /// Xen's dump_execstate for one CPU: the host state when the interrupt came while in
    /// Apus (the CPU idles then), else the state of the vCPU it interrupted.
    static func registersOfThisCPU(frame: TrapFrame) {
        let cpu = PerCPU.index
        if frame.fromHypervisor {
            DebugKeys.printing { c in c.write("*** Dumping CPU"); c.write(decimal: UInt64(cpu)); c.writeLine(" host state: ***") }
            DebugKeys.writeRegisters(frame, cpu: cpu, guest: nil, eventMask: nil, cr3: CPU.cr3,
                                     bases: (CPU.readMSR(0xC000_0100), CPU.readMSR(0xC000_0101), CPU.readMSR(0xC000_0102)))
            DebugKeys.printing { $0.newline() }
            return
        }
        guard dom0Running else { return }
        let v = PerCPU.cpus[cpu].loadedVCPU
        DebugKeys.printing { c in
            c.write("*** Dumping CPU"); c.write(decimal: UInt64(cpu)); c.write(" guest state (")
            DebugKeyPrinting.writeVCPUName(domain: PV.current.id, vcpu: v, into: &c); c.writeLine("): ***")
        }
        writeGuestRegisters(v, cpu: cpu)
        DebugKeys.printing { $0.newline() }
    }

    static func dom0Registers(key: UInt8, frame: TrapFrame) {
        guard dom0Running else { return }
        DebugKeys.printing { c in c.put(0x27); c.put(key); c.write("' pressed -> dumping Dom0's registers") }
        for v in 0..<PV.current.vcpuCount {
            DebugKeys.printing { c in c.write("*** Dumping Dom0 vcpu#"); c.write(decimal: UInt64(v)); c.writeLine(" state: ***") }
            writeGuestRegisters(v, cpu: nil)
        }
    }

    /// `cpu` nil: a vCPU's saved state, which Xen prints without banner and CPU line.
    static func writeGuestRegisters(_ v: Int, cpu: Int?) {
        let record = PV.vcpu(v)   // a pointer: the record is several KiB, never copy it
        let kernel = record.pointee.inKernelMode
        let cr3 = (kernel ? record.pointee.kernelTableFrame : record.pointee.userTableFrame) << 12
        let gs = record.pointee.gsBaseKernel, gsUser = record.pointee.gsBaseUser
        DebugKeys.writeRegisters(guestFrame(v), cpu: cpu, guest: v, eventMask: upcallMask(v), cr3: cr3,
                                 bases: (record.pointee.fsBase, kernel ? gs : gsUser, kernel ? gsUser : gs))
    }
}
