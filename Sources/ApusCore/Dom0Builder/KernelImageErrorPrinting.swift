// KernelImageErrorPrinting: the boot-log sentence for each KernelImageError, in the words a
// Xen user knows (Xen's own messages where it has one, with the numbers that explain them).
// One line, no newline, no console prefix. Imports nothing.

extension KernelImageError {
    public func write<Sink: TextSink>(to sink: inout Sink) {
        switch self {
        case .unsupportedFormat(let format):
            switch format {
            case .unknown, .elf, .gzip, .bzImage:
                sink.write("the dom0 kernel is not an ELF image, nor gzip-compressed, nor a bzImage")
            default:
                sink.write("the dom0 kernel is ")
                format.writeName(to: &sink)
                sink.write("-compressed: Apus unpacks gzip only (use the uncompressed vmlinux or gzip it)")
            }
        case .decompressionFailed(let error):
            sink.write("the dom0 kernel's gzip data is damaged: ")
            error.write(to: &sink)
        case .truncatedELFHeader(let size):
            sink.write("the dom0 kernel is only ")
            sink.write(decimal: size)
            sink.write(" bytes, too short for an ELF header")
        case .notELF64(let elfClass):
            if elfClass == 1 {
                sink.write("Mismatch between Xen and DOM0 kernel: a 32-bit ELF image, Apus runs 64-bit PV kernels only")
            } else {
                sink.write("ELF class ")
                sink.write(decimal: UInt64(elfClass))
                sink.write(" is neither 32- nor 64-bit (corrupt header?)")
            }
        case .notLittleEndian(let encoding):
            sink.write("ELF data encoding ")
            sink.write(decimal: UInt64(encoding))
            sink.write(" is not little-endian (1), as x86-64 kernels are")
        case .badELFVersion(let version):
            sink.write("ELF version ")
            sink.write(decimal: UInt64(version))
            sink.write(" is not 1")
        case .notExecutable(let type):
            sink.write("ELF type ")
            sink.write(decimal: UInt64(type))
            switch type {
            case 1: sink.write(" (a relocatable object file)")
            case 4: sink.write(" (a core dump)")
            default: break
            }
            sink.write(" is not an executable image")
        case .notX86_64(let machine):
            sink.write("Mismatch between Xen and DOM0 kernel: built for machine ")
            sink.write(decimal: UInt64(machine))
            switch machine {
            case 3: sink.write(" (32-bit x86)")
            case 40: sink.write(" (ARM)")
            case 183: sink.write(" (AArch64)")
            case 243: sink.write(" (RISC-V)")
            default: break
            }
            sink.write(", not x86-64 (62)")
        case .badProgramHeaderSize(let size):
            sink.write("ELF program header size is ")
            sink.write(decimal: UInt64(size))
            sink.write(" bytes, not 56")
        case .programHeadersOutsideFile(let offset, let count):
            sink.write("phdr overflow: ")
            sink.write(decimal: count)
            sink.write(" program headers at offset ")
            sink.write(hex0x: offset)
            sink.write(" run past the end of the file")
        case .tooManyProgramHeaders(let count, let limit):
            sink.write(decimal: count)
            sink.write(" ELF program headers (Apus accepts at most ")
            sink.write(decimal: limit)
            sink.write(")")
        case .badSectionHeaderSize(let size):
            sink.write("ELF section header size is ")
            sink.write(decimal: UInt64(size))
            sink.write(" bytes, not 64")
        case .sectionHeadersOutsideFile(let offset, let count):
            sink.write("shdr overflow: ")
            sink.write(decimal: count)
            sink.write(" section headers at offset ")
            sink.write(hex0x: offset)
            sink.write(" run past the end of the file")
        case .tooManySections(let count, let limit):
            sink.write(decimal: count)
            sink.write(" ELF sections (Apus accepts at most ")
            sink.write(decimal: limit)
            sink.write(")")
        case .noLoadableSegments:
            sink.write("the kernel has no loadable (PT_LOAD) segment")
        case .tooManyLoadSegments(let count, let limit):
            sink.write(decimal: count)
            sink.write(" loadable segments (Apus accepts at most ")
            sink.write(decimal: limit)
            sink.write(")")
        case .segmentOutsideFile(let index, let offset, let fileSize):
            sink.write("segment ")
            sink.write(decimal: index)
            sink.write(": its ")
            sink.write(decimal: fileSize)
            sink.write(" file bytes at offset ")
            sink.write(hex0x: offset)
            sink.write(" run past the end of the file (truncated image?)")
        case .segmentFileSizeExceedsMemorySize(let index, let fileSize, let memorySize):
            sink.write("segment ")
            sink.write(decimal: index)
            sink.write(" has more file bytes (")
            sink.write(hex0x: fileSize)
            sink.write(") than memory bytes (")
            sink.write(hex0x: memorySize)
            sink.write(")")
        case .segmentWrapsAround(let index, let address, let memorySize):
            sink.write("segment ")
            sink.write(decimal: index)
            sink.write(" at ")
            sink.write(hex0x: address)
            sink.write(" with ")
            sink.write(hex0x: memorySize)
            sink.write(" bytes wraps around the end of the address space")
        case .segmentsOverlap(let first, let second):
            sink.write("loadable segments ")
            sink.write(decimal: first)
            sink.write(" and ")
            sink.write(decimal: second)
            sink.write(" overlap in physical (load) addresses")
        case .noteAreaOutsideFile(let offset, let size):
            sink.write("ELF notes at offset ")
            sink.write(hex0x: offset)
            sink.write(" (")
            sink.write(hex0x: size)
            sink.write(" bytes) lie outside the file")
        case .malformedNote(let offset):
            sink.write("malformed ELF note at file offset ")
            sink.write(hex0x: UInt64(offset))
            sink.write(": its name or value runs past its segment")
        case .tooManyNotes(let limit):
            sink.write("too many ELF notes (more than ")
            sink.write(decimal: limit)
            sink.write(")")
        case .badNoteSize(let type, let size):
            sink.write("Xen ELF note ")
            let name = XenElfNote.name(type)
            if name.utf8CodeUnitCount > 0 { sink.write(name) } else { sink.write(decimal: UInt64(type)) }
            sink.write(" has a ")
            sink.write(decimal: size)
            sink.write("-byte value; it must be a 1, 2, 4 or 8-byte number")
        case .badGuestInfoNumber(let key):
            sink.write("__xen_guest: ")
            key.write(to: &sink)
            sink.write(" is not a number")
        case .noXenNotes:
            sink.write("Not a Xen-ELF image: No ELF notes or '__xen_guest' section found")
        case .notForGenericLoaderOrLinux(let loader, let guestOS):
            sink.write("Will only load images built for the generic loader or Linux images (Not '")
            loader.write(to: &sink)
            sink.write("' and '")
            guestOS.write(to: &sink)
            sink.write("')")
        case .notForXen3(let xenVersion):
            sink.write("Xen will only load images built for Xen v3.0 (Not '")
            xenVersion.write(to: &sink)
            sink.write("')")
        case .paddrOffsetWithoutVirtBase:
            sink.write("ELF_PADDR_OFFSET set, VIRT_BASE unset")
        case .bsdSymbolTableTooLarge:
            sink.write("ELF start or entries are out of bounds: the BSD symbol table (BSD_SYMTAB) does not fit after the image")
        case .kernelStartAfterEnd(let start, let end):
            sink.write("ELF start or entries are out of bounds: the image starts at ")
            sink.write(hex0x: start)
            sink.write(" after it ends at ")
            sink.write(hex0x: end)
        case .entryOutsideKernel(let entry, let start, let end):
            sink.write("ELF start or entries are out of bounds: entry ")
            sink.write(hex0x: entry)
            sink.write(" is outside the image ")
            sink.write(hex0x: start)
            sink.write("->")
            sink.write(hex0x: end)
        case .virtBaseAboveKernel(let virtBase, let start):
            sink.write("ELF start or entries are out of bounds: VIRT_BASE ")
            sink.write(hex0x: virtBase)
            sink.write(" is above the image start ")
            sink.write(hex0x: start)
        case .p2mBaseInsideKernel(let p2mBase, let start, let end):
            sink.write("P->M table base is out of bounds: INIT_P2M ")
            sink.write(hex0x: p2mBase)
            sink.write(" is inside the image ")
            sink.write(hex0x: start)
            sink.write("->")
            sink.write(hex0x: end)
        case .unknownRequiredFeature(let name):
            sink.write("the kernel requires feature '")
            name.write(to: &sink)
            sink.write("', which Xen's feature list does not have")
        case .unsupportedRequiredFeatures(let features):
            sink.write("the kernel requires features Apus does not provide: ")
            features.write(to: &sink)
        case .notDom0Capable:
            sink.write("Kernel does not support Dom0 operation (XENFEAT_dom0 missing from its SUPPORTED_FEATURES note)")
        case .loadAreaTooSmall(let needed, let given):
            sink.write("the kernel image needs ")
            sink.write(hex0x: needed)
            sink.write(" bytes, the area for it has ")
            sink.write(hex0x: UInt64(given))
        }
    }
}
