// What several CPUs need from the hardware: inter-processor interrupts through the local
// APIC, starting an application processor (INIT-SIPI-SIPI into boot/ap.S's trampoline),
// and the words CPUs share (the hypervisor lock, flush requests, online flags), always
// through locked instructions. Policy (who starts when, what an IPI means) is in Apus.
import X86Shim

public enum SMP {
    /// Sends `vector` as a fixed interrupt to the CPU whose local APIC id is `apicID`.
    public static func sendIPI(toAPIC apicID: UInt32, vector: UInt8) {
        LocalAPIC.sendCommand(destination: apicID, command: UInt32(vector))
    }

    /// Where the trampoline's code is in the image: .boot.text is linked at physical
    /// addresses, so the caller reads it through the direct map.
    public static var trampolinePhysical: UInt64 { x86_ap_trampoline() }

    /// Copies the trampoline (readable at `image`) below 1 MiB (through `lowMemory`, the
    /// direct-map address of AP_TRAMPOLINE_BASE), sets the AP's page tables, stack and CPU
    /// number, and sends INIT, then two start-up IPIs, `delay(microseconds)` apart as the
    /// MP spec asks.
    public static func startProcessor(apicID: UInt32, cpu: Int, pageTableRoot: UInt64, stackTop: UInt64,
                                      image: UInt64, lowMemory: UInt64, delay: (UInt64) -> Void) {
        let size = Int(x86_ap_trampoline_size())
        let source = UnsafeRawPointer(bitPattern: UInt(image)).unsafelyUnwrapped
        UnsafeMutableRawPointer(bitPattern: UInt(lowMemory)).unsafelyUnwrapped.copyMemory(from: source, byteCount: size)
        x86_set_ap_boot(pageTableRoot, stackTop, UInt64(cpu))
        LocalAPIC.sendCommand(destination: apicID, command: 0x4500)         // INIT, assert, level
        delay(10_000)
        let startPage = UInt32(trampolineBase >> 12)
        for _ in 0..<2 {
            LocalAPIC.sendCommand(destination: apicID, command: 0x4600 | startPage)  // start-up
            delay(200)
        }
    }

    public static let trampolineBase: UInt64 = 0x8000

    // MARK: the hypervisor lock (one word; owner = CPU number + 1, recursion counted by Apus)

    @inline(__always) public static func tryLock(owner: UInt32) -> Bool {
        x86_compare_exchange32(x86_hypervisor_lock(), 0, owner)
    }
    @inline(__always) public static var lockOwner: UInt32 { x86_load_acquire32(x86_hypervisor_lock()) }
    @inline(__always) public static func unlock() { x86_store_release32(x86_hypervisor_lock(), 0) }

    // MARK: per-CPU flags

    @inline(__always) public static func setFlushRequest(cpu: Int) {
        x86_store_release32(x86_cpu_flush_request(UInt32(cpu)), 1)
    }
    @inline(__always) public static func takeFlushRequest(cpu: Int) -> Bool {
        let word = x86_cpu_flush_request(UInt32(cpu))
        guard x86_load_acquire32(word) != 0 else { return false }
        return x86_exchange32(word, 0) != 0
    }
    @inline(__always) public static func hasFlushRequest(cpu: Int) -> Bool {
        x86_load_acquire32(x86_cpu_flush_request(UInt32(cpu))) != 0
    }
    public static func setDumpRequest(cpu: Int, _ on: Bool) {
        x86_store_release32(x86_cpu_dump_request(UInt32(cpu)), on ? 1 : 0)
    }
    public static func hasDumpRequest(cpu: Int) -> Bool { x86_load_acquire32(x86_cpu_dump_request(UInt32(cpu))) != 0 }
    public static func setOnline(cpu: Int) { x86_store_release32(x86_cpu_online(UInt32(cpu)), 1) }
    public static func isOnline(cpu: Int) -> Bool { x86_load_acquire32(x86_cpu_online(UInt32(cpu))) != 0 }

    /// The per-CPU word holding the address of the vCPU record loaded on `cpu`.
    @inline(__always) public static func currentRecord(cpu: Int) -> UInt64 { x86_cpu_current_vcpu(UInt32(truncatingIfNeeded: cpu)) }
    @inline(__always) public static func setCurrentRecord(cpu: Int, _ address: UInt64) {
        x86_set_cpu_current_vcpu(UInt32(truncatingIfNeeded: cpu), address)
    }

    @inline(__always) public static func pause() { x86_pause() }
    @inline(__always) public static var stackPointer: UInt64 { x86_read_rsp() }
}
