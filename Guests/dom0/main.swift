// dom0: the default dom0 of `scripts/run.sh`. It reports what it was given, as a person
// checking a new hypervisor would want to see it, then powers the machine off:
// domain id, memory, vCPUs, the hypervisor's version, its own and the hypervisor's
// command lines, and the initrd it received. A few checks make it a test guest too
// (the verdict line), but they are deliberately loose: any sane dom0 setup passes.
import XenGuest
import XenGuestC
import ApusPublic

private func line(_ label: StaticString) {
    Console.write("dom0: ")
    Console.write(label)
}

private func printScratchString(capacity: Int) {
    Console.write(cString: Scratch.bytes, maxLength: capacity)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "dom0")
    let info = StartOfDay.startInfo.pointee

    // A PV guest learns it is dom0 from start_info; dom0's id is 0 by definition.
    let isInitialDomain = info.flags & UInt32(SIF_INITDOMAIN) != 0
    line("domain id ")
    Console.write(isInitialDomain ? "0 (initial domain" : "unknown (not the initial domain")
    Console.write(info.flags & UInt32(SIF_PRIVILEGED) != 0 ? ", privileged)\n" : ")\n")
    report.check("started as the initial, privileged domain",
                 info.flags & UInt32(SIF_INITDOMAIN | SIF_PRIVILEGED) == UInt32(SIF_INITDOMAIN | SIF_PRIVILEGED))

    var selfDomain = domid_t(DOMID_SELF)
    let current = HYPERVISOR_memory_op(UInt64(XENMEM_current_reservation), &selfDomain)
    let maximum = HYPERVISOR_memory_op(UInt64(XENMEM_maximum_reservation), &selfDomain)
    line("memory ")
    Console.write(unsigned: info.nr_pages * 4)
    Console.write(" KiB (")
    Console.write(unsigned: info.nr_pages)
    Console.write(" pages), reservation ")
    Console.write(decimal: current)
    Console.write(" of at most ")
    Console.write(decimal: maximum)
    Console.write(" pages\n")
    report.check("memory reservation matches start_info", current == Int64(info.nr_pages) && maximum >= current)

    var vcpus: UInt32 = 0
    var online: UInt32 = 0
    while vcpus < 128 {
        let up = HYPERVISOR_vcpu_op(UInt32(VCPUOP_is_up), vcpus, nil)
        if up < 0 { break }
        if up == 1 { online += 1 }
        vcpus += 1
    }
    line("vCPUs ")
    Console.write(unsigned: UInt64(vcpus))
    Console.write(" (")
    Console.write(unsigned: UInt64(online))
    Console.write(" up)\n")
    report.check("at least one vCPU, vCPU 0 up", vcpus >= 1 && online >= 1)

    let version = HYPERVISOR_xen_version(UInt32(XENVER_version), nil)
    line("hypervisor Xen ")
    Console.write(decimal: version >> 16)
    Console.put(0x2E)
    Console.write(decimal: version & 0xFFFF)
    _ = HYPERVISOR_xen_version(UInt32(XENVER_extraversion), Scratch.cleared(64))
    printScratchString(capacity: 16)
    _ = HYPERVISOR_xen_version(UInt32(XENVER_compile_info), Scratch.cleared(256))
    Console.write(", built by ")
    Console.write(cString: Scratch.bytes + 64, maxLength: 16)
    Console.write(" with ")
    printScratchString(capacity: 64)
    Console.write(" on ")
    Console.write(cString: Scratch.bytes + 112, maxLength: 32)
    Console.newline()
    report.check("hypervisor reports a version", version > 0)

    _ = HYPERVISOR_xen_version(UInt32(XENVER_capabilities), Scratch.cleared(1100))
    line("capabilities ")
    printScratchString(capacity: 1024)
    Console.newline()

    _ = HYPERVISOR_xen_version(UInt32(XENVER_commandline), Scratch.cleared(1100))
    line("hypervisor command line \"")
    printScratchString(capacity: 1024)
    Console.write("\"\n")

    let own = StartOfDay.commandLine()
    line("kernel command line \"")
    Console.write(cString: own.address, maxLength: own.length)
    Console.write("\"\n")

    if info.mod_len == 0 {
        line("no initrd\n")
    } else {
        let initrd = UnsafePointer<UInt8>(bitPattern: UInt(info.mod_start))!
        line("initrd ")
        Console.write(unsigned: info.mod_len)
        Console.write(" bytes at ")
        Console.write(hex: info.mod_start)
        Console.write(info.flags & UInt32(SIF_MOD_START_PFN) != 0 ? " (a PFN)" : "")
        if info.flags & UInt32(SIF_MOD_START_PFN) == 0 {
            Console.write(", starts \"")
            var index = 0
            while index < 16 && UInt64(index) < info.mod_len {
                let byte = initrd[index]
                Console.put(byte >= 0x20 && byte < 0x7F ? byte : 0x2E)
                index += 1
            }
            Console.write("\"")
        }
        Console.newline()
    }
    line("powering off\n")
    report.finish()
}
