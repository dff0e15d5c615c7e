// console: console_io(CONSOLEIO_write) with several lengths, and its error cases.
//
// What Xen 4.17 does (checked against it; Apus must do the same):
//  - a write of any length, 0 included, returns 0 and prints the bytes as they are
//    (dom0's output is not prefixed or line-buffered);
//  - a buffer that cannot be read (NULL, the hypervisor's range, a non-canonical or
//    unmapped address) returns -EFAULT; a zero-length write never looks at the pointer;
//  - an unknown command returns -ENOSYS;
//  - CONSOLEIO_read with no pending input returns 0 (bytes read), without looking at the
//    buffer (NULL is fine) and for a count of 0; a count above INT_MAX is -E2BIG.
//
// With `console-echo` on its command line (the boot tests' serial-input case; guest-tests
// never pass it) the guest then binds VIRQ_CONSOLE, and until it reads a '.' it waits for
// the port with SCHEDOP_poll, reads what arrived with CONSOLEIO_read and prints it as
// "console: read N bytes: <text>" and "console: input so far: <all of it>" (control bytes
// as ^A).
import XenGuest
import XenGuestC
import ApusPublic

private func write(_ text: StaticString) -> Int64 {
    HYPERVISOR_console_io(UInt32(CONSOLEIO_write), UInt32(text.utf8CodeUnitCount), text.utf8Start)
}

private func writeRaw(address: UInt64, count: UInt32) -> Int64 {
    HYPERVISOR_console_io(UInt32(CONSOLEIO_write), count, UnsafeRawPointer(bitPattern: UInt(address)))
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "console")
    Console.flush()
    let efault = -Int64(XEN_EFAULT)

    report.expect("write one line", write("console: a line of 33 characters\n"), equals: 0)
    report.expect("write one byte", write("+"), equals: 0)
    report.expect("write the rest of that line", write("+ two single bytes before this\n"), equals: 0)
    // Longer than any chunk a hypervisor copies at once (Xen copies 128 bytes at a time).
    let longLine: StaticString =
        "console: 300 bytes: 012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678\n"
    report.expect("write 300 bytes", write(longLine), equals: 0)
    report.expect("write zero bytes", write(""), equals: 0)
    report.expect("write zero bytes from NULL", writeRaw(address: 0, count: 0), equals: 0)
    report.expect("write from NULL", writeRaw(address: 0, count: 8), equals: efault)
    report.expect("write from the hypervisor range",
                  writeRaw(address: HYPERVISOR_VIRT_START + 0x10_0000, count: 8), equals: efault)
    report.expect("write from a non-canonical address",
                  writeRaw(address: 0x0000_8000_0000_0000, count: 8), equals: efault)
    report.expect("write from an unmapped address",
                  writeRaw(address: 0x0000_7FFF_FFFF_F000, count: 8), equals: efault)
    report.expect("unknown console_io command",
                  HYPERVISOR_console_io(7, 4, ("abcd" as StaticString).utf8Start), equals: -Int64(XEN_ENOSYS))

    var input: (UInt64, UInt64) = (0, 0)
    let readResult = withUnsafeMutableBytes(of: &input) { buffer in
        HYPERVISOR_console_io(UInt32(CONSOLEIO_read), 16, buffer.baseAddress)
    }
    report.expect("read with no input pending", readResult, equals: 0)
    report.expect("read into NULL with no input pending",
                  HYPERVISOR_console_io(UInt32(CONSOLEIO_read), 16, nil), equals: 0)
    report.expect("read of zero bytes", HYPERVISOR_console_io(UInt32(CONSOLEIO_read), 0, nil), equals: 0)
    report.expect("read with a count above INT_MAX",
                  HYPERVISOR_console_io(UInt32(CONSOLEIO_read), 0x8000_0000, nil), equals: -Int64(XEN_E2BIG))
    if commandLineHas("console-echo") { echo(&report) }
    report.finish()
}

private func commandLineHas(_ word: StaticString) -> Bool {
    let (text, length) = StartOfDay.commandLine()
    let count = word.utf8CodeUnitCount
    guard length >= count else { return false }
    for start in 0...(length - count) {
        var index = 0
        while index < count && text[start + index] == word.utf8Start[index] { index += 1 }
        let endsWord = start + count == length || text[start + count] == 0x20
        if index == count && (start == 0 || text[start - 1] == 0x20) && endsWord { return true }
    }
    return false
}

/// Serial input through VIRQ_CONSOLE and CONSOLEIO_read, until a '.' arrives.
private func echo(_ report: inout TestReport) {
    SharedInfo.map()
    var bind = evtchn_bind_virq(virq: UInt32(VIRQ_CONSOLE), vcpu: 0, port: 0)
    guard report.expect("bind_virq(VIRQ_CONSOLE)", HYPERVISOR_event_channel_op(UInt32(EVTCHNOP_bind_virq), &bind),
                        equals: 0) else { return }
    var port = bind.port
    let word = xg_shared_info_address() &+ 2048 &+ UInt64(port / 64) &* 8
    let bit: UInt64 = 1 << UInt64(port % 64)
    Console.write("console: echo mode: waiting for serial input on VIRQ_CONSOLE, '.' ends it\n")
    var rounds = 0, total = 0, done = false
    var sofar: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    while !done && rounds < 200 {
        rounds += 1
        let polled = withUnsafeMutablePointer(to: &port) { ports -> Int64 in
            var request = sched_poll(ports: xen_guest_handle_t(p: UInt64(UInt(bitPattern: ports))), nr_ports: 1, _pad: 0,
                                     timeout: 0)
            return HYPERVISOR_sched_op(UInt32(SCHEDOP_poll), &request)
        }
        guard polled == 0 else { report.expect("poll VIRQ_CONSOLE", polled, equals: 0); return }
        xg_write64(word, xg_read64(word) & ~bit)
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let count = withUnsafeMutableBytes(of: &buffer) { bytes -> Int64 in
            HYPERVISOR_console_io(UInt32(CONSOLEIO_read), UInt32(bytes.count), bytes.baseAddress)
        }
        guard count >= 0 else { report.expect("read after VIRQ_CONSOLE", count, equals: 0); return }
        if count == 0 { continue }
        total += Int(count)
        Console.write("console: read "); Console.write(decimal: count); Console.write(" bytes: ")
        withUnsafeBytes(of: &buffer) { bytes in
            withUnsafeMutableBytes(of: &sofar) { all in
                for index in 0..<Int(count) {
                    let byte = bytes[index]
                    if byte == 0x2E { done = true }
                    if byte < 0x20 || byte == 0x7F { Console.put(0x5E); Console.put(byte ^ 0x40) } else { Console.put(byte) }
                    if total - Int(count) + index < all.count { all[total - Int(count) + index] = byte }
                }
            }
        }
        Console.newline()
        Console.write("console: input so far: ")
        withUnsafeBytes(of: &sofar) { all in
            for index in 0..<min(total, all.count) {
                let byte = all[index]
                if byte < 0x20 || byte == 0x7F { Console.put(0x5E); Console.put(byte ^ 0x40) } else { Console.put(byte) }
            }
        }
        Console.newline()
    }
    report.check("serial input arrived through VIRQ_CONSOLE and CONSOLEIO_read", total > 0 && done)
}
