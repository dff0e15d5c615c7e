// Saving a vCPU's CPU state into its record when it stops running on a CPU, and loading
// a vCPU's state onto a CPU: registers (the trap frame), FPU/SSE, data selectors, FS/GS
// bases, page tables by mode, CR0.TS, and its GDT frames and LDT in the CPU's windows.
// Both run with the hypervisor lock held and interrupts off.
import ApusCore
import ApusPublic
import ArchX86
import X86Shim

enum VCPUContext {
    static func save(_ v: Int, from frame: TrapFrame, cpu: Int) {
        let record = PV.vcpu(v)
        record.pointee.frame = frame.raw.load(as: x86_trap_frame.self)
        record.pointee.dataSelectors = GuestCPUState.dataSelectors
        record.pointee.fsBase = CPU.readMSR(MSR.fsBase)
        if record.pointee.inKernelMode {
            record.pointee.gsBaseKernel = CPU.readMSR(MSR.gsBase)
            record.pointee.gsBaseUser = CPU.readMSR(MSR.kernelGSBase)
        } else {
            record.pointee.gsBaseUser = CPU.readMSR(MSR.gsBase)
            record.pointee.gsBaseKernel = CPU.readMSR(MSR.kernelGSBase)
        }
        GuestCPUState.saveFPU(record.pointee.fpuArea)
        record.pointee.fpuInitialised = true
        PerCPU.cpus[cpu].runningGuest = false
        if record.pointee.runstateArea != 0 {
            let waiting: Bool
            if case .none = record.pointee.wait { waiting = false } else { waiting = true }
            RunstateArea.enter(v, state: waiting ? RUNSTATE_blocked : (record.pointee.isAwake ? RUNSTATE_runnable : RUNSTATE_offline))
            RunstateArea.update(v)
        }
    }

    static func load(_ v: Int, into frame: TrapFrame, cpu: Int) {
        let record = PV.vcpu(v)
        PV.setLoaded(v, cpu: cpu)
        PerCPU.cpus[cpu].runningGuest = true
        frame.raw.storeBytes(of: record.pointee.frame, as: x86_trap_frame.self)
        let kernel = record.pointee.inKernelMode
        Shadows.loadCR3(for: record)
        SegmentDescriptors.loadWindows(cpu: cpu)
        GuestCPUState.loadDataSelectors(record.pointee.dataSelectors)
        CPU.writeMSR(MSR.fsBase, record.pointee.fsBase)
        CPU.writeMSR(MSR.gsBase, kernel ? record.pointee.gsBaseKernel : record.pointee.gsBaseUser)
        CPU.writeMSR(MSR.kernelGSBase, kernel ? record.pointee.gsBaseUser : record.pointee.gsBaseKernel)
        if record.pointee.fpuInitialised {
            GuestCPUState.restoreFPU(record.pointee.fpuArea)
        } else {
            GuestCPUState.resetFPU()
        }
        if record.pointee.fpuTaskSwitched { CPU.writeCR0(CPU.cr0 | (1 << 3)) }
        if record.pointee.runstateArea != 0 {
            RunstateArea.enter(v, state: RUNSTATE_running)
            RunstateArea.update(v)
        }
    }
}
