// The state Apus keeps for a running PV domain and each of its vCPUs: what the guest
// registered (trap table, callbacks, kernel stack), which mode a vCPU is in, its page-table
// roots, its saved registers while it does not run, its timers and what it waits for.
//
// One domain (dom0) with up to `maxVCPUs` vCPUs. The vCPU records live in frames Apus
// allocates when it builds the domain (each record is page aligned and is followed by a
// page for its FPU state); `PV.vcpu` is the record whose state is loaded on this CPU.
// Invariant: `current` is the domain whose page tables are loaded whenever a guest runs or
// a hypercall executes. Never add computed properties to these structs that read the whole
// record: a 4 KiB trap table copied per access is what made each bounce cost ~14k
// instructions once.
import ApusCore
import ArchX86
import X86Shim

struct PVCallbacks {
    var event: UInt64 = 0
    var failsafe: UInt64 = 0
    var syscall: UInt64 = 0
    var nmi: UInt64 = 0
    /// CALLBACKF_mask_events per callback: events stay masked while it runs.
    var syscallMasksEvents = false
}

/// What a blocked vCPU waits for (SCHEDOP_block and SCHEDOP_poll).
enum VCPUWait {
    case none
    /// Any event upcall becoming pending.
    case event
    /// One of `pollPorts` pending, `deadline` passed (0: none) or a new upcall.
    case poll(deadline: UInt64)
}

struct PVVCPU {
    var id: UInt16 = 0
    /// Has a register context (vCPU 0 from the builder, the others from VCPUOP_initialise).
    var isInitialised = false
    /// Not taken down (VCPUOP_up/down); a vCPU that is up and not waiting is runnable.
    var isUp = false
    var wait = VCPUWait.none
    /// The scheduler was last told it is runnable (Scheduling.updateRunnable).
    var isAwake = false
    var pollPorts = InlineArray<128, UInt32>(repeating: 0)
    var pollCount = 0
    /// vcpu_info.evtchn_upcall_pending when the poll began: a new upcall ends it (Xen).
    var pollUpcallWasPending = false

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
    /// Data segment selectors while switched out (the CPU holds them while it runs).
    var dataSelectors: (ds: UInt16, es: UInt16, fs: UInt16, gs: UInt16) = (0, 0, 0, 0)
    /// The guest's virtual IOPL (physdev_op set_iopl), as RFLAGS bits 12-13.
    var iopl: UInt64 = 0
    /// Machine address of this vCPU's vcpu_info (in shared_info until the guest moves it).
    var vcpuInfoMachineAddress: UInt64 = 0
    /// CR0.TS as the guest set it with fpu_taskswitch.
    var fpuTaskSwitched = false
    /// Direct-map address of the 512-byte fxsave area (its own page).
    var fpuArea: UInt64 = 0
    var fpuInitialised = false

    /// Guest address of the vcpu_runstate_info Apus keeps current (0: none registered).
    var runstateArea: UInt64 = 0
    /// When the vCPU entered its current runstate, and the time spent in each (ns).
    var runstateEntry: UInt64 = 0
    var runstateTimes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var runstate: Int32 = 3

    /// Registers while the vCPU is not running (the CPU's trap frame holds them while it is).
    var frame = x86_trap_frame()

    // Timers (GuestTimers.swift): absolute system time in ns, 0 = not armed.
    var singleShotDeadline: UInt64 = 0
    var periodNs: UInt64 = 0
    var nextPeriodic: UInt64 = 0

    // Descriptor tables (SegmentDescriptors.swift).
    var gdtFrames = InlineArray<14, UInt64>(repeating: 0)
    var gdtFrameCount = 0
    var ldtBase: UInt64 = 0
    var ldtEntries = 0
    var ldtFrames = InlineArray<16, UInt64>(repeating: 0)
}

struct PVDomain {
    var id: UInt16 = 0
    var isPrivileged = true
    var pageCount: UInt64 = 0
    var maximumPageCount: UInt64 = 0
    var sharedInfoFrame: UInt64 = 0
    var vmAssist: UInt64 = 0
    var vcpuCount = 0
    var started = false
}

enum PV {
    nonisolated(unsafe) static var current = PVDomain()
    /// The domain's vCPU records (`current.vcpuCount` of them, `recordStride` bytes apart).
    nonisolated(unsafe) static var vcpuTable: UInt64 = 0
    static let maxVCPUs = 8

    static var recordPages: Int { (MemoryLayout<PVVCPU>.size + 4095) / 4096 + 1 }
    static var recordStride: UInt64 { UInt64(recordPages) * 4096 }

    /// vCPU `index`'s record.
    @inline(__always) static func vcpu(_ index: Int) -> UnsafeMutablePointer<PVVCPU> {
        UnsafeMutablePointer<PVVCPU>(bitPattern: UInt(vcpuTable &+ UInt64(index) &* recordStride)).unsafelyUnwrapped
    }

    /// The vCPU whose state is loaded on this CPU (the caller of a hypercall): one load
    /// from a per-CPU word kept by `setLoaded` (this is on every hypercall's path).
    @inline(__always) static var vcpu: UnsafeMutablePointer<PVVCPU> {
        UnsafeMutablePointer<PVVCPU>(bitPattern: UInt(SMP.currentRecord(cpu: PerCPU.index))).unsafelyUnwrapped
    }

    /// The guest L4 `vcpu` runs on now: its kernel table in kernel mode, else its user
    /// table (the kernel's serves both until it sets one, as on Xen).
    @inline(__always) static func guestRoot(of vcpu: UnsafeMutablePointer<PVVCPU>) -> UInt64 {
        vcpu.pointee.inKernelMode || vcpu.pointee.userTableFrame == 0
            ? vcpu.pointee.kernelTableFrame : vcpu.pointee.userTableFrame
    }

    /// Records that vCPU `v`'s state is loaded on `cpu`.
    static func setLoaded(_ v: Int, cpu: Int) {
        PerCPU.cpus[cpu].loadedVCPU = v
        SMP.setCurrentRecord(cpu: cpu, vcpuTable &+ UInt64(v) &* recordStride)
    }

    /// Allocates and clears `count` vCPU records with their FPU pages.
    static func createVCPUs(count: Int) {
        let pages = UInt64(recordPages * count)
        guard let first = Memory.allocator.allocate(order: MachineToPhys.orderFor(bytes: pages * 4096)) else {
            panic("No memory for dom0's vCPU records")
        }
        vcpuTable = DirectMap.address(of: first << 12)
        current.vcpuCount = count
        for cpu in 0..<PerCPU.onlineCount { setLoaded(0, cpu: cpu) }
        for index in 0..<count {
            let record = vcpu(index)
            record.initialize(to: PVVCPU())
            record.pointee.id = UInt16(index)
            record.pointee.fpuArea = UInt64(UInt(bitPattern: record)) + recordStride - 4096
            record.pointee.vcpuInfoMachineAddress = current.sharedInfoFrame << 12 + UInt64(index) * 64
            // Events start masked on every vCPU; each gets its time info.
            DirectMap.pointer(to: record.pointee.vcpuInfoMachineAddress + 1, as: UInt8.self).pointee = 1
            GuestTime.update(vcpuInfoMachineAddress: record.pointee.vcpuInfoMachineAddress)
        }
        GuestTime.writeWallClock(sharedInfoFrame: current.sharedInfoFrame)
    }

    /// The current vCPU's event mask byte (vcpu_info.evtchn_upcall_mask).
    static var upcallMask: UInt8 {
        get { DirectMap.pointer(to: vcpu.pointee.vcpuInfoMachineAddress + 1, as: UInt8.self).pointee }
        set { DirectMap.pointer(to: vcpu.pointee.vcpuInfoMachineAddress + 1, as: UInt8.self).pointee = newValue }
    }
}
