// Turning the first boot module into a running dom0: unpack it if it is compressed, read
// it as a Xen PV kernel (ELF + Xen notes), plan and build its address space, and enter it.
// Any reason it cannot be started is printed in words and the fatal-error rule applies,
// as Xen does ("Could not set up DOM0 guest OS").
import ApusCore
import ApusPublic
import ArchX86

enum Dom0Launch {
    /// The XENFEAT_* bits a kernel may require of Apus (its FEATURES note, `!` = required).
    static var offeredFeatures: XenFeatureSet {
        var set = XenFeatureSet()
        set.rawValue = (1 << XenFeatureSet.writablePageTables) | (1 << XenFeatureSet.paePgdirAbove4GB)
            | (1 << 5) | (1 << 7) | (1 << 11)   // pt_update_preserve_ad, gnttab_map_avail_bits, dom0
        return set
    }

    static func launch(kernel: BootModule, initrd: BootModule?, commandLine: ByteText,
                       decision: Dom0MemoryDecision) -> Never {
        Log.line { $0.write("*** Building a PV Dom0 ***") }
        let module = ByteWindow(UnsafeRawBufferPointer(
            start: UnsafeRawPointer(bitPattern: UInt(DirectMap.address(of: kernel.start))), count: Int(kernel.size)))
        let elfBytes = unpack(module)
        let image: XenKernelImage
        do throws(KernelImageError) {
            image = try XenKernelImage.parse(elfBytes, hypervisorFeatures: offeredFeatures)
        } catch {
            refuse { error.write(to: &$0) }
        }
        Log.lines { image.printKernelLines(into: &$0) }

        let initrdBytes = initrd.map { UnsafeRawBufferPointer(
            start: UnsafeRawPointer(bitPattern: UInt(DirectMap.address(of: $0.start))), count: Int($0.size)) }
        let plan = Dom0Planner.make(image: image, initrdBytes: UInt64(initrdBytes?.count ?? 0), pages: decision.pages)
        guard plan.pfn(plan.regionEnd) <= plan.pages else {
            refuse { c in
                c.write("the kernel and its bootstrap region need "); c.write(size: plan.regionEnd - plan.virtualBase)
                c.write(", more than dom0_mem gives ("); c.write(size: plan.pages << 12); c.write(")")
            }
        }
        let built = Dom0Construct.build(plan: plan, image: image, initrd: initrdBytes, commandLine: commandLine,
                                        pae: image.paeMode != .none)
        printArrangement(plan, built: built)

        PV.current = PVDomain()
        PV.current.pageCount = plan.pages
        PV.current.maximumPageCount = decision.maximumPages ?? plan.pages
        PV.current.sharedInfoFrame = built.sharedInfoFrame
        PV.current.firstFrame = built.frames.lowestFrame
        PV.current.vcpu.kernelTableFrame = built.l4Frame
        PV.current.vcpu.vcpuInfoMachineAddress = built.sharedInfoFrame << 12
        PV.current.started = true

        Log.line { $0.write("Dom0 has maximum 1 VCPUs") }
        Log.line { $0.write("*** Serial input to DOM0 (type 'CTRL-a' three times to switch input)") }
        GuestEntry.installSyscall()
        let entryStack = ImageLayout.guestStackTop
        GuestEntry.setEntryStack(top: entryStack)
        CPU.writeCR3(built.l4Frame << 12)
        var registers = GuestRegisters()
        registers.rip = plan.entry
        registers.rsp = plan.stackTop
        registers.rsi = plan.startInfo
        registers.cs = Bounce.flatKernelCS
        registers.ss = Bounce.flatKernelSS
        registers.rflags = 0x202  // IF on in the real flags; dom0's events start masked in vcpu_info
        GuestEntry.enter(registers, entryStackTop: entryStack)
    }

    /// The ELF bytes: the module itself, or its gzip (or bzImage gzip payload) unpacked
    /// into frames taken from the heap.
    static func unpack(_ module: ByteWindow) -> ByteWindow {
        let format = KernelImageFormat.detect(module)
        var compressed = module
        switch format {
        case .elf:
            return module
        case .gzip:
            break
        case .bzImage(let offset, let length):
            guard let payload = module.slice(offset: offset, size: length) else { refuse { $0.write("bad bzImage payload") } }
            guard KernelImageFormat.detectCompression(payload) == .gzip else {
                refuse { c in c.write("its bzImage payload is "); KernelImageFormat.detectCompression(payload).writeName(to: &c)
                    c.write(", which Apus cannot unpack yet (gzip only)") }
            }
            compressed = payload
        default:
            refuse { c in c.write("it is "); format.writeName(to: &c); c.write(", which Apus cannot load (ELF or gzip only)") }
        }
        guard let size = GzipHeader.sizeHint(compressed), size > 0 else { refuse { $0.write("gzip trailer has no size") } }
        let order = MachineToPhys.orderFor(bytes: UInt64(size))
        guard let first = Memory.allocator.allocate(order: order) else { refuse { $0.write("no memory to unpack the kernel") } }
        let output = UnsafeMutableRawBufferPointer(
            start: UnsafeMutableRawPointer(bitPattern: UInt(DirectMap.address(of: first << 12))), count: Int(size))
        var inflater = Inflater()
        do throws(InflateError) {
            let result = try inflater.gunzip(compressed.raw, into: output)
            Log.line { c in c.write("Dom0 kernel unpacked: "); c.write(size: UInt64(result.producedBytes)); c.write(" from gzip") }
            return ByteWindow(UnsafeRawBufferPointer(start: output.baseAddress, count: result.producedBytes))
        } catch {
            refuse { c in c.write("its gzip data would not unpack") ; _ = error }
        }
    }

    static func refuse(_ body: (inout Console) -> Void) -> Never {
        panic { c in
            c.write("Could not set up DOM0 guest OS: the dom0 kernel module cannot be loaded: ")
            body(&c)
        }
    }

    static func printArrangement(_ plan: Dom0Plan, built: Dom0Construct.Built) {
        Log.line { $0.write("PHYSICAL MEMORY ARRANGEMENT:") }
        Log.line { c in
            c.write(" Dom0 alloc.:   "); c.write(hex: built.frames.lowestFrame << 12, minimumDigits: 16)
            c.write("->"); c.write(hex: (built.frames.lowestFrame + plan.pages) << 12, minimumDigits: 16)
            c.write(" ("); c.write(decimal: plan.pages); c.write(" pages, in "); c.write(decimal: built.frames.runCount)
            c.write(built.frames.runCount == 1 ? " run)" : " runs)")
        }
        Log.line { $0.write("VIRTUAL MEMORY ARRANGEMENT:") }
        func range(_ name: StaticString, _ start: UInt64, _ end: UInt64) {
            Log.line { c in c.write(name); c.write(hex: start, minimumDigits: 16); c.write("->"); c.write(hex: end, minimumDigits: 16) }
        }
        range(" Loaded kernel: ", plan.kernelStart, plan.kernelEnd)
        if plan.initrdEnd > plan.initrdStart { range(" Init. ramdisk: ", plan.initrdStart, Dom0Planner.pageUp(plan.initrdEnd)) }
        range(" Phys-Mach map: ", plan.p2mStart, plan.p2mEnd)
        range(" Start info:    ", plan.startInfo, plan.startInfo + UInt64(MemoryLayout<start_info>.size) + 40)
        range(" Page tables:   ", plan.pageTablesStart, plan.pageTablesEnd)
        range(" Boot stack:    ", plan.stackStart, plan.stackTop)
        range(" TOTAL:         ", plan.virtualBase, plan.regionEnd)
        Log.line { c in c.write(" ENTRY ADDRESS: "); c.write(hex: plan.entry, minimumDigits: 16) }
    }
}
