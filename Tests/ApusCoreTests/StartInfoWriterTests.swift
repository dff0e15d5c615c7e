import XCTest
import ApusPublic
@testable import ApusCore

final class StartInfoWriterTests: XCTestCase {
    func written(_ fields: StartInfoFields) -> [UInt8] {
        var page = [UInt8](repeating: 0, count: 4096)
        page.withUnsafeMutableBytes { StartInfoWriter.write(fields, into: $0.baseAddress!) }
        return page
    }

    func testDom0PageAsXenLaysItOut() {
        var fields = StartInfoFields()
        fields.pages = 16384
        fields.sharedInfoMachineAddress = 0x3F00_0000
        fields.flags = StartInfoFields.dom0Flags
        fields.pageTableBase = 0xFFFF_FFFF_8003_9000
        fields.pageTableFrames = 5
        fields.p2mList = 0xFFFF_FFFF_8001_8000
        fields.moduleStart = 0xFFFF_FFFF_8001_4000
        fields.moduleLength = 12345
        fields.firstP2MFrame = 1028
        fields.paeMagic = true
        fields.vgaTextConsole = true
        let page = withByteText("apus-guest=startinfo arg2=two") { text -> [UInt8] in
            fields.commandLine = text
            return written(fields)
        }
        page.withUnsafeBytes { raw in
            let info = raw.load(as: start_info.self)
            XCTAssertEqual(String(decoding: page[0..<15], as: UTF8.self), "xen-3.0-x86_64p")
            XCTAssertEqual(page[15], 0)
            XCTAssertEqual(info.nr_pages, 16384)
            XCTAssertEqual(info.flags, 0x303)
            XCTAssertEqual(info.shared_info, 0x3F00_0000)
            XCTAssertEqual(info.nr_pt_frames, 5)
            XCTAssertEqual(info.mod_len, 12345)
            XCTAssertEqual(info.first_p2m_pfn, 1028)
            XCTAssertEqual(info.console.dom0.info_off, 1168)
            XCTAssertEqual(info.console.dom0.info_size, 40)
            let console = raw.load(fromByteOffset: 1168, as: dom0_vga_console_info.self)
            XCTAssertEqual(console.video_type, 0x03)
            XCTAssertEqual(console.u.text_mode_3.rows, 25)
            XCTAssertEqual(console.u.text_mode_3.columns, 80)
            XCTAssertEqual(console.u.text_mode_3.font_height, 16)
        }
        let lineOffset = MemoryLayout<start_info>.offset(of: \.cmd_line)!
        XCTAssertEqual(String(decoding: page[lineOffset..<(lineOffset + 29)], as: UTF8.self), "apus-guest=startinfo arg2=two")
        XCTAssertEqual(page[lineOffset + 29], 0)
    }

    func testMagicWithoutPAEAndLongCommandLines() {
        var fields = StartInfoFields()
        let long = String(repeating: "x", count: 3000)
        let page = withByteText(long) { text -> [UInt8] in
            fields.commandLine = text
            return written(fields)
        }
        XCTAssertEqual(String(decoding: page[0..<14], as: UTF8.self), "xen-3.0-x86_64")
        XCTAssertEqual(page[14], 0)
        let lineOffset = MemoryLayout<start_info>.offset(of: \.cmd_line)!
        XCTAssertEqual(page[lineOffset + 1022], UInt8(ascii: "x"))
        XCTAssertEqual(page[lineOffset + 1023], 0, "cut to 1023 bytes and a NUL")
        XCTAssertEqual(page[lineOffset + 1024 + 100], 0, "nothing written past the field")
        page.withUnsafeBytes { XCTAssertEqual($0.load(as: start_info.self).console.dom0.info_size, 0) }
    }
}
