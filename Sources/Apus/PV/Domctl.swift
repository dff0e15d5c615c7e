// domctl: the toolstack's per-domain control. Apus answers the interface check and
// XEN_DOMCTL_shadow_op (log-dirty for save/restore and live migration, Shadows.swift);
// every other domctl is -ENOSYS. The only domain is dom0 itself, and Xen refuses shadow
// operations on the caller's own domain (-EINVAL), so they work only with the Apus test
// option `apus_dom0_shadow`.
import ApusCore
import ApusPublic
import ArchX86

enum Domctl {
    static func perform(_ args: HypercallArguments) -> Int64 {
        guard var request = GuestMemory.read(xen_domctl.self, at: args.a0) else { return Errno.EFAULT }
        guard request.interface_version == UInt32(XEN_DOMCTL_INTERFACE_VERSION) else { return Errno.result(XEN_EACCES) }
        guard PV.current.isPrivileged else { return Errno.EPERM }
        guard request.domain == PV.current.id else { return Errno.ESRCH }
        switch Int32(bitPattern: request.cmd) {
        case XEN_DOMCTL_shadow_op:
            guard Shadows.selfServiceAllowed else { return Errno.EINVAL }   // Xen: no shadow op on yourself
            let result = shadowOp(&request.u.shadow_op)
            guard GuestMemory.write(request, to: args.a0) else { return Errno.EFAULT }
            return result
        default:
            return Errno.ENOSYS
        }
    }

    static func shadowOp(_ op: inout xen_domctl_shadow_op) -> Int64 {
        var memory = ShadowFrames()
        switch Int32(bitPattern: op.op) {
        case XEN_DOMCTL_SHADOW_OP_OFF:
            Shadows.tables.setLogDirty(false, memory: &memory)
            return 0
        case XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY:
            Shadows.tables.setLogDirty(true, memory: &memory)
            Shadows.flushEverywhere()
            return 0
        case XEN_DOMCTL_SHADOW_OP_ENABLE:
            guard op.mode & UInt32(XEN_DOMCTL_SHADOW_ENABLE_LOG_DIRTY) != 0 else { return Errno.EINVAL }
            Shadows.tables.setLogDirty(true, memory: &memory)
            Shadows.flushEverywhere()
            return 0
        case XEN_DOMCTL_SHADOW_OP_CLEAN, XEN_DOMCTL_SHADOW_OP_PEEK:
            guard Shadows.tables.logDirty else { return Errno.EINVAL }
            let bits = min(op.pages, PV.current.maximumPageCount)
            if op.dirty_bitmap != 0 {
                var word = 0
                while UInt64(word) * 64 < bits {
                    let value = Shadows.tables.dirtyWord(word)
                    let bytes = min(UInt64(8), (bits - UInt64(word) * 64 + 7) / 8)
                    var copy = value
                    let ok = withUnsafeBytes(of: &copy) {
                        GuestMemory.write($0.baseAddress!, to: op.dirty_bitmap &+ UInt64(word) * 8, count: Int(bytes))
                    }
                    guard ok else { return Errno.EFAULT }
                    word += 1
                }
            }
            op.pages = bits
            op.stats.fault_count = Shadows.tables.faultCount
            op.stats.dirty_count = UInt32(Shadows.tables.dirtyCount)
            if Int32(bitPattern: op.op) == XEN_DOMCTL_SHADOW_OP_CLEAN {
                Shadows.tables.clean(memory: &memory)
                Shadows.flushEverywhere()
            }
            return 0
        case XEN_DOMCTL_SHADOW_OP_GET_ALLOCATION:
            op.mb = UInt32((UInt64(Shadows.tables.shadowCount) * 4096 + (1 << 20) - 1) >> 20)
            return 0
        case XEN_DOMCTL_SHADOW_OP_SET_ALLOCATION:
            return 0   // shadows come from the frame allocator as needed
        default:
            return Errno.EINVAL
        }
    }
}
