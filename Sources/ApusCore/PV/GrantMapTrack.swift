// The bookkeeping behind grant mappings, as pure logic: the map-track table (a handle per
// map_grant_ref, naming what it mapped and where) and the pin counts per grant reference
// that decide the GTF_reading/GTF_writing bits Xen shows in a grant entry while it is in
// use. A host mapping and a device mapping each pin the grant once (so a host+device map
// stays "in use" until both parts are undone); a writable pin counts as reading and
// writing, a read-only one as reading. Handles are the lowest free slot, from 0, as Xen
// hands them out. Storage is the caller's. Imports nothing.

public struct GrantMapRecord: Equatable {
    public var ref: UInt32 = 0
    public var frame: UInt64 = 0
    /// The linear address mapped, or with `containsPTE` the machine address of the L1 entry.
    public var hostAddress: UInt64 = 0
    public var containsPTE = false
    public var host = false
    public var device = false
    public var readOnly = false
    public var inUse: Bool { host || device }
    public init() {}
}

/// Per grant reference: the frame it was mapped with (an active grant is not read again)
/// and its pins.
public struct GrantPins: Equatable {
    public var frame: UInt64 = 0
    public var readers: UInt32 = 0
    public var writers: UInt32 = 0
    public var isActive: Bool { readers + writers > 0 }
    public init() {}
}

public struct GrantMapTrack: ~Copyable {
    public static let reading: UInt16 = 1 << 3, writing: UInt16 = 1 << 4

    let records: UnsafeMutableBufferPointer<GrantMapRecord>
    let pins: UnsafeMutableBufferPointer<GrantPins>

    /// `records`: the handles; `pins`: one per grant reference the table can hold.
    public init(records: UnsafeMutableBufferPointer<GrantMapRecord>, pins: UnsafeMutableBufferPointer<GrantPins>) {
        self.records = records
        self.pins = pins
        for i in 0..<records.count { records[i] = GrantMapRecord() }
        for i in 0..<pins.count { pins[i] = GrantPins() }
    }

    public func record(_ handle: UInt32) -> GrantMapRecord? {
        guard Int(handle) < records.count, records[Int(handle)].inUse else { return nil }
        return records[Int(handle)]
    }

    /// A new handle for `record` (which must be in use), or nil when the table is full.
    public mutating func add(_ record: GrantMapRecord) -> UInt32? {
        guard record.inUse else { return nil }
        for i in 0..<records.count where !records[i].inUse {
            records[i] = record
            return UInt32(i)
        }
        return nil
    }

    /// Replaces a handle's record; one no longer in use frees the handle.
    public mutating func update(_ handle: UInt32, _ record: GrantMapRecord) {
        guard Int(handle) < records.count else { return }
        records[Int(handle)] = record.inUse ? record : GrantMapRecord()
    }

    public func pins(of ref: UInt32) -> GrantPins {
        Int(ref) < pins.count ? pins[Int(ref)] : GrantPins()
    }

    public mutating func pin(_ ref: UInt32, frame: UInt64, writable: Bool) {
        guard Int(ref) < pins.count else { return }
        pins[Int(ref)].frame = frame
        if writable { pins[Int(ref)].writers += 1 } else { pins[Int(ref)].readers += 1 }
    }

    public mutating func unpin(_ ref: UInt32, writable: Bool) {
        guard Int(ref) < pins.count else { return }
        if writable {
            if pins[Int(ref)].writers > 0 { pins[Int(ref)].writers -= 1 }
        } else if pins[Int(ref)].readers > 0 {
            pins[Int(ref)].readers -= 1
        }
        if !pins[Int(ref)].isActive { pins[Int(ref)].frame = 0 }
    }

    /// The status bits the grant entry shows for `ref` now.
    public func statusBits(_ ref: UInt32) -> UInt16 {
        let p = pins(of: ref)
        return (p.isActive ? Self.reading : 0) | (p.writers > 0 ? Self.writing : 0)
    }

    /// Some handle is in use.
    public var anyMapped: Bool {
        for i in 0..<records.count where records[i].inUse { return true }
        return false
    }

    /// Some mapping holds `frame`.
    public func holds(_ frame: UInt64) -> Bool {
        for i in 0..<records.count where records[i].inUse && records[i].frame == frame { return true }
        return false
    }
}
