// From the boot loader's memory map to a running frame allocator.
//
// Order matters: the map is normalised and everything Apus must not hand out is reserved
// (the first MiB as Xen does, the image, the boot information, the modules, `badpage=`
// frames, RAM above `mem=`) before the frame table is carved from what is left. The
// frame allocator then owns every frame the map still calls usable.
import ApusCore
import ArchX86

enum Memory {
    nonisolated(unsafe) static var map = BootMemoryMap()
    /// Empty until `startFrameAllocator` replaces it (noncopyable, so not an Optional).
    nonisolated(unsafe) static var allocator = FrameAllocator(
        map: BootMemoryMap(), frameTable: UnsafeMutableBufferPointer(start: nil, count: 0))

    /// One past the last frame of RAM the firmware reported (Xen's max_page).
    static var ramFrameEnd: UInt64 {
        var end: UInt64 = 0
        map.forEachFirmwareRange { range in
            if range.type.isUsable { end = max(end, range.end >> 12) }
        }
        return end
    }

    /// Builds the map, applies reservations and `mem=`/`badpage=`, and prints it all.
    static func buildMap(boot: BootInfo, options: BootOptions, reader: DirectMapReader) {
        var fromFirmware = false
        if let location = boot.memoryMapLocation {
            fromFirmware = location.forEach(reader: reader) { entry in
                _ = map.add(base: entry.base, length: entry.length, e820Type: entry.type)
            }
        }
        if !fromFirmware || map.isEmpty {
            // No map: fall back on the two sizes every multiboot loader reports.
            Log.line { $0.write("WARNING: no firmware memory map from the boot loader; using its lower/upper memory sizes") }
            if let lower = boot.memoryLowerKiB { _ = map.add(base: 0, length: UInt64(lower) << 10, e820Type: 1) }
            if let upper = boot.memoryUpperKiB { _ = map.add(base: 1 << 20, length: UInt64(upper) << 10, e820Type: 1) }
        }
        if map.isEmpty { panic("The boot loader reported no memory at all") }

        Log.line { $0.write("Xen-e820 RAM map:") }
        Log.lines { map.printE820(into: &$0) }

        _ = map.reserve(base: 0, length: 1 << 20, reason: .lowMemory)
        let imageStart = ImageLayout.imageStartPhysical
        let imageEnd = ImageLayout.imageEnd - ImageLayout.imageVirtualOffset
        _ = map.reserve(base: imageStart, length: imageEnd - imageStart, reason: .image)
        reserveBootInformation(boot, reader: reader)
        for index in 0..<boot.moduleCount {
            guard let module = boot.module(index) else { continue }
            _ = map.reserve(base: module.start & ~0xFFF, length: (module.end - (module.start & ~0xFFF) + 0xFFF) & ~0xFFF,
                            reason: .module)
        }
        for index in 0..<options.badPages.count {
            let range = options.badPages[index]
            let taken = map.reserve(frame: range.first, count: range.last - range.first + 1, reason: .badPage)
            Log.line { c in
                c.write("Bad page"); c.write(range.first == range.last ? " " : "s ")
                c.write(hex0x: range.first)
                if range.first != range.last { c.write("-"); c.write(hex0x: range.last) }
                c.write(taken > 0 ? ": reserved, never allocated" : ": not in usable RAM, nothing to do")
            }
        }
        if let limit = options.memLimitBytes {
            let cut = map.clip(above: limit)
            Log.line { c in
                c.write("mem="); c.write(hex0x: limit); c.write(": ignoring ")
                c.write(size: cut); c.write(" of RAM above that physical address")
            }
        }
        Log.line { $0.write("Apus reservations:") }
        Log.lines { map.printReservations(into: &$0) }
        Log.lines { map.printSystemRAM(into: &$0) }
    }

    /// The boot information block and the strings it points at stay readable until dom0
    /// is built, so their pages are never handed out.
    static func reserveBootInformation(_ boot: BootInfo, reader: DirectMapReader) {
        var length: UInt64 = 4096
        if boot.bootProtocol == .multiboot2, let total = reader.readUInt32(at: boot.infoAddress) {
            length = UInt64(total)
        }
        reservePages(from: boot.infoAddress, length: length)
        if let text = boot.commandLine { reservePages(from: text.address, length: UInt64(text.count) + 1) }
        for index in 0..<boot.moduleCount {
            if let text = boot.module(index)?.commandLine { reservePages(from: text.address, length: UInt64(text.count) + 1) }
        }
        if let location = boot.memoryMapLocation { reservePages(from: location.address, length: UInt64(location.byteCount)) }
    }

    static func reservePages(from address: UInt64, length: UInt64) {
        let start = address & ~0xFFF
        let end = (address + length + 0xFFF) & ~0xFFF
        _ = map.reserve(base: start, length: end - start, reason: .firmware)
    }

    /// A firmware-reserved range above 4 GiB holds `frame` (Xen keeps dom0 out of those:
    /// -EPERM, as for an address no memory answers).
    static func isReservedHigh(_ frame: UInt64) -> Bool {
        let address = frame << 12
        guard address >= 1 << 32 else { return false }
        var found = false
        map.forEach { range in
            if range.type == .reserved && address >= range.base && address < range.end { found = true }
        }
        return found
    }

    /// Whether any RAM lies in [start, end): decides cached versus uncached direct mapping.
    static func holdsRAM(_ start: UInt64, _ end: UInt64) -> Bool {
        var found = false
        map.forEach { range in
            guard range.base < end && range.end > start else { return }
            switch range.type {
            case .usable, .acpiReclaimable, .acpiNVS, .apus: found = true
            default: break
            }
        }
        return found
    }

    /// Carves the frame table and starts the buddy allocator over what the map leaves usable.
    static func startFrameAllocator(options: BootOptions, directMapLimit: UInt64) {
        let entries = FrameAllocator.frameTableEntries(for: map)
        let bytes = UInt64(entries * FrameAllocator.frameInfoStride)
        guard let base = map.carve(bytes: bytes, alignment: 4096, below: directMapLimit, reason: .allocatorMetadata) else {
            panic("Not enough memory for the frame table")
        }
        let table = UnsafeMutableBufferPointer<FrameInfo>(
            start: DirectMap.pointer(to: base, as: FrameInfo.self), count: entries)
        allocator = FrameAllocator(map: map, frameTable: table, dmaBits: Int(options.dmaBits))
        let free = allocator.freeFrames
        Log.line { c in
            c.write("Domain heap initialised: "); c.write(decimal: free); c.write(" pages (")
            c.write(size: free << 12); c.write(") free; frame table "); c.write(size: bytes)
            c.write(" at "); c.write(hex0x: base)
        }
        Log.line { c in
            c.write("  free by zone: DMA (below "); c.write(size: UInt64(1) << UInt64(allocator.dmaBits)); c.write(") ")
            c.write(size: allocator.freeFrames(in: .dma) << 12)
            c.write(", from there to 4GB "); c.write(size: allocator.freeFrames(in: .below4G) << 12)
            c.write(", above 4GB "); c.write(size: allocator.freeFrames(in: .high) << 12)
        }
        if let violation = allocator.checkInvariants() {
            _ = violation
            panic("Frame allocator invariants do not hold right after start-up")
        }
    }
}
