// Shadow mode for dom0 (ApusCore's ShadowPageTables over Apus's frames), and the CR3 every
// guest runs on. Off, a vCPU's CR3 is its own L4; on, it is the L4's shadow, built from
// the guest's tables and kept in step at every entry Apus writes for the guest (mmu_update,
// update_va_mapping, the writable-page-table emulation). Log-dirty works on the shadows:
// XEN_DOMCTL_shadow_op ENABLE_LOGDIRTY/CLEAN/PEEK/OFF.
//
// Xen refuses shadow operations a domain asks for itself, and dom0 is the only domain
// here: with `apus_dom0_shadow` on the command line (Apus's own option, for testing) dom0
// runs on shadows from the start and may use shadow_op on itself; without it shadow_op on
// itself is -EINVAL, as on Xen.
import ApusCore
import ApusPublic
import ArchX86

struct ShadowFrames: ShadowMemory {
    func guestEntry(_ frame: UInt64, _ index: Int) -> UInt64 {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index]
    }
    func shadowEntry(_ frame: UInt64, _ index: Int) -> UInt64 {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index]
    }
    mutating func setShadowEntry(_ frame: UInt64, _ index: Int, _ value: UInt64) {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)[index] = value
    }
    mutating func allocateShadowFrame() -> UInt64? {
        guard let frame = Memory.allocator.allocate(order: 0) else { return nil }
        DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
        return frame
    }
    mutating func freeShadowFrame(_ frame: UInt64) {
        do throws(FrameAllocatorError) { try Memory.allocator.free(frame, order: 0) } catch {
            panic("a shadow frame could not be freed")
        }
    }
    func pseudoPhysicalFrame(of machineFrame: UInt64) -> UInt64? {
        let pfn = MachineToPhys.get(machineFrame: machineFrame)
        return pfn == MachineToPhys.invalidEntry ? nil : pfn
    }
    /// Kept in the shadow frame's FrameInfo.typeInfo (Apus's own frame: unused otherwise).
    func guestFrame(ofShadow shadowFrame: UInt64) -> UInt64 { Memory.allocator.frameTable[Int(shadowFrame)].typeInfo }
    mutating func setGuestFrame(_ guestFrame: UInt64, ofShadow shadowFrame: UInt64) {
        Memory.allocator.frameTable[Int(shadowFrame)].typeInfo = guestFrame
    }
}

enum Shadows {
    nonisolated(unsafe) static var enabled = false
    nonisolated(unsafe) static var selfServiceAllowed = false
    nonisolated(unsafe) static var tables = ShadowPageTables(
        slots: UnsafeMutableBufferPointer(start: nil, count: 0), dirtyBits: UnsafeMutableBufferPointer(start: nil, count: 0))
    static let indexSlots = 8192

    /// The frame CR3 must hold for this guest root (its shadow in shadow mode).
    static func hardwareRoot(_ guestRoot: UInt64) -> UInt64 {
        guard enabled, let shadow = tables.shadow(of: guestRoot, level: 4) else { return guestRoot }
        return shadow
    }

    /// Loads CR3 for the current vCPU's mode (every guest CR3 load goes through here).
    static func loadCR3(for vcpu: UnsafeMutablePointer<PVVCPU>) {
        CPU.writeCR3(hardwareRoot(PV.guestRoot(of: vcpu)) << 12)
    }

    /// Turns shadow mode on for dom0: the index and the dirty bitmap (one bit per pfn of
    /// its allowance), then a shadow for every vCPU's base pointers.
    static func enable() -> Bool {
        guard !enabled else { return true }
        let slotBytes = UInt64(indexSlots * MemoryLayout<ShadowSlot>.stride)
        let bitmapWords = Int((PV.current.maximumPageCount + 63) / 64 + 1)
        let bitmapBytes = UInt64(bitmapWords * 8)
        guard let slotFrame = Memory.allocator.allocate(order: MachineToPhys.orderFor(bytes: slotBytes)),
              let bitmapFrame = Memory.allocator.allocate(order: MachineToPhys.orderFor(bytes: bitmapBytes)) else {
            return false
        }
        let slots = UnsafeMutablePointer<ShadowSlot>(bitPattern: UInt(DirectMap.address(of: slotFrame << 12))).unsafelyUnwrapped
        let bits = UnsafeMutablePointer<UInt64>(bitPattern: UInt(DirectMap.address(of: bitmapFrame << 12))).unsafelyUnwrapped
        tables = ShadowPageTables(slots: UnsafeMutableBufferPointer(start: slots, count: indexSlots),
                                  dirtyBits: UnsafeMutableBufferPointer(start: bits, count: bitmapWords))
        var memory = ShadowFrames()
        for v in 0..<PV.current.vcpuCount {
            let record = PV.vcpu(v)
            for which in 0..<2 {
                let root = which == 0 ? record.pointee.kernelTableFrame : record.pointee.userTableFrame
                guard root != 0 else { continue }
                do throws(ShadowError) { _ = try tables.acquire(root, level: 4, memory: &memory) } catch { return false }
            }
        }
        enabled = true
        Log.line { c in c.write("Dom0 runs on shadow page tables ("); c.write(decimal: tables.shadowCount); c.write(" shadows)") }
        return true
    }

    /// A base pointer changed from `old` to `new` (0: none).
    static func rootChanged(old: UInt64, new: UInt64) {
        guard enabled else { return }
        var memory = ShadowFrames()
        if new != 0 {
            do throws(ShadowError) { _ = try tables.acquire(new, level: 4, memory: &memory) } catch {
                panic("Apus ran out of memory for shadow page tables")
            }
        }
        if old != 0 { tables.release(old, level: 4, memory: &memory) }
    }

    /// The guest entry `index` of its table `frame` (level `level`) was just written.
    @inline(__always) static func guestEntryChanged(_ frame: UInt64, level: Int, index: Int) {
        guard enabled else { return }
        var memory = ShadowFrames()
        do throws(ShadowError) { try tables.guestEntryChanged(frame, level: level, index: index, memory: &memory) } catch {
            panic("Apus ran out of memory for shadow page tables")
        }
    }

    /// A write fault in the guest at `address`: true if log-dirty resolved it.
    static func writeFault(_ address: UInt64) -> Bool {
        guard enabled else { return false }
        let root = PV.guestRoot(of: PV.vcpu)
        var memory = ShadowFrames()
        guard tables.writeFault(address, guestRoot: root, memory: &memory) else { return false }
        CPU.invalidatePage(address)
        return true
    }

    /// After write-protecting again: no CPU may keep a writable translation.
    static func flushEverywhere() {
        CPU.flushAllTranslations()
        TLBShootdown.flushOtherCPUs()
    }
}
