// What CPUID says about the processor, decoded from raw register values.
//
// Pure so the decoding (vendor string, display family/model with the extended fields,
// feature bits) is tested on the host against known CPUs; ArchX86 executes CPUID and
// hands the registers in. The feature list is the one Apus's boot log prints: what it
// requires (the boot refuses without it) and what it uses when present.

public struct CPUIDLeaves {
    public var maxBasicLeaf: UInt32 = 0
    public var vendor: (UInt32, UInt32, UInt32) = (0, 0, 0)  // ebx, edx, ecx of leaf 0
    public var leaf1: (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) = (0, 0, 0, 0)
    public var leaf7: (ebx: UInt32, ecx: UInt32, edx: UInt32) = (0, 0, 0)
    public var maxExtendedLeaf: UInt32 = 0
    public var extended1: (ecx: UInt32, edx: UInt32) = (0, 0)
    public var extended7edx: UInt32 = 0
    public var addressSizes: UInt32 = 0                       // eax of 0x80000008

    public init() {}
}

public enum CPUVendor: Equatable {
    case intel, amd, hygon, other

    public var name: StaticString {
        switch self {
        case .intel: return "Intel"
        case .amd: return "AMD"
        case .hygon: return "Hygon"
        case .other: return "Unknown"
        }
    }
}

public struct CPUFeature: Sendable {
    public let name: StaticString
    let register: FeatureRegister
    let bit: UInt32
    public let required: Bool
}

enum FeatureRegister: Sendable { case leaf1ecx, leaf1edx, leaf7ebx, leaf7ecx, ext1ecx, ext1edx, ext7edx }

public struct CPUIdentity {
    public let leaves: CPUIDLeaves

    public init(_ leaves: CPUIDLeaves) { self.leaves = leaves }

    public var vendor: CPUVendor {
        switch leaves.vendor {
        case (0x756E_6547, 0x4965_6E69, 0x6C65_746E): return .intel   // "GenuineIntel"
        case (0x6874_7541, 0x6974_6E65, 0x444D_4163): return .amd     // "AuthenticAMD"
        case (0x6F67_7948, 0x6E65_476E, 0x656E_6975): return .hygon   // "HygonGenuine"
        default: return .other
        }
    }

    var baseFamily: UInt32 { (leaves.leaf1.eax >> 8) & 0xF }
    /// Family as software displays it: base + extended when base is 0xF (SDM vol. 2A, CPUID).
    public var family: UInt32 { baseFamily == 0xF ? baseFamily + ((leaves.leaf1.eax >> 20) & 0xFF) : baseFamily }
    /// Model with the extended model bits, which count for families 6 and 0xF.
    public var model: UInt32 {
        let base = (leaves.leaf1.eax >> 4) & 0xF
        return baseFamily == 0x6 || baseFamily == 0xF ? base | ((leaves.leaf1.eax >> 16) & 0xF) << 4 : base
    }
    public var stepping: UInt32 { leaves.leaf1.eax & 0xF }
    public var physicalAddressBits: Int {
        leaves.maxExtendedLeaf >= 0x8000_0008 ? Int(leaves.addressSizes & 0xFF) : 36
    }
    public var initialAPICID: UInt32 { leaves.leaf1.ebx >> 24 }

    public func has(_ feature: CPUFeature) -> Bool {
        let value: UInt32
        switch feature.register {
        case .leaf1ecx: value = leaves.leaf1.ecx
        case .leaf1edx: value = leaves.leaf1.edx
        case .leaf7ebx: value = leaves.maxBasicLeaf >= 7 ? leaves.leaf7.ebx : 0
        case .leaf7ecx: value = leaves.maxBasicLeaf >= 7 ? leaves.leaf7.ecx : 0
        case .ext1ecx: value = leaves.extended1.ecx
        case .ext1edx: value = leaves.extended1.edx
        case .ext7edx: value = leaves.maxExtendedLeaf >= 0x8000_0007 ? leaves.extended7edx : 0
        }
        return value & (1 << feature.bit) != 0
    }
}

extension CPUFeature {
    // Required: Apus does not boot without these.
    public static let fpu = CPUFeature(name: "fpu", register: .leaf1edx, bit: 0, required: true)
    public static let pse = CPUFeature(name: "pse", register: .leaf1edx, bit: 3, required: true)
    public static let tsc = CPUFeature(name: "tsc", register: .leaf1edx, bit: 4, required: true)
    public static let msr = CPUFeature(name: "msr", register: .leaf1edx, bit: 5, required: true)
    public static let pae = CPUFeature(name: "pae", register: .leaf1edx, bit: 6, required: true)
    public static let cx8 = CPUFeature(name: "cx8", register: .leaf1edx, bit: 8, required: true)
    public static let apic = CPUFeature(name: "apic", register: .leaf1edx, bit: 9, required: true)
    public static let pge = CPUFeature(name: "pge", register: .leaf1edx, bit: 13, required: true)
    public static let fxsr = CPUFeature(name: "fxsr", register: .leaf1edx, bit: 24, required: true)
    public static let syscall = CPUFeature(name: "syscall", register: .ext1edx, bit: 11, required: true)
    public static let nx = CPUFeature(name: "nx", register: .ext1edx, bit: 20, required: true)
    public static let longMode = CPUFeature(name: "lm", register: .ext1edx, bit: 29, required: true)
    public static let cx16 = CPUFeature(name: "cx16", register: .leaf1ecx, bit: 13, required: true)
    // Used when present.
    public static let pdpe1gb = CPUFeature(name: "pdpe1gb", register: .ext1edx, bit: 26, required: false)
    public static let pcid = CPUFeature(name: "pcid", register: .leaf1ecx, bit: 17, required: false)
    public static let x2apic = CPUFeature(name: "x2apic", register: .leaf1ecx, bit: 21, required: false)
    public static let tscDeadline = CPUFeature(name: "tsc_deadline", register: .leaf1ecx, bit: 24, required: false)
    public static let xsave = CPUFeature(name: "xsave", register: .leaf1ecx, bit: 26, required: false)
    public static let hypervisor = CPUFeature(name: "hypervisor", register: .leaf1ecx, bit: 31, required: false)
    public static let fsgsbase = CPUFeature(name: "fsgsbase", register: .leaf7ebx, bit: 0, required: false)
    public static let smep = CPUFeature(name: "smep", register: .leaf7ebx, bit: 7, required: false)
    public static let invpcid = CPUFeature(name: "invpcid", register: .leaf7ebx, bit: 10, required: false)
    public static let smap = CPUFeature(name: "smap", register: .leaf7ebx, bit: 20, required: false)
    public static let umip = CPUFeature(name: "umip", register: .leaf7ecx, bit: 2, required: false)
    public static let invariantTSC = CPUFeature(name: "invariant_tsc", register: .ext7edx, bit: 8, required: false)
}

extension CPUIdentity {
    /// Calls `body` for every feature the boot log reports, required ones first.
    public static func forEachFeature(_ body: (CPUFeature) -> Void) {
        body(.fpu); body(.pse); body(.tsc); body(.msr); body(.pae); body(.cx8); body(.apic)
        body(.pge); body(.fxsr); body(.cx16); body(.syscall); body(.nx); body(.longMode)
        body(.pdpe1gb); body(.pcid); body(.x2apic); body(.tscDeadline); body(.xsave); body(.hypervisor)
        body(.fsgsbase); body(.smep); body(.invpcid); body(.smap); body(.umip); body(.invariantTSC)
    }

    /// The first required feature this CPU lacks, if any.
    public var missingRequiredFeature: CPUFeature? {
        var missing: CPUFeature? = nil
        CPUIdentity.forEachFeature { feature in
            if missing == nil && feature.required && !has(feature) { missing = feature }
        }
        return missing
    }

    /// `CPU Vendor: AMD, Family 15 (0xf), Model 107 (0x6b), Stepping 1 (raw 00060fb1)`, as Xen prints it.
    public func writeSummary<Sink: TextSink>(into sink: inout Sink) {
        sink.write("CPU Vendor: "); sink.write(vendor.name)
        sink.write(", Family "); sink.write(decimal: UInt64(family))
        sink.write(" ("); sink.write(hex0x: UInt64(family)); sink.write(")")
        sink.write(", Model "); sink.write(decimal: UInt64(model))
        sink.write(" ("); sink.write(hex0x: UInt64(model)); sink.write(")")
        sink.write(", Stepping "); sink.write(decimal: UInt64(stepping))
        sink.write(" (raw "); sink.write(hex: UInt64(leaves.leaf1.eax), minimumDigits: 8); sink.write(")")
    }
}
