// One domain's event-channel port table, laid out in memory the caller hands in.
//
// Layout (one block, 16-byte aligned): a header (owner, privilege, sizes, how many ports
// are valid), `portCapacity` port entries, then for each vCPU the port bound to each VIRQ
// (0: none). The table is a view: copies of it refer to the same memory, so the
// directory can hand out tables by value and two domains' tables can be changed in one
// operation (an interdomain bind changes both ends).
//
// Invariants: port 0 is reserved; a port at or above `validPorts` is free; `validPorts`
// only grows, a bucket of 64 at a time, when the lowest free port lies beyond it (Xen
// makes a port addressable by allocating its bucket); the VIRQ slots and the VIRQ ports
// agree (slot (v, q) holds p exactly when port p is bound to VIRQ q on v, global VIRQs on
// vCPU 0 only). Only the operations in this folder change entries. Imports nothing.

struct EventChannelTableHeader {
    var domain: UInt16
    var isPrivileged: Bool
    var portCapacity: UInt32
    var vcpuCount: UInt32
    var validPorts: UInt32
}

public struct EventChannelTable {
    private let header: UnsafeMutablePointer<EventChannelTableHeader>
    private let ports: UnsafeMutablePointer<EventChannelPort>
    private let virqPorts: UnsafeMutablePointer<UInt32>

    public static let storageAlignment = 16

    private static var portsOffset: Int {
        roundUp(MemoryLayout<EventChannelTableHeader>.size, MemoryLayout<EventChannelPort>.alignment)
    }

    private static func virqOffset(portCapacity: Int) -> Int {
        roundUp(portsOffset + portCapacity * MemoryLayout<EventChannelPort>.stride, MemoryLayout<UInt32>.alignment)
    }

    private static func roundUp(_ value: Int, _ alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }

    /// Bytes `format` needs (about 64 KiB for 4096 ports).
    public static func storageBytes(portCapacity: Int, vcpuCount: Int) -> Int {
        virqOffset(portCapacity: portCapacity) + vcpuCount * Int(VIRQ.count) * MemoryLayout<UInt32>.stride
    }

    /// Writes a fresh table into `storage` (`storageBytes` bytes, `storageAlignment`-aligned):
    /// every port free, port 0 reserved, the first bucket valid. `portCapacity` is at most
    /// 4096 (the 2-level ABI's limit) and at least 1; `vcpuCount` at least 1.
    public static func format(_ storage: UnsafeMutableRawPointer, domain: UInt16, isPrivileged: Bool,
                              portCapacity: Int = EventChannelLimits.twoLevelPorts,
                              vcpuCount: Int) -> EventChannelTable {
        precondition(portCapacity >= 1 && portCapacity <= EventChannelLimits.twoLevelPorts)
        precondition(vcpuCount >= 1 && vcpuCount <= Int(UInt16.max))
        precondition(Int(bitPattern: storage) % storageAlignment == 0)
        storage.bindMemory(to: EventChannelTableHeader.self, capacity: 1).initialize(to: EventChannelTableHeader(
            domain: domain, isPrivileged: isPrivileged, portCapacity: UInt32(portCapacity),
            vcpuCount: UInt32(vcpuCount),
            validPorts: UInt32(min(EventChannelLimits.portsPerBucket, portCapacity))))
        let ports = (storage + portsOffset).bindMemory(to: EventChannelPort.self, capacity: portCapacity)
        ports.initialize(repeating: .free, count: portCapacity)
        ports[0] = EventChannelPort(binding: .reserved, notifyVCPU: 0)
        let slots = vcpuCount * Int(VIRQ.count)
        (storage + virqOffset(portCapacity: portCapacity)).bindMemory(to: UInt32.self, capacity: slots)
            .initialize(repeating: 0, count: slots)
        return EventChannelTable(storage: storage)
    }

    /// A view of a table `format` wrote earlier.
    public init(storage: UnsafeMutableRawPointer) {
        header = storage.assumingMemoryBound(to: EventChannelTableHeader.self)
        let capacity = Int(header.pointee.portCapacity)
        ports = (storage + Self.portsOffset).assumingMemoryBound(to: EventChannelPort.self)
        virqPorts = (storage + Self.virqOffset(portCapacity: capacity)).assumingMemoryBound(to: UInt32.self)
    }

    public var domain: UInt16 { header.pointee.domain }
    public var isPrivileged: Bool { header.pointee.isPrivileged }
    public var portCapacity: Int { Int(header.pointee.portCapacity) }
    public var vcpuCount: Int { Int(header.pointee.vcpuCount) }
    /// Ports below this are addressable (status and unmask answer for them).
    public var validPorts: Int { Int(header.pointee.validPorts) }

    public func isValid(_ port: UInt32) -> Bool { UInt64(port) < UInt64(header.pointee.validPorts) }

    public func hasVCPU(_ vcpu: UInt32) -> Bool { UInt64(vcpu) < UInt64(header.pointee.vcpuCount) }

    /// Port `port`'s entry; ports beyond the capacity read as free.
    public func port(_ port: UInt32) -> EventChannelPort {
        UInt64(port) < UInt64(portCapacity) ? ports[Int(port)] : .free
    }

    /// The port VIRQ `virq` is bound to on `vcpu`, 0 when none.
    public func virqPort(_ virq: UInt32, vcpu: UInt16) -> UInt32 {
        guard virq < VIRQ.count, Int(vcpu) < vcpuCount else { return 0 }
        return virqPorts[Int(vcpu) * Int(VIRQ.count) + Int(virq)]
    }

    func setPort(_ port: UInt32, _ entry: EventChannelPort) {
        precondition(port != 0 && UInt64(port) < UInt64(header.pointee.validPorts))
        ports[Int(port)] = entry
    }

    func setVIRQPort(_ virq: UInt32, vcpu: UInt16, to port: UInt32) {
        precondition(virq < VIRQ.count && Int(vcpu) < vcpuCount)
        virqPorts[Int(vcpu) * Int(VIRQ.count) + Int(virq)] = port
    }

    /// The lowest free port, made valid if it was not (Xen allocates the bucket before it
    /// checks whether the caller may use the port, so a refused call can still grow the
    /// valid range); nil when every port is in use.
    func allocateFreePort() -> UInt32? {
        var candidate = 0
        while candidate < portCapacity {
            if candidate >= validPorts {
                header.pointee.validPorts = UInt32(min(validPorts + EventChannelLimits.portsPerBucket, portCapacity))
                return UInt32(candidate)
            }
            if ports[candidate].binding == .free { return UInt32(candidate) }
            candidate += 1
        }
        return nil
    }

    /// Ports in use (neither free nor reserved).
    public var activePorts: Int {
        var count = 0
        for index in 0..<validPorts where ports[index].binding.isUsable { count += 1 }
        return count
    }
}
