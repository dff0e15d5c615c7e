// Ballooning: XENMEM_increase_reservation, decrease_reservation and populate_physmap for a
// PV domain, within the page allowance dom0_mem's `max:` set.
//
// increase hands the domain fresh zeroed frames (their machine numbers written back to the
// guest's extent list; the guest maps them and records them in its p2m and the M2P
// itself); populate does the same for the pseudo-physical frames the list names, and
// fills their M2P entries; decrease takes frames back. A frame leaves the domain only
// when nothing holds it: no page-table or descriptor type, no mapping by any of the
// domain's L1s, not the shared_info page or a registered vcpu_info page. Each call returns
// how many extents it completed, as Xen does; the first extent it cannot do ends it.
// Continuations use Xen's encoding: the extent to resume at in the command's upper bits.
import ApusCore
import ApusPublic
import ArchX86

enum Reservations {
    /// Largest extent a PV domain may ask for (Xen lets dom0 have order 9: 2 MiB).
    static let maxOrder: UInt32 = 9

    static func read(_ address: UInt64) -> xen_memory_reservation? {
        GuestMemory.read(xen_memory_reservation.self, at: address)
    }

    /// The domain a reservation names: this one, by DOMID_SELF or its own id.
    static func domainIsCurrent(_ domid: UInt16) -> Bool {
        domid == MemoryHypercalls.domidSelf || domid == PV.current.id
    }

    static func increase(_ args: HypercallArguments, populate: Bool) -> Int64 {
        let startExtent = args.a0 >> 6
        guard let request = read(args.a1) else { return Errno.EFAULT }
        guard domainIsCurrent(request.domid) else { return Errno.ESRCH }
        guard request.extent_order <= maxOrder else { return Int64(startExtent) }
        let order = Int(request.extent_order)
        let pages = UInt64(1) << UInt64(order)
        let addressBits = Int(request.mem_flags & 0xFF)
        let list = request.extent_start.p
        var index = startExtent
        while index < request.nr_extents {
            guard PV.current.pageCount &+ pages <= PV.current.maximumPageCount else { break }
            var firstPFN: UInt64 = 0
            if populate {
                guard let pfn = GuestMemory.read(UInt64.self, at: list &+ index &* 8) else { return Errno.EFAULT }
                firstPFN = pfn
            }
            guard let first = Memory.allocator.allocate(order: order, addressBits: addressBits == 0 ? 64 : addressBits)
            else { break }
            for frame in first..<(first + pages) {
                DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
                Memory.allocator.frameTable[Int(frame)].owner = PV.current.id
                Memory.allocator.frameTable[Int(frame)].typeInfo = 0
                Memory.allocator.frameTable[Int(frame)].countInfo = 0
                MachineToPhys.set(machineFrame: frame,
                                  pseudoPhysicalFrame: populate ? firstPFN + (frame - first) : MachineToPhys.invalidEntry)
            }
            PV.current.pageCount &+= pages
            if list != 0, !GuestMemory.write(first, to: list &+ index &* 8) { return Errno.EFAULT }
            index += 1
        }
        return Int64(index)
    }

    static func decrease(_ args: HypercallArguments) -> Int64 {
        let startExtent = args.a0 >> 6
        guard let request = read(args.a1) else { return Errno.EFAULT }
        guard domainIsCurrent(request.domid) else { return Errno.ESRCH }
        guard request.extent_order <= maxOrder else { return Int64(startExtent) }
        let pages = UInt64(1) << UInt64(request.extent_order)
        let list = request.extent_start.p
        var index = startExtent
        while index < request.nr_extents {
            guard let first = GuestMemory.read(UInt64.self, at: list &+ index &* 8) else { return Errno.EFAULT }
            // All pages of the extent must be free to go before any goes.
            var movable = true
            for frame in first..<(first &+ pages) where !mayLeave(frame) { movable = false; break }
            guard movable else { break }
            for frame in first..<(first + pages) { release(frame) }
            index += 1
        }
        return Int64(index)
    }

    /// Nothing but the domain's ownership holds `frame`.
    static func mayLeave(_ frame: UInt64) -> Bool {
        guard PageTypes.valid(frame), PageTypes.isOwnedByCurrent(frame) else { return false }
        guard PageTypes.level(of: frame) == 0, PageTypes.typeCount(of: frame) == 0,
              PageTypes.mappings(of: frame) == 0, PageTypes.writableMappings(of: frame) == 0 else { return false }
        guard frame != PV.current.sharedInfoFrame else { return false }
        for v in 0..<PV.current.vcpuCount where PV.vcpu(v).pointee.vcpuInfoMachineAddress >> 12 == frame { return false }
        return !GrantTable.holds(frame)
    }

    static func release(_ frame: UInt64) {
        Memory.allocator.frameTable[Int(frame)].owner = FrameInfo.noOwner
        MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: MachineToPhys.invalidEntry)
        do throws(FrameAllocatorError) {
            try Memory.allocator.free(frame, order: 0)
        } catch {
            panic("a frame dom0 gave back could not be freed")
        }
        PV.current.pageCount &-= 1
    }
}
