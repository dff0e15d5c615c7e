// Which domain a memory hypercall's `foreigndom`/`domid` argument names, as Xen's
// get_pg_owner decides: DOMID_SELF is the caller; the caller's own id is refused (-ESRCH:
// Xen will not take itself as a foreign domain); DOMID_IO (I/O memory) and DOMID_XEN (the
// hypervisor's shared pages) only for the privileged domain; any other id names a domain
// that does not exist here (-ESRCH). With DOMID_IO or DOMID_XEN as owner, L1 entries may
// only map frames that owner holds: RAM is never I/O memory, and no frame is Xen's to share.
import ApusCore
import ApusPublic

enum PageOwner: Equatable {
    case caller, io, xen

    static let domidSelf: UInt16 = 0x7FF0, domidIO: UInt16 = 0x7FF1, domidXen: UInt16 = 0x7FF2

    static func resolve(_ domid: UInt16) -> PageOwner? {
        switch domid {
        case domidSelf: return .caller
        case domidIO: return PV.current.isPrivileged ? .io : nil
        case domidXen: return PV.current.isPrivileged ? .xen : nil
        default: return nil
        }
    }

    /// The errno for an L1 entry this owner cannot let the caller map, or nil if the usual
    /// rules decide.
    func refusal(_ entry: UInt64) -> Int64? {
        let pte = PageTableEntry(raw: entry)
        guard self != .caller, pte.isPresent else { return nil }
        let frame = pte.physicalAddress >> 12
        switch self {
        case .io: return PageTypes.isRAM(frame) ? Errno.EBUSY : nil
        case .xen: return Errno.EBUSY
        case .caller: return nil
        }
    }
}
