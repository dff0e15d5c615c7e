// Target "hypercall": the decoders that turn a PV guest's raw hypercall arguments into
// requests (PV/HypercallDecoding.swift), with the neighbours that also read guest-chosen
// values before Apus acts on them: the iret frame, guest pointers, trap-table entries, the
// bounce frame, and the writable-page-table instruction decoder.
//
// Input: a sequence of records, each a selector byte then the values it needs.
// Invariants: what the guest ABI promises about each decoded value (signed 32-bit counts,
// only the low 32 bits of a command matter, flush flags and pointers split exactly, no
// decoded iret or bounce ever lands the guest in ring 0-2, a bounce frame never goes to
// Apus's address slot, trap handlers are canonical, the
// instruction decoder never asks for a register beyond r15 or depends on bytes past the
// instruction it decoded).

enum HypercallFuzz {
    static func run(_ input: inout FuzzInput) {
        var records = 0
        while !input.isExhausted && records < 256 {
            records += 1
            switch input.byte() % 9 {
            case 0: consoleIO(&input)
            case 1: schedule(&input)
            case 2: updateVAFlags(&input)
            case 3: mmuExt(&input)
            case 4: iret(&input)
            case 5: guestAddress(&input)
            case 6: trapTable(&input)
            case 7: bounce(&input)
            default: pteWrite(&input)
            }
        }
    }

    static func consoleIO(_ input: inout FuzzInput) {
        let command = input.u64(), count = input.u64()
        let request = ConsoleIORequest.decode(command: command, count: count)
        // Xen's arguments are int: bits above 31 never matter.
        let high = input.u64() << 32
        invariant(request == ConsoleIORequest.decode(command: command ^ high, count: count ^ high),
                  "console_io depends on high bits: \(hex(command)) \(hex(count))")
        let signed = Int32(truncatingIfNeeded: count)
        switch request {
        case .write(let n), .read(let n):
            invariant(n >= 0 && n == Int(signed), "console_io count \(n) from \(hex(count))")
            invariant(UInt32(truncatingIfNeeded: command) <= 1, "console_io command \(hex(command)) decoded")
        case .invalidCount:
            invariant(signed < 0, "console_io refused count \(hex(count))")
        case .unknown:
            invariant(UInt32(truncatingIfNeeded: command) > 1, "console_io command \(hex(command)) unknown")
        }
    }

    static func schedule(_ input: inout FuzzInput) {
        let command = input.u64(), argument = input.u64()
        let request = SchedRequest.decode(command: command, argument: argument)
        invariant(request == SchedRequest.decode(command: command ^ (input.u64() << 32), argument: argument),
                  "sched_op depends on the command's high bits: \(hex(command))")
        switch request {
        case .shutdown(let a), .poll(let a), .remoteShutdown(let a), .shutdownCode(let a), .watchdog(let a):
            invariant(a == argument, "sched_op argument changed: \(hex(argument)) -> \(hex(a))")
        case .unknown:
            invariant(UInt32(truncatingIfNeeded: command) > 6, "sched_op \(hex(command)) unknown")
        case .yield, .block:
            invariant(UInt32(truncatingIfNeeded: command) <= 1, "sched_op \(hex(command)) as yield/block")
        }
    }

    static func updateVAFlags(_ input: inout FuzzInput) {
        let flags = input.u64()
        // Flush type 3 names no flush (Xen 4.17 takes it and flushes nothing); refusing it
        // (nil, -EINVAL) was the older reading, so either is accepted for it.
        guard let decoded = UpdateVAFlags.decode(flags) else {
            invariant(flags & 3 == 3, "update_va_mapping flags \(hex(flags)) refused")
            return
        }
        let flushBits: UInt64
        switch decoded.flush {
        case .none: flushBits = 0
        case .wholeTLB: flushBits = 1
        case .onePage: flushBits = 2
        }
        invariant(flushBits == flags & 3 || (flushBits == 0 && flags & 3 == 3), "flush type of \(hex(flags))")
        switch decoded.scope {
        case .allVCPUs:
            invariant(flags & 4 != 0, "UVMF_ALL without bit 2: \(hex(flags))")
        case .local:
            invariant(flags & ~7 == 0 && flags & 4 == 0, "local scope for \(hex(flags))")
        case .vcpuMask(let pointer):
            // The pointer is the rest of the word: re-encoding gives the flags back.
            invariant(pointer != 0 && pointer & 7 == 0 && flags & 4 == 0 && pointer == flags & ~7,
                      "vCPU mask pointer \(hex(pointer)) from \(hex(flags))")
        }
    }

    static func mmuExt(_ input: inout FuzzInput) {
        let command = input.bool() ? UInt32(input.byte() % 20) : input.u32()
        let a1 = input.u64(), a2 = input.u64()
        switch MMUExtRequest.decode(command: command, argument1: a1, argument2: a2) {
        case .pin(let level, let frame):
            invariant(level >= 1 && level <= 4 && command <= 3 && frame == a1, "pin \(level) from \(command)")
        case .unpin(let frame), .newBasePointer(let frame), .newUserBasePointer(let frame):
            invariant(frame == a1, "mmuext frame changed")
        case .setLDT(let base, let entries):
            invariant(command == 13, "set_ldt from \(command)")
            invariant(base & 0xFFF == 0 && base == a1, "LDT base \(hex(base)) not page-aligned")
            invariant(entries <= MMUExtRequest.maximumLDTEntries && entries == a2 & 0xFFFF_FFFF,
                      "LDT entries \(entries) from \(hex(a2))")
        case .invalid:
            invariant(command == 13, "mmuext \(command) invalid")
        case .unknown:
            invariant(command == 14 || command > 20, "mmuext \(command) unknown")
        case .flushTLB, .invalidatePage:
            invariant(command >= 6 && command <= 11, "mmuext \(command) as a flush")
        case .clearPage(let frame):
            invariant(command == 16 && frame == a1, "clear_page from \(command)")
        case .copyPage(let destination, let source):
            invariant(command == 17 && destination == a1 && source == a2, "copy_page from \(command)")
        default:
            // flush_cache, the superpage commands, and whatever is added later.
            invariant([12, 18, 19, 20].contains(command) || command == 14 || command > 20, "mmuext \(command)")
        }
    }

    static func iret(_ input: inout FuzzInput) {
        var words = InlineArray<9, UInt64>(repeating: 0)
        for index in 0..<9 { words[index] = input.u64() }
        let iopl = input.u64()
        let result = Iret.decode(words, iopl: iopl)
        // Whatever the guest wrote, it comes back in ring 3, with interrupts on and no
        // I/O privilege in the real flags.
        invariant(result.cs & 3 == 3 && result.cs <= 0xFFFF, "iret to cs \(hex(result.cs))")
        invariant(result.ss & 3 == 3 && result.ss <= 0xFFFF, "iret to ss \(hex(result.ss))")
        invariant(result.rflags & (1 << 9) != 0 && result.rflags & (3 << 12) == 0,
                  "iret rflags \(hex(result.rflags))")
        invariant(result.upcallMask <= 1, "upcall mask \(result.upcallMask)")
        invariant((result.rcx == nil) == (words[3] & Iret.inSyscallFlag != 0), "VGCF_in_syscall ignored")
        invariant(result.toUserMode == (words[5] & 3 == 3), "user mode from cs \(hex(words[5]))")
    }

    /// Reference: a range is a guest's when it does not wrap and misses the non-canonical
    /// hole and Apus's slot, [2^47, HYPERVISOR_VIRT_END), entirely.
    static func referenceAccessible(_ address: UInt64, _ length: UInt64) -> Bool {
        if length == 0 { return true }
        let (last, wraps) = address.addingReportingOverflow(length - 1)
        if wraps { return false }
        let forbiddenStart: UInt64 = 1 << 47, forbiddenEnd = GuestAddress.hypervisorEnd
        return last < forbiddenStart || address >= forbiddenEnd
    }

    static func interestingAddress(_ input: inout FuzzInput) -> UInt64 {
        let bases: [UInt64] = [0, 1 << 47, GuestAddress.hypervisorStart, GuestAddress.hypervisorEnd, ~0]
        let base = input.pick(bases)
        let delta = UInt64(input.u16())
        return input.bool() ? base &+ delta : base &- delta
    }

    static func guestAddress(_ input: inout FuzzInput) {
        let address = input.bool() ? input.u64() : interestingAddress(&input)
        let length = input.bool() ? input.u64() : UInt64(input.u16())
        let accessible = GuestAddress.isAccessible(address, length: length)
        invariant(accessible == referenceAccessible(address, length),
                  "isAccessible(\(hex(address)), \(hex(length))) = \(accessible)")
        invariant(GuestAddress.isGuestCodeOrStack(address) == referenceAccessible(address, 1),
                  "isGuestCodeOrStack(\(hex(address)))")
    }

    static func trapTable(_ input: inout FuzzInput) {
        var table = GuestTrapTable()
        for _ in 0..<Int(input.byte() % 8) {
            let vector = input.byte(), flags = input.byte(), selector = input.u16()
            let address = input.bool() ? input.u64() : interestingAddress(&input)
            let before = table[Int(vector)]
            let accepted = table.set(vector: vector, flags: flags, codeSelector: selector, address: address)
            let after = table.entry(Int(vector))
            // A non-canonical handler would make Apus's own return to the guest fault (ring 0);
            // one in Apus's slot is taken as Xen takes it: the guest faults there, in ring 3.
            let canonical = address >> 47 == 0 || address >> 47 == 0x1_FFFF
            invariant(accepted == canonical, "trap handler \(hex(address)) accepted=\(accepted)")
            if accepted {
                invariant(after.address == address && after.flags == flags, "trap entry stored wrong")
                invariant(after.codeSelector & 3 != 0 && after.codeSelector | 3 == selector | 3,
                          "trap selector \(hex(selector)) stored as \(hex(after.codeSelector))")
            } else {
                invariant(after == before, "a refused trap entry changed the table")
            }
        }
    }

    static func bounce(_ input: inout FuzzInput) {
        let interrupted = InterruptedContext(
            rip: input.u64(), cs: UInt64(input.u16()), rflags: input.u64(),
            rsp: input.bool() ? input.u64() : interestingAddress(&input),
            ss: UInt64(input.u16()), rcx: input.u64(), r11: input.u64())
        let inKernel = input.bool()
        let kernelStack = input.bool() ? input.u64() : interestingAddress(&input)
        let mask = input.byte() & 1
        let iopl = input.u64()
        let request = BounceRequest(handler: input.bool() ? 0 : input.u64() | 1,
                                    errorCode: input.bool() ? input.u64() : nil, masksEvents: input.bool())
        let frame: BounceFrame
        do {
            frame = try Bounce.make(interrupted: interrupted, inKernelMode: inKernel, kernelStackPointer: kernelStack,
                                    upcallMask: mask, iopl: iopl, request: request)
        } catch {
            switch error {
            case .noHandler: invariant(request.handler == 0, "handler refused")
            case .badStack: break
            }
            return
        }
        let bytes = UInt64(frame.wordCount) * 8
        invariant(frame.wordCount == (request.errorCode == nil ? 7 : 8), "bounce frame of \(frame.wordCount) words")
        invariant(referenceAccessible(frame.stackPointer, bytes),
                  "bounce frame at \(hex(frame.stackPointer)) is not the guest's")
        invariant(frame.resume.cs & 3 == 3 && frame.resume.ss & 3 == 3, "bounce resumes in ring \(frame.resume.cs & 3)")
        invariant(frame.resume.rsp == frame.stackPointer && frame.resume.rip == request.handler, "bounce resume")
        invariant(frame.resume.rflags & (1 << 9) != 0, "bounce resumes with interrupts off")
        invariant(frame.switchesToKernelMode == !inKernel, "kernel-mode switch")
    }

    static func pteWrite(_ input: inout FuzzInput) {
        let length = Int(input.byte() % 17)
        let instruction = ExactBuffer(copying: input.take(length))
        let address = input.bool() ? input.u64() : UInt64(input.byte())
        let entry = input.u64()
        var registers = [UInt64](repeating: 0, count: 16)
        for index in 0..<16 where input.bool() { registers[index] = input.u64() }
        func register(_ index: Int) -> UInt64 {
            invariant(index >= 0 && index < 16, "instruction decoder asked for register \(index)")
            return registers[index]
        }
        guard let effect = PTEWriteDecoder.decode(instruction.raw, address: address, entry: entry, register: register)
        else { return }
        invariant(effect.length >= 1 && effect.length <= 15 && effect.length <= instruction.count,
                  "instruction length \(effect.length) of \(instruction.count) bytes")
        if let written = effect.register {
            invariant(written.index >= 0 && written.index < 16, "writes register \(written.index)")
        }
        invariant(effect.flags & ~effect.flagsMask == 0, "flags outside their mask")
        // The write lies in the entry at or after the faulting byte.
        let below = (address & 7) * 8
        let unchangedMask: UInt64 = below == 0 ? 0 : (1 << below) - 1
        invariant((effect.newEntry ^ entry) & unchangedMask == 0,
                  "write at \(hex(address)) changed bytes below it: \(hex(entry)) -> \(hex(effect.newEntry))")
        // The decoded instruction alone must decode the same way: nothing past it was used.
        let alone = ExactBuffer(copying: UnsafeRawBufferPointer(rebasing: instruction.raw[0..<effect.length]))
        let again = PTEWriteDecoder.decode(alone.raw, address: address, entry: entry, register: register)
        invariant(again == effect, "decoding depends on \(instruction.count - effect.length) bytes past the instruction")
    }
}
