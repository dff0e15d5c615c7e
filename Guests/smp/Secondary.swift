// Secondary.swift: what runs on every vCPU: the event upcall handler (all vCPUs), the
// secondary vCPUs' start and idle loop, and the commands vCPU 0 sends them.
//
// A secondary never prints (the console buffer is vCPU 0's): it reports through its
// record (Shared.swift). Its idle loop masks events, runs a pending command if there is
// one, else SCHEDOP_block (which unmasks): vCPU 0 posts a command in the record and then
// sends on the vCPU's kick port, so the command is seen either before the block or by
// the wake-up it causes, never lost. Commands start with events masked, after the kick
// that announced them has arrived (so no kick is in flight during a command).
import XenGuest
import XenGuestC
import ApusPublic
import SMPProbes

enum Command: UInt64 {
    case bindIPI = 1     // -> 0 result, 1 port
    case send            // arg0 port -> 0 result
    case block           // arg0 port expected to wake it -> 0 result, 1 flag seen, 2 port hits, 3 mask after
    case poll            // arg0, arg1 ports (arg1 0: one), arg2 timeout ns from now, arg3 a port to discard
                         // -> 0 result, 1 returned after the timeout, 2/3 ports pending, 4 flag seen, 5 elapsed ns
    case yield           // arg0 count -> 0 OR of results, 1 elapsed ns
    case downSelf        // -> 0 result of VCPUOP_down on itself, 1 flag seen when it returned
    case upOther         // arg0 vCPU: waits until it is down, then brings it up -> 0 up result, 1 saw it down
    case timers          // arg0 period ns, arg1 window ns -> see runTimerTest
    case singleshotOther // arg0 vCPU -> 0 set_singleshot_timer result, 1 stop_singleshot_timer result
}

// --- The event upcall (every vCPU) ---

/// Handles one port taken off the pending bitmap on vCPU `vcpu`.
private func handle(_ port: UInt32, on vcpu: Int) {
    guard Ports.valid(port) else { return }
    let owner = Ports.load(.owner, port)
    if owner != 0 && owner != UInt64(vcpu + 1) { Ports.add(.wrong, port) }
    Ports.store(.lastVCPU, port, UInt64(vcpu))
    let record = Record(vcpu: vcpu)
    if UInt64(port) == record.load(.timerPort) { record.store(.lastTimerNs, now(vcpu)) }
    Ports.add(.hits, port)
    let echo = UInt32(truncatingIfNeeded: Ports.load(.echo, port))
    if echo != 0 { _ = send(echo) }
}

/// The 2-level scan: upcall flag, then the selector, then the pending and unmasked ports
/// of each selected word. A port is handled by whoever clears its pending bit.
@c(smp_upcall)
public func smpUpcall() {
    let vcpu = Int(smp_current_vcpu())
    Record(vcpu: vcpu).add(.upcalls)
    let info = vcpuInfoAddress(vcpu)
    let filter = filtering()
    let pending = xg_shared_info_address() &+ pendingOffset
    let mask = xg_shared_info_address() &+ maskOffset
    while smp_load8(info) != 0 {
        smp_store8(info, 0)
        var selector = smp_exchange64(pendingSelAddress(vcpu), 0)
        while selector != 0 {
            let word = UInt64(selector.trailingZeroBitCount)
            selector &= selector &- 1
            var bits = smp_load64(pending &+ word &* 8) & ~smp_load64(mask &+ word &* 8)
            while bits != 0 {
                let bit = UInt64(bits.trailingZeroBitCount)
                bits &= bits &- 1
                let port = UInt32(word &* 64 &+ bit)
                if filter && Ports.load(.owner, port) != UInt64(vcpu + 1) { continue }
                let old = smp_fetch_and64(pending &+ word &* 8, ~(UInt64(1) << bit))
                if old & (UInt64(1) << bit) != 0 { handle(port, on: vcpu) }
            }
        }
    }
}

// --- Secondary vCPUs ---

/// rdi and rsi as the vCPU's initial context gave them.
@c(smp_secondary_main)
public func smpSecondaryMain(_ rdi: UInt64, _ rsi: UInt64) {
    let vcpu = Int(smp_current_vcpu())
    let record = Record(vcpu: vcpu)
    record.store(.entryMask, UInt64(eventsMasked(vcpu)))
    record.store(.entryRDI, rdi)
    record.store(.entryRSI, rsi)
    record.store(.stackVCPU, UInt64(vcpu))
    record.store(.gsWord, smp_read_gs0())
    record.store(.entryCS, smp_read_cs())
    record.store(.entrySS, smp_read_ss())
    let before = smp_load64(smp_breakpoints_address())
    smp_int3()
    record.store(.breakpoints, smp_load64(smp_breakpoints_address()) &- before)
    let time = readTime(vcpu)
    record.store(.timeVersion, UInt64(time.version))
    record.store(.timeMul, UInt64(time.mul))
    record.store(.arrived, 1)
    while true {
        maskEvents(vcpu, true)
        let sequence = record.load(.commandSeq)
        if sequence != record.load(.doneSeq) {
            // The kick that announced this command may still be on its way: take it
            // first, so that it cannot end a block or poll the command makes.
            let kick = UInt32(truncatingIfNeeded: record.load(.kickPort))
            _ = waitFor(vcpu) { isPending(kick) || Ports.hits(kick) >= record.load(.kicksSent) }
            consume(kick)
            discardEvents(vcpu, kick)
            execute(vcpu, record)
            record.store(.doneSeq, sequence)
            continue
        }
        _ = block()
    }
}

private func execute(_ vcpu: Int, _ record: Record) {
    let arg0 = record.load(.arg0)
    let arg1 = record.load(.arg1)
    let arg2 = record.load(.arg2)
    let arg3 = record.load(.arg3)
    let flag = Record(vcpu: 0).address(.flag)
    record.clearResults()
    switch Command(rawValue: record.load(.command)) {
    case .bindIPI:
        let bound = bindIPI(UInt32(vcpu))
        record.setResult(0, bound.result)
        record.setResult(1, UInt64(bound.port))
    case .send:
        record.setResult(0, send(UInt32(truncatingIfNeeded: arg0)))
    case .block:
        record.store(.marker, 1)
        let result = block()
        record.setResult(1, smp_load64(flag))
        record.setResult(3, UInt64(eventsMasked(vcpu)))
        record.setResult(0, result)
        record.setResult(2, Ports.hits(UInt32(truncatingIfNeeded: arg0)))
    case .poll:
        let first = UInt32(truncatingIfNeeded: arg0)
        let second = UInt32(truncatingIfNeeded: arg1)
        let start = now(vcpu)
        let deadline = start &+ arg2
        record.store(.marker, 1)
        let result = poll(first, second, timeout: deadline)
        let end = now(vcpu)
        record.setResult(4, smp_load64(flag))
        record.setResult(0, result)
        record.setResult(1, end >= deadline)
        record.setResult(2, isPending(first))
        record.setResult(3, second != 0 && isPending(second))
        record.setResult(5, end &- start)
        discardEvents(vcpu, first, second, UInt32(truncatingIfNeeded: arg3))
    case .yield:
        let start = now(vcpu)
        var results: UInt64 = 0
        for _ in 0..<arg0 { results |= UInt64(bitPattern: yield()) }
        record.setResult(0, results)
        record.setResult(1, now(vcpu) &- start)
    case .downSelf:
        record.store(.marker, 1)
        let result = vcpuOp(VCPUOP_down, UInt32(vcpu))
        record.setResult(1, smp_load64(flag))
        record.setResult(0, result)
    case .upOther:
        let target = UInt32(truncatingIfNeeded: arg0)
        let sawDown = waitFor(vcpu) { isUp(target) == 0 }
        record.setResult(1, sawDown)
        record.setResult(0, vcpuOp(VCPUOP_up, target))
    case .timers:
        runTimerTest(vcpu, periodNs: arg0, windowNs: arg1)
    case .singleshotOther:
        let target = UInt32(truncatingIfNeeded: arg0)
        var request = vcpu_set_singleshot_timer(timeout_abs_ns: now(vcpu) &+ 1_000 * msNs, flags: 0, _pad: 0)
        record.setResult(0, vcpuOp(VCPUOP_set_singleshot_timer, target, &request))
        record.setResult(1, vcpuOp(VCPUOP_stop_singleshot_timer, target))
    case nil:
        break
    }
}

// --- vCPU 0's side of the mailbox ---

/// Posts a command to secondary `vcpu` and kicks it (does not wait).
func issue(_ vcpu: Int, _ command: Command, _ arg0: UInt64 = 0, _ arg1: UInt64 = 0, _ arg2: UInt64 = 0,
           _ arg3: UInt64 = 0) {
    let record = Record(vcpu: vcpu)
    record.store(.marker, 0)
    record.store(.command, command.rawValue)
    record.store(.arg0, arg0)
    record.store(.arg1, arg1)
    record.store(.arg2, arg2)
    record.store(.arg3, arg3)
    record.add(.kicksSent)
    record.add(.commandSeq)
    _ = send(UInt32(truncatingIfNeeded: record.load(.kickPort)))
}

/// Waits (on vCPU 0, events as they are) until `vcpu` has finished its command.
func finished(_ vcpu: Int, ns limit: UInt64 = 5_000 * msNs) -> Bool {
    let record = Record(vcpu: vcpu)
    return waitFor(0, ns: limit) { record.load(.doneSeq) == record.load(.commandSeq) }
}

/// Posts a command and waits for it.
@discardableResult
func run(_ vcpu: Int, _ command: Command, _ arg0: UInt64 = 0, _ arg1: UInt64 = 0, _ arg2: UInt64 = 0,
         _ arg3: UInt64 = 0) -> Bool {
    issue(vcpu, command, arg0, arg1, arg2, arg3)
    return finished(vcpu)
}

/// Waits until `vcpu` is inside the blocking hypercall of its command: it raised its
/// marker, and the hypervisor reports it blocked (or offline, for VCPUOP_down).
func waitUntilBlocked(_ vcpu: Int, state: Int32 = Int32(RUNSTATE_blocked)) -> Bool {
    let record = Record(vcpu: vcpu)
    return waitFor(0) { record.load(.marker) != 0 && runstate(UInt32(vcpu)).state == state }
}
