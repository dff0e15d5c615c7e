// The state Apus keeps for a running PV domain and its vCPU: what the guest registered
// (trap table, callbacks, kernel stack), which mode it is in, its page-table roots.
//
// One domain with one vCPU for now (dom0, vCPU 0): the scheduler issue turns this into
// per-domain and per-vCPU tables. Invariant: `current` is the domain whose page tables are
// loaded whenever a guest runs or a hypercall executes.
import ApusCore
import ArchX86

struct PVCallbacks {
    var event: UInt64 = 0
    var failsafe: UInt64 = 0
    var syscall: UInt64 = 0
    var nmi: UInt64 = 0
    /// CALLBACKF_mask_events per callback: events stay masked while it runs.
    var syscallMasksEvents = false
}

struct PVVCPU {
    var inKernelMode = true
    var kernelStackSegment: UInt64 = 0xE02B
    var kernelStackPointer: UInt64 = 0
    var traps = GuestTrapTable()
    var callbacks = PVCallbacks()
    /// Machine frame numbers of the L4 tables for kernel and user mode (0: none yet).
    var kernelTableFrame: UInt64 = 0
    var userTableFrame: UInt64 = 0
    var fsBase: UInt64 = 0
    var gsBaseKernel: UInt64 = 0
    var gsBaseUser: UInt64 = 0
    /// The guest's virtual IOPL (physdev_op set_iopl), as RFLAGS bits 12-13.
    var iopl: UInt64 = 0
    /// Machine address of this vCPU's vcpu_info (in shared_info until the guest moves it).
    var vcpuInfoMachineAddress: UInt64 = 0
    /// CR0.TS as the guest set it with fpu_taskswitch.
    var fpuTaskSwitched = false
}

struct PVDomain {
    var id: UInt16 = 0
    var isPrivileged = true
    var pageCount: UInt64 = 0
    var maximumPageCount: UInt64 = 0
    var sharedInfoFrame: UInt64 = 0
    var vmAssist: UInt64 = 0
    var vcpu = PVVCPU()
    var started = false
}

enum PV {
    nonisolated(unsafe) static var current = PVDomain()

    /// The current vCPU's event mask byte (vcpu_info.evtchn_upcall_mask). A static
    /// accessor on purpose: a computed property of PVDomain would copy the whole domain
    /// (its 4 KiB trap table) on every access, which made each bounce cost ~14k
    /// instructions (measured by the bench guest).
    static var upcallMask: UInt8 {
        get { DirectMap.pointer(to: current.vcpu.vcpuInfoMachineAddress + 1, as: UInt8.self).pointee }
        set { DirectMap.pointer(to: current.vcpu.vcpuInfoMachineAddress + 1, as: UInt8.self).pointee = newValue }
    }
}
