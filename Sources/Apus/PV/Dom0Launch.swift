// Turning the first boot module into a running dom0: unpack it if it is compressed, read
// it as a Xen PV kernel (ELF + Xen notes), plan and build its address space, and enter it.
// Any reason it cannot be started is printed in words and the fatal-error rule applies,
// as Xen does ("Could not set up DOM0 guest OS").
import ApusCore
import ApusPublic
import ArchX86
import X86Shim

enum Dom0Launch {
    /// The XENFEAT_* bits a kernel may require of Apus (its FEATURES note, `!` = required).
    static var offeredFeatures: XenFeatureSet {
        var set = XenFeatureSet()
        set.rawValue = (1 << XenFeatureSet.writablePageTables) | (1 << XenFeatureSet.paePgdirAbove4GB)
            | (1 << 5) | (1 << 7) | (1 << 11)   // pt_update_preserve_ad, gnttab_map_avail_bits, dom0
        return set
    }

    static func launch(kernel: BootModule, initrd: BootModule?, commandLine: ByteText,
                       decision: Dom0MemoryDecision, vcpus: Int, options: BootOptions) -> Never {
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
        let layout: Dom0Layout
        do throws(Dom0LayoutError) {
            layout = try Dom0Layout.compute(Dom0LayoutRequest(
                kernel: image, initrdBytes: initrdBytes.map { UInt64($0.count) }, nrPages: decision.pages))
        } catch {
            refuse { error.write(to: &$0) }
        }
        guard layout.p2mInInitialMapping else {
            refuse { $0.write("its p2m list goes outside the initial mapping (XEN_ELFNOTE_INIT_P2M), not supported yet") }
        }
        let plan = Dom0Plan(layout: layout, image: image)
        let built = Dom0Construct.build(plan: plan, image: image, initrd: initrdBytes, commandLine: commandLine,
                                        pae: image.paeMode != .none)
        Log.lines { layout.printArrangement(into: &$0, allocationStart: built.frames.lowestFrame << 12,
                                            initrdStart: initrd?.start, entry: image.entry) }

        PV.current = PVDomain()
        PV.current.pageCount = plan.pages
        PV.current.maximumPageCount = decision.maximumPages ?? plan.pages
        PV.current.sharedInfoFrame = built.sharedInfoFrame
        PV.createVCPUs(count: vcpus)
        let boot = PV.vcpu(0)
        boot.pointee.kernelTableFrame = built.l4Frame
        boot.pointee.isInitialised = true
        boot.pointee.isUp = true
        // IF on in the real flags; dom0's events start masked in vcpu_info.
        boot.pointee.frame = x86_trap_frame(
            r15: 0, r14: 0, r13: 0, r12: 0, r11: 0, r10: 0, r9: 0, r8: 0, rbp: 0, rdi: 0, rsi: plan.startInfo,
            rdx: 0, rcx: 0, rbx: 0, rax: 0, vector: 0, error_code: 0, rip: plan.entry, cs: Bounce.flatKernelCS,
            rflags: 0x202, rsp: plan.stackTop, ss: Bounce.flatKernelSS)
        PV.current.started = true
        Events.createTable(domain: PV.current.id, privileged: PV.current.isPrivileged, vcpuCount: vcpus)
        GuestTimers.startDefaultPeriodic(0)

        Log.line { c in
            c.write("Dom0 has maximum "); c.write(decimal: vcpus); c.write(" VCPUs")
            if options.dom0VCPUsPin { c.write(" (pinned: vCPU n on CPU n)") }
        }
        ConsoleInput.endOfBoot()
        if options.dom0Shadow {
            Shadows.selfServiceAllowed = true
            guard Shadows.enable() else { panic("No memory for dom0's shadow page tables") }
        }
        Scheduling.start(options: options, vcpuCount: vcpus, pin: options.dom0VCPUsPin)
        Scheduling.updateRunnable(0)
        // The boot CPU now becomes a scheduler CPU like the others: vCPU 0 runs where the
        // scheduler put it (here, unless pinned elsewhere).
        Scheduling.idleLoop(cpu: 0)
    }

    /// The ELF bytes: the module itself, or its gzip (or bzImage gzip payload) unpacked
    /// into frames taken from the heap.
    static func unpack(_ module: ByteWindow) -> ByteWindow {
        let contents: KernelModuleContents
        do throws(KernelImageError) {
            contents = try KernelModuleContents.locate(module)
        } catch {
            refuse { error.write(to: &$0) }
        }
        if contents.encoding == .elf, let bytes = contents.bytes(in: module) { return bytes }
        guard let size = contents.uncompressedSizeHint, size > 0 else { refuse { $0.write("its gzip trailer gives no size") } }
        let order = MachineToPhys.orderFor(bytes: UInt64(size))
        guard let first = Memory.allocator.allocate(order: order) else { refuse { $0.write("no memory to unpack it") } }
        let output = UnsafeMutableRawBufferPointer(
            start: UnsafeMutableRawPointer(bitPattern: UInt(DirectMap.address(of: first << 12))), count: Int(size))
        do throws(KernelImageError) {
            let produced = try contents.unpack(module, into: output, using: &Dom0Launch.inflater)
            Log.line { c in
                c.write("Dom0 kernel unpacked from gzip"); c.write(contents.isBzImagePayload ? " (bzImage payload): " : ": ")
                c.write(size: UInt64(produced))
            }
            return ByteWindow(UnsafeRawBufferPointer(start: output.baseAddress, count: produced))
        } catch {
            refuse { error.write(to: &$0) }
        }
    }

    /// The decompressor's 6.5 KiB workspace: static, not on the boot stack.
    nonisolated(unsafe) static var inflater = Inflater()

    static func refuse(_ body: (inout Console) -> Void) -> Never {
        panic { c in
            c.write("Could not set up DOM0 guest OS: the dom0 kernel module cannot be loaded: ")
            body(&c)
        }
    }
}
