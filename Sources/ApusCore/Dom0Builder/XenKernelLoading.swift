// XenKernelLoading: copies the kernel's loadable segments to where its virtual range starts,
// as Xen's elf_load_binary does: segment bytes go to (paddr - pstart), the rest of each
// segment's memory size (its bss) is zeroed.
//
// The caller maps [virtualStart, virtualEnd) first and hands that memory in. Apus does not
// copy BSD symbol tables (BSD_SYMTAB=yes): that space is zeroed, so a BSD kernel sees an
// empty table. Invariants: writes stay inside `destination`; segment contents were checked
// to lie in the file when the image was parsed. Imports nothing.

extension XenKernelImage {
    /// Bytes `load` writes: the whole virtual range of the image.
    public var loadSize: UInt64 { virtualEnd - virtualStart }

    /// Fills `destination` (at least `loadSize` bytes) with the image: segments copied,
    /// everything else zeroed.
    public func load(into destination: UnsafeMutableRawBufferPointer) throws(KernelImageError) {
        guard UInt64(destination.count) >= loadSize, let base = destination.baseAddress else {
            if loadSize == 0 { return }
            throw .loadAreaTooSmall(needed: loadSize, given: destination.count)
        }
        base.initializeMemory(as: UInt8.self, repeating: 0, count: Int(loadSize))
        for index in 0..<elf.programHeaderCount {
            let segment = elf.programHeader(index)
            guard segment.isLoadable, segment.fileSize > 0,
                  let bytes = elf.bytes(offset: segment.offset, size: segment.fileSize),
                  let source = bytes.raw.baseAddress else { continue }
            // pstart <= paddr and paddr + filesz <= pend <= pstart + loadSize (checked at parse);
            // checked again here, so that no image can make the copy leave `destination`.
            guard segment.physicalAddress >= physicalStart,
                  segment.physicalAddress - physicalStart <= loadSize,
                  UInt64(bytes.count) <= loadSize - (segment.physicalAddress - physicalStart) else {
                throw .loadAreaTooSmall(needed: loadSize, given: destination.count)
            }
            let offset = Int(segment.physicalAddress - physicalStart)
            (base + offset).copyMemory(from: source, byteCount: bytes.count)
        }
    }
}
