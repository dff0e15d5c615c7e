// dom0: the memory and vCPU decisions from `dom0_mem` and `dom0_max_vcpus`, the boot
// modules, then building and starting it (Dom0Launch). Without a dom0 kernel Apus stops
// as Xen does: the fatal-error rule applies.
import ApusCore
import ArchX86

enum Dom0 {
    static func decideAndLaunch(boot: BootInfo, options: BootOptions, reader: DirectMapReader) {
        let available = Memory.allocator.freeFrames << 12
        let decision = options.dom0Memory.decide(availableBytes: available)
        Log.line { c in
            decision.write(into: &c)
            c.write(" (of "); c.write(size: available); c.write(" available)")
        }
        // One vCPU per online CPU by default, as Xen; the limits may ask for more (they share).
        let vcpus = options.dom0VCPUs.count(physicalCPUs: PerCPU.onlineCount, platformLimit: PV.maxVCPUs)
        Log.lines { options.writeLoglevelBanner(into: &$0) }
        guard let kernel = boot.module(0) else {
            panic { c in
                c.write("dom0 kernel not specified. Check bootloader configuration")
                c.newline()
                c.write("(Apus found no dom0 kernel to start: add a module2 line for it after the multiboot2 line)")
            }
        }
        Log.line { c in
            c.write("Dom0 kernel module: "); c.write(hex0x: kernel.start); c.write("-"); c.write(hex0x: kernel.end)
            c.write(" ("); c.write(size: kernel.size); c.write(")")
            if let line = kernel.commandLine, let text = line.read(from: reader) { c.write(", command line: "); c.write(text) }
        }
        let initrd = boot.module(1)
        if let initrd {
            Log.line { c in
                c.write("Initial ramdisk module: "); c.write(hex0x: initrd.start); c.write("-"); c.write(hex0x: initrd.end)
                c.write(" ("); c.write(size: initrd.size); c.write(")")
            }
        }
        var commandLine = ByteText.empty
        if let line = kernel.commandLine, let text = line.read(from: reader) { commandLine = text }
        Dom0Launch.launch(kernel: kernel, initrd: initrd, commandLine: commandLine, decision: decision,
                          vcpus: vcpus, options: options)
    }
}
