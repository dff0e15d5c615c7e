// XenFeatures: the XENFEAT_* bits (Xen's public features.h, submap 0) and the FEATURES note
// syntax that names them.
//
// A kernel's XEN_ELFNOTE_FEATURES string is `|`-separated feature names; a `!` in front of a
// name means the kernel requires the feature, otherwise it merely supports it. Names are
// compared whole and case-sensitively, as Xen's libelf does; an unknown name is ignored
// unless it is required, which refuses the kernel.
// Invariants: bits 0...17 are the features Xen 4.17 defines; `names` lists exactly those.
// Imports nothing.

public struct XenFeatureSet: Equatable, Sendable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init() { rawValue = 0 }

    public static let writablePageTables: UInt32 = 0
    public static let writableDescriptorTables: UInt32 = 1
    public static let autoTranslatedPhysmap: UInt32 = 2
    public static let supervisorModeKernel: UInt32 = 3
    public static let paePgdirAbove4GB: UInt32 = 4
    public static let mmuPTUpdatePreserveAD: UInt32 = 5
    public static let highmemAssist: UInt32 = 6
    public static let gnttabMapAvailBits: UInt32 = 7
    public static let hvmCallbackVector: UInt32 = 8
    public static let hvmSafePVClock: UInt32 = 9
    public static let hvmPIRQs: UInt32 = 10
    public static let dom0: UInt32 = 11
    public static let grantMapIdentity: UInt32 = 12
    public static let memoryOpVnodeSupported: UInt32 = 13
    public static let armSMCCCSupported: UInt32 = 14
    public static let linuxRSDPUnrestricted: UInt32 = 15
    public static let notDirectMapped: UInt32 = 16
    public static let directMapped: UInt32 = 17
    public static let knownCount: UInt32 = 18

    /// What Xen 4.17's PV dom0 builder lets through: it refuses only a kernel that needs
    /// supervisor mode (ring 0); every other required feature is accepted.
    public static var acceptedByXen417PVDom0: XenFeatureSet {
        var set = XenFeatureSet(rawValue: (1 << knownCount) - 1)
        set.remove(supervisorModeKernel)
        return set
    }

    public func contains(_ bit: UInt32) -> Bool { bit < 32 && rawValue & (1 << bit) != 0 }
    public mutating func insert(_ bit: UInt32) { if bit < 32 { rawValue |= 1 << bit } }
    public mutating func remove(_ bit: UInt32) { if bit < 32 { rawValue &= ~(1 << bit) } }
    public func subtracting(_ other: XenFeatureSet) -> XenFeatureSet { XenFeatureSet(rawValue: rawValue & ~other.rawValue) }
    public func union(_ other: XenFeatureSet) -> XenFeatureSet { XenFeatureSet(rawValue: rawValue | other.rawValue) }
    public var isEmpty: Bool { rawValue == 0 }

    /// The bit a feature name stands for, nil if Apus does not know the name.
    public static func bit(named name: ByteText) -> UInt32? {
        for bit in 0..<knownCount where name.equals(self.name(of: bit)) { return bit }
        return nil
    }

    /// The name Xen's headers give a bit ("bit" for bits past the known ones).
    public static func name(of bit: UInt32) -> StaticString {
        switch bit {
        case writablePageTables: return "writable_page_tables"
        case writableDescriptorTables: return "writable_descriptor_tables"
        case autoTranslatedPhysmap: return "auto_translated_physmap"
        case supervisorModeKernel: return "supervisor_mode_kernel"
        case paePgdirAbove4GB: return "pae_pgdir_above_4gb"
        case mmuPTUpdatePreserveAD: return "mmu_pt_update_preserve_ad"
        case highmemAssist: return "highmem_assist"
        case gnttabMapAvailBits: return "gnttab_map_avail_bits"
        case hvmCallbackVector: return "hvm_callback_vector"
        case hvmSafePVClock: return "hvm_safe_pvclock"
        case hvmPIRQs: return "hvm_pirqs"
        case dom0: return "dom0"
        case grantMapIdentity: return "grant_map_identity"
        case memoryOpVnodeSupported: return "memory_op_vnode_supported"
        case armSMCCCSupported: return "ARM_SMCCC_supported"
        case linuxRSDPUnrestricted: return "linux_rsdp_unrestricted"
        case notDirectMapped: return "not_direct_mapped"
        case directMapped: return "direct_mapped"
        default: return "bit"
        }
    }

    /// Names joined by `|` the way a FEATURES note spells them ("bit20" for unknown bits).
    public func write<Sink: TextSink>(to sink: inout Sink) {
        var first = true
        for bit in UInt32(0)..<32 where contains(bit) {
            if !first { sink.put(0x7C) }
            first = false
            sink.write(XenFeatureSet.name(of: bit))
            if bit >= XenFeatureSet.knownCount { sink.write(decimal: UInt64(bit)) }
        }
        if first { sink.write("none") }
    }
}

/// The outcome of reading a FEATURES string.
public struct XenFeatureRequest: Equatable, Sendable {
    /// Every named feature, required or not (Xen's f_supported).
    public var supported = XenFeatureSet()
    /// The `!`-prefixed ones (Xen's f_required).
    public var required = XenFeatureSet()

    public init() {}

    /// Parses `text`. On an unknown required name, returns that name in `unknownRequired`
    /// and stops (Xen refuses such a kernel).
    public static func parse(_ text: ByteText) -> (request: XenFeatureRequest, unknownRequired: ByteText?) {
        var request = XenFeatureRequest()
        var rest: ByteText? = text
        while let current = rest {
            let (token, tail) = current.split(at: 0x7C)  // '|'
            rest = tail
            if token.isEmpty { continue }
            let isRequired = token.first == 0x21  // '!'
            let name = isRequired ? token.dropFirst(1) : token
            if let bit = XenFeatureSet.bit(named: name) {
                request.supported.insert(bit)
                if isRequired { request.required.insert(bit) }
            } else if isRequired {
                return (request, name)
            }
        }
        return (request, nil)
    }
}
