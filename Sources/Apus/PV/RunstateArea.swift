// VCPUOP_register_runstate_memory_area: a vCPU's vcpu_runstate_info kept current in guest
// memory (the state, when it was entered, the time spent in each state), so a guest
// accounts steal time without a hypercall. Apus moves a vCPU between running and the
// state it leaves for at every switch (VCPUContext) and writes the area then, with the
// vCPU's own page tables loaded; an area the guest unmapped is simply not written, as on
// Xen.
import ApusCore
import ApusPublic
import ArchX86

enum RunstateArea {
    /// Enters `state` for vCPU `v` now, accounting the time spent in the one it leaves.
    static func enter(_ v: Int, state: Int32) {
        let record = PV.vcpu(v)
        let now = GuestTime.now
        let spent = now &- record.pointee.runstateEntry
        switch record.pointee.runstate {
        case 0: record.pointee.runstateTimes.0 &+= spent
        case 1: record.pointee.runstateTimes.1 &+= spent
        case 2: record.pointee.runstateTimes.2 &+= spent
        default: record.pointee.runstateTimes.3 &+= spent
        }
        record.pointee.runstate = state
        record.pointee.runstateEntry = now
    }

    /// Writes the area of vCPU `v` (its page tables must be loaded).
    static func update(_ v: Int) {
        let record = PV.vcpu(v)
        guard record.pointee.runstateArea != 0 else { return }
        var info = vcpu_runstate_info()
        info.state = record.pointee.runstate
        info.state_entry_time = record.pointee.runstateEntry
        info.time = record.pointee.runstateTimes
        _ = GuestMemory.write(info, to: record.pointee.runstateArea)
    }
}
