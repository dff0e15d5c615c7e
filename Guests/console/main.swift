// console: console_io(CONSOLEIO_write) with several lengths, and its error cases.
//
// What Xen 4.17 does (checked against it; Apus must do the same):
//  - a write of any length, 0 included, returns 0 and prints the bytes as they are
//    (dom0's output is not prefixed or line-buffered);
//  - a buffer that cannot be read (NULL, the hypervisor's range, a non-canonical or
//    unmapped address) returns -EFAULT; a zero-length write never looks at the pointer;
//  - an unknown command returns -ENOSYS;
//  - CONSOLEIO_read with no pending input returns 0 (bytes read).
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
    report.finish()
}
