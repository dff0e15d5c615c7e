// The privileged instructions a PV kernel may execute in ring 3, which reach Apus as a
// #GP(0): Apus emulates the ones Xen emulates for a 64-bit PV dom0, with Xen's values
// (the fpu and msr test guests recorded them), and leaves every other one as the guest's
// #GP. Only from the guest's kernel mode; port I/O also needs a virtual IOPL >= 1.
import ApusCore
import ArchX86

enum PrivilegedOps {
    /// Returns true when the instruction at the frame's RIP was emulated (RIP advanced).
    static func emulate(_ frame: TrapFrame) -> Bool {
        guard PV.vcpu.pointee.inKernelMode else { return false }
        var bytes = InlineArray<8, UInt8>(repeating: 0)
        let readable = withUnsafeMutableBytes(of: &bytes) {
            GuestMemory.read($0.baseAddress!, from: frame.rip, count: 8) || GuestMemory.read($0.baseAddress!, from: frame.rip, count: 3)
        }
        guard readable else { return false }
        var at = 0
        var operandSize16 = false
        var rex: UInt8 = 0
        while at < 4 {
            let byte = bytes[at]
            if byte == 0x66 { operandSize16 = true; at += 1; continue }
            if byte & 0xF0 == 0x40 { rex = byte; at += 1; continue }
            break
        }
        let opcode = bytes[at]
        switch opcode {
        case 0x0F:
            return twoByte(frame, bytes: bytes, at: at + 1, rex: rex)
        case 0xE4, 0xE5, 0xEC, 0xED, 0xE6, 0xE7, 0xEE, 0xEF:
            guard PV.vcpu.pointee.iopl >> 12 >= 1 else { return false }
            let immediate = opcode & 0x08 == 0
            let port = immediate ? UInt16(bytes[at + 1]) : UInt16(truncatingIfNeeded: frame.rdx)
            let width = opcode & 1 == 0 ? 1 : (operandSize16 ? 2 : 4)
            if opcode & 0x02 == 0 {
                let value = PortPolicy.read(port, width: width)
                let mask: UInt64 = width == 4 ? 0xFFFF_FFFF : (width == 2 ? 0xFFFF : 0xFF)
                // 32-bit results zero-extend into rax; narrower ones keep the upper bits.
                frame.rax = width == 4 ? UInt64(value) : (frame.rax & ~mask) | UInt64(value)
            } else {
                PortPolicy.write(port, width: width, value: UInt32(truncatingIfNeeded: frame.rax))
            }
            frame.rip = frame.rip &+ UInt64(at + (immediate ? 2 : 1))
            return true
        default:
            return false
        }
    }

    static func twoByte(_ frame: TrapFrame, bytes: InlineArray<8, UInt8>, at: Int, rex: UInt8) -> Bool {
        let opcode = bytes[at]
        let modrm = bytes[at + 1]
        let rm = Int(modrm & 7) | (rex & 1 != 0 ? 8 : 0)
        let reg = Int((modrm >> 3) & 7) | (rex & 4 != 0 ? 8 : 0)
        switch opcode {
        case 0x06:  // clts
            FPUState.setTaskSwitched(false)
            frame.rip = frame.rip &+ UInt64(at + 1)
            return true
        case 0x09:  // wbinvd: the privileged domain may; nothing to do under Apus's caches
            frame.rip = frame.rip &+ UInt64(at + 1)
            return true
        case 0x20:  // mov %crN, reg
            guard modrm & 0xC0 == 0xC0, let value = readControlRegister(reg) else { return false }
            frame.setRegister(rm, value)
            frame.rip = frame.rip &+ UInt64(at + 2)
            return true
        case 0x22:  // mov reg, %crN: only CR0.TS may change
            guard modrm & 0xC0 == 0xC0, reg == 0 else { return false }
            let value = frame.register(rm)
            let ts: UInt64 = 1 << 3
            guard value & ~ts == virtualCR0 & ~ts else { return false }
            FPUState.setTaskSwitched(value & ts != 0)
            frame.rip = frame.rip &+ UInt64(at + 2)
            return true
        case 0x21:  // mov %drN, reg
            guard modrm & 0xC0 == 0xC0 else { return false }
            let value: UInt64 = reg == 7 ? 0x400 : (reg == 6 ? 0xFFFF_0FF0 : 0)
            frame.setRegister(rm, value)
            frame.rip = frame.rip &+ UInt64(at + 2)
            return true
        case 0x32:  // rdmsr
            guard let value = MSRPolicy.read(UInt32(truncatingIfNeeded: frame.rcx)) else { return false }
            frame.rax = value & 0xFFFF_FFFF
            frame.rdx = value >> 32
            frame.rip = frame.rip &+ UInt64(at + 1)
            return true
        case 0x30:  // wrmsr
            let value = (frame.rdx & 0xFFFF_FFFF) << 32 | (frame.rax & 0xFFFF_FFFF)
            guard MSRPolicy.write(UInt32(truncatingIfNeeded: frame.rcx), value) else { return false }
            frame.rip = frame.rip &+ UInt64(at + 1)
            return true
        default:
            return false
        }
    }

    /// CR0 as Xen shows a PV guest: PG|AM|WP|NE|ET|MP|PE with the virtual TS.
    static var virtualCR0: UInt64 { 0x8005_0033 | (PV.vcpu.pointee.fpuTaskSwitched ? 1 << 3 : 0) }

    static func readControlRegister(_ number: Int) -> UInt64? {
        switch number {
        case 0: return virtualCR0
        case 2: return DirectMap.pointer(to: PV.vcpu.pointee.vcpuInfoMachineAddress + 16, as: UInt64.self).pointee
        case 3:
            return PV.guestRoot(of: PV.vcpu) << 12
        case 4: return 0x660  // PAE|MCE|OSFXSR|OSXMMEXCPT, as Xen shows
        default: return nil
        }
    }
}

/// The guest's virtual CR0.TS and the hardware bit behind it.
enum FPUState {
    static func setTaskSwitched(_ on: Bool) {
        PV.vcpu.pointee.fpuTaskSwitched = on
        if on { CPU.writeCR0(CPU.cr0 | (1 << 3)) } else { CPU.clearTaskSwitched() }
    }
}

/// Which MSRs a PV kernel may read or write, and what it sees (Xen 4.17's answers).
enum MSRPolicy {
    static func read(_ msr: UInt32) -> UInt64? {
        let kernel = PV.vcpu.pointee.inKernelMode
        switch msr {
        case 0xC000_0080: return 0xD01                                     // EFER: SCE|LME|LMA|NXE
        case 0xC000_0100: return PV.vcpu.pointee.fsBase
        case 0xC000_0101: return kernel ? PV.vcpu.pointee.gsBaseKernel : PV.vcpu.pointee.gsBaseUser
        case 0xC000_0102: return kernel ? PV.vcpu.pointee.gsBaseUser : PV.vcpu.pointee.gsBaseKernel
        case 0xC000_0103: return 0                                         // TSC_AUX
        case 0x1B: return 0xFEE0_0900                                      // APIC_BASE: BSP, enabled
        case 0x10: return CPU.readTimeStampCounter()
        case 0x179: return 2                                               // MCG_CAP: two virtual banks
        case 0x1A0: return 0x80_1801                                       // MISC_ENABLE
        case 0x277: return 0x0005_0100_0704_06                             // Xen's PV PAT
        case 0x4000_0000: return 0                                         // hypercall-page MSR
        case 0xC001_0015: return 0                                         // AMD HWCR
        default: return nil
        }
    }

    static func write(_ msr: UInt32, _ value: UInt64) -> Bool {
        switch msr {
        case 0xC000_0100, 0xC000_0101, 0xC000_0102:
            guard VirtualAddress.isCanonical(value) else { return false }
            let kernel = PV.vcpu.pointee.inKernelMode
            if msr == 0xC000_0100 {
                PV.vcpu.pointee.fsBase = value; CPU.writeMSR(MSR.fsBase, value)
            } else if (msr == 0xC000_0101) == kernel {
                PV.vcpu.pointee.gsBaseKernel = value
                CPU.writeMSR(kernel ? MSR.gsBase : MSR.kernelGSBase, value)
            } else {
                PV.vcpu.pointee.gsBaseUser = value
                CPU.writeMSR(kernel ? MSR.kernelGSBase : MSR.gsBase, value)
            }
            return true
        case 0xC000_0080: return value == 0xD01
        case 0x1A0: return value == 0x80_1801
        default: return false
        }
    }
}

/// Port I/O from dom0 with a virtual IOPL: the ports Apus keeps for itself (its console
/// UART, the PICs, the PIT) and port 0x80 read as all ones and ignore writes, as Xen's do;
/// the rest reach the hardware.
enum PortPolicy {
    static func isApus(_ port: UInt16) -> Bool {
        if let serial = Console.shared.serial, port >= serial.port.ioBase && port < serial.port.ioBase + 8 { return true }
        switch port {
        case 0x20, 0x21, 0xA0, 0xA1, 0x40...0x43, 0x80: return true
        default: return false
        }
    }

    static func read(_ port: UInt16, width: Int) -> UInt32 {
        if isApus(port) { return width == 4 ? 0xFFFF_FFFF : (width == 2 ? 0xFFFF : 0xFF) }
        switch width {
        case 1: return UInt32(Port.in8(port))
        case 2: return UInt32(Port.in16(port))
        default: return Port.in32(port)
        }
    }

    static func write(_ port: UInt16, width: Int, value: UInt32) {
        if isApus(port) { return }
        switch width {
        case 1: Port.out8(port, UInt8(truncatingIfNeeded: value))
        case 2: Port.out16(port, UInt16(truncatingIfNeeded: value))
        default: Port.out32(port, value)
        }
    }
}
