// Event channels for the running domain: ApusCore's port tables and 2-level delivery
// wired to the real shared_info page, event_channel_op, and entering the guest's event
// callback when an upcall is due on the way back to it.
//
// One domain with several vCPUs: an event for the vCPU running here is delivered on the
// way out; one for a vCPU elsewhere or waiting goes through Scheduling.eventsChanged
// (a kick IPI, or the end of its wait).
import ApusCore
import ApusPublic
import ArchX86

/// shared_info's bitmaps (pending at 2048, mask at 2560) and each vCPU's vcpu_info flags,
/// with locked bit operations because the guest writes them too.
struct SharedInfoBitmaps: EventBitmaps {
    let base: UInt64          // direct-map address of shared_info

    /// Direct-map address of `vcpu`'s vcpu_info (wherever the guest registered it).
    @inline(__always) func vcpuInfo(_ vcpu: UInt16) -> UInt64 {
        DirectMap.address(of: PV.vcpu(Int(vcpu)).pointee.vcpuInfoMachineAddress)
    }

    func word(_ offset: Int, _ port: UInt32) -> (UInt64, Int) {
        (base + UInt64(offset) + UInt64(port / 64) * 8, Int(port % 64))
    }
    func testAndSetPending(_ port: UInt32) -> Bool { let (a, b) = word(2048, port); return AtomicBits.testAndSet(a, bit: b) }
    func testAndClearPending(_ port: UInt32) -> Bool { let (a, b) = word(2048, port); return AtomicBits.testAndClear(a, bit: b) }
    func isPending(_ port: UInt32) -> Bool {
        let (a, b) = word(2048, port)
        return UnsafePointer<UInt64>(bitPattern: UInt(a)).unsafelyUnwrapped.pointee & (1 << UInt64(b)) != 0
    }
    func isMasked(_ port: UInt32) -> Bool {
        let (a, b) = word(2560, port)
        return UnsafePointer<UInt64>(bitPattern: UInt(a)).unsafelyUnwrapped.pointee & (1 << UInt64(b)) != 0
    }
    func testAndClearMask(_ port: UInt32) -> Bool { let (a, b) = word(2560, port); return AtomicBits.testAndClear(a, bit: b) }
    func testAndSetSelector(vcpu: UInt16, word: Int) -> Bool { AtomicBits.testAndSet(vcpuInfo(vcpu) + 8, bit: word) }
    func testAndSetUpcallPending(vcpu: UInt16) -> Bool {
        let byte = UnsafeMutablePointer<UInt8>(bitPattern: UInt(vcpuInfo(vcpu))).unsafelyUnwrapped
        let old = byte.pointee != 0
        byte.pointee = 1
        return old
    }
    func isUpcallPending(vcpu: UInt16) -> Bool {
        UnsafePointer<UInt8>(bitPattern: UInt(vcpuInfo(vcpu))).unsafelyUnwrapped.pointee != 0
    }
    func isUpcallMasked(vcpu: UInt16) -> Bool {
        UnsafePointer<UInt8>(bitPattern: UInt(vcpuInfo(vcpu) + 1)).unsafelyUnwrapped.pointee != 0
    }
}

struct CurrentDomainEvents: EventChannelDirectory {
    func table(of domain: UInt16) -> EventChannelTable? {
        guard domain == PV.current.id, Events.tableStorage != 0 else { return nil }
        return EventChannelTable(storage: UnsafeMutableRawPointer(bitPattern: UInt(Events.tableStorage)).unsafelyUnwrapped)
    }
    func bitmaps(of domain: UInt16) -> SharedInfoBitmaps { Events.bitmaps }
}

enum Events {
    nonisolated(unsafe) static var tableStorage: UInt64 = 0

    static var bitmaps: SharedInfoBitmaps {
        SharedInfoBitmaps(base: DirectMap.address(of: PV.current.sharedInfoFrame << 12))
    }

    /// The domain's port table, in frames of Apus's own (never mapped by the guest).
    static func createTable(domain: UInt16, privileged: Bool, vcpuCount: Int) {
        let bytes = EventChannelTable.storageBytes(portCapacity: EventChannelLimits.twoLevelPorts, vcpuCount: vcpuCount)
        guard let first = Memory.allocator.allocate(order: MachineToPhys.orderFor(bytes: UInt64(bytes))) else {
            panic("No memory for dom0's event-channel table")
        }
        tableStorage = DirectMap.address(of: first << 12)
        _ = EventChannelTable.format(UnsafeMutableRawPointer(bitPattern: UInt(tableStorage)).unsafelyUnwrapped,
                                     domain: domain, isPrivileged: privileged, vcpuCount: vcpuCount)
    }

    /// EVTCHNOP_init_control (FIFO): Xen 4.17 offers the FIFO ABI, Apus does not yet; it
    /// checks the request as Xen does (vCPU -ENOENT, control-block offset and frame
    /// -EINVAL) and answers a valid one -ENOSYS, after which guests use the 2-level ABI.
    static func fifoInitControl(_ address: UInt64) -> Int64 {
        guard let control = GuestMemory.read(UInt64.self, at: address),
              let offset = GuestMemory.read(UInt32.self, at: address &+ 8),
              let vcpu = GuestMemory.read(UInt32.self, at: address &+ 12) else { return Errno.EFAULT }
        guard vcpu < UInt32(PV.current.vcpuCount) else { return Errno.ENOENT }
        guard offset & 7 == 0, offset <= 4096 - 72 else { return Errno.EINVAL }   // 72: the control block
        guard PageTypes.isRAM(control), PageTypes.isOwnedByCurrent(control) else { return Errno.EINVAL }
        return Errno.ENOSYS
    }

    static func hypercall(_ args: HypercallArguments) -> Int64 {
        let command = UInt32(truncatingIfNeeded: args.a0)
        if command == UInt32(EVTCHNOP_init_control) { return fifoInitControl(args.a1) }
        guard let size = EventChannelRequest.argumentSize(command: command) else { return Errno.ENOSYS }
        var buffer = InlineArray<32, UInt8>(repeating: 0)
        return withUnsafeMutableBytes(of: &buffer) { raw -> Int64 in
            let bytes = UnsafeMutableRawBufferPointer(rebasing: raw[0..<size])
            guard GuestMemory.read(bytes.baseAddress!, from: args.a1, count: size) else { return Errno.EFAULT }
            do throws(EventChannelError) {
                let reply = try EventChannelOperations.handle(command: command, bytes: bytes, caller: PV.current.id,
                                                              directory: CurrentDomainEvents())
                Scheduling.eventsChanged(kicked: reply.kick)
            } catch {
                return Errno.result(error.xenErrno)
            }
            if EventChannelRequest.writesBack(command: command),
               !GuestMemory.write(UnsafeRawPointer(bytes.baseAddress!), to: args.a1, count: size) {
                return Errno.EFAULT
            }
            return 0
        }
    }

    /// On the way back to the guest: enter its event callback if an upcall is due and
    /// events are not masked, with events masked in the handler (Xen's event bounce).
    static func deliverIfDue(_ frame: TrapFrame) {
        // On every exit: read vcpu_info's pending and mask bytes as one word, directly.
        let vcpu = PV.vcpu
        let flags = DirectMap.pointer(to: vcpu.pointee.vcpuInfoMachineAddress, as: UInt16.self).pointee
        guard flags & 0xFF != 0, flags >> 8 == 0, tableStorage != 0, vcpu.pointee.callbacks.event != 0 else { return }
        GuestTraps.deliver(frame, request: BounceRequest(handler: vcpu.pointee.callbacks.event, masksEvents: true),
                           what: "event upcall")
    }
}
