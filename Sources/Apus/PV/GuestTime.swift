// The time fields Apus keeps in a vCPU's vcpu_info, so the guest reads system time (ns
// since Apus booted) from the TSC without a hypercall, and the wall clock in shared_info
// (the date at system time 0, from the CMOS RTC at boot). Both are written under the
// version protocol (odd while being written). Every CPU's TSC runs at the same constant
// rate from the same start (QEMU and invariant-TSC hardware), so one scale and one
// update per vCPU stay right.
import ApusCore
import ArchX86

enum GuestTime {
    nonisolated(unsafe) static var bootTSC: UInt64 = 0
    /// Nanoseconds since 1970 at system time 0 (nil: the RTC gave no valid date).
    nonisolated(unsafe) static var wallClockAtBootNs: UInt64? = nil

    /// Reads the RTC once (after calibration, so system time is meaningful).
    static func readWallClock() {
        let reading = RTC.read(centuryRegister: Firmware.facts.rtcCenturyRegister)
        let sampledAt = now
        guard let seconds = reading.unixSeconds else {
            Log.line(.warning) { $0.write("WARNING: the CMOS clock holds no valid date; guests' wall clock starts at 1970") }
            return
        }
        wallClockAtBootNs = seconds &* 1_000_000_000 &- sampledAt
        Log.line(.info) { c in
            c.write("Wall clock from the RTC: "); c.write(decimal: seconds); c.write(" s since 1970 (UTC)")
        }
    }

    /// shared_info's wc_sec/wc_nsec/wc_sec_hi under wc_version.
    static func writeWallClock(sharedInfoFrame: UInt64) {
        let at = wallClockAtBootNs ?? 0
        let info = UnsafeMutableRawPointer(DirectMap.pointer(to: sharedInfoFrame << 12 + 3072, as: UInt8.self))
        let version = info.load(as: UInt32.self)
        info.storeBytes(of: version | 1, as: UInt32.self)
        let seconds = at / 1_000_000_000
        info.storeBytes(of: UInt32(truncatingIfNeeded: seconds), toByteOffset: 4, as: UInt32.self)
        info.storeBytes(of: UInt32(at % 1_000_000_000), toByteOffset: 8, as: UInt32.self)
        info.storeBytes(of: UInt32(truncatingIfNeeded: seconds >> 32), toByteOffset: 12, as: UInt32.self)
        info.storeBytes(of: (version | 1) &+ 1, as: UInt32.self)
    }

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
