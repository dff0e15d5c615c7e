// xen_version: Apus implements Xen's 4.17 interface and says so (Debian's tools pick
// their directory from it), and names itself in the extra-version and compile strings.
import ApusCore
import ApusPublic
import ArchX86

enum VersionHypercall {
    static let extraVersion: StaticString = "-apus"
    static let capabilities: StaticString = "xen-3.0-x86_64"
    static let changeset: StaticString = "Apus 0.1.0"
    static let compileDomain: StaticString = ""

    static func perform(_ args: HypercallArguments) -> Int64 {
        let out = args.a1
        switch Int32(truncatingIfNeeded: args.a0) {
        case XENVER_version:
            return Int64(ApusVersion.xenInterfaceMajor << 16 | ApusVersion.xenInterfaceMinor)
        case XENVER_extraversion:
            return GuestMemory.writeFixedString(extraVersion, to: out, length: Int(XEN_EXTRAVERSION_LEN)) ? 0 : Errno.EFAULT
        case XENVER_compile_info:
            guard GuestAddress.isAccessible(out, length: 144),
                  GuestMemory.writeFixedString(BuildInfo.compiler, to: out, length: 64),
                  GuestMemory.writeFixedString(BuildInfo.builtBy, to: out + 64, length: 16),
                  GuestMemory.writeFixedString(compileDomain, to: out + 80, length: 32),
                  GuestMemory.writeFixedString(BuildInfo.date, to: out + 112, length: 32) else { return Errno.EFAULT }
            return 0
        case XENVER_capabilities:
            return GuestMemory.writeFixedString(capabilities, to: out, length: Int(XEN_CAPABILITIES_LEN)) ? 0 : Errno.EFAULT
        case XENVER_changeset:
            return GuestMemory.writeFixedString(changeset, to: out, length: Int(XEN_CHANGESET_LEN)) ? 0 : Errno.EFAULT
        case XENVER_platform_parameters:
            return GuestMemory.write(GuestAddress.hypervisorStart, to: out) ? 0 : Errno.EFAULT
        case XENVER_get_features:
            guard var info = GuestMemory.read(xen_feature_info.self, at: out) else { return Errno.EFAULT }
            guard info.submap_idx == 0 else { return Errno.EINVAL }  // Xen knows one submap
            info.submap = PVFeatures.submap0(privileged: PV.current.isPrivileged)
            return GuestMemory.write(info, to: out) ? 0 : Errno.EFAULT
        case XENVER_pagesize:
            return 4096
        case XENVER_guest_handle:
            // dom0's handle (a UUID) is all zeroes, as on Xen.
            return GuestMemory.write(InlineArray<16, UInt8>(repeating: 0), to: out) ? 0 : Errno.EFAULT
        case XENVER_commandline:
            guard PV.current.isPrivileged else { return Errno.EPERM }
            let text = BootCommandLine.text
            let bytes = UnsafeRawBufferPointer(start: text.base, count: text.count)
            return GuestMemory.writeFixedBytes(bytes, to: out, length: Int(XEN_COMMANDLINE_LEN)) ? 0 : Errno.EFAULT
        case XENVER_build_id:
            return BuildID.copy(to: out)
        default:
            return Errno.ENOSYS
        }
    }
}

/// XENFEAT_* bits offered to a 64-bit PV guest (submap 0): the same word Xen 4.17 gives
/// a PV dom0 (0x228f0, observed by the version test guest), less dom0 for others.
enum PVFeatures {
    static func submap0(privileged: Bool) -> UInt32 {
        var bits: UInt32 = 1 << 4       // pae_pgdir_above_4gb
        bits |= 1 << 5                  // mmu_pt_update_preserve_ad
        bits |= 1 << 6                  // highmem_assist
        bits |= 1 << 7                  // gnttab_map_avail_bits
        bits |= 1 << 13                 // memory_op_vnode_supported
        bits |= 1 << 17                 // direct_mapped (PV: pfn space backed 1:1 by the p2m)
        if privileged { bits |= 1 << 11 }  // dom0
        return bits
    }
}

/// XENVER_build_id: the GNU build-id note ld.lld puts in the image (.note.gnu.build-id).
/// NULL asks for the size; `len` is the room after the header; too little is -ENOBUFS.
enum BuildID {
    static func copy(to address: UInt64) -> Int64 {
        let id = ImageLayout.buildID
        guard id.count > 0 else { return Errno.result(XEN_ENODATA) }
        if address == 0 { return Int64(id.count) }
        guard let room = GuestMemory.read(UInt32.self, at: address) else { return Errno.EFAULT }
        guard room > 0 else { return Errno.EINVAL }
        guard Int(room) >= id.count else { return Errno.result(XEN_ENOBUFS) }
        return GuestMemory.write(id.baseAddress!, to: address + 4, count: id.count) ? Int64(id.count) : Errno.EFAULT
    }
}
