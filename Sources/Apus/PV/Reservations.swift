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
    /// Largest extent the hardware domain may ask for (Xen 4.17 took order 10 from dom0).
    static let maxOrder: UInt32 = 12

    static func read(_ address: UInt64) -> xen_memory_reservation? {
        GuestMemory.read(xen_memory_reservation.self, at: address)
    }

    /// The domain a reservation names: this one, by DOMID_SELF or its own id.
    static func domainIsCurrent(_ domid: UInt16) -> Bool {
        domid == MemoryHypercalls.domidSelf || domid == PV.current.id
    }

    static func increase(_ args: HypercallArguments, populate: Bool) -> Int64 {
        // Every refusal of the request as a whole is "no extents done" (Xen 4.17).
        let startExtent = args.a0 >> 6
        guard let request = read(args.a1) else { return Int64(startExtent) }
        guard domainIsCurrent(request.domid), request.nr_extents < 1 << 26 else { return Int64(startExtent) }
        guard request.extent_order <= maxOrder else { return Int64(startExtent) }
        let populateOnDemand: UInt32 = 1 << 16, exactNode: UInt32 = 1 << 17
        if request.mem_flags & populateOnDemand != 0 { return Int64(startExtent) }
        let node = (request.mem_flags >> 8) & 0xFF   // XENMEMF_node(n) is n + 1; one node here
        if request.mem_flags & exactNode != 0 && node > 1 { return Int64(startExtent) }
        if request.extent_start.p != 0 && !GuestAddress.isAccessible(request.extent_start.p, length: 8) {
            return Int64(startExtent)
        }
        let order = Int(request.extent_order)
        let pages = UInt64(1) << UInt64(order)
        let addressBits = Int(request.mem_flags & 0xFF)
        let list = request.extent_start.p
        var index = startExtent
        while index < request.nr_extents {
            guard PV.current.pageCount &+ pages <= PV.current.maximumPageCount else {
                GuestWarnings.overAllocation(wanted: PV.current.pageCount &+ pages, maximum: PV.current.maximumPageCount)
                break
            }
            var firstPFN: UInt64 = 0
            if populate {
                guard let pfn = GuestMemory.read(UInt64.self, at: list &+ index &* 8) else { break }
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
            // Unwritable list: the extent stays the domain's, the call ends (Xen's order).
            if list != 0, !GuestMemory.write(first, to: list &+ index &* 8) { break }
            index += 1
        }
        return Int64(index)
    }

    static func decrease(_ args: HypercallArguments) -> Int64 {
        let startExtent = args.a0 >> 6
        guard let request = read(args.a1) else { return Int64(startExtent) }
        guard domainIsCurrent(request.domid), request.nr_extents < 1 << 26 else { return Int64(startExtent) }
        guard request.extent_order <= maxOrder else { return Int64(startExtent) }
        let pages = UInt64(1) << UInt64(request.extent_order)
        let list = request.extent_start.p
        var index = startExtent
        while index < request.nr_extents {
            // An extent list Apus cannot read ends the call with what was done (Xen: no -EFAULT).
            guard let first = GuestMemory.read(UInt64.self, at: list &+ index &* 8) else { break }
            // Page by page, as Xen: a page that is not the domain's ends the call, the
            // pages before it in the extent already gone.
            var complete = true
            for frame in first..<(first &+ pages) {
                // shared_info, and a frame already given back but still in use: done, as on Xen.
                if frame == PV.current.sharedInfoFrame || PageTypes.isReleased(frame) { continue }
                guard PageTypes.valid(frame), PageTypes.isOwnedByCurrent(frame) else { complete = false; break }
                giveBack(frame)
            }
            guard complete else { break }
            index += 1
        }
        return Int64(index)
    }

    /// The domain gives `frame` up: freed now if nothing holds it, else when the last
    /// mapping, type or grant mapping goes (it is no longer the domain's to use meanwhile).
    /// shared_info is Xen's page: giving it "back" changes nothing, as on Xen.
    static func giveBack(_ frame: UInt64) {
        guard frame != PV.current.sharedInfoFrame else { return }
        if mayLeave(frame) {
            release(frame)
        } else {
            PageTypes.setReleased(frame)
        }
    }

    /// Nothing but the domain's ownership holds `frame`.
    static func mayLeave(_ frame: UInt64) -> Bool {
        guard PageTypes.level(of: frame) == 0, PageTypes.typeCount(of: frame) == 0,
              PageTypes.mappings(of: frame) == 0, PageTypes.writableMappings(of: frame) == 0 else { return false }
        for v in 0..<PV.current.vcpuCount where PV.vcpu(v).pointee.vcpuInfoMachineAddress >> 12 == frame { return false }
        return !GrantTable.holds(frame) && !(GrantMaps.ready && GrantMaps.track.holds(frame))
    }

    /// Called when something let go of a frame the domain gave back: free it if that was the last.
    static func freeIfReleased(_ frame: UInt64) {
        guard PageTypes.isReleased(frame), mayLeave(frame) else { return }
        release(frame)
    }

    static func release(_ frame: UInt64) {
        Memory.allocator.frameTable[Int(frame)].owner = FrameInfo.noOwner
        Memory.allocator.frameTable[Int(frame)].typeInfo = 0
        Memory.allocator.frameTable[Int(frame)].countInfo = 0
        MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: MachineToPhys.invalidEntry)
        do throws(FrameAllocatorError) {
            try Memory.allocator.free(frame, order: 0)
        } catch {
            panic("a frame dom0 gave back could not be freed")
        }
        PV.current.pageCount &-= 1
    }

    // MARK: exchange

    /// XENMEM_exchange: the domain's frames listed in `in` for fresh ones (`out`'s list
    /// names the pfns they take, as populate_physmap's does, and receives their machine
    /// frames), `nr_exchanged` in-extents at a time, in chunks of the larger extent order.
    /// Each old frame must be free to go (-EINVAL otherwise).
    static func exchange(_ args: HypercallArguments) -> Int64 {
        guard var request = GuestMemory.read(xen_memory_exchange.self, at: args.a1) else { return Errno.EFAULT }
        let input = request.in, output = request.out
        guard request.nr_exchanged <= input.nr_extents else { return Errno.EINVAL }
        guard input.extent_start.p == 0 || GuestAddress.isAccessible(input.extent_start.p, length: 8),
              output.extent_start.p == 0 || GuestAddress.isAccessible(output.extent_start.p, length: 8) else {
            return Errno.EFAULT
        }
        guard input.extent_order <= 63, output.extent_order <= 63,
              input.nr_extents << UInt64(input.extent_order) == output.nr_extents << UInt64(output.extent_order) else {
            return Errno.EINVAL
        }
        guard input.extent_order <= maxOrder, output.extent_order <= maxOrder else { return Errno.EPERM }
        guard input.domid == output.domid else { return Errno.EINVAL }
        guard domainIsCurrent(input.domid) else { return Errno.ESRCH }
        let chunkOrder = max(input.extent_order, output.extent_order)
        let inPerChunk = UInt64(1) << UInt64(chunkOrder - input.extent_order)
        let outPerChunk = UInt64(1) << UInt64(chunkOrder - output.extent_order)
        let inPages = UInt64(1) << UInt64(input.extent_order), outPages = UInt64(1) << UInt64(output.extent_order)
        while request.nr_exchanged < input.nr_extents {
            let chunk = request.nr_exchanged / inPerChunk
            // The old frames: all must be the domain's and free to go.
            var old = InlineArray<64, UInt64>(repeating: 0)
            let chunkPages = Int(inPerChunk * inPages)
            guard chunkPages <= 64 else { return Errno.EINVAL }
            for i in 0..<inPerChunk {
                guard let first = GuestMemory.read(UInt64.self, at: input.extent_start.p &+ (chunk * inPerChunk + i) &* 8) else {
                    return Errno.EFAULT
                }
                for page in 0..<inPages {
                    let frame = first &+ page
                    guard PageTypes.valid(frame), PageTypes.isOwnedByCurrent(frame), mayLeave(frame),
                          frame != PV.current.sharedInfoFrame else { return Errno.EINVAL }
                    old[Int(i * inPages + page)] = frame
                }
            }
            // The new frames, each with the pfn of the old one at its place.
            for j in 0..<outPerChunk {
                // As populate_physmap: the out list names the pfns the new frames take.
                let slot = output.extent_start.p &+ (chunk * outPerChunk + j) &* 8
                guard let firstPFN = GuestMemory.read(UInt64.self, at: slot) else { return Errno.EFAULT }
                guard let first = Memory.allocator.allocate(order: Int(output.extent_order)) else { return Errno.ENOMEM }
                for page in 0..<outPages {
                    let frame = first + page
                    DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
                    Memory.allocator.frameTable[Int(frame)].owner = PV.current.id
                    Memory.allocator.frameTable[Int(frame)].typeInfo = 0
                    Memory.allocator.frameTable[Int(frame)].countInfo = 0
                    MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: firstPFN &+ page)
                }
                PV.current.pageCount &+= outPages
                guard GuestMemory.write(first, to: slot) else { return Errno.EFAULT }
            }
            for index in 0..<chunkPages { release(old[index]) }
            request.nr_exchanged += inPerChunk
            guard GuestMemory.write(request.nr_exchanged, to: args.a1 &+ 64) else { return Errno.EFAULT }
        }
        return 0
    }
}
