// version: every xen_version sub-op, as a dom0 sees it.
//
// The checks assert the ABI, not one build of Xen: the interface version (4.17, which
// dom0 tools select their code by), strings NUL-terminated within their fixed sizes,
// the capability a 64-bit PV guest needs, the hole start, the feature bits a PV dom0
// must and must not see, the page size, and the error cases. Build details (compiler,
// date, changeset, extraversion) are printed, not compared.
//
// What Xen 4.17 returns (Apus must match):
//  - XENVER_version: 0x40011; XENVER_pagesize: 4096;
//  - string sub-ops return 0; a NULL buffer gives -EFAULT;
//  - get_features submap 0 for a PV dom0 is 0x228f0: pae_pgdir_above_4gb (64-bit PV
//    domains have the pae_extended_cr3 assist on), mmu_pt_update_preserve_ad,
//    highmem_assist, gnttab_map_avail_bits, dom0, memory_op_vnode_supported and
//    direct_mapped (not translated); writable_page_tables, auto_translated_physmap,
//    supervisor_mode_kernel and the HVM bits clear; submap 1 gives -EINVAL;
//  - build_id: NULL argument returns the size; len 0 gives -EINVAL; len smaller than
//    the id gives -ENOBUFS (105); otherwise the size (-ENODATA if the image has no id);
//  - an unknown sub-op gives -ENOSYS.
import XenGuest
import XenGuestC
import ApusPublic

private func version(_ cmd: Int32, _ arg: UnsafeMutableRawPointer?) -> Int64 {
    HYPERVISOR_xen_version(UInt32(cmd), arg)
}

/// Calls a string sub-op into cleared scratch memory; returns (result, length) where
/// length is the string length, or -1 when no NUL was found within size bytes.
private func stringSubOp(_ cmd: Int32, size: Int) -> (result: Int64, length: Int) {
    let buffer = Scratch.cleared(size + 16)
    // Poison the bytes after the field: a hypervisor writing past it is caught.
    for index in size..<(size + 16) { Scratch.bytes[index] = 0xA5 }
    for index in 0..<size { Scratch.bytes[index] = 0xA5 }
    let result = version(cmd, buffer)
    let length = Text.length(Scratch.bytes, capacity: size)
    return (result, length < size ? length : -1)
}

private func printString(_ label: StaticString, length: Int) {
    Console.write("  info ")
    Console.write(label)
    Console.write(" \"")
    Console.write(cString: Scratch.bytes, maxLength: max(length, 0))
    Console.write("\"\n")
}

private func poisonIntact(from start: Int, count: Int) -> Bool {
    for index in start..<(start + count) where Scratch.bytes[index] != 0xA5 { return false }
    return true
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "version")

    let number = version(XENVER_version, nil)
    report.info("version", hex: UInt64(bitPattern: number))
    report.expect("version is 4.17", number, equals: (4 << 16) | 17)

    let extra = stringSubOp(XENVER_extraversion, size: Int(XEN_EXTRAVERSION_LEN))
    report.expect("extraversion result", extra.result, equals: 0)
    report.check("extraversion NUL-terminated", extra.length >= 0)
    report.check("extraversion stays in 16 bytes", poisonIntact(from: 16, count: 16))
    printString("extraversion", length: extra.length)

    let compile = Scratch.cleared(MemoryLayout<xen_compile_info>.size)
    report.expect("compile_info result", version(XENVER_compile_info, compile), equals: 0)
    let compilerLength = Text.length(Scratch.bytes, capacity: 64)
    report.check("compile_info.compiler NUL-terminated and set", compilerLength > 0 && compilerLength < 64)
    printString("compiler", length: compilerLength)
    report.check("compile_info.compile_by NUL-terminated",
                 Text.length(Scratch.bytes + 64, capacity: 16) < 16)
    report.check("compile_info.compile_domain NUL-terminated",
                 Text.length(Scratch.bytes + 80, capacity: 32) < 32)
    let dateLength = Text.length(Scratch.bytes + 112, capacity: 32)
    report.check("compile_info.compile_date NUL-terminated and set", dateLength > 0 && dateLength < 32)

    let caps = stringSubOp(XENVER_capabilities, size: Int(XEN_CAPABILITIES_LEN))
    report.expect("capabilities result", caps.result, equals: 0)
    report.check("capabilities NUL-terminated", caps.length >= 0)
    report.check("capabilities include xen-3.0-x86_64",
                 Text.contains(Scratch.bytes, length: max(caps.length, 0), "xen-3.0-x86_64"))
    report.check("capabilities stay in 1024 bytes", poisonIntact(from: 1024, count: 16))
    printString("capabilities", length: caps.length)

    let changeset = stringSubOp(XENVER_changeset, size: Int(XEN_CHANGESET_LEN))
    report.expect("changeset result", changeset.result, equals: 0)
    report.check("changeset NUL-terminated", changeset.length >= 0)
    printString("changeset", length: changeset.length)

    var parameters = xen_platform_parameters(virt_start: 0)
    report.expect("platform_parameters result", version(XENVER_platform_parameters, &parameters), equals: 0)
    report.check("platform_parameters.virt_start is HYPERVISOR_VIRT_START",
                 parameters.virt_start == HYPERVISOR_VIRT_START)
    report.info("virt_start", hex: parameters.virt_start)

    var features = xen_feature_info(submap_idx: 0, submap: 0xFFFF_FFFF)
    report.expect("get_features submap 0 result", version(XENVER_get_features, &features), equals: 0)
    let submap = features.submap
    report.info("features submap 0", hex: UInt64(submap))
    func bit(_ number: Int32) -> Bool { submap & (1 << UInt32(number)) != 0 }
    report.check("feature dom0 set", bit(XENFEAT_dom0))
    report.check("feature mmu_pt_update_preserve_ad set", bit(XENFEAT_mmu_pt_update_preserve_ad))
    report.check("feature highmem_assist set", bit(XENFEAT_highmem_assist))
    report.check("feature gnttab_map_avail_bits set", bit(XENFEAT_gnttab_map_avail_bits))
    report.check("feature writable_page_tables clear (PV)", !bit(XENFEAT_writable_page_tables))
    report.check("feature auto_translated_physmap clear (PV)", !bit(XENFEAT_auto_translated_physmap))
    report.check("feature supervisor_mode_kernel clear", !bit(XENFEAT_supervisor_mode_kernel))
    report.check("feature hvm_callback_vector clear (PV)", !bit(XENFEAT_hvm_callback_vector))
    report.check("feature direct_mapped set (PV is untranslated)", bit(XENFEAT_direct_mapped))
    report.check("feature pae_pgdir_above_4gb set", bit(XENFEAT_pae_pgdir_above_4gb))
    report.check("feature memory_op_vnode_supported set", bit(XENFEAT_memory_op_vnode_supported))
    // Linux picks code paths by these bits, so the whole word must be Xen's.
    report.expect("features submap 0 is Xen 4.17's PV dom0 set", Int64(submap), equals: 0x228f0)
    var features1 = xen_feature_info(submap_idx: 1, submap: 0xFFFF_FFFF)
    report.expect("get_features submap 1", version(XENVER_get_features, &features1), equals: -Int64(XEN_EINVAL))

    report.expect("pagesize", version(XENVER_pagesize, nil), equals: 4096)

    let handle = Scratch.cleared(32)
    for index in 0..<32 { Scratch.bytes[index] = 0xA5 }
    report.expect("guest_handle result", version(XENVER_guest_handle, handle), equals: 0)
    var handleZero = true
    for index in 0..<16 where Scratch.bytes[index] != 0 { handleZero = false }
    report.check("dom0's handle is all zero", handleZero)
    report.check("guest_handle writes 16 bytes", poisonIntact(from: 16, count: 16))

    let line = stringSubOp(XENVER_commandline, size: Int(XEN_COMMANDLINE_LEN))
    report.expect("commandline result", line.result, equals: 0)
    report.check("commandline NUL-terminated", line.length >= 0)
    report.check("commandline has the boot options",
                 Text.contains(Scratch.bytes, length: max(line.length, 0), "dom0_mem=64M,max:64M")
                 && Text.contains(Scratch.bytes, length: max(line.length, 0), "noreboot"))
    printString("commandline", length: line.length)

    // build_id: size query, then the error cases, then a real copy.
    let idSize = version(XENVER_build_id, nil)
    report.info("build_id size", idSize)
    if idSize == -Int64(XEN_ENODATA) {
        report.check("no build id (ENODATA)", true)
    } else if report.check("build_id size in 1...256", idSize > 0 && idSize <= 256) {
        let header = Scratch.cleared(8 + 256).assumingMemoryBound(to: UInt32.self)
        header.pointee = 0
        report.expect("build_id len 0", version(XENVER_build_id, Scratch.raw), equals: -Int64(XEN_EINVAL))
        header.pointee = UInt32(idSize - 1)
        report.expect("build_id len too small", version(XENVER_build_id, Scratch.raw),
                      equals: -Int64(XEN_ENOBUFS))
        header.pointee = 256
        report.expect("build_id copy", version(XENVER_build_id, Scratch.raw), equals: idSize)
        Console.write("  info build_id ")
        for index in 0..<Int(idSize) {
            let byte = Scratch.bytes[4 + index]
            let high = byte >> 4, low = byte & 0xF
            Console.put(high < 10 ? high + 0x30 : high + 0x57)
            Console.put(low < 10 ? low + 0x30 : low + 0x57)
        }
        Console.newline()
    }

    report.expect("extraversion to NULL", version(XENVER_extraversion, nil), equals: -Int64(XEN_EFAULT))
    report.expect("capabilities to an unmapped address",
                  version(XENVER_capabilities, UnsafeMutableRawPointer(bitPattern: 0x7FFF_FFFF_F000)),
                  equals: -Int64(XEN_EFAULT))
    report.expect("unknown sub-op", version(99, Scratch.raw), equals: -Int64(XEN_ENOSYS))
    report.finish()
}
