// The grant table's operations for dom0: query_size, setup_table, get_version,
// set_version with the answers Xen 4.17 gave the granttable test guest; mapping,
// unmapping and copying grants are in GrantMaps.swift.
//
// The table frames are Apus-allocated, owned by the domain (it maps them writable to
// write its entries), outside its p2m (their M2P entries stay invalid). The table only
// grows, up to 64 frames. Switching version keeps the 8 reserved entries, converted
// between the v1 (8-byte) and v2 (16-byte) layouts, and clears everything else.
import ApusCore
import ApusPublic
import ArchX86

enum GrantTable {
    static let maximumFrames = 64
    static let reservedEntries = 8
    nonisolated(unsafe) static var version: UInt32 = 1
    nonisolated(unsafe) static var frames = InlineArray<64, UInt64>(repeating: 0)
    nonisolated(unsafe) static var frameCount = 0
    /// Version 2's status frames (one uint16 per grant: reading/writing), the domain's to
    /// read, never to write (their type 6 keeps writable mappings out).
    nonisolated(unsafe) static var statusFrames = InlineArray<8, UInt64>(repeating: 0)
    nonisolated(unsafe) static var statusFrameCount = 0
    static let statusFrameType = 6

    /// Status frames for `frameCount` table frames of v2 entries (256 per frame, 2 bytes each).
    static func growStatusFrames() -> Bool {
        let needed = max(1, (frameCount * 256 * 2 + 4095) / 4096)
        while statusFrameCount < needed {
            guard let frame = Memory.allocator.allocate(order: 0) else { return false }
            DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
            Memory.allocator.frameTable[Int(frame)].owner = PV.current.id
            Memory.allocator.frameTable[Int(frame)].typeInfo = UInt64(statusFrameType)
            Memory.allocator.frameTable[Int(frame)].countInfo = 0
            statusFrames[statusFrameCount] = frame
            statusFrameCount += 1
        }
        return true
    }

    static var reportedFrames: UInt32 { UInt32(max(1, frameCount)) }

    static func isSelf(_ domid: UInt16) -> Bool { domid == 0x7FF0 || domid == PV.current.id }

    /// `frame` is one of the table's frames (they never leave the domain by ballooning).
    static func holds(_ frame: UInt64) -> Bool {
        for index in 0..<frameCount where frames[index] == frame { return true }
        for index in 0..<statusFrameCount where statusFrames[index] == frame { return true }
        return false
    }

    static func perform(_ args: HypercallArguments) -> Int64 {
        let command = args.a0, argument = args.a1, count = args.a2
        guard count < 1 << 31, command >> 12 == 0 else { return Errno.EINVAL }
        switch Int32(command) {
        case GNTTABOP_setup_table:
            guard count == 1 else { return Errno.EINVAL }
            return setupTable(at: argument)
        case GNTTABOP_query_size:
            guard count == 1 else { return Errno.EINVAL }
            guard var query = GuestMemory.read(gnttab_query_size.self, at: argument) else { return Errno.EFAULT }
            if isSelf(query.dom) {
                query.nr_frames = reportedFrames
                query.max_nr_frames = UInt32(maximumFrames)
                query.status = Int16(GNTST_okay)
            } else {
                query.status = Int16(GNTST_bad_domain)
            }
            return GuestMemory.write(query, to: argument) ? 0 : Errno.EFAULT
        case GNTTABOP_get_version:
            guard var request = GuestMemory.read(gnttab_get_version.self, at: argument) else { return Errno.EFAULT }
            guard isSelf(request.dom) else { return Errno.ESRCH }
            request.version = version
            return GuestMemory.write(request, to: argument) ? 0 : Errno.EFAULT
        case GNTTABOP_set_version:
            guard var request = GuestMemory.read(gnttab_set_version.self, at: argument) else { return Errno.EFAULT }
            let asked = request.version
            let accepted = asked == 1 || asked == 2
            if accepted && asked != version && GrantMaps.anyMapped {
                // Xen 4.17: not while a grant is mapped, and the version out stays.
                request.version = version
                guard GuestMemory.write(request, to: argument) else { return Errno.EFAULT }
                return Errno.EBUSY
            }
            if accepted && asked == 2 && !growStatusFrames() { return Errno.ENOMEM }
            if accepted && asked != version { convert(to: asked) }
            request.version = version
            guard GuestMemory.write(request, to: argument) else { return Errno.EFAULT }
            return accepted ? 0 : Errno.EINVAL
        case GNTTABOP_map_grant_ref:
            return GrantMaps.each(argument, count, size: 32, GrantMaps.map)
        case GNTTABOP_unmap_grant_ref:
            return GrantMaps.each(argument, count, size: 24, GrantMaps.unmap)
        case GNTTABOP_unmap_and_replace:
            return GrantMaps.each(argument, count, size: 24, GrantMaps.unmapAndReplace)
        case GNTTABOP_copy:
            return GrantMaps.each(argument, count, size: 40, GrantMaps.copy)
        case GNTTABOP_cache_flush:
            return GrantMaps.cacheFlush(argument, count)
        case GNTTABOP_get_status_frames:
            guard count == 1 else { return Errno.EINVAL }
            guard var request = GuestMemory.read(gnttab_get_status_frames.self, at: argument) else { return Errno.EFAULT }
            if request.dom != PV.current.id && request.dom != PageOwner.domidSelf {
                request.status = Int16(GNTST_bad_domain)
            } else if version != 2 || Int(request.nr_frames) > statusFrameCount {
                request.status = Int16(GNTST_general_error)
            } else {
                request.status = Int16(GNTST_okay)
                for index in 0..<Int(request.nr_frames) where !GuestMemory.write(statusFrames[index],
                                                                                 to: request.frame_list.p &+ UInt64(index) * 8) {
                    request.status = Int16(GNTST_bad_virt_addr)
                }
            }
            return GuestMemory.write(request, to: argument) ? 0 : Errno.EFAULT
        default:
            return Errno.ENOSYS
        }
    }

    static func setupTable(at address: UInt64) -> Int64 {
        guard var request = GuestMemory.read(gnttab_setup_table.self, at: address) else { return Errno.EFAULT }
        let list = request.frame_list.p
        // A frame list in Apus's slot is refused outright, as Xen does, even for 0 frames.
        guard list == 0 || GuestAddress.isAccessible(list, length: 1) else {
            return Errno.EFAULT
        }
        if !isSelf(request.dom) {
            request.status = Int16(GNTST_bad_domain)
        } else if request.nr_frames > UInt32(maximumFrames) {
            request.status = Int16(GNTST_general_error)
        } else if !grow(to: Int(request.nr_frames)) {
            request.status = Int16(GNTST_general_error)
        } else {
            request.status = Int16(GNTST_okay)
            for index in 0..<Int(request.nr_frames) {
                guard GuestMemory.write(frames[index], to: list &+ UInt64(index) * 8) else {
                    request.status = Int16(GNTST_bad_virt_addr)
                    break
                }
            }
        }
        return GuestMemory.write(request.status, to: address + 8) ? 0 : Errno.EFAULT
    }

    /// New table frames: zeroed, owned by the domain, not in its p2m.
    static func grow(to count: Int) -> Bool {
        while frameCount < count {
            guard let frame = Memory.allocator.allocate(order: 0) else { return false }
            DirectMap.pointer(to: frame << 12, as: UInt8.self).update(repeating: 0, count: 4096)
            Memory.allocator.frameTable[Int(frame)].owner = PV.current.id
            Memory.allocator.frameTable[Int(frame)].typeInfo = 0
            Memory.allocator.frameTable[Int(frame)].countInfo = 0
            frames[frameCount] = frame
            frameCount += 1
        }
        return true
    }

    /// Keeps the reserved entries across a version switch; clears the rest of the table.
    static func convert(to newVersion: UInt32) {
        var flags = InlineArray<8, UInt16>(repeating: 0)
        var domids = InlineArray<8, UInt16>(repeating: 0)
        var targets = InlineArray<8, UInt64>(repeating: 0)
        if frameCount > 0 {
            let table = UnsafeMutableRawPointer(DirectMap.pointer(to: frames[0] << 12, as: UInt8.self))
            let size = version == 1 ? 8 : 16
            for entry in 0..<reservedEntries {
                flags[entry] = table.load(fromByteOffset: entry * size, as: UInt16.self)
                domids[entry] = table.load(fromByteOffset: entry * size + 2, as: UInt16.self)
                targets[entry] = version == 1 ? UInt64(table.load(fromByteOffset: entry * size + 4, as: UInt32.self))
                                              : table.load(fromByteOffset: entry * size + 8, as: UInt64.self)
            }
            for index in 0..<frameCount {
                DirectMap.pointer(to: frames[index] << 12, as: UInt8.self).update(repeating: 0, count: 4096)
            }
            let newSize = newVersion == 1 ? 8 : 16
            for entry in 0..<reservedEntries {
                table.storeBytes(of: flags[entry], toByteOffset: entry * newSize, as: UInt16.self)
                table.storeBytes(of: domids[entry], toByteOffset: entry * newSize + 2, as: UInt16.self)
                if newVersion == 1 {
                    table.storeBytes(of: UInt32(truncatingIfNeeded: targets[entry]), toByteOffset: entry * newSize + 4,
                                     as: UInt32.self)
                } else {
                    table.storeBytes(of: targets[entry], toByteOffset: entry * newSize + 8, as: UInt64.self)
                }
            }
        }
        version = newVersion
    }
}
