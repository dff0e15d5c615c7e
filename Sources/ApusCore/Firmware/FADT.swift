// FADT: decodes the Fixed ACPI Description Table ("FACP") into the registers Apus uses.
//
// Layout (ACPI spec 5.2.9, byte offsets): FIRMWARE_CTRL 36, DSDT 40, SCI_INT 46 (u16), SMI_CMD
// 48, ACPI_ENABLE 52, ACPI_DISABLE 53, PM1a_EVT 56, PM1b_EVT 60, PM1a_CNT 64, PM1b_CNT 68,
// PM2_CNT 72, PM_TMR 76, GPE0 80, GPE1 84, PM1_EVT_LEN 88, PM1_CNT_LEN 89, PM2_CNT_LEN 90,
// PM_TMR_LEN 91, GPE0_LEN 92, GPE1_LEN 93, CENTURY 108, IAPC_BOOT_ARCH 109 (u16), Flags 112,
// RESET_REG 116 (GAS), RESET_VALUE 128, X_FIRMWARE_CTRL 132, X_DSDT 140, and 12-byte generic
// address structures X_PM1a_EVT 148, X_PM1b_EVT 160, X_PM1a_CNT 172, X_PM1b_CNT 184,
// X_PM2_CNT 196, X_PM_TMR 208, X_GPE0 220, X_GPE1 232.
//
// Invariants: a field past the table's length reads as zero (old, short FADTs simply lack
// it); an X_ block is used only in a revision >= 2 table that covers it and when its address
// is non-zero, otherwise the 32-bit block is used as an I/O port of the _LEN width (as Xen
// does).
// Imports nothing.

/// An ACPI Generic Address Structure (ACPI spec 5.2.3.2).
public struct GenericAddress: Equatable, Sendable {
    public static let systemMemory: UInt8 = 0
    public static let systemIO: UInt8 = 1
    public static let size = 12

    public var spaceID: UInt8
    public var bitWidth: UInt8
    public var bitOffset: UInt8
    /// 0 undefined (legacy), 1 byte, 2 word, 3 dword, 4 qword.
    public var accessSize: UInt8
    public var address: UInt64

    public init(spaceID: UInt8, bitWidth: UInt8, bitOffset: UInt8, accessSize: UInt8, address: UInt64) {
        self.spaceID = spaceID
        self.bitWidth = bitWidth
        self.bitOffset = bitOffset
        self.accessSize = accessSize
        self.address = address
    }

    public init?(_ window: ByteWindow, at offset: Int) {
        guard let space = window.uint8(at: offset), let width = window.uint8(at: offset + 1),
              let bitOffset = window.uint8(at: offset + 2), let access = window.uint8(at: offset + 3),
              let address = window.uint64(at: offset + 4) else { return nil }
        self.init(spaceID: space, bitWidth: width, bitOffset: bitOffset, accessSize: access, address: address)
    }

    public static let none = GenericAddress(spaceID: systemIO, bitWidth: 0, bitOffset: 0, accessSize: 0, address: 0)

    public var isPresent: Bool { address != 0 }
    public var isIOPort: Bool { spaceID == GenericAddress.systemIO }
}

public struct FADT: Equatable, Sendable {
    public enum Flag {
        public static let pmTimer32Bit: UInt32 = 1 << 8          // TMR_VAL_EXT
        public static let resetRegisterSupported: UInt32 = 1 << 10 // RESET_REG_SUP
        public static let hardwareReduced: UInt32 = 1 << 20       // HW_REDUCED_ACPI
    }

    public enum BootArchitecture {
        public static let legacyDevices: UInt16 = 1 << 0
        public static let has8042: UInt16 = 1 << 1
        public static let vgaNotPresent: UInt16 = 1 << 2
        public static let msiNotSupported: UInt16 = 1 << 3
        public static let cmosRTCNotPresent: UInt16 = 1 << 5
    }

    /// Shortest table we accept: the header plus FIRMWARE_CTRL and DSDT.
    public static let minimumLength = 44

    public var revision: UInt8
    public var length: Int
    public var firmwareControl32: UInt32
    public var xFirmwareControl: UInt64
    public var dsdt32: UInt32
    public var xDSDT: UInt64
    public var sciInterrupt: UInt16
    public var smiCommandPort: UInt32
    public var acpiEnableValue: UInt8
    public var acpiDisableValue: UInt8

    public var pm1aEvent: GenericAddress
    public var pm1bEvent: GenericAddress
    public var pm1aControl: GenericAddress
    public var pm1bControl: GenericAddress
    public var pm2Control: GenericAddress
    public var pmTimerBlock: GenericAddress
    public var gpe0Block: GenericAddress
    public var gpe1Block: GenericAddress

    /// The raw PM timer fields, kept for the PM-timer choice below (X_PM_TMR only when the
    /// table is revision >= 2 and long enough to have it).
    public var pmTimerBlock32: UInt32
    public var pmTimerLength: UInt8
    public var xPMTimerBlock: GenericAddress?

    /// CMOS RAM index of the century, 0 if none.
    public var century: UInt8
    public var bootArchitectureFlags: UInt16
    public var flags: UInt32
    public var resetRegister: GenericAddress
    public var resetValue: UInt8

    public static func parse(_ table: ByteWindow) throws(ACPIError) -> FADT {
        guard let fadt = FADT(table) else {
            throw .tableTooShort(signature: .fadt, length: table.count)
        }
        return fadt
    }

    public init?(_ table: ByteWindow) {
        guard let declared = table.uint32(at: 4), let revision = table.uint8(at: 8) else { return nil }
        let length = Swift.min(Int(declared), table.count)
        guard length >= FADT.minimumLength else { return nil }
        let fields = ZeroExtendedFields(window: table, length: length)

        self.revision = revision
        self.length = length
        firmwareControl32 = fields.uint32(36)
        dsdt32 = fields.uint32(40)
        sciInterrupt = fields.uint16(46)
        smiCommandPort = fields.uint32(48)
        acpiEnableValue = fields.uint8(52)
        acpiDisableValue = fields.uint8(53)
        pmTimerBlock32 = fields.uint32(76)
        pmTimerLength = fields.uint8(91)
        century = fields.uint8(108)
        bootArchitectureFlags = fields.uint16(109)
        flags = fields.uint32(112)
        resetRegister = fields.address(116) ?? .none
        resetValue = fields.uint8(128)
        xFirmwareControl = fields.uint64(132)
        xDSDT = fields.uint64(140)

        let useX = revision >= 2
        xPMTimerBlock = useX ? fields.address(208) : nil
        func block(x: Int, legacy: Int, lengthAt: Int) -> GenericAddress {
            if useX, let extended = fields.address(x), extended.isPresent { return extended }
            return GenericAddress(spaceID: GenericAddress.systemIO, bitWidth: fields.uint8(lengthAt) &* 8,
                                  bitOffset: 0, accessSize: 0, address: UInt64(fields.uint32(legacy)))
        }
        pm1aEvent = block(x: 148, legacy: 56, lengthAt: 88)
        pm1bEvent = block(x: 160, legacy: 60, lengthAt: 88)
        pm1aControl = block(x: 172, legacy: 64, lengthAt: 89)
        pm1bControl = block(x: 184, legacy: 68, lengthAt: 89)
        pm2Control = block(x: 196, legacy: 72, lengthAt: 90)
        pmTimerBlock = block(x: 208, legacy: 76, lengthAt: 91)
        gpe0Block = block(x: 220, legacy: 80, lengthAt: 92)
        gpe1Block = block(x: 232, legacy: 84, lengthAt: 93)
    }

    /// The DSDT: X_DSDT when non-zero, else the 32-bit field.
    public var dsdtAddress: UInt64 { xDSDT != 0 ? xDSDT : UInt64(dsdt32) }

    /// The FACS: the 32-bit field when non-zero (Xen keeps it when the two disagree), else X.
    public var facsAddress: UInt64 { firmwareControl32 != 0 ? UInt64(firmwareControl32) : xFirmwareControl }

    public var isHardwareReduced: Bool { flags & Flag.hardwareReduced != 0 }

    /// The reset register may be used: the flag says so and the table has one.
    public var canResetThroughRegister: Bool {
        flags & Flag.resetRegisterSupported != 0 && length >= 129 && resetRegister.isPresent
    }

    /// IAPC_BOOT_ARCH means something only from revision 2 on; before that, assume a PC.
    public var bootArchitectureFlagsValid: Bool { revision >= 2 }
    public var has8042: Bool {
        !bootArchitectureFlagsValid || bootArchitectureFlags & BootArchitecture.has8042 != 0
    }
    public var hasLegacyDevices: Bool {
        !bootArchitectureFlagsValid || bootArchitectureFlags & BootArchitecture.legacyDevices != 0
    }
    public var vgaNotPresent: Bool {
        bootArchitectureFlagsValid && bootArchitectureFlags & BootArchitecture.vgaNotPresent != 0
    }
    public var cmosRTCNotPresent: Bool {
        bootArchitectureFlagsValid && bootArchitectureFlags & BootArchitecture.cmosRTCNotPresent != 0
    }

    /// The PM timer I/O port and its width in bits (24 or 32; 0 width = unusable), by Xen's
    /// rule: X_PM_TMR when it is a plain 32-bit-accessible I/O block, else PM_TMR_BLK; more
    /// than 24 bits only when TMR_VAL_EXT is set.
    public var pmTimer: (port: UInt32, bits: UInt8) {
        var port: UInt32 = 0
        var bits: UInt8 = 0
        if let x = xPMTimerBlock, x.isIOPort, x.accessSize == 0 || x.accessSize == 3, x.bitOffset == 0 {
            port = UInt32(truncatingIfNeeded: x.address)
            bits = x.bitWidth
        }
        if port == 0 {
            port = pmTimerBlock32
            bits = pmTimerLength == 4 ? 32 : 0
        }
        if bits > 24 && flags & Flag.pmTimer32Bit == 0 { bits = 24 }
        return (port, bits)
    }
}

/// Reads of a table's fixed fields where anything past `length` is zero.
private struct ZeroExtendedFields {
    let window: ByteWindow
    let length: Int

    func covers(_ offset: Int, _ size: Int) -> Bool { offset + size <= length }
    func uint8(_ offset: Int) -> UInt8 { covers(offset, 1) ? window.uint8(at: offset) ?? 0 : 0 }
    func uint16(_ offset: Int) -> UInt16 { covers(offset, 2) ? window.uint16(at: offset) ?? 0 : 0 }
    func uint32(_ offset: Int) -> UInt32 { covers(offset, 4) ? window.uint32(at: offset) ?? 0 : 0 }
    func uint64(_ offset: Int) -> UInt64 { covers(offset, 8) ? window.uint64(at: offset) ?? 0 : 0 }
    func address(_ offset: Int) -> GenericAddress? {
        covers(offset, GenericAddress.size) ? GenericAddress(window, at: offset) : nil
    }
}
