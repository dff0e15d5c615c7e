// Support.swift: the isolation guest's tools: one-line hypercalls, the frames it aims
// at, and the after-every-attempt check that the hypervisor still answers and that the
// guest's own memory and mappings are as they were.
//
// "Intact" means: a canary page (a pool page with a known pattern) holds its pattern,
// the live L4's kernel slot (511) and the map window's entry are unchanged, and
// xen_version still says 4.17. Nothing here allocates.
import XenGuest
import XenGuestC
import ApusPublic

func errno(_ value: Int32) -> Int64 { -Int64(value) }

enum PTE {
    static let present: UInt64 = 1 << 0
    static let rw: UInt64 = 1 << 1
    static let pcd: UInt64 = 1 << 4
    static let pwt: UInt64 = 1 << 3
    static let table: UInt64 = 0x27
    static let leafRW: UInt64 = 0x67
    static let leafRO: UInt64 = 0x25
    static func frame(_ entry: UInt64) -> UInt64 { (entry & 0x000F_FFFF_FFFF_F000) >> 12 }
}

/// Addresses no guest may hand to the hypervisor.
enum Bad {
    static let nonCanonical: UInt64 = 0x0000_8000_0000_0000
    /// The start of the hypervisor's range: the read-only M2P, which the guest can read.
    static let m2p: UInt64 = 0xFFFF_8000_0000_0000
    static let xenText: UInt64 = 0xFFFF_82D0_4000_0000
    static let directMap: UInt64 = 0xFFFF_8300_0000_0000
    static let lastXenPage: UInt64 = 0xFFFF_87FF_FFFF_F000

    static func pointer(_ address: UInt64) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: UInt(address))
    }
}

func address<P>(_ pointer: UnsafeMutablePointer<P>) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }
func address(_ pointer: UnsafeMutableRawPointer) -> UInt64 { UInt64(UInt(bitPattern: pointer)) }

func mmuUpdate(_ ptr: UInt64, _ val: UInt64) -> Int64 {
    var request = mmu_update(ptr: ptr, val: val)
    var done: UInt32 = 0
    return HYPERVISOR_mmu_update(&request, 1, &done, UInt32(DOMID_SELF))
}

func mmuext(_ cmd: Int32, mfn: UInt64 = 0, linear: UInt64? = nil, arg2: UInt64 = 0) -> Int64 {
    var op = mmuext_op()
    op.cmd = UInt32(cmd)
    if let linear { op.arg1.linear_addr = linear } else { op.arg1.mfn = mfn }
    op.arg2.vcpumask = arg2
    var done: UInt32 = 0
    return HYPERVISOR_mmuext_op(&op, 1, &done, UInt32(DOMID_SELF))
}

func hypervisorVersion() -> Int64 { HYPERVISOR_xen_version(UInt32(XENVER_version), nil) }

enum Own {
    static let window = xg_map_window_address()
    nonisolated(unsafe) static var windowFrame: UInt64 = 0
    nonisolated(unsafe) static var canary: UInt64 = 0
    nonisolated(unsafe) static var scratch: UInt64 = 0
    nonisolated(unsafe) static var kernelSlot: UInt64 = 0
    /// One past the last page the bootstrap tables map.
    nonisolated(unsafe) static var regionEnd: UInt64 = 0

    static var l4Address: UInt64 { StartOfDay.startInfo.pointee.pt_base }
    static var l4: UInt64 { Pages.machineFrame(ofVirtual: l4Address) }
    static func l4Entry(_ slot: UInt64) -> UInt64 { xg_read64(l4Address &+ slot &* 8) }
    static var scratchFrame: UInt64 { Pages.machineFrame(ofVirtual: scratch) }

    static func pattern(_ index: UInt64) -> UInt64 { 0xC4A2_0000_0000_0000 | index &* 0x0101_0101 }

    static func setUp() -> Bool {
        windowFrame = Pages.machineFrame(ofVirtual: window)
        guard let page = Pages.allocate(), let spare = Pages.allocate() else { return false }
        canary = page
        scratch = spare
        for index in UInt64(0)..<512 { xg_write64(canary + index * 8, pattern(index)) }
        kernelSlot = l4Entry(511)
        var end = PageWalk.virtualBase
        while PageWalk.lookup(end).present { end += Pages.size }
        regionEnd = end
        return true
    }

    /// The hypervisor answers and nothing of the guest's changed.
    static func intact() -> Bool {
        guard hypervisorVersion() == 4 << 16 | 17 else { return false }
        for index in UInt64(0)..<512 where xg_read64(canary + index * 8) != pattern(index) { return false }
        let entry = PageWalk.lookup(window)
        return l4Entry(511) == kernelSlot && entry.present && entry.writable && entry.machineFrame == windowFrame
    }

    static func restoreWindow() {
        _ = Pages.map(window, machineFrame: windowFrame, flags: Pages.pteWritable)
    }

    /// update_va_mapping of the window onto mfn with these flags, then the window back.
    static func mapWindow(_ mfn: UInt64, _ flags: UInt64) -> Int64 {
        let result = HYPERVISOR_update_va_mapping(window, mfn << 12 | flags, UInt64(UVMF_INVLPG))
        restoreWindow()
        return result
    }

    static func owns(_ mfn: UInt64) -> Bool {
        let pfn = StartOfDay.pseudoPhysicalFrame(ofMachine: mfn)
        return pfn < StartOfDay.startInfo.pointee.nr_pages && StartOfDay.machineFrame(ofPseudoPhysical: pfn) == mfn
    }

    /// The machine frame of the bootstrap L1 that maps `address`, and the L2 and L3.
    static func tableFrame(of address: UInt64, level: Int) -> UInt64 {
        var table = l4Address
        var current = 4
        while current > level {
            let index = (address >> UInt64(12 + 9 * (current - 1))) & 0x1FF
            let entry = xg_read64(table &+ index &* 8)
            if current - 1 == level { return PTE.frame(entry) }
            table = PageWalk.virtualAddress(ofMachineFrame: PTE.frame(entry))
            current -= 1
        }
        return l4
    }
}

/// Records the result of one attempt, then that the hypervisor answers and the guest
/// is intact.
func attempt(_ report: inout TestReport, _ name: StaticString, _ result: Int64, equals expected: Int64) {
    report.expect(name, result, equals: expected)
    report.check("  still answers, nothing changed", Own.intact())
}

/// The same for an attempt whose effect is a value (a status written back).
func attemptHex(_ report: inout TestReport, _ name: StaticString, _ value: UInt64, equals expected: UInt64) {
    report.expect(name, hex: value, equals: expected)
    report.check("  still answers, nothing changed", Own.intact())
}

/// A store that must fault with #PF(error 3) and leave the word as it was.
func attemptStore(_ report: inout TestReport, _ name: StaticString, _ target: UInt64, _ value: UInt64) {
    let before = xg_read64(target)
    let faulted = !Traps.write(target, value)
    report.check(name, faulted)
    report.expect("  #PF error code", hex: faulted ? Traps.last.errorCode : ~0, equals: 3)
    report.expect("  the word unchanged", hex: xg_read64(target), equals: before)
    report.check("  still answers, nothing changed", Own.intact())
}
