// Shared.swift: the memory every vCPU of the smp guest shares, and the per-vCPU views of
// shared_info (vcpu_info, vcpu_time_info, the 2-level event bitmaps).
//
// Owns the names of the words of a vCPU's record (smp_records in smp.S) and of the port
// table (smp_ports). Every shared word is read and written with the atomic helpers of
// smp.h; nothing here keeps state in Swift globals, which only vCPU 0 may use (and a
// global with a lazy initialiser would be a swift_once spin shared by every vCPU).
import XenGuest
import XenGuestC
import ApusPublic
import SMPProbes

let msNs: UInt64 = 1_000_000
let maxVCPUs = Int(SMP_MAX_VCPUS)
func errno(_ value: Int32) -> Int64 { -Int64(value) }

/// The words of a vCPU's record. vCPU 0 writes a command's arguments and then bumps
/// commandSeq; the vCPU runs it, writes results, then sets doneSeq = commandSeq.
enum Field: UInt64 {
    case selfAddress = 0          // %gs:0 on a vCPU whose GS base is this record
    case commandSeq, doneSeq, command, arg0, arg1, arg2, arg3
    case arrived, entryRDI, entryRSI, stackVCPU, gsWord, entryMask, entryCS, entrySS
    case breakpoints, timeVersion, timeMul
    case kickPort, timerPort, lastTimerNs
    case upcalls
    case marker                   // set just before a blocking hypercall of a command
    case flag                     // (record 0 only) an ordering flag vCPU 0 raises before a send
    case ipiPort                  // the IPI port the vCPU bound to itself
    case kicksSent                // kicks vCPU 0 sent with commands (see Secondary.swift)
    case result0 = 32             // results 0..<resultCount
    case filter = 63              // (record 0 only) see filtering()
}
let resultCount = 24

/// One vCPU's record.
struct Record {
    let vcpu: Int
    var base: UInt64 { smp_records_address() &+ UInt64(vcpu) &* UInt64(SMP_RECORD_WORDS) &* 8 }
    func address(_ field: Field) -> UInt64 { base &+ field.rawValue &* 8 }
    func load(_ field: Field) -> UInt64 { smp_load64(address(field)) }
    func store(_ field: Field, _ value: UInt64) { smp_store64(address(field), value) }
    @discardableResult
    func add(_ field: Field, _ value: UInt64 = 1) -> UInt64 { smp_fetch_add64(address(field), value) }
    func result(_ index: Int) -> UInt64 { smp_load64(address(.result0) &+ UInt64(index) &* 8) }
    func resultInt(_ index: Int) -> Int64 { Int64(bitPattern: result(index)) }
    func setResult(_ index: Int, _ value: UInt64) { smp_store64(address(.result0) &+ UInt64(index) &* 8, value) }
    func setResult(_ index: Int, _ value: Int64) { setResult(index, UInt64(bitPattern: value)) }
    func setResult(_ index: Int, _ value: Bool) { setResult(index, UInt64(value ? 1 : 0)) }
    func clearResults() { for index in 0..<resultCount { setResult(index, UInt64(0)) } }
}

/// What the upcall handler knows and counts per port (ports below SMP_PORTS).
enum PortField: UInt64 {
    case owner = 0   // vCPU + 1 the port is bound to as far as the guest knows (0: unknown)
    case hits        // upcalls that handled the port
    case wrong       // of those, how many ran on a vCPU other than the owner
    case lastVCPU    // the vCPU whose handler handled it last
    case echo        // a port the handler sends on after handling this one (0: none)
}

enum Ports {
    static func address(_ field: PortField, _ port: UInt32) -> UInt64 {
        smp_ports_address() &+ (field.rawValue &* UInt64(SMP_PORTS) &+ UInt64(port)) &* 8
    }
    static func valid(_ port: UInt32) -> Bool { port > 0 && port < UInt32(SMP_PORTS) }
    static func load(_ field: PortField, _ port: UInt32) -> UInt64 {
        valid(port) ? smp_load64(address(field, port)) : 0
    }
    static func store(_ field: PortField, _ port: UInt32, _ value: UInt64) {
        if valid(port) { smp_store64(address(field, port), value) }
    }
    static func add(_ field: PortField, _ port: UInt32) {
        if valid(port) { _ = smp_fetch_add64(address(field, port), 1) }
    }
    static func hits(_ port: UInt32) -> UInt64 { load(.hits, port) }
    /// Declares the vCPU a port is bound to and what the handler does with it.
    static func track(_ port: UInt32, vcpu: Int, echo: UInt32 = 0) {
        store(.owner, port, UInt64(vcpu + 1))
        store(.echo, port, UInt64(echo))
    }
}

/// With filtering on, a vCPU's handler takes only ports the guest bound to it: used while
/// several vCPUs have events in flight at once (their ports may share a word of the
/// pending bitmap). Off, a handler takes every pending port its selector points at, so an
/// event delivered to the wrong vCPU is handled there and counted as wrong.
func setFiltering(_ on: Bool) { Record(vcpu: 0).store(.filter, on ? 1 : 0) }
func filtering() -> Bool { Record(vcpu: 0).load(.filter) != 0 }

// --- shared_info ---

let pendingOffset: UInt64 = 2048
let maskOffset: UInt64 = 2560

func vcpuInfoAddress(_ vcpu: Int) -> UInt64 {
    xg_shared_info_address() &+ UInt64(vcpu) &* UInt64(MemoryLayout<vcpu_info>.stride)
}
func upcallMaskAddress(_ vcpu: Int) -> UInt64 { vcpuInfoAddress(vcpu) &+ 1 }
func pendingSelAddress(_ vcpu: Int) -> UInt64 { vcpuInfoAddress(vcpu) &+ 8 }

/// A vCPU's "interrupt flag": masks or unmasks event upcalls for it.
func maskEvents(_ vcpu: Int, _ masked: Bool) { smp_store8(upcallMaskAddress(vcpu), masked ? 1 : 0) }
func eventsMasked(_ vcpu: Int) -> UInt8 { smp_load8(upcallMaskAddress(vcpu)) }
/// Unmasks; an upcall already pending is taken at once (a hypercall returns through the
/// hypervisor's delivery check), as a kernel's "enable interrupts" does.
func unmaskEvents(_ vcpu: Int) {
    maskEvents(vcpu, false)
    if smp_load8(vcpuInfoAddress(vcpu)) != 0 { _ = HYPERVISOR_xen_version(UInt32(XENVER_version), nil) }
}

func portWordAddress(_ offset: UInt64, _ port: UInt32) -> UInt64 {
    xg_shared_info_address() &+ offset &+ UInt64(port / 64) &* 8
}
func portBit(_ port: UInt32) -> UInt64 { 1 << UInt64(port % 64) }
func isPending(_ port: UInt32) -> Bool { smp_load64(portWordAddress(pendingOffset, port)) & portBit(port) != 0 }
func clearPending(_ port: UInt32) { _ = smp_fetch_and64(portWordAddress(pendingOffset, port), ~portBit(port)) }
/// Clears a pending port as its handler would (counting a hit); false if it was not pending.
@discardableResult
func consume(_ port: UInt32) -> Bool {
    let old = smp_fetch_and64(portWordAddress(pendingOffset, port), ~portBit(port))
    if old & portBit(port) == 0 { return false }
    Ports.add(.hits, port)
    return true
}
func setMasked(_ port: UInt32, _ masked: Bool) {
    let word = portWordAddress(maskOffset, port)
    if masked { _ = smp_fetch_or64(word, portBit(port)) } else { _ = smp_fetch_and64(word, ~portBit(port)) }
}

/// Forgets events of a vCPU that ran masked: the given ports' pending bits and its
/// selector and upcall flag (only for ports the test owns: nothing else is in flight).
func discardEvents(_ vcpu: Int, _ first: UInt32, _ second: UInt32 = 0, _ third: UInt32 = 0) {
    if first != 0 { clearPending(first) }
    if second != 0 { clearPending(second) }
    if third != 0 { clearPending(third) }
    smp_store64(pendingSelAddress(vcpu), 0)
    smp_store8(vcpuInfoAddress(vcpu), 0)
}

// --- Guest time from a vCPU's own vcpu_time_info ---

struct TimeReading {
    var version: UInt32
    var systemTimeNs: UInt64
    var mul: UInt32
}

/// One consistent reading of vCPU `vcpu`'s vcpu_time_info and the system time it gives
/// now (meaningful on that vCPU: the hypervisor keeps it for the CPU the vCPU runs on).
func readTime(_ vcpu: Int) -> TimeReading {
    let base = vcpuInfoAddress(vcpu) &+ UInt64(MemoryLayout<vcpu_info>.offset(of: \.time)!)
    while true {
        let version = UInt32(truncatingIfNeeded: xg_read64(base))
        if version & 1 != 0 { continue }
        let stampTSC = xg_read64(base &+ 8)
        let stampNs = xg_read64(base &+ 16)
        let scale = xg_read64(base &+ 24)
        let tsc = smp_rdtsc()
        if UInt32(truncatingIfNeeded: xg_read64(base)) != version { continue }
        let mul = UInt32(truncatingIfNeeded: scale)
        let shift = Int8(truncatingIfNeeded: scale >> 32)
        var delta = tsc > stampTSC ? tsc &- stampTSC : 0
        if shift < 0 { delta >>= UInt64(-Int(shift)) } else { delta <<= UInt64(shift) }
        let product = delta.multipliedFullWidth(by: UInt64(mul))
        let ns = (product.high << 32) | (product.low >> 32)
        return TimeReading(version: version, systemTimeNs: stampNs &+ ns, mul: mul)
    }
}

func now(_ vcpu: Int) -> UInt64 { readTime(vcpu).systemTimeNs }

func spin(_ vcpu: Int, forNs: UInt64) {
    let end = now(vcpu) &+ forNs
    while now(vcpu) < end { smp_pause() }
}

/// Spins until `done()` or `limitNs` of the vCPU's time pass; returns done().
func waitFor(_ vcpu: Int, ns limitNs: UInt64 = 5_000 * msNs, _ done: () -> Bool) -> Bool {
    let end = now(vcpu) &+ limitNs
    while !done() {
        if now(vcpu) > end { return done() }
        smp_pause()
    }
    return true
}

// --- Hypercalls ---

func vcpuOp(_ command: Int32, _ vcpu: UInt32, _ argument: UnsafeMutableRawPointer? = nil) -> Int64 {
    HYPERVISOR_vcpu_op(UInt32(command), vcpu, argument)
}
func isUp(_ vcpu: UInt32) -> Int64 { vcpuOp(VCPUOP_is_up, vcpu) }

func runstate(_ vcpu: UInt32) -> (result: Int64, state: Int32) {
    var info = vcpu_runstate_info()
    let result = vcpuOp(VCPUOP_get_runstate_info, vcpu, &info)
    return (result, info.state)
}

func send(_ port: UInt32) -> Int64 {
    var request = evtchn_send(port: port)
    return HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_send), &request)
}

func bindIPI(_ vcpu: UInt32) -> (result: Int64, port: UInt32) {
    var request = evtchn_bind_ipi(vcpu: vcpu, port: 0)
    let result = HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_ipi), &request)
    return (result, request.port)
}

func status(_ port: UInt32) -> (result: Int64, status: evtchn_status) {
    var request = evtchn_status()
    request.dom = domid_t(DOMID_SELF)
    request.port = port
    let result = HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_status), &request)
    return (result, request)
}

func closePort(_ port: UInt32) -> Int64 {
    var request = evtchn_close(port: port)
    return HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_close), &request)
}

func bindVCPU(_ port: UInt32, _ vcpu: UInt32) -> Int64 {
    var request = evtchn_bind_vcpu(port: port, vcpu: vcpu)
    return HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_vcpu), &request)
}

func block() -> Int64 { HYPERVISOR_sched_op(UInt32(SCHEDOP_block), nil) }
func yield() -> Int64 { HYPERVISOR_sched_op(UInt32(SCHEDOP_yield), nil) }

/// SCHEDOP_poll on one or two ports (second 0: one), timeout absolute (0: none).
func poll(_ first: UInt32, _ second: UInt32 = 0, timeout: UInt64) -> Int64 {
    var ports: (UInt32, UInt32) = (first, second)
    return withUnsafeMutablePointer(to: &ports) { pointer in
        var request = sched_poll(ports: xen_guest_handle_t(p: UInt64(UInt(bitPattern: pointer))),
                                 nr_ports: second == 0 ? 1 : 2, _pad: 0, timeout: timeout)
        return HYPERVISOR_sched_op(UInt32(SCHEDOP_poll), &request)
    }
}
