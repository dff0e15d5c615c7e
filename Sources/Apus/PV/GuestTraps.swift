// What happens when a PV guest traps into Apus: a hypercall, a system call from its user
// space, an exception, or an instruction Apus emulates. Anything the guest registered a
// handler for is bounced to it (BounceFrame); a fault it cannot take crashes the domain,
// which for dom0 means the machine, with a report like Xen's. Never an Apus crash.
import ApusCore
import ApusPublic
import ArchX86

enum GuestTraps {
    static let syscallVector = 0x100
    static let compatSyscallVector = 0x101

    static func handle(_ frame: TrapFrame) {
        let vector = frame.vector
        switch vector {
        case syscallVector:
            if PV.vcpu.pointee.inKernelMode {
                Hypercalls.dispatch(frame)
            } else {
                bounceSyscall(frame)
            }
        case compatSyscallVector:
            bounce(frame, vector: 13, errorCode: 0)
        case 6 where emulateForcedCPUID(frame):
            return
        case 13:
            generalProtection(frame)
        case 14:
            // vcpu_info.arch.cr2 (offset 16). The guest kernel believes it is supervisor
            // code: a fault it takes in kernel mode carries no user bit, as on Xen.
            var address = CPU.cr2
            var code = frame.errorCode
            if code & 3 == 3 && Shadows.writeFault(address) { return }   // log-dirty: first write to a clean page
            if WritablePageTables.emulate(frame, address: address, errorCode: code) { return }
            if WritablePageTables.dropReadOnlyMMIOStore(frame, address: address, errorCode: code) { return }
            var guestAddress: UInt64 = 0
            if let mapped = SegmentDescriptors.ldtFault(at: address, guestAddress: &guestAddress) {
                if mapped { return }                 // the LDT page is mapped: retry the load
                address = guestAddress               // the guest's LDT page cannot be used
                code = 0
            }
            DirectMap.pointer(to: PV.vcpu.pointee.vcpuInfoMachineAddress + 16, as: UInt64.self).pointee = address
            let userBit: UInt64 = 1 << 2
            if PV.vcpu.pointee.inKernelMode { code &= ~userBit }
            bounce(frame, vector: 14, errorCode: code)
        case 7:
            // #NM after fpu_taskswitch(1): Xen clears the virtual TS as it bounces it.
            FPUState.setTaskSwitched(false)
            bounce(frame, vector: 7, errorCode: nil)
        case 3, 4, 0x80:
            // int3, into and int $0x80 reach Apus directly (their gates allow ring 3, as
            // Xen's do) and go to the guest's handler as software interrupts.
            if vector == 0x80 && !PV.vcpu.pointee.traps.entry(0x80).isSet {
                frame.rip = frame.rip &- 2
                bounce(frame, vector: 13, errorCode: 0x80 << 3 | 2)
            } else {
                bounce(frame, vector: vector, errorCode: nil, softwareInterrupt: true)
            }
        case 8, 10, 11, 12, 17, 21:
            bounce(frame, vector: vector, errorCode: frame.errorCode)
        default:
            bounce(frame, vector: vector, errorCode: nil)
        }
    }

    /// The CPU refused the frame Apus was returning the guest to (a bad CS or SS from its
    /// HYPERVISOR_iret): as on Xen, that is a #GP for the guest at the place it was going,
    /// with flat selectors so the bounce itself can return.
    static func refusedReturn(_ frame: TrapFrame) {
        let words = UnsafePointer<UInt64>(bitPattern: UInt(frame.rsp)).unsafelyUnwrapped
        let code = frame.errorCode
        // The guest's #GP frame shows the selectors it asked for (SS with RPL 3, as Xen
        // forces it); the handler itself runs on the flat ones the bounce installs.
        frame.rip = words[0]
        frame.cs = words[1] & 0xFFFF
        frame.rflags = words[2]
        frame.rsp = words[3]
        frame.ss = (words[4] | 3) & 0xFFFF
        Log.line(.info, guest: true) { c in
            c.write("d0v0: return to cs "); c.write(hex0x: words[1]); c.write(" ss "); c.write(hex0x: words[4])
            c.write(" refused by the CPU: #GP for the guest")
        }
        bounce(frame, vector: 13, errorCode: code)
    }

    /// `int n` from the guest raises #GP when the IDT gate's DPL is 0 (all of Apus's are):
    /// if the guest's own trap table allows `int n` from its current ring, deliver vector n
    /// as the CPU would have (after the instruction). QEMU 7.2 reports the error code as
    /// n*16+2, so the instruction is decoded rather than trusting the code.
    static func generalProtection(_ frame: TrapFrame) {
        if frame.errorCode == 0, emulateInterruptFlag(frame) || PrivilegedOps.emulate(frame) { return }
        if frame.errorCode & 3 == 2, let opcode = readGuestBytes(frame.rip, 2), opcode.0 == 0xCD {
            let vector = Int(opcode.1)
            let entry = PV.vcpu.pointee.traps.entry(vector)
            let ring = PV.vcpu.pointee.inKernelMode ? 1 : 3
            if entry.isSet && entry.dpl >= ring {
                frame.rip = frame.rip &+ 2
                bounce(frame, vector: vector, errorCode: nil, softwareInterrupt: true)
                return
            }
            // Not allowed: a #GP whose error code names the gate, as hardware gives it.
            bounce(frame, vector: 13, errorCode: UInt64(vector) << 3 | 2)
            return
        }
        bounce(frame, vector: 13, errorCode: frame.errorCode)
    }

    /// cli/sti from the guest kernel with a virtual IOPL that allows them (physdev
    /// set_iopl) are skipped as no-ops, as Xen 4.17 does (the traps guest saw no trap and no
    /// change of the event mask); with IOPL 0 the #GP is the guest's.
    static func emulateInterruptFlag(_ frame: TrapFrame) -> Bool {
        guard PV.vcpu.pointee.inKernelMode, PV.vcpu.pointee.iopl >> 12 >= 1, let opcode = readGuestBytes(frame.rip, 1),
              opcode.0 == 0xFA || opcode.0 == 0xFB else { return false }
        frame.rip = frame.rip &+ 1
        return true
    }

    static func readGuestBytes(_ address: UInt64, _ count: Int) -> (UInt8, UInt8)? {
        var bytes = InlineArray<2, UInt8>(repeating: 0)
        let ok = withUnsafeMutableBytes(of: &bytes) {
            GuestMemory.read(UnsafeMutableRawPointer($0.baseAddress!), from: address, count: count)
        }
        return ok ? (bytes[0], bytes[1]) : nil
    }

    /// Xen's forced-emulation prefix (ud2; .ascii "xen") before `cpuid`: Apus answers with
    /// its CPUID policy. Works before the guest has a trap table, as on Xen.
    static func emulateForcedCPUID(_ frame: TrapFrame) -> Bool {
        var bytes = InlineArray<7, UInt8>(repeating: 0)
        let ok = withUnsafeMutableBytes(of: &bytes) {
            GuestMemory.read(UnsafeMutableRawPointer($0.baseAddress!), from: frame.rip, count: 7)
        }
        guard ok, bytes[0] == 0x0F, bytes[1] == 0x0B, bytes[2] == 0x78, bytes[3] == 0x65, bytes[4] == 0x6E,
              bytes[5] == 0x0F, bytes[6] == 0xA2 else { return false }
        let result = CPUIDPolicy.guestView(leaf: UInt32(truncatingIfNeeded: frame.rax),
                                           subleaf: UInt32(truncatingIfNeeded: frame.rcx))
        frame.rax = UInt64(result.eax)
        frame.rbx = UInt64(result.ebx)
        frame.rcx = UInt64(result.ecx)
        frame.rdx = UInt64(result.edx)
        frame.rip = frame.rip &+ 7
        return true
    }

    /// A system call from guest user space goes to the kernel's syscall callback, in
    /// kernel mode, on its kernel stack.
    static func bounceSyscall(_ frame: TrapFrame) {
        let callback = PV.vcpu.pointee.callbacks.syscall
        deliver(frame, request: BounceRequest(handler: callback, masksEvents: PV.vcpu.pointee.callbacks.syscallMasksEvents),
                what: "system call")
    }

    static func bounce(_ frame: TrapFrame, vector: Int, errorCode: UInt64?, softwareInterrupt: Bool = false) {
        let entry = PV.vcpu.pointee.traps.entry(vector)
        deliver(frame, request: BounceRequest(handler: entry.address, errorCode: errorCode, masksEvents: entry.masksEvents),
                what: ExceptionNames.name(vector), vector: vector)
    }

    static func deliver(_ frame: TrapFrame, request: BounceRequest, what: StaticString, vector: Int = -1) {
        // Fields are read in place: a copy of the vCPU (its 4 KiB trap table) per trap
        // would cost more than the whole bounce.
        let interrupted = InterruptedContext(rip: frame.rip, cs: frame.cs, rflags: frame.rflags, rsp: frame.rsp,
                                             ss: frame.ss, rcx: frame.rcx, r11: frame.r11)
        let made: BounceFrame
        do throws(BounceError) {
            made = try Bounce.make(interrupted: interrupted, inKernelMode: PV.vcpu.pointee.inKernelMode,
                                   kernelStackPointer: PV.vcpu.pointee.kernelStackPointer,
                                   upcallMask: PV.upcallMask, iopl: PV.vcpu.pointee.iopl, request: request)
        } catch {
            crashDomain(frame, what: what, vector: vector, reason: error)
        }
        if made.switchesToKernelMode { GuestMode.switchToKernel() }
        var words = made.words
        let written = withUnsafeMutableBytes(of: &words) {
            GuestMemory.write(UnsafeRawPointer($0.baseAddress!), to: made.stackPointer, count: made.wordCount * 8)
        }
        guard written else { crashDomain(frame, what: what, vector: vector, reason: .badStack(made.stackPointer)) }
        PV.upcallMask = made.upcallMaskAfter
        frame.rip = made.resume.rip
        frame.cs = made.resume.cs
        frame.rflags = made.resume.rflags
        frame.rsp = made.resume.rsp
        frame.ss = made.resume.ss
    }

    /// dom0 cannot survive a fault it has no handler for: report it as Xen does, then the
    /// fatal-error rule for the machine.
    static func crashDomain(_ frame: TrapFrame, what: StaticString, vector: Int, reason: BounceError) -> Never {
        Log.always { c in
            c.write("d0v0 unhandled "); c.write(what)
            if vector >= 0 { c.write(" (vector "); c.write(decimal: vector); c.write(")") }
            switch reason {
            case .noHandler: c.write(": the guest registered no handler for it")
            case .badStack(let sp): c.write(": its stack "); c.write(hex0x: sp); c.write(" cannot be written")
            }
        }
        Log.always { c in
            c.write("RIP:    "); c.write(hex: frame.cs, minimumDigits: 4); c.write(":[<"); c.write(hex: frame.rip, minimumDigits: 16)
            c.write(">]   RFLAGS: "); c.write(hex: frame.rflags, minimumDigits: 16)
            c.write(PV.vcpu.pointee.inKernelMode ? "   CONTEXT: pv guest kernel" : "   CONTEXT: pv guest user")
        }
        var line = RegisterLine()
        var column = 0
        frame.forEachRegister { name, value in
            line.add(name, value); column += 1
            if column == 3 { line.flush(); column = 0 }
        }
        line.flush()
        Log.always { c in c.write("error code: "); c.write(hex: frame.errorCode, minimumDigits: 4); c.write("   cr2: "); c.write(hex: CPU.cr2, minimumDigits: 16) }
        panic("Hardware Dom0 crashed: rebooting machine in 5 seconds.")
    }
}

/// HYPERVISOR_iret: reads the iret_context on the guest stack and resumes from it.
enum GuestIret {
    static func perform(_ frame: TrapFrame) {
        var words = InlineArray<9, UInt64>(repeating: 0)
        let ok = withUnsafeMutableBytes(of: &words) {
            GuestMemory.read(UnsafeMutableRawPointer($0.baseAddress!), from: frame.rsp, count: 72)
        }
        guard ok else {
            GuestTraps.crashDomain(frame, what: "iret", vector: -1, reason: .badStack(frame.rsp))
        }
        let result = Iret.decode(words, iopl: PV.vcpu.pointee.iopl)
        if result.toUserMode && PV.vcpu.pointee.inKernelMode {
            guard PV.vcpu.pointee.userTableFrame != 0 else {
                GuestTraps.crashDomain(frame, what: "iret (guest switching to user mode with no user page tables)",
                                       vector: -1, reason: .noHandler)
            }
            GuestMode.switchToUser()
        }
        frame.rax = result.rax
        frame.rip = result.rip
        frame.cs = result.cs
        frame.rflags = result.rflags
        frame.rsp = result.rsp
        frame.ss = result.ss
        if let rcx = result.rcx { frame.rcx = rcx }
        if let r11 = result.r11 { frame.r11 = r11 }
        PV.upcallMask = result.upcallMask
    }
}

/// Switching a PV vCPU between its kernel and user halves: page tables and GS bases.
enum GuestMode {
    static func switchToKernel() {
        guard !PV.vcpu.pointee.inKernelMode else { return }
        PV.vcpu.pointee.inKernelMode = true
        Shadows.loadCR3(for: PV.vcpu)
        CPU.writeMSR(MSR.gsBase, PV.vcpu.pointee.gsBaseKernel)
        CPU.writeMSR(MSR.kernelGSBase, PV.vcpu.pointee.gsBaseUser)
    }

    static func switchToUser() {
        guard PV.vcpu.pointee.inKernelMode else { return }
        PV.vcpu.pointee.inKernelMode = false
        // Without a user table the kernel's serves both halves (as on Xen before one is set).
        Shadows.loadCR3(for: PV.vcpu)
        CPU.writeMSR(MSR.gsBase, PV.vcpu.pointee.gsBaseUser)
        CPU.writeMSR(MSR.kernelGSBase, PV.vcpu.pointee.gsBaseKernel)
    }
}

/// What CPUID tells a PV guest: the host's answer with the features a ring-3 kernel
/// cannot use hidden, the hypervisor bit set, and Xen's leaves at 0x40000000.
enum CPUIDPolicy {
    static func guestView(leaf: UInt32, subleaf: UInt32) -> CPU.CPUIDResult {
        if leaf >= 0x4000_0000 && leaf < 0x4000_0100 { return xenLeaf(leaf) }
        var r = CPU.cpuid(leaf, subleaf)
        switch leaf {
        case 1:
            r.ecx &= ~((1 << 5) | (1 << 3) | (1 << 21) | (1 << 24))  // vmx, monitor, x2apic, tsc-deadline
            r.ecx |= 1 << 31                                          // hypervisor
        case 7 where subleaf == 0:
            r.ebx &= ~((1 << 7) | (1 << 20))                          // smep, smap: Apus's business
        case 0x8000_0001:
            r.ecx &= ~(1 << 2)                                        // svm
        default:
            break
        }
        return r
    }

    /// "XenVMMXenVMM", max leaf 0x40000005 as Xen 4.17; version 4.17; one hypercall page
    /// (MSR 0x40000000). Leaves 3-5 (TSC, HVM and PV details) read as zero for now.
    static func xenLeaf(_ leaf: UInt32) -> CPU.CPUIDResult {
        switch leaf {
        case 0x4000_0000: return CPU.CPUIDResult(eax: 0x4000_0005, ebx: 0x566E_6558, ecx: 0x65584D4D, edx: 0x4D4D_566E)
        case 0x4000_0001: return CPU.CPUIDResult(eax: 4 << 16 | 17, ebx: 0, ecx: 0, edx: 0)
        case 0x4000_0002: return CPU.CPUIDResult(eax: 1, ebx: 0x4000_0000, ecx: 0, edx: 0)
        default: return CPU.CPUIDResult(eax: 0, ebx: 0, ecx: 0, edx: 0)
        }
    }
}
