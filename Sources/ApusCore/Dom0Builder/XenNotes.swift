// XenNotes: the "Xen" ELF notes a PV kernel carries (XEN_ELFNOTE_*, Xen's public elfnote.h)
// and the legacy `__xen_guest` section string that preceded them.
//
// A note is namesz (u32), descsz (u32), type (u32), the name padded to 4 bytes, the
// descriptor padded to 4 bytes. Like Xen's libelf: notes come from PT_NOTE segments (except
// ones at file offset 0, which old binutils wrote by mistake); only if none of those holds a
// Xen note, from SHT_NOTE sections; only if still none, from `__xen_guest`. A later note
// of the same type replaces an earlier one. Numeric notes are 1, 2, 4 or 8 bytes (Apus
// refuses other sizes where libelf would silently read 0); string notes end at their first
// NUL or at the descriptor's end (Linux writes FEATURES without a NUL).
// Invariants: every note is checked to lie inside its area before it is read. Imports nothing.

public enum XenElfNote {
    public static let entry: UInt32 = 1
    public static let hypercallPage: UInt32 = 2
    public static let virtBase: UInt32 = 3
    public static let paddrOffset: UInt32 = 4
    public static let xenVersion: UInt32 = 5
    public static let guestOS: UInt32 = 6
    public static let guestVersion: UInt32 = 7
    public static let loader: UInt32 = 8
    public static let paeMode: UInt32 = 9
    public static let features: UInt32 = 10
    public static let bsdSymtab: UInt32 = 11
    public static let hvStartLow: UInt32 = 12
    public static let l1MFNValid: UInt32 = 13
    public static let suspendCancel: UInt32 = 14
    public static let initP2M: UInt32 = 15
    public static let modStartPFN: UInt32 = 16
    public static let supportedFeatures: UInt32 = 17
    public static let phys32Entry: UInt32 = 18

    /// Xen's name for a note type, "" for types it does not define.
    public static func name(_ type: UInt32) -> StaticString {
        switch type {
        case entry: return "ENTRY"
        case hypercallPage: return "HYPERCALL_PAGE"
        case virtBase: return "VIRT_BASE"
        case paddrOffset: return "PADDR_OFFSET"
        case xenVersion: return "XEN_VERSION"
        case guestOS: return "GUEST_OS"
        case guestVersion: return "GUEST_VERSION"
        case loader: return "LOADER"
        case paeMode: return "PAE_MODE"
        case features: return "FEATURES"
        case bsdSymtab: return "BSD_SYMTAB"
        case hvStartLow: return "HV_START_LOW"
        case l1MFNValid: return "L1_MFN_VALID"
        case suspendCancel: return "SUSPEND_CANCEL"
        case initP2M: return "INIT_P2M"
        case modStartPFN: return "MOD_START_PFN"
        case supportedFeatures: return "SUPPORTED_FEATURES"
        case phys32Entry: return "PHYS32_ENTRY"
        default: return ""
        }
    }

    static func isString(_ type: UInt32) -> Bool {
        switch type {
        case xenVersion, guestOS, guestVersion, loader, paeMode, features, bsdSymtab: return true
        default: return false
        }
    }
}

/// Where the Xen notes were found.
public enum XenNoteSource: Equatable, Sendable {
    case noteSegments
    case noteSections
    case legacyGuestInfo
}

/// The values of the Xen notes of one kernel, nil where the note is absent.
public struct XenNoteValues {
    public var entry: UInt64?
    public var hypercallPage: UInt64?
    public var virtBase: UInt64?
    public var paddrOffset: UInt64?
    public var hvStartLow: UInt64?
    public var initP2M: UInt64?
    public var modStartPFN: UInt64?
    public var suspendCancel: UInt64?
    public var phys32Entry: UInt64?
    public var supportedFeatures: UInt32?
    /// L1_MFN_VALID's raw descriptor (Linux: two 8-byte values, mask and value).
    public var l1MFNValid: ByteWindow?
    public var xenVersion: ByteText?
    public var guestOS: ByteText?
    public var guestVersion: ByteText?
    public var loader: ByteText?
    public var paeMode: ByteText?
    public var features: ByteText?
    public var bsdSymtab: ByteText?
    public var source: XenNoteSource = .noteSegments
    /// Xen notes read (known types or not), and all notes walked (any owner).
    public var xenNoteCount = 0
    public var totalNoteCount = 0
    /// Bit n set when note type n (1...18) was present.
    public var presentTypes: UInt32 = 0

    public init() {}

    public static let noteLimit = 65536

    /// Walks the notes in `area` (an ELF note segment or section), keeping the Xen ones.
    /// `areaOffset` is the area's file offset, for error messages.
    public mutating func readNotes(_ area: ByteWindow, areaOffset: Int) throws(KernelImageError) {
        var offset = 0
        while offset < area.count {
            guard let nameSize = area.uint32(at: offset), let descriptorSize = area.uint32(at: offset + 4),
                  let type = area.uint32(at: offset + 8) else {
                throw .malformedNote(offset: areaOffset + offset)
            }
            let nameOffset = offset + 12
            let (descriptorOffset, o1) = nameOffset.addingReportingOverflow(XenNoteValues.padded(nameSize))
            let (next, o2) = descriptorOffset.addingReportingOverflow(XenNoteValues.padded(descriptorSize))
            guard !o1, !o2, area.contains(offset: nameOffset, size: Int(nameSize)),
                  area.contains(offset: descriptorOffset, size: Int(descriptorSize)) else {
                throw .malformedNote(offset: areaOffset + offset)
            }
            totalNoteCount += 1
            guard totalNoteCount <= XenNoteValues.noteLimit else { throw .tooManyNotes(limit: XenNoteValues.noteLimit) }
            let name = area.text(at: nameOffset, count: Int(nameSize)) ?? .empty
            if XenNoteValues.textBeforeNUL(name).equals("Xen") {
                let descriptor = area.slice(offset: descriptorOffset, size: Int(descriptorSize))
                    ?? ByteWindow(UnsafeRawBufferPointer(start: nil, count: 0))
                try record(type: type, descriptor)
                xenNoteCount += 1
            }
            // The last note's padding may run past the area (a 2-byte descriptor at its end).
            offset = Swift.min(next, area.count)
        }
    }

    mutating func record(type: UInt32, _ descriptor: ByteWindow) throws(KernelImageError) {
        if type >= 1 && type <= 18 { presentTypes |= 1 << type }
        if XenElfNote.isString(type) {
            let text = XenNoteValues.textBeforeNUL(descriptor.text(at: 0, count: descriptor.count) ?? .empty)
            switch type {
            case XenElfNote.xenVersion: xenVersion = text
            case XenElfNote.guestOS: guestOS = text
            case XenElfNote.guestVersion: guestVersion = text
            case XenElfNote.loader: loader = text
            case XenElfNote.paeMode: paeMode = text
            case XenElfNote.features: features = text
            default: bsdSymtab = text
            }
            return
        }
        switch type {
        case XenElfNote.l1MFNValid:
            l1MFNValid = descriptor
        case XenElfNote.supportedFeatures:
            // An array of 32-bit submaps; Xen knows submap 0 only.
            guard descriptor.count >= 4, descriptor.count % 4 == 0, let map = descriptor.uint32(at: 0) else {
                throw .badNoteSize(type: type, size: descriptor.count)
            }
            supportedFeatures = map
        case XenElfNote.entry, XenElfNote.hypercallPage, XenElfNote.virtBase, XenElfNote.paddrOffset,
             XenElfNote.hvStartLow, XenElfNote.suspendCancel, XenElfNote.initP2M, XenElfNote.modStartPFN,
             XenElfNote.phys32Entry:
            let value: UInt64
            switch descriptor.count {
            case 1: value = UInt64(descriptor.uint8(at: 0) ?? 0)
            case 2: value = UInt64(descriptor.uint16(at: 0) ?? 0)
            case 4: value = UInt64(descriptor.uint32(at: 0) ?? 0)
            case 8: value = descriptor.uint64(at: 0) ?? 0
            default: throw .badNoteSize(type: type, size: descriptor.count)
            }
            switch type {
            case XenElfNote.entry: entry = value
            case XenElfNote.hypercallPage: hypercallPage = value
            case XenElfNote.virtBase: virtBase = value
            case XenElfNote.paddrOffset: paddrOffset = value
            case XenElfNote.hvStartLow: hvStartLow = value
            case XenElfNote.suspendCancel: suspendCancel = value
            case XenElfNote.initP2M: initP2M = value
            case XenElfNote.modStartPFN: modStartPFN = value
            default: phys32Entry = value
            }
        default:
            break  // Types Xen does not define (or defines for other purposes, like crash notes).
        }
    }

    public func isPresent(_ type: UInt32) -> Bool { type < 32 && presentTypes & (1 << type) != 0 }

    static func literal(_ text: StaticString) -> ByteText {
        ByteText(base: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    static func padded(_ size: UInt32) -> Int { (Int(size) + 3) & ~3 }

    static func textBeforeNUL(_ text: ByteText) -> ByteText {
        guard let end = text.firstIndex(of: 0) else { return text }
        return text.prefix(end)
    }

    // MARK: Legacy __xen_guest

    /// Reads the `KEY=VALUE,KEY=VALUE` string of a `__xen_guest` section (ending at its
    /// first NUL). Keys Xen knew: LOADER, GUEST_OS, GUEST_VER, XEN_VER, PAE, BSD_SYMTAB,
    /// VIRT_BASE, VIRT_ENTRY, ELF_PADDR_OFFSET, HYPERCALL_PAGE (a page number from
    /// VIRT_BASE), FEATURES. Numbers are C syntax; anything after the digits is ignored, as
    /// strtoull does.
    public mutating func readGuestInfo(_ text: ByteText) throws(KernelImageError) {
        source = .legacyGuestInfo
        var hypercallPageNumber: UInt64? = nil
        var rest: ByteText? = XenNoteValues.textBeforeNUL(text)
        while let current = rest, !current.isEmpty {
            let (item, tail) = current.split(at: 0x2C)  // ','
            rest = tail
            let (key, value) = item.split(at: 0x3D)    // '='
            let valueText = value ?? .empty
            func number() throws(KernelImageError) -> UInt64 {
                guard let parsed = valueText.parseUnsignedPrefix().value else {
                    throw .badGuestInfoNumber(key: ErrorText(key))
                }
                return parsed
            }
            let type: UInt32
            if key.equals("LOADER") { loader = valueText; type = XenElfNote.loader }
            else if key.equals("GUEST_OS") { guestOS = valueText; type = XenElfNote.guestOS }
            else if key.equals("GUEST_VER") { guestVersion = valueText; type = XenElfNote.guestVersion }
            else if key.equals("XEN_VER") { xenVersion = valueText; type = XenElfNote.xenVersion }
            else if key.equals("PAE") { paeMode = valueText; type = XenElfNote.paeMode }
            else if key.equals("BSD_SYMTAB") { bsdSymtab = XenNoteValues.literal("yes"); type = XenElfNote.bsdSymtab }
            else if key.equals("VIRT_BASE") { virtBase = try number(); type = XenElfNote.virtBase }
            else if key.equals("VIRT_ENTRY") { entry = try number(); type = XenElfNote.entry }
            else if key.equals("ELF_PADDR_OFFSET") { paddrOffset = try number(); type = XenElfNote.paddrOffset }
            else if key.equals("HYPERCALL_PAGE") { hypercallPageNumber = try number(); type = XenElfNote.hypercallPage }
            else if key.equals("FEATURES") { features = valueText; type = XenElfNote.features }
            else { type = 0 }
            if type != 0 { presentTypes |= 1 << type }
            xenNoteCount += 1
        }
        if let page = hypercallPageNumber {
            // libelf adds VIRT_BASE only when it is set.
            let address = page << 12
            hypercallPage = virtBase.map { address &+ $0 } ?? address
        }
    }
}
