// startinfo: the start_info page and the initial address space a PV dom0 is promised.
//
// guest-tests.sh boots this guest with dom0_mem=64M,max:64M, the module arguments
// "apus-guest=startinfo arg2=two last-word" and a 12345-byte initrd ("APUS-INITRD",
// then byte i = i mod 251). The checks follow the start-of-day rules in
// ApusPublic/start_info.h; where the ABI leaves a choice, the comment says what Xen
// 4.17 chose and that Apus must choose the same:
//  - magic is "xen-3.0-x86_64p": the "p" because start.S declares PAE_MODE "yes";
//  - nr_pages is dom0_mem exactly (16384) and equals current_reservation;
//  - flags has SIF_PRIVILEGED | SIF_INITDOMAIN in the low byte;
//  - the initrd is mapped (no XEN_ELFNOTE_MOD_START_PFN), right after the kernel;
//  - without XEN_ELFNOTE_INIT_P2M, nr_p2m_frames is 0 (first_p2m_pfn is only printed);
//  - rsp at entry is the top of a one-page boot stack right after the page tables.
import XenGuest
import XenGuestC
import ApusPublic

private let pageSize: UInt64 = 4096
private let pteFlagsRW: UInt64 = 0x67 // present, writable, user, accessed, dirty

private func pageAligned(_ value: UInt64) -> Bool { value & (pageSize - 1) == 0 }
private func roundUp(_ value: UInt64, _ alignment: UInt64) -> UInt64 {
    (value + alignment - 1) & ~(alignment - 1)
}

/// dom0_mem's amount in pages, from the hypervisor's own command line.
private func dom0MemoryPages() -> UInt64? {
    let buffer = Scratch.cleared(Int(XEN_COMMANDLINE_LEN))
    guard HYPERVISOR_xen_version(UInt32(XENVER_commandline), buffer) == 0 else { return nil }
    let length = Text.length(Scratch.bytes, capacity: Int(XEN_COMMANDLINE_LEN))
    guard let value = Text.option(Scratch.bytes, length: length, "dom0_mem") else { return nil }
    guard let bytes = Text.parseSize(Scratch.bytes + value.offset, length: value.length) else { return nil }
    return bytes / pageSize
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "startinfo")
    let info = StartOfDay.startInfo.pointee
    let base = PageWalk.virtualBase

    // magic
    let magic = UnsafeRawPointer(StartOfDay.startInfo).assumingMemoryBound(to: UInt8.self)
    Console.write("  info magic \"")
    Console.write(cString: magic, maxLength: 32)
    Console.write("\"\n")
    let magicLength = Text.length(magic, capacity: 32)
    report.check("magic starts with xen-3.0-x86_64", Text.hasPrefix(magic, length: magicLength, "xen-3.0-x86_64"))
    // Xen 4.17 appends "p" when the kernel's XEN_ELFNOTE_PAE_MODE says "yes", even for a
    // 64-bit kernel (later Xen versions drop it); our start.S has PAE_MODE "yes".
    report.check("magic is xen-3.0-x86_64p for a PAE_MODE=yes kernel",
                 Text.equals(magic, length: magicLength, "xen-3.0-x86_64p"))

    // memory
    report.info("nr_pages", Int64(info.nr_pages))
    if let expected = dom0MemoryPages() {
        report.expect("nr_pages is dom0_mem", Int64(info.nr_pages), equals: Int64(expected))
    } else {
        report.check("dom0_mem found on the hypervisor command line", false)
    }
    var selfDomain = domid_t(DOMID_SELF)
    report.expect("nr_pages is current_reservation",
                  HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), &selfDomain),
                  equals: Int64(info.nr_pages))

    // flags
    report.info("flags", hex: UInt64(info.flags))
    report.expect("flags low byte is PRIVILEGED|INITDOMAIN", Int64(info.flags & 0xFF),
                  equals: Int64(SIF_PRIVILEGED | SIF_INITDOMAIN))
    report.expect("dom0 has no xenstore page", Int64(info.store_mfn), equals: 0)
    report.expect("dom0 has no xenstore event channel", Int64(info.store_evtchn), equals: 0)
    report.info("console.dom0.info_off", Int64(info.console.dom0.info_off))
    report.info("console.dom0.info_size", Int64(info.console.dom0.info_size))
    report.check("dom0 console info inside the start_info page",
                 info.console.dom0.info_size == 0
                 || (info.console.dom0.info_off >= UInt32(MemoryLayout<start_info>.size)
                     && info.console.dom0.info_off + info.console.dom0.info_size <= 4096))

    // command line
    let line = StartOfDay.commandLine()
    Console.write("  info cmd_line \"")
    Console.write(cString: line.address, maxLength: line.length)
    Console.write("\"\n")
    report.check("cmd_line is the module's arguments",
                 Text.equals(line.address, length: line.length, "apus-guest=startinfo arg2=two last-word"))

    // the order of the bootstrap elements
    let kernelEnd = StartOfDay.imageEnd
    let startInfoAddress = StartOfDay.startInfoAddress
    let ptEnd = info.pt_base + info.nr_pt_frames * pageSize
    let stackTop = StartOfDay.entryStackPointer
    report.info("image end", hex: kernelEnd)
    report.info("mod_start", hex: info.mod_start)
    report.info("mod_len", Int64(info.mod_len))
    report.info("mfn_list", hex: info.mfn_list)
    report.info("start_info", hex: startInfoAddress)
    report.info("pt_base", hex: info.pt_base)
    report.info("nr_pt_frames", Int64(info.nr_pt_frames))
    report.info("entry rsp", hex: stackTop)
    report.info("first_p2m_pfn", Int64(info.first_p2m_pfn))
    report.info("nr_p2m_frames", Int64(info.nr_p2m_frames))
    report.check("kernel starts at VIRT_BASE", StartOfDay.imageStart == base)
    report.check("initrd right after the kernel", info.mod_start == roundUp(kernelEnd, pageSize))
    report.check("p2m list after the initrd",
                 pageAligned(info.mfn_list) && info.mfn_list == roundUp(info.mod_start + info.mod_len, pageSize))
    report.check("start_info after the p2m list",
                 pageAligned(startInfoAddress)
                 && startInfoAddress == roundUp(info.mfn_list + info.nr_pages * 8, pageSize))
    report.check("page tables after start_info", pageAligned(info.pt_base) && info.pt_base == startInfoAddress + pageSize)
    report.check("at least 4 page-table frames (L4..L1)", info.nr_pt_frames >= 4)
    report.check("boot stack is the page after the page tables", stackTop == ptEnd + pageSize)
    // Without INIT_P2M there are no separate p2m frames. Xen 4.17 still fills
    // first_p2m_pfn, with the number of frames it allocated for the initial mapping
    // (region + initrd: 1028 here); the ABI only promises a range inside the domain.
    report.expect("nr_p2m_frames without INIT_P2M", Int64(info.nr_p2m_frames), equals: 0)
    report.check("first_p2m_pfn range inside the domain",
                 info.first_p2m_pfn + info.nr_p2m_frames <= info.nr_pages)

    // initrd contents
    report.expect("mod_len is the initrd's size", Int64(info.mod_len), equals: 12345)
    if let initrd = UnsafePointer<UInt8>(bitPattern: UInt(info.mod_start)), info.mod_len == 12345 {
        report.check("initrd starts with APUS-INITRD", Text.equals(initrd, length: 11, "APUS-INITRD"))
        var patternIntact = true
        for index in 11..<12345 where initrd[index] != UInt8(index % 251) { patternIntact = false }
        report.check("initrd bytes intact", patternIntact)
    }

    // p2m and M2P agree for every page the domain owns
    var p2mConsistent = true
    var p2mDistinct = true
    var previous: UInt64 = ~0
    for pfn in 0..<info.nr_pages {
        let mfn = StartOfDay.machineFrame(ofPseudoPhysical: pfn)
        if StartOfDay.pseudoPhysicalFrame(ofMachine: mfn) != pfn { p2mConsistent = false }
        if mfn == previous { p2mDistinct = false }
        previous = mfn
    }
    report.check("M2P[p2m[pfn]] == pfn for every pfn", p2mConsistent)
    report.check("no two adjacent pfns share a frame", p2mDistinct)

    // the initial mapping: 1:1 with pseudo-physical frames up to a 4 MiB boundary
    var regionEnd = base
    while regionEnd < base + 0x1000_0000 && PageWalk.lookup(regionEnd).present { regionEnd += pageSize }
    report.info("mapped region end", hex: regionEnd)
    report.check("region ends on a 4 MiB boundary", regionEnd % UInt64(XEN_START_REGION_ALIGN) == 0)
    report.check("512 KiB padding after the boot stack",
                 regionEnd >= stackTop + UInt64(XEN_START_PADDING_BYTES))
    var oneToOne = true
    var writableOutsideTables = true
    var page = base
    while page < regionEnd {
        let mapping = PageWalk.lookup(page)
        let pfn = (page - base) / pageSize
        if !mapping.present || mapping.machineFrame != StartOfDay.machineFrame(ofPseudoPhysical: pfn) {
            oneToOne = false
        }
        let isTable = page >= info.pt_base && page < ptEnd
        if !isTable && !mapping.writable { writableOutsideTables = false }
        page += pageSize
    }
    report.check("region maps pfn n at VIRT_BASE + n pages", oneToOne)
    report.check("everything but the page tables is writable", writableOutsideTables)
    var tablesReadOnly = true
    for frame in 0..<info.nr_pt_frames {
        let mapping = PageWalk.lookup(info.pt_base + frame * pageSize)
        if !mapping.present || mapping.writable { tablesReadOnly = false }
    }
    report.check("bootstrap page tables are mapped read-only", tablesReadOnly)
    let l4Mapping = PageWalk.lookup(info.pt_base)
    let l4Self = xg_read64(info.pt_base + ((base >> 39) & 0x1FF) * 8)
    report.check("the L4 maps VIRT_BASE through a table in the bootstrap range",
                 l4Mapping.present && l4Self & 1 != 0
                 && PageWalk.virtualAddress(ofMachineFrame: (l4Self & 0x000F_FFFF_FFFF_F000) >> 12) >= info.pt_base
                 && PageWalk.virtualAddress(ofMachineFrame: (l4Self & 0x000F_FFFF_FFFF_F000) >> 12) < ptEnd)
    report.check("the page after the region is unmapped", !PageWalk.lookup(regionEnd).present)

    // shared_info: a machine address the guest maps itself
    report.info("shared_info", hex: info.shared_info)
    report.check("shared_info is page-aligned", pageAligned(info.shared_info))
    let window = xg_map_window_address()
    let original = PageWalk.lookup(window)
    let mapResult = HYPERVISOR_update_va_mapping(window, info.shared_info | pteFlagsRW, UInt64(UVMF_INVLPG))
    report.expect("map shared_info with update_va_mapping", mapResult, equals: 0)
    if mapResult == 0 {
        let shared = UnsafeMutablePointer<shared_info>(bitPattern: UInt(window))!
        let vcpu0 = shared.pointee.vcpu_info.0
        report.expect("vcpu 0 starts with events masked", Int64(vcpu0.evtchn_upcall_mask), equals: 1)
        report.check("vcpu 0 time version is even", vcpu0.time.version & 1 == 0)
        report.check("vcpu 0 time has a TSC multiplier", vcpu0.time.tsc_to_system_mul != 0)
        report.check("vcpu 0 system time has started", vcpu0.time.system_time > 0)
        report.info("system_time ns", Int64(vcpu0.time.system_time))
        report.check("wall-clock version is even", shared.pointee.wc_version & 1 == 0)
        let restore = HYPERVISOR_update_va_mapping(window, (original.machineFrame << 12) | pteFlagsRW,
                                                   UInt64(UVMF_INVLPG))
        report.expect("restore the window mapping", restore, equals: 0)
    }
    report.finish()
}
