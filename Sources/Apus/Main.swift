// Start of day: the first Swift code, called from boot/multiboot.S on the boot CPU
// with the early page tables, interrupts off, and the boot loader's magic and info.
import ApusCore
import ArchX86

@c(apus_kmain)
func apusMain(_ magic: UInt32, _ bootInfoPhysical: UInt32) {
    _ = Console.shared.serial0?.port.configure(baud: 115_200, dataBits: 8, parity: .none, stopBits: 1)
    Log.line { c in
        c.write("Apus version 0.1.0 booting; boot loader magic ")
        c.write(hex0x: UInt64(magic))
    }
    DescriptorTables.install()
    let frames = HypervisorPageTables.buildAndSwitch(directMapBytes: 4 << 30, isRAM: { $0 < (3 << 30) })
    Log.line { c in c.write("page tables: "); c.write(decimal: frames); c.write(" frames") }
    CPU.haltForever()
}
