// cpuid: CPUID as a PV kernel gets it, through the forced-emulation prefix
// (ud2; "xen"; cpuid), before and after the guest has a trap table.
//
// The hypervisor recognises the 5-byte signature in its #UD path, emulates the cpuid
// with its own policy and resumes after all 7 bytes; no trap reaches the guest, so it
// works even before set_trap_table. Facts Xen 4.17 showed (the spec Apus must meet):
//  - leaf 0x40000000: ebx ecx edx = "XenVMMXenVMM", eax = the highest hypervisor leaf
//    (0x40000005 on Xen 4.17);
//  - leaf 0x40000001: eax = the version, as xen_version(XENVER_version) (4.17: 0x40011);
//  - leaf 0x40000002: eax = 1 hypercall page, ebx = 0x40000000 (the MSR that would
//    place it);
//  - leaf 1: ecx bit 31 (hypervisor present) is set;
//  - the prefix before anything but cpuid (here a nop) is a plain #UD, bounced to the
//    guest at the ud2 (vector 6, no error code).
// What plain CPUID returns depends on the CPU (CPUID faulting): printed, not checked.
import XenGuest
import XenGuestC
import ApusPublic
import CpuidProbes

private let signatureEBX: UInt32 = 0x566E_6558 // "XenV"
private let signatureECX: UInt32 = 0x6558_4D4D // "MMXe"
private let signatureEDX: UInt32 = 0x4D4D_566E // "nVMM"
private let hypervisorBit: UInt32 = 1 << 31

private func writeRegisterText(_ value: UInt32) {
    var shift: UInt32 = 0
    while shift < 32 {
        let byte = UInt8(truncatingIfNeeded: value >> shift)
        Console.put(byte >= 0x20 && byte < 0x7F ? byte : 0x2E)
        shift += 8
    }
}

private func show(_ label: StaticString, _ result: xg_cpuid_result) {
    Console.write("  info ")
    Console.write(label)
    Console.write(" eax ")
    Console.write(hex: UInt64(result.eax))
    Console.write(" ebx ")
    Console.write(hex: UInt64(result.ebx))
    Console.write(" ecx ")
    Console.write(hex: UInt64(result.ecx))
    Console.write(" edx ")
    Console.write(hex: UInt64(result.edx))
    Console.write(" \"")
    writeRegisterText(result.ebx)
    writeRegisterText(result.ecx)
    writeRegisterText(result.edx)
    Console.write("\"\n")
}

/// The forced-emulation checks; run once without and once with a trap table.
private func checkForcedCPUID(_ report: inout TestReport, version: Int64) {
    let base = xg_cpuid_forced(0x4000_0000, 0)
    show("leaf 0x40000000", base)
    report.expect("leaf 0x40000000 ebx", hex: UInt64(base.ebx), equals: UInt64(signatureEBX))
    report.expect("leaf 0x40000000 ecx", hex: UInt64(base.ecx), equals: UInt64(signatureECX))
    report.expect("leaf 0x40000000 edx", hex: UInt64(base.edx), equals: UInt64(signatureEDX))
    report.expect("leaf 0x40000000 eax (highest leaf)", hex: UInt64(base.eax), equals: 0x4000_0005)

    let versionLeaf = xg_cpuid_forced(0x4000_0001, 0)
    report.expect("leaf 0x40000001 eax is xen_version", hex: UInt64(versionLeaf.eax), equals: UInt64(version))

    let pages = xg_cpuid_forced(0x4000_0002, 0)
    report.expect("leaf 0x40000002 eax (hypercall pages)", hex: UInt64(pages.eax), equals: 1)
    report.expect("leaf 0x40000002 ebx (hypercall page MSR)", hex: UInt64(pages.ebx), equals: 0x4000_0000)

    let features = xg_cpuid_forced(1, 0)
    show("leaf 1", features)
    report.check("leaf 1 ecx has the hypervisor bit", features.ecx & hypervisorBit != 0)

    let vendor = xg_cpuid_forced(0, 0)
    show("leaf 0", vendor)
    report.check("leaf 0 reports basic leaves", vendor.eax >= 1)
}

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "cpuid")
    let version = HYPERVISOR_xen_version(UInt32(XENVER_version), nil)

    report.group("no trap table")
    checkForcedCPUID(&report, version: version)

    report.group(nil)
    show("native leaf 1", xg_cpuid_native(1, 0))
    show("native leaf 0x40000000", xg_cpuid_native(0x4000_0000, 0))

    report.expect("install the trap table", Traps.install(guest: "cpuid"), equals: 0)
    report.group("with a trap table")
    checkForcedCPUID(&report, version: version)
    report.expect("no trap reached the guest", Int64(Traps.count), equals: 0)

    // The signature before something else: an ordinary #UD at the ud2.
    report.group("prefix before a nop")
    Traps.arm(faultAt: prefix_fault_address(), resumeAt: prefix_resume_address())
    prefix_not_cpuid()
    report.expect("traps", Int64(Traps.count), equals: 1)
    report.expect("vector", Int64(Traps.last.vector), equals: 6)
    report.expect("rip is the ud2", hex: Traps.last.rip, equals: prefix_fault_address())
    report.check("no error code", !Traps.last.hasErrorCode)
    report.group(nil)
    report.finish()
}
