// XenKernelImagePrinting: the kernel lines of Xen's "*** Building a PV Dom0 ***" block and,
// for verbose boots, the note and address dump libelf prints.
//
//    Xen  kernel: 64-bit, lsb
//    Dom0 kernel: 64-bit, PAE, lsb, paddr 0x1000000 -> 0x4a00000
//   ELF: note: GUEST_OS = "linux"                       (printNotes)
//   ELF: addresses: / virt_base = 0x... (printAddresses)
// Numbers follow C's %#lx: 0x-prefixed lower-case hex, but plain "0" for zero.
// Lines end in a newline, without the console prefix. Imports nothing.

extension XenKernelImage {
    public func printKernelLines<Sink: TextSink>(into sink: inout Sink) {
        sink.writeLine(" Xen  kernel: 64-bit, lsb")
        sink.write(" Dom0 kernel: 64-bit")
        if paeMode != .none { sink.write(", PAE") }
        sink.write(", lsb, paddr ")
        XenKernelImage.writeHash(physicalStart, &sink)
        sink.write(" -> ")
        XenKernelImage.writeHash(physicalEnd, &sink)
        sink.newline()
        if let symbols = bsdSymbolTable {
            sink.write(" Dom0 symbol map ")
            XenKernelImage.writeHash(symbols.start, &sink)
            sink.write(" -> ")
            XenKernelImage.writeHash(symbols.end, &sink)
            sink.newline()
        }
    }

    /// One `ELF: note:` line per Xen note present, in note-number order.
    public func printNotes<Sink: TextSink>(into sink: inout Sink) {
        if noteSource == .legacyGuestInfo { sink.writeLine("ELF: notes from the __xen_guest section") }
        if noteSource == .noteSections { sink.writeLine("ELF: using notes from SHT_NOTE section") }
        for type in UInt32(1)...18 where notes.isPresent(type) {
            sink.write("ELF: note: ")
            sink.write(XenElfNote.name(type))
            sink.write(" = ")
            if XenElfNote.isString(type) {
                sink.put(0x22)
                writePrintable(noteText(type), &sink)
                sink.put(0x22)
            } else {
                XenKernelImage.writeHash(noteNumber(type), &sink)
            }
            sink.newline()
        }
    }

    public func printAddresses<Sink: TextSink>(into sink: inout Sink) {
        sink.writeLine("ELF: addresses:")
        line("    virt_base        = 0x", virtBase, &sink)
        line("    elf_paddr_offset = 0x", paddrOffset, &sink)
        line("    virt_offset      = 0x", virtOffset, &sink)
        line("    virt_kstart      = 0x", virtualStart, &sink)
        line("    virt_kend        = 0x", virtualEnd, &sink)
        line("    virt_entry       = 0x", entry, &sink)
        line("    p2m_base         = 0x", p2mBase ?? UInt64.max, &sink)
    }

    private func line<Sink: TextSink>(_ label: StaticString, _ value: UInt64, _ sink: inout Sink) {
        sink.write(label)
        sink.write(hex: value)
        sink.newline()
    }

    private func noteText(_ type: UInt32) -> ByteText {
        switch type {
        case XenElfNote.xenVersion: return notes.xenVersion ?? .empty
        case XenElfNote.guestOS: return notes.guestOS ?? .empty
        case XenElfNote.guestVersion: return notes.guestVersion ?? .empty
        case XenElfNote.loader: return notes.loader ?? .empty
        case XenElfNote.paeMode: return notes.paeMode ?? .empty
        case XenElfNote.features: return notes.features ?? .empty
        default: return notes.bsdSymtab ?? .empty
        }
    }

    private func noteNumber(_ type: UInt32) -> UInt64 {
        switch type {
        case XenElfNote.entry: return notes.entry ?? 0
        case XenElfNote.hypercallPage: return notes.hypercallPage ?? 0
        case XenElfNote.virtBase: return notes.virtBase ?? 0
        case XenElfNote.paddrOffset: return notes.paddrOffset ?? 0
        case XenElfNote.hvStartLow: return notes.hvStartLow ?? 0
        case XenElfNote.suspendCancel: return notes.suspendCancel ?? 0
        case XenElfNote.initP2M: return notes.initP2M ?? 0
        case XenElfNote.modStartPFN: return notes.modStartPFN ?? 0
        case XenElfNote.phys32Entry: return notes.phys32Entry ?? 0
        case XenElfNote.supportedFeatures: return UInt64(notes.supportedFeatures ?? 0)
        // L1_MFN_VALID: Xen reads a number only from 1, 2, 4 or 8 bytes, else 0.
        default:
            guard let value = notes.l1MFNValid else { return 0 }
            switch value.count {
            case 1: return UInt64(value.uint8(at: 0) ?? 0)
            case 2: return UInt64(value.uint16(at: 0) ?? 0)
            case 4: return UInt64(value.uint32(at: 0) ?? 0)
            case 8: return value.uint64(at: 0) ?? 0
            default: return 0
            }
        }
    }

    private func writePrintable<Sink: TextSink>(_ text: ByteText, _ sink: inout Sink) {
        for index in 0..<text.count {
            let byte = text[index]
            sink.put(byte >= 0x20 && byte < 0x7F ? byte : 0x3F)
        }
    }

    /// C's `%#lx`.
    static func writeHash<Sink: TextSink>(_ value: UInt64, _ sink: inout Sink) {
        if value == 0 { sink.put(0x30) } else { sink.write(hex0x: value) }
    }
}
