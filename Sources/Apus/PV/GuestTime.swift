// The time fields Apus keeps in a vCPU's vcpu_info, so the guest reads system time (ns
// since Apus booted) from the TSC without a hypercall. Updated under the version
// protocol (odd while being written). Periodic updates and the wall clock come with the
// time issue; under a constant TSC one update already stays right.
import ApusCore
import ArchX86

enum GuestTime {
    nonisolated(unsafe) static var bootTSC: UInt64 = 0

    /// Nanoseconds since Apus booted: the system time guests see.
    static var now: UInt64 {
        guard let scale = Timers.tscScale else { return 0 }
        return scale.nanoseconds(CPU.readTimeStampCounter() &- bootTSC)
    }

    static func update(vcpuInfoMachineAddress address: UInt64) {
        guard let scale = Timers.tscScale else { return }
        let time = UnsafeMutableRawPointer(DirectMap.pointer(to: address + 32, as: UInt8.self))
        let version = time.load(as: UInt32.self)
        time.storeBytes(of: version | 1, as: UInt32.self)
        let now = CPU.readTimeStampCounter()
        time.storeBytes(of: now, toByteOffset: 8, as: UInt64.self)
        time.storeBytes(of: scale.nanoseconds(now &- bootTSC), toByteOffset: 16, as: UInt64.self)
        time.storeBytes(of: scale.multiplier, toByteOffset: 24, as: UInt32.self)
        time.storeBytes(of: scale.shift, toByteOffset: 28, as: Int8.self)
        time.storeBytes(of: (version | 1) &+ 1, as: UInt32.self)
    }
}
