// Mapping, unmapping and copying grants (GNTTABOP_map_grant_ref, unmap_grant_ref,
// unmap_and_replace, copy, cache_flush) on dom0's own grant table, with the per-op
// GNTST_* statuses Xen 4.17 gave the grantmap guest. The bookkeeping (handles, pins,
// status bits) is ApusCore's GrantMapTrack; this file reads grant entries, checks them,
// and writes the L1 entries.
//
// Rules as Xen keeps them: a grant is mapped by naming the granting domain by id (dom0
// itself: DOMID_SELF is bad_domain); the entry must permit access to the mapping domain,
// read-only grants only read-only; an active grant (already mapped) is not read again.
// A host mapping replaces the L1 entry at host_addr (or, with GNTMAP_contains_pte, the L1
// entry at that machine address) with the granted frame, as a kernel page (NX, user and
// Xen's bit 52 added), without flushing the old translation (the guest does); a writable
// mapping counts as a writable mapping of the frame, so it cannot become a table. The
// unmap clears the entry and flushes it. A copy names each side by grant (domid: dom0's
// id or DOMID_SELF) or by frame (DOMID_SELF only), within one page.
import ApusCore
import ApusPublic
import ArchX86

enum GrantMaps {
    static let handles = 1024
    nonisolated(unsafe) static var track = GrantMapTrack(
        records: UnsafeMutableBufferPointer(start: nil, count: 0), pins: UnsafeMutableBufferPointer(start: nil, count: 0))
    nonisolated(unsafe) static var ready = false

    static var anyMapped: Bool { ready && track.anyMapped }

    /// Storage on first use: the handles, and pins for every reference a full table holds.
    static func prepare() -> Bool {
        guard !ready else { return true }
        let entries = GrantTable.maximumFrames * 512
        let bytes = UInt64(handles * MemoryLayout<GrantMapRecord>.stride + entries * MemoryLayout<GrantPins>.stride)
        guard let first = Memory.allocator.allocate(order: MachineToPhys.orderFor(bytes: bytes + 64)) else { return false }
        let base = DirectMap.address(of: first << 12)
        let records = UnsafeMutablePointer<GrantMapRecord>(bitPattern: UInt(base)).unsafelyUnwrapped
        let pinsAddress = (base + UInt64(handles * MemoryLayout<GrantMapRecord>.stride) + 63) & ~63
        let pins = UnsafeMutablePointer<GrantPins>(bitPattern: UInt(pinsAddress)).unsafelyUnwrapped
        track = GrantMapTrack(records: UnsafeMutableBufferPointer(start: records, count: handles),
                              pins: UnsafeMutableBufferPointer(start: pins, count: entries))
        ready = true
        return true
    }

    /// Runs `op` over `count` records of `size` bytes at `list`; -EFAULT if one cannot be read.
    static func each(_ list: UInt64, _ count: UInt64, size: Int, _ op: (UnsafeMutableRawPointer) -> Void) -> Int64 {
        guard count > 0 else { return 0 }
        guard prepare() else { return Errno.ENOMEM }
        var buffer = InlineArray<40, UInt8>(repeating: 0)
        for index in 0..<count {
            let address = list &+ index &* UInt64(size)
            let ok = withUnsafeMutableBytes(of: &buffer) { raw -> Bool in
                guard GuestMemory.read(raw.baseAddress!, from: address, count: size) else { return false }
                op(raw.baseAddress!)
                return GuestMemory.write(UnsafeRawPointer(raw.baseAddress!), to: address, count: size)
            }
            guard ok else { return Errno.EFAULT }
        }
        return 0
    }

    // MARK: grant entries

    static var entryCount: UInt32 { UInt32(GrantTable.frameCount * (GrantTable.version == 1 ? 512 : 256)) }

    /// The entry's flags, domid and frame (v1 or v2 layout).
    static func entry(_ ref: UInt32) -> (flags: UnsafeMutablePointer<UInt16>, domid: UInt16, frame: UInt64) {
        let size = GrantTable.version == 1 ? 8 : 16
        let perFrame = 4096 / size
        let frame = GrantTable.frames[Int(ref) / perFrame]
        let raw = UnsafeMutableRawPointer(DirectMap.pointer(to: frame << 12 + UInt64((Int(ref) % perFrame) * size),
                                                            as: UInt8.self))
        let target = GrantTable.version == 1 ? UInt64(raw.load(fromByteOffset: 4, as: UInt32.self))
                                             : raw.load(fromByteOffset: 8, as: UInt64.self)
        return (raw.assumingMemoryBound(to: UInt16.self), raw.load(fromByteOffset: 2, as: UInt16.self), target)
    }

    static let permitAccess: UInt16 = 1, readOnlyGrant: UInt16 = 1 << 2

    /// Shows the pins in the entry's status bits (v1: in its flags).
    /// An entry the guest ended (invalid) while mapped is left as it is, as on Xen.
    static func publishStatus(_ ref: UInt32) {
        guard ref < entryCount else { return }
        if GrantTable.version == 2 {
            // v2: the status word of the entry, in the status frames.
            let frame = GrantTable.statusFrames[Int(ref) / 2048]
            DirectMap.pointer(to: frame << 12 + UInt64(Int(ref) % 2048) * 2, as: UInt16.self).pointee = track.statusBits(ref)
            return
        }
        let flags = entry(ref).flags
        guard flags.pointee & 3 != 0 else { return }
        flags.pointee = (flags.pointee & ~(GrantMapTrack.reading | GrantMapTrack.writing)) | track.statusBits(ref)
    }

    // MARK: map

    static func map(_ raw: UnsafeMutableRawPointer) {
        let op = raw.assumingMemoryBound(to: gnttab_map_grant_ref.self)
        op.pointee.status = result(of: op)
    }

    static func result(of op: UnsafeMutablePointer<gnttab_map_grant_ref>) -> Int16 {
        let flags = op.pointee.flags, ref = op.pointee.ref
        guard op.pointee.dom == PV.current.id else { return Int16(GNTST_bad_domain) }
        let host = flags & UInt32(GNTMAP_host_map) != 0, device = flags & UInt32(GNTMAP_device_map) != 0
        let readOnly = flags & UInt32(GNTMAP_readonly) != 0
        guard host || device, ref < entryCount else { return Int16(GNTST_bad_gntref) }
        var frame = track.pins(of: ref).frame
        if !track.pins(of: ref).isActive {
            let e = entry(ref)
            guard e.flags.pointee & 3 == permitAccess, e.domid == PV.current.id else { return Int16(GNTST_general_error) }
            guard readOnly || e.flags.pointee & readOnlyGrant == 0 else { return Int16(GNTST_general_error) }
            frame = e.frame
            guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else {
                GuestWarnings.notOwned(frame)
                return Int16(GNTST_bad_page)
            }
        }
        // A table is never writable, even through a grant.
        guard readOnly || PageTypes.level(of: frame) == 0 else { return Int16(GNTST_general_error) }
        var record = GrantMapRecord()
        record.ref = ref
        record.frame = frame
        record.readOnly = readOnly
        record.device = device
        if host {
            guard let slot = l1Slot(for: op.pointee.host_addr, containsPTE: flags & UInt32(GNTMAP_contains_pte) != 0)
            else { return Int16(GNTST_general_error) }
            record.host = true
            record.hostAddress = op.pointee.host_addr
            record.containsPTE = flags & UInt32(GNTMAP_contains_pte) != 0
            let value = frame << 12 | 0x65 | (readOnly ? 0 : PageTableEntry.writable) | 1 << 63 | PageTypes.guestKernel
            write(slot, value)   // the old translation is not flushed (Xen does not either)
        }
        guard let handle = track.add(record) else {
            if host, let slot = l1Slot(for: record.hostAddress, containsPTE: record.containsPTE) { write(slot, 0) }
            return Int16(GNTST_no_space)
        }
        if host { track.pin(ref, frame: frame, writable: !readOnly) }
        if device { track.pin(ref, frame: frame, writable: !readOnly) }
        publishStatus(ref)
        op.pointee.handle = handle
        op.pointee.dev_bus_addr = frame << 12
        return Int16(GNTST_okay)
    }

    /// The machine address of the L1 entry a host mapping writes: the entry for a linear
    /// address in the current tables, or (contains_pte) an aligned entry of an own L1.
    static func l1Slot(for address: UInt64, containsPTE: Bool) -> UInt64? {
        if containsPTE {
            let frame = address >> 12
            guard address & 7 == 0, PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame),
                  PageTypes.level(of: frame) == 1, PageTypes.typeCount(of: frame) > 0 else { return nil }
            return address
        }
        guard GuestAddress.isAccessible(address, length: 1) else { return nil }
        return PageTypes.l1EntryAddress(for: address, root: PV.vcpu.pointee.kernelTableFrame)
    }

    static func write(_ slot: UInt64, _ value: UInt64) {
        let pointer = DirectMap.pointer(to: slot, as: UInt64.self)
        PageTypes.account(old: pointer.pointee, new: value)
        pointer.pointee = value
        Shadows.guestEntryChanged(slot >> 12, level: 1, index: Int((slot & 0xFFF) >> 3))
    }

    // MARK: unmap

    static func unmap(_ raw: UnsafeMutableRawPointer) {
        let op = raw.assumingMemoryBound(to: gnttab_unmap_grant_ref.self)
        guard var record = track.record(op.pointee.handle) else { op.pointee.status = Int16(GNTST_bad_handle); return }
        let hostAddress = op.pointee.host_addr, busAddress = op.pointee.dev_bus_addr
        if hostAddress != 0 {
            guard record.host, hostAddress == record.hostAddress,
                  let slot = l1Slot(for: hostAddress, containsPTE: record.containsPTE) else {
                op.pointee.status = Int16(GNTST_general_error)
                return
            }
            _ = slot
        }
        if busAddress != 0 && (!record.device || busAddress != record.frame << 12) {
            op.pointee.status = Int16(GNTST_bad_dev_addr)
            return
        }
        if hostAddress != 0, let slot = l1Slot(for: hostAddress, containsPTE: record.containsPTE) {
            write(slot, 0)
            if !record.containsPTE { CPU.invalidatePage(hostAddress) } else { CPU.flushAllTranslations() }
            record.host = false
            track.unpin(record.ref, writable: !record.readOnly)
        }
        if busAddress != 0 {
            record.device = false
            track.unpin(record.ref, writable: !record.readOnly)
        }
        track.update(op.pointee.handle, record)
        publishStatus(record.ref)
        Reservations.freeIfReleased(record.frame)
        op.pointee.status = Int16(GNTST_okay)
    }

    /// The host mapping at host_addr goes; what new_addr maps takes its place and
    /// new_addr's entry is cleared (new_addr 0: a plain unmap of the host part).
    static func unmapAndReplace(_ raw: UnsafeMutableRawPointer) {
        let op = raw.assumingMemoryBound(to: gnttab_unmap_and_replace.self)
        guard var record = track.record(op.pointee.handle) else { op.pointee.status = Int16(GNTST_bad_handle); return }
        guard record.host, !record.containsPTE, op.pointee.host_addr == record.hostAddress,
              let slot = l1Slot(for: record.hostAddress, containsPTE: false) else {
            op.pointee.status = Int16(GNTST_general_error)
            return
        }
        var replacement: UInt64 = 0
        if op.pointee.new_addr != 0 {
            guard let newSlot = l1Slot(for: op.pointee.new_addr, containsPTE: false) else {
                op.pointee.status = Int16(GNTST_general_error)
                return
            }
            replacement = DirectMap.pointer(to: newSlot, as: UInt64.self).pointee
            write(slot, replacement)   // counted for the new place first, then released at the old
            write(newSlot, 0)
            CPU.invalidatePage(op.pointee.new_addr)
        } else {
            write(slot, 0)
        }
        CPU.invalidatePage(record.hostAddress)
        record.host = false
        track.unpin(record.ref, writable: !record.readOnly)
        track.update(op.pointee.handle, record)
        publishStatus(record.ref)
        op.pointee.status = Int16(GNTST_okay)
    }

    // MARK: copy

    /// One side of a copy: the direct-map address of its frame, or a GNTST_* refusal.
    static func side(_ ptr: gnttab_copy_ptr, isGrant: Bool, writing: Bool) -> (address: UInt64?, status: Int16) {
        let domid = ptr.domid
        if isGrant {
            guard domid == PV.current.id || domid == PageOwner.domidSelf else { return (nil, Int16(GNTST_bad_domain)) }
            guard ptr.u.ref < entryCount else { return (nil, Int16(GNTST_bad_gntref)) }
            let e = entry(ptr.u.ref)
            guard e.flags.pointee & 3 == permitAccess, e.domid == PV.current.id else { return (nil, Int16(GNTST_general_error)) }
            guard !writing || e.flags.pointee & readOnlyGrant == 0 else { return (nil, Int16(GNTST_general_error)) }
            guard PageTypes.isRAM(e.frame), PageTypes.isOwnedByCurrent(e.frame) else { return (nil, Int16(GNTST_bad_page)) }
            guard !writing || PageTypes.level(of: e.frame) == 0 else { return (nil, Int16(GNTST_general_error)) }
            return (DirectMap.address(of: e.frame << 12), Int16(GNTST_okay))
        }
        if domid == PV.current.id { return (nil, Int16(GNTST_permission_denied)) }   // frames by DOMID_SELF only
        guard domid == PageOwner.domidSelf else { return (nil, Int16(GNTST_bad_domain)) }
        let frame = ptr.u.gmfn
        guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return (nil, Int16(GNTST_bad_page)) }
        guard !writing || PageTypes.level(of: frame) == 0 else { return (nil, Int16(GNTST_general_error)) }
        return (DirectMap.address(of: frame << 12), Int16(GNTST_okay))
    }

    static func copy(_ raw: UnsafeMutableRawPointer) {
        let op = raw.assumingMemoryBound(to: gnttab_copy.self)
        let flags = op.pointee.flags, length = UInt64(op.pointee.len)
        let source = side(op.pointee.source, isGrant: flags & UInt16(GNTCOPY_source_gref) != 0, writing: false)
        guard let from = source.address else { op.pointee.status = source.status; return }
        let destination = side(op.pointee.dest, isGrant: flags & UInt16(GNTCOPY_dest_gref) != 0, writing: true)
        guard let to = destination.address else { op.pointee.status = destination.status; return }
        guard UInt64(op.pointee.source.offset) + length <= 4096, UInt64(op.pointee.dest.offset) + length <= 4096 else {
            op.pointee.status = Int16(GNTST_bad_copy_arg)
            return
        }
        if length > 0 {
            UnsafeMutableRawPointer(bitPattern: UInt(to + UInt64(op.pointee.dest.offset))).unsafelyUnwrapped
                .copyMemory(from: UnsafeRawPointer(bitPattern: UInt(from + UInt64(op.pointee.source.offset))).unsafelyUnwrapped,
                            byteCount: Int(length))
        }
        op.pointee.status = Int16(GNTST_okay)
    }

    // MARK: cache_flush

    /// GNTTABOP_cache_flush: an errno per call (no status): CLEAN by bus address is a
    /// no-op on x86's coherent caches; INVAL is not offered; grant references and ranges
    /// past the page are -EINVAL; a frame dom0 does not own -EPERM.
    static func cacheFlush(_ list: UInt64, _ count: UInt64) -> Int64 {
        for index in 0..<count {
            guard let op = GuestMemory.read(gnttab_cache_flush.self, at: list &+ index &* 16) else { return Errno.EFAULT }
            let known = UInt32(GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL) | GNTTAB_CACHE_SOURCE_GREF
            guard op.op & ~known == 0, op.op & GNTTAB_CACHE_SOURCE_GREF == 0,
                  UInt32(op.offset) + UInt32(op.length) <= 4096 else { return Errno.EINVAL }
            if op.op == 0 { continue }
            let frame = op.a.dev_bus_addr >> 12
            guard PageTypes.isRAM(frame), PageTypes.isOwnedByCurrent(frame) else { return Errno.EPERM }
            if op.op & UInt32(GNTTAB_CACHE_INVAL) != 0 { return Errno.EOPNOTSUPP }
        }
        return 0
    }
}
