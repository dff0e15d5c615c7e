// The warnings Xen 4.17 (release build) prints about a guest's refused memory operations,
// at guest log level so guest_loglvl= governs them, worded as Xen words them so that the
// log reads the same to someone used to Xen's:
//   (XEN) d0v0 Error mfn 10000: rd=d0 od=NULL caf=8c00000000000000 taf=0
//     a frame the domain tried to map or use that it does not own (od: its owner: NULL
//     for none, d[IO] for I/O memory, d[XEN] for Apus's own); caf and taf are the
//     frame's count and type words (Apus's own encodings of them);
//   (XEN) d0v0 Over-allocation for d0: 16385 > 16384
//     a reservation increase past the domain's maximum.
import ApusCore

enum GuestWarnings {
    static func writeVCPU(into c: inout Console) {
        c.write("d"); c.write(decimal: UInt64(PV.current.id)); c.write("v")
        c.write(decimal: UInt64(PV.vcpu.pointee.id)); c.put(0x20)
    }

    /// get_page's complaint: `frame` is not the caller's.
    static func notOwned(_ frame: UInt64) {
        Log.line(.warning, guest: true) { c in
            writeVCPU(into: &c)
            c.write("Error mfn "); c.write(hex: frame, minimumDigits: 5)
            c.write(": rd=d"); c.write(decimal: UInt64(PV.current.id)); c.write(" od=")
            if !PageTypes.isRAM(frame) {
                c.write("d[IO]")
            } else if let owner = PageTypes.owner(of: frame), owner != FrameInfo.noOwner {
                c.write("d"); c.write(decimal: UInt64(owner))
            } else if PageTypes.valid(frame) && Memory.allocator.state(of: frame) == .free {
                c.write("NULL")
            } else {
                c.write("d[XEN]")
            }
            let valid = PageTypes.valid(frame)
            c.write(" caf="); c.write(hex: valid ? Memory.allocator.frameTable[Int(frame)].countInfo : 0, minimumDigits: 16)
            c.write(" taf="); c.write(hex: valid ? Memory.allocator.frameTable[Int(frame)].typeInfo : 0, minimumDigits: 16)
        }
    }

    static func overAllocation(wanted: UInt64, maximum: UInt64) {
        Log.line(.warning, guest: true) { c in
            writeVCPU(into: &c)
            c.write("Over-allocation for d"); c.write(decimal: UInt64(PV.current.id)); c.write(": ")
            c.write(decimal: wanted); c.write(" > "); c.write(decimal: maximum)
        }
    }
}
