// Test doubles for the event-channel logic: shared_info bitmaps over arrays and a
// directory of domains whose tables live in host-allocated memory.
@testable import ApusCore

/// One domain's shared_info event words, as arrays.
final class ArrayEventBitmaps: EventBitmaps {
    var pending = [UInt64](repeating: 0, count: 64)
    var mask = [UInt64](repeating: 0, count: 64)
    var selector: [UInt64]
    var upcallPending: [UInt8]
    var upcallMask: [UInt8]

    init(vcpuCount: Int) {
        selector = [UInt64](repeating: 0, count: vcpuCount)
        upcallPending = [UInt8](repeating: 0, count: vcpuCount)
        upcallMask = [UInt8](repeating: 0, count: vcpuCount)
    }

    private static func split(_ port: UInt32) -> (Int, UInt64) { (Int(port / 64), UInt64(1) << UInt64(port % 64)) }

    func testAndSetPending(_ port: UInt32) -> Bool {
        let (word, bit) = Self.split(port); let old = pending[word] & bit != 0; pending[word] |= bit; return old
    }
    func testAndClearPending(_ port: UInt32) -> Bool {
        let (word, bit) = Self.split(port); let old = pending[word] & bit != 0; pending[word] &= ~bit; return old
    }
    func isPending(_ port: UInt32) -> Bool { let (word, bit) = Self.split(port); return pending[word] & bit != 0 }
    func isMasked(_ port: UInt32) -> Bool { let (word, bit) = Self.split(port); return mask[word] & bit != 0 }
    func testAndClearMask(_ port: UInt32) -> Bool {
        let (word, bit) = Self.split(port); let old = mask[word] & bit != 0; mask[word] &= ~bit; return old
    }
    func testAndSetSelector(vcpu: UInt16, word: Int) -> Bool {
        let bit = UInt64(1) << UInt64(word); let old = selector[Int(vcpu)] & bit != 0
        selector[Int(vcpu)] |= bit; return old
    }
    func testAndSetUpcallPending(vcpu: UInt16) -> Bool {
        let old = upcallPending[Int(vcpu)] != 0; upcallPending[Int(vcpu)] = 1; return old
    }
    func isUpcallPending(vcpu: UInt16) -> Bool { upcallPending[Int(vcpu)] != 0 }
    func isUpcallMasked(vcpu: UInt16) -> Bool { upcallMask[Int(vcpu)] != 0 }

    // What a guest does to its own words.
    func setMask(_ port: UInt32, _ on: Bool) {
        let (word, bit) = Self.split(port); if on { mask[word] |= bit } else { mask[word] &= ~bit }
    }
    func acknowledge(vcpu: Int) { upcallPending[vcpu] = 0; selector[vcpu] = 0 }

    struct Snapshot: Equatable {
        var pending: [UInt64], mask: [UInt64], selector: [UInt64], upcallPending: [UInt8], upcallMask: [UInt8]
    }
    var snapshot: Snapshot { Snapshot(pending: pending, mask: mask, selector: selector,
                                      upcallPending: upcallPending, upcallMask: upcallMask) }
}

/// Domains by id, each with its own table memory and bitmaps.
final class TestEventDirectory: EventChannelDirectory {
    struct Entry {
        var storage: UnsafeMutableRawPointer
        var bitmaps: ArrayEventBitmaps
    }
    var domains: [UInt16: Entry] = [:]
    var paused: Set<UInt16> = []
    var globalHandler: UInt16 = 0

    @discardableResult
    func add(_ id: UInt16, privileged: Bool = false, vcpus: Int = 2, capacity: Int = 4096) -> EventChannelTable {
        let bytes = EventChannelTable.storageBytes(portCapacity: capacity, vcpuCount: vcpus)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: EventChannelTable.storageAlignment)
        let table = EventChannelTable.format(storage, domain: id, isPrivileged: privileged,
                                             portCapacity: capacity, vcpuCount: vcpus)
        domains[id] = Entry(storage: storage, bitmaps: ArrayEventBitmaps(vcpuCount: vcpus))
        return table
    }

    func remove(_ id: UInt16) {
        if let entry = domains.removeValue(forKey: id) { entry.storage.deallocate() }
    }

    deinit { for entry in domains.values { entry.storage.deallocate() } }

    func table(of domain: UInt16) -> EventChannelTable? {
        domains[domain].map { EventChannelTable(storage: $0.storage) }
    }
    func bitmaps(of domain: UInt16) -> ArrayEventBitmaps { domains[domain]!.bitmaps }
    func isPausedByController(_ domain: UInt16) -> Bool { paused.contains(domain) }
    func globalVIRQHandler(_ virq: UInt32) -> UInt16 { globalHandler }

    subscript(id: UInt16) -> EventChannelTable { table(of: id)! }

    /// Performs `request` as `caller`; the errno (negated) or the reply.
    func run(_ request: EventChannelRequest, as caller: UInt16) -> Result<EventChannelReply, EventChannelError> {
        do {
            return .success(try EventChannelOperations.perform(request, caller: caller, directory: self))
        } catch {
            return .failure(error)
        }
    }

    /// The port a successful bind gave; fails the test run otherwise.
    func port(_ request: EventChannelRequest, as caller: UInt16) -> UInt32 {
        switch run(request, as: caller) {
        case .success(let reply): return reply.port
        case .failure(let error): preconditionFailure("\(request) as \(caller): \(error)")
        }
    }
}

extension Result where Success == EventChannelReply, Failure == EventChannelError {
    var error: EventChannelError? { if case .failure(let e) = self { return e } else { return nil } }
    var reply: EventChannelReply? { if case .success(let r) = self { return r } else { return nil } }
}
