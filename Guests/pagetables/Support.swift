// Support.swift: the pagetables guest's tools: the hypercalls it makes in one line
// each, the frames it builds tables from, and looks at frames through the runtime's
// map window.
//
// Two kinds of frames: pool pages (image pages the guest can read where they are, made
// read-only before they become tables) and "spare" frames: frames dom0 owns that the
// bootstrap tables do not map (pseudo-physical frames past the end of the initial
// mapping). A spare frame has no mapping at all until the guest makes one, so its type
// and reference counts are whatever the test gives it. Spare frames are filled through
// the window, which is then pointed back at its own frame. Nothing here allocates.
import XenGuest
import XenGuestC
import ApusPublic

func errno(_ value: Int32) -> Int64 { -Int64(value) }

/// Entry flags (x86-64 PTE bits).
enum PTE {
    static let present: UInt64 = 1 << 0
    static let rw: UInt64 = 1 << 1
    static let user: UInt64 = 1 << 2
    static let pwt: UInt64 = 1 << 3
    static let pcd: UInt64 = 1 << 4
    static let accessed: UInt64 = 1 << 5
    static let dirty: UInt64 = 1 << 6
    static let pse: UInt64 = 1 << 7
    static let global: UInt64 = 1 << 8
    /// Bit 52, which Xen sets (with user) in a leaf entry written without user.
    static let guestKernel: UInt64 = 1 << 52
    static let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000
    /// A table entry (L2-L4) as a PV kernel writes it, and a leaf read-write or read-only.
    static let table: UInt64 = present | rw | user | accessed
    static let leafRW: UInt64 = present | rw | user | accessed | dirty
    static let leafRO: UInt64 = present | user | accessed

    static func frame(_ entry: UInt64) -> UInt64 { (entry & frameMask) >> 12 }

    /// A leaf entry as read back, without the two bits Xen adds on its own (global on
    /// entries with user set; user plus bit 52 on entries without): the checks compare
    /// what the guest asked for, the info lines show the raw entry.
    static func stored(_ entry: UInt64) -> UInt64 { entry & ~(global | guestKernel) }
}

/// Where the guest's private tables map: L4 slot 32 (an empty slot of the lower half).
enum TestVA {
    static let l4Slot: UInt64 = 32
    static let base: UInt64 = l4Slot << 39
    /// The address mapped by L3 entry l3, L2 entry l2, L1 entry l1 under slot 32.
    static func at(l3: UInt64 = 0, l2: UInt64 = 0, l1: UInt64 = 0) -> UInt64 {
        base | l3 << 30 | l2 << 21 | l1 << 12
    }
}

/// The machine address of entry `index` of the table in frame `mfn` (what mmu_update's
/// ptr names), plus the command in bits 0-1.
func entryAddress(_ mfn: UInt64, _ index: UInt64, command: Int32 = MMU_NORMAL_PT_UPDATE) -> UInt64 {
    mfn << 12 | index << 3 | UInt64(command)
}

/// One mmu_update request.
func mmuUpdate(_ ptr: UInt64, _ val: UInt64, foreign: UInt32 = UInt32(DOMID_SELF)) -> Int64 {
    var request = mmu_update(ptr: ptr, val: val)
    var done: UInt32 = 0
    return HYPERVISOR_mmu_update(&request, 1, &done, foreign)
}

/// Writes entry `index` of table `mfn` with mmu_update.
func setEntry(_ mfn: UInt64, _ index: UInt64, _ value: UInt64) -> Int64 {
    mmuUpdate(entryAddress(mfn, index), value)
}

/// One mmuext_op; arg1 a frame or a linear address, arg2 as the command wants.
func mmuext(_ cmd: Int32, mfn: UInt64 = 0, linear: UInt64? = nil, arg2: UInt64 = 0,
            foreign: UInt32 = UInt32(DOMID_SELF)) -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(cmd)
    if let linear { op.arg1.linear_addr = linear } else { op.arg1.mfn = mfn }
    op.arg2.vcpumask = arg2
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, foreign)
}

func pin(_ level: Int, _ mfn: UInt64) -> Int64 {
    mmuext(MMUEXT_PIN_L1_TABLE + Int32(level - 1), mfn: mfn)
}

func unpin(_ mfn: UInt64) -> Int64 { mmuext(MMUEXT_UNPIN_TABLE, mfn: mfn) }

func flushLocal() -> Int64 { mmuext(MMUEXT_TLB_FLUSH_LOCAL) }

/// xen_version(XENVER_version): the hypervisor still answers.
func hypervisorVersion() -> Int64 { HYPERVISOR_xen_version(UInt32(XENVER_version), nil) }

enum Frames {
    static let window = xg_map_window_address()
    nonisolated(unsafe) static var windowFrame: UInt64 = 0
    nonisolated(unsafe) private static var nextSpare: UInt64 = 0
    nonisolated(unsafe) private static var spareEnd: UInt64 = 0

    /// Finds the spare frames: pseudo-physical frames from the end of the bootstrap
    /// mapping to nr_pages.
    static func setUp() {
        windowFrame = Pages.machineFrame(ofVirtual: window)
        var end = PageWalk.virtualBase
        while PageWalk.lookup(end).present { end += Pages.size }
        nextSpare = (end - PageWalk.virtualBase) >> 12
        spareEnd = StartOfDay.startInfo.pointee.nr_pages
    }

    static var firstSparePFN: UInt64 { nextSpare }

    /// A spare frame (machine frame number), zeroed; 0 when none is left (then the
    /// checks that use it fail, nothing crashes: frame 0 is never dom0's RAM).
    static func spare() -> UInt64 {
        guard nextSpare < spareEnd else { return 0 }
        let mfn = StartOfDay.machineFrame(ofPseudoPhysical: nextSpare)
        nextSpare += 1
        fill(mfn) { words in for index in 0..<512 { words[index] = 0 } }
        return mfn
    }

    /// Maps frame mfn read-write at the window, lets body write it, and points the
    /// window back at its own frame (so mfn keeps no writable mapping). Returns the
    /// update_va_mapping result of the first mapping (body runs only when it is 0).
    @discardableResult
    static func fill(_ mfn: UInt64, _ body: (UnsafeMutablePointer<UInt64>) -> Void) -> Int64 {
        let result = Pages.map(window, machineFrame: mfn, flags: Pages.pteWritable)
        if result == 0 { body(UnsafeMutablePointer<UInt64>(bitPattern: UInt(window))!) }
        restoreWindow()
        return result
    }

    /// Reads word `index` of frame mfn through a read-only mapping at the window; nil
    /// when the frame cannot be mapped.
    static func peek(_ mfn: UInt64, _ index: UInt64) -> UInt64? {
        guard Pages.map(window, machineFrame: mfn, flags: Pages.pteReadOnly) == 0 else {
            restoreWindow()
            return nil
        }
        let value = xg_read64(window &+ index &* 8)
        restoreWindow()
        return value
    }

    static func restoreWindow() {
        _ = Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable)
    }

    /// Whether frame mfn can be mapped writable (its type is or can become "writable
    /// page"); the window is restored either way.
    static func mapsWritable(_ mfn: UInt64) -> Int64 {
        let result = Pages.map(window, machineFrame: mfn, flags: Pages.pteWritable)
        restoreWindow()
        return result
    }

    /// A RAM frame dom0 does not own (not in its p2m list), searched from `start`.
    static func foreign(from start: UInt64) -> UInt64 {
        var mfn = start
        while owns(mfn) { mfn += 0x111 }
        return mfn
    }

    static func owns(_ mfn: UInt64) -> Bool {
        let pfn = StartOfDay.pseudoPhysicalFrame(ofMachine: mfn)
        return pfn < StartOfDay.startInfo.pointee.nr_pages && StartOfDay.machineFrame(ofPseudoPhysical: pfn) == mfn
    }
}

/// The bootstrap tables: the live L4 and the L1 that maps an image address.
enum Bootstrap {
    static var l4: UInt64 { Pages.machineFrame(ofVirtual: StartOfDay.startInfo.pointee.pt_base) }
    static var l4Address: UInt64 { StartOfDay.startInfo.pointee.pt_base }

    /// Entry `index` of the live L4 as the guest reads it.
    static func l4Entry(_ index: UInt64) -> UInt64 { xg_read64(l4Address &+ index &* 8) }

    /// The machine frame of the L1 table that maps `address` (an image address).
    static func l1Frame(of address: UInt64) -> UInt64 {
        var table = l4Address
        var level = 4
        while level > 1 {
            let index = (address >> UInt64(12 + 9 * (level - 1))) & 0x1FF
            let entry = xg_read64(table &+ index &* 8)
            if level == 2 { return PTE.frame(entry) }
            table = PageWalk.virtualAddress(ofMachineFrame: PTE.frame(entry))
            level -= 1
        }
        return 0
    }
}

/// Reads through an address that may not be mapped: the value, or nil after a fault.
func probe(_ address: UInt64) -> UInt64? { Traps.read(address) }

/// A read that must work and give `expected`.
func expectRead(_ report: inout TestReport, _ name: StaticString, _ address: UInt64, _ expected: UInt64) {
    if let value = probe(address) {
        report.expect(name, hex: value, equals: expected)
    } else {
        report.check(name, false)
        report.info("  unexpected #PF error code", hex: Traps.last.errorCode)
    }
}

/// A read or write that must fault with #PF and this error code at this address.
func expectFault(_ report: inout TestReport, _ name: StaticString, _ address: UInt64, write: Bool,
                 errorCode: UInt64, value: UInt64 = 0x5A5A) {
    let faulted = write ? !Traps.write(address, value) : probe(address) == nil
    report.check(name, faulted)
    report.expect("  #PF error code", hex: faulted ? Traps.last.errorCode : ~0, equals: errorCode)
    report.expect("  #PF cr2", hex: faulted ? Traps.last.cr2 : ~0, equals: address)
}
