// Apus's own address space: replaces the boot tables (boot/multiboot.S) with tables that
// map only what Apus needs, each with the least permission that works.
//
//   image text       R-X  global, 4 KiB pages
//   image rodata     R--  global, NX
//   image data, bss  RW-  global, NX (less the guard pages below the boot and CPU stacks)
//   symbol table     R--  global, NX
//   direct map       RW-  NX, 2 MiB pages over all RAM and the 4 GiB below it; 2 MiB
//                    chunks with no RAM in them (MMIO: APIC, IOAPIC, HPET) uncached
//
// Nothing is mapped in the lower half: that belongs to guests. The tables' frames come
// from a fixed pool in .bss (boot/reservations.S) because the frame allocator needs the
// direct map to exist first.
import ApusCore
import ArchX86

struct PoolTableMemory: PageTableMemory {
    var nextFrame: UInt64
    let endFrame: UInt64

    init() {
        nextFrame = (ImageLayout.pageTablePool - ImageLayout.imageVirtualOffset) >> 12
        endFrame = (ImageLayout.pageTablePoolEnd - ImageLayout.imageVirtualOffset) >> 12
    }

    func table(_ frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)
    }

    mutating func allocateTableFrame() -> UInt64? {
        guard nextFrame < endFrame else { return nil }
        let frame = nextFrame
        nextFrame += 1
        table(frame).initialize(repeating: 0, count: 512)
        return frame
    }

    var framesUsed: UInt64 { nextFrame - (ImageLayout.pageTablePool - ImageLayout.imageVirtualOffset) >> 12 }
}

enum DirectMap {
    static func pointer<T>(to physical: UInt64, as: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutablePointer<T>(bitPattern: UInt(ImageLayout.directMapStart + physical)).unsafelyUnwrapped
    }
    static func address(of physical: UInt64) -> UInt64 { ImageLayout.directMapStart + physical }
}

enum HypervisorPageTables {
    nonisolated(unsafe) static var rootFrame: UInt64 = 0

    /// Builds the tables and switches to them. `directMapBytes`: how much physical
    /// address space the direct map covers; `isRAM(chunk)` tells which 2 MiB chunks hold RAM.
    static func buildAndSwitch(directMapBytes: UInt64, isRAM: (UInt64) -> Bool) -> UInt64 {
        var memory = PoolTableMemory()
        guard let root = memory.allocateTableFrame() else { panic("no frame for the root page table") }
        var mapper = PageTableMapper(memory: memory, rootFrame: root)
        let g = PageTableEntry.global, w = PageTableEntry.writable, nx = PageTableEntry.noExecute
        do throws(PagingError) {
            try mapImage(&mapper, from: ImageLayout.textStart, to: ImageLayout.textEnd, flags: g)
            try mapImage(&mapper, from: ImageLayout.rodataStart, to: ImageLayout.rodataEnd, flags: g | nx)
            // Data and bss, less the guard pages below the boot stack and each CPU's stack.
            var guards = InlineArray<9, UInt64>(repeating: 0)
            guards[0] = ImageLayout.stackGuardPage
            for cpu in 0..<ImageLayout.maxCPUs { guards[cpu + 1] = ImageLayout.guestStackGuardPage(cpu: cpu) }
            for i in 1..<9 {  // insertion sort: the boot guard may lie on either side
                var j = i
                while j > 0 && guards[j - 1] > guards[j] { guards.swapAt(j - 1, j); j -= 1 }
            }
            var from = ImageLayout.dataStart
            for i in 0..<9 {
                try mapImage(&mapper, from: from, to: guards[i], flags: g | w | nx)
                from = guards[i] + 4096
            }
            try mapImage(&mapper, from: from, to: ImageLayout.dataEnd, flags: g | w | nx)
            try mapImage(&mapper, from: ImageLayout.symbolsStart, to: ImageLayout.imageEnd, flags: g | nx)
            let chunk = PageSize.size2M.bytes
            var physical: UInt64 = 0
            while physical < directMapBytes {
                let uncached = isRAM(physical) ? 0 : PageTableEntry.cacheDisable | PageTableEntry.writeThrough
                try mapper.map(virtual: DirectMap.address(of: physical), physical: physical, size: .size2M,
                               flags: w | nx | uncached)
                physical += chunk
            }
        } catch {
            panic { c in
                c.write("cannot build Apus's page tables: ")
                switch error {
                case .outOfTableFrames: c.write("the page-table pool is exhausted (raise PAGE_TABLE_POOL_PAGES)")
                default: c.write("conflicting mappings")
                }
            }
        }
        rootFrame = root
        CPU.writeCR3(root << 12)
        return mapper.memory.framesUsed
    }

    static func mapImage(_ mapper: inout PageTableMapper<PoolTableMemory>, from start: UInt64, to end: UInt64,
                         flags: UInt64) throws(PagingError) {
        let pages = Int((end - start + 0xFFF) >> 12)
        guard pages > 0 else { return }
        try mapper.map(virtual: start, physical: start - ImageLayout.imageVirtualOffset, count: pages,
                       size: .size4K, flags: flags)
    }
}
