// Flushing the TLBs of other CPUs when a guest asks for a flush beyond its own vCPU
// (mmuext TLB_FLUSH/INVLPG _MULTI and _ALL, update_va_mapping with UVMF_ALL or a vCPU
// mask): every other online CPU gets a request flag and the flush IPI, and the sender
// waits until each has flushed. The sender holds the hypervisor lock, so the IPI is
// answered without it (Traps.swift), and a CPU spinning for the lock answers requests
// while it spins (HypervisorLock). A remote flush drops everything, global pages too,
// which also covers any single-page request.
import ArchX86

enum TLBShootdown {
    static let vector = 0xF2

    static func flushOtherCPUs() {
        let me = PerCPU.index
        guard PerCPU.onlineCount > 1 else { return }
        for cpu in 0..<PerCPU.onlineCount where cpu != me {
            SMP.setFlushRequest(cpu: cpu)
            SMP.sendIPI(toAPIC: PerCPU.cpus[cpu].apicID, vector: UInt8(vector))
        }
        for cpu in 0..<PerCPU.onlineCount where cpu != me {
            while SMP.hasFlushRequest(cpu: cpu) { SMP.pause() }
        }
    }

    static func serviceRequest(cpu: Int) {
        guard SMP.hasFlushRequest(cpu: cpu) else { return }
        CPU.flushAllTranslations()
        _ = SMP.takeFlushRequest(cpu: cpu)  // only now may the sender go on
    }
}
