// The start_info page a PV guest finds at rsi on its first instruction, and the VGA
// console description that follows it for dom0: the PV ABI's contract (ApusPublic's
// start_info.h), written from plain values so it can be tested byte for byte.
//
// Facts from Xen 4.17 (the startinfo test guest): the magic gains a "p" when the kernel's
// PAE_MODE note says yes; dom0's flags are SIF_PRIVILEGED | SIF_INITDOMAIN plus the
// power-management bits 0x300; the VGA text-mode description sits right after the
// structure (offset 1168, 40 bytes); the command line is NUL-terminated within 1024 bytes.
import ApusPublic

public struct StartInfoFields {
    public var pages: UInt64 = 0
    public var sharedInfoMachineAddress: UInt64 = 0
    public var flags: UInt32 = 0
    public var pageTableBase: UInt64 = 0
    public var pageTableFrames: UInt64 = 0
    public var p2mList: UInt64 = 0
    public var moduleStart: UInt64 = 0
    public var moduleLength: UInt64 = 0
    public var firstP2MFrame: UInt64 = 0
    public var p2mFrames: UInt64 = 0
    public var paeMagic = false
    public var commandLine = ByteText.empty
    /// dom0 on a machine with a VGA text console: describe an 80x25 text screen.
    public var vgaTextConsole = false

    public init() {}

    public static let dom0Flags = UInt32(SIF_PRIVILEGED | SIF_INITDOMAIN) | 0x300
}

public enum StartInfoWriter {
    public static var structureSize: Int { MemoryLayout<start_info>.size }
    public static let vgaConsoleInfoSize = 40

    /// Fills the start_info page (`page` is 4096 bytes, zeroed by the caller).
    public static func write(_ fields: StartInfoFields, into page: UnsafeMutableRawPointer) {
        let info = page.assumingMemoryBound(to: start_info.self)
        let magic: StaticString = "xen-3.0-x86_64p"
        let magicLength = fields.paeMagic ? magic.utf8CodeUnitCount : magic.utf8CodeUnitCount - 1
        for index in 0..<magicLength {
            page.storeBytes(of: magic.utf8Start[index], toByteOffset: index, as: UInt8.self)
        }
        info.pointee.nr_pages = fields.pages
        info.pointee.shared_info = fields.sharedInfoMachineAddress
        info.pointee.flags = fields.flags
        info.pointee.pt_base = fields.pageTableBase
        info.pointee.nr_pt_frames = fields.pageTableFrames
        info.pointee.mfn_list = fields.p2mList
        info.pointee.mod_start = fields.moduleStart
        info.pointee.mod_len = fields.moduleLength
        info.pointee.first_p2m_pfn = fields.firstP2MFrame
        info.pointee.nr_p2m_frames = fields.p2mFrames
        let line = page + MemoryLayout<start_info>.offset(of: \.cmd_line)!
        let count = Swift.min(fields.commandLine.count, Int(MAX_GUEST_CMDLINE) - 1)
        for index in 0..<count { line.storeBytes(of: fields.commandLine[index], toByteOffset: index, as: UInt8.self) }
        line.storeBytes(of: UInt8(0), toByteOffset: count, as: UInt8.self)
        if fields.vgaTextConsole {
            let console = (page + structureSize).assumingMemoryBound(to: dom0_vga_console_info.self)
            console.pointee.video_type = UInt8(XEN_VGATYPE_TEXT_MODE_3)
            console.pointee.u.text_mode_3.font_height = 16
            console.pointee.u.text_mode_3.cursor_x = 0
            console.pointee.u.text_mode_3.cursor_y = 0
            console.pointee.u.text_mode_3.rows = 25
            console.pointee.u.text_mode_3.columns = 80
            info.pointee.console.dom0.info_off = UInt32(structureSize)
            info.pointee.console.dom0.info_size = UInt32(vgaConsoleInfoSize)
        }
    }
}
