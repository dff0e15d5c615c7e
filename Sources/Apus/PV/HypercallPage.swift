// The hypercall page Apus writes into a PV guest at the address its
// XEN_ELFNOTE_HYPERCALL_PAGE names: 32 bytes per hypercall number, each a stub that
// makes the call with `syscall` as the 64-bit PV ABI defines, so the guest never needs
// to know how hypercalls are made.
//   push %rcx; push %r11; mov $nr, %eax; syscall; pop %r11; pop %rcx; ret
// The iret stub is different: it pushes rax too (the frame HYPERVISOR_iret reads) and
// does not return, since the call resumes the guest elsewhere. Unused bytes are int3.
enum HypercallPage {
    static let iretNumber = 23

    static func fill(_ page: UnsafeMutablePointer<UInt8>) {
        page.update(repeating: 0xCC, count: 4096)
        for number in 0..<128 {
            var at = number * 32
            func put(_ byte: UInt8) { page[at] = byte; at += 1 }
            let low = UInt8(truncatingIfNeeded: number)
            if number == iretNumber {
                put(0x51); put(0x41); put(0x53); put(0x50)     // push rcx; push r11; push rax
                put(0xB8); put(low); put(0); put(0); put(0)    // mov $23, %eax
                put(0x0F); put(0x05)                           // syscall
            } else {
                put(0x51); put(0x41); put(0x53)                // push rcx; push r11
                put(0xB8); put(low); put(0); put(0); put(0)    // mov $nr, %eax
                put(0x0F); put(0x05)                           // syscall
                put(0x41); put(0x5B); put(0x59); put(0xC3)     // pop r11; pop rcx; ret
            }
        }
    }
}
