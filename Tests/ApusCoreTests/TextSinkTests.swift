import XCTest
@testable import ApusCore

final class TextSinkTests: XCTestCase {
    func testNumbers() {
        var sink = ByteBufferSink()
        sink.write(decimal: UInt64(0)); sink.put(0x20)
        sink.write(decimal: UInt64.max); sink.put(0x20)
        sink.write(decimal: -42); sink.put(0x20)
        sink.write(hex: 0xdead_beef, minimumDigits: 16); sink.put(0x20)
        sink.write(hex0x: 0); sink.put(0x20)
        sink.write(decimal: 7, minimumWidth: 4)
        XCTAssertEqual(sink.text, "0 18446744073709551615 -42 00000000deadbeef 0x0    7")
    }

    func testSizes() {
        var sink = ByteBufferSink()
        for size: UInt64 in [512 << 20, 1 << 30, 4096, 1023 * 1024 * 1024 + 5, 17] {
            sink.write(size: size); sink.put(0x20)
        }
        XCTAssertEqual(sink.text, "512MB 1GB 4kB 1023MB 17B ")
    }

    func testByteTextNumbers() {
        withByteText("0x1F") { XCTAssertEqual($0.parseUnsigned(), 31) }
        withByteText("017") { XCTAssertEqual($0.parseUnsigned(), 15) }
        withByteText("12a") { XCTAssertNil($0.parseUnsigned()) }
        withByteText("") { XCTAssertNil($0.parseUnsigned()) }
        withByteText("99999999999999999999999") { XCTAssertNil($0.parseUnsigned()) }
        withByteText("512M") { text in
            let (value, rest) = text.parseUnsignedPrefix()
            XCTAssertEqual(value, 512)
            XCTAssertTrue(rest.equals("M"))
        }
    }

    func testByteTextSplitting() {
        withByteText("  com1=115200,8n1  ") { text in
            let (name, value) = text.trimmed.split(at: UInt8(ascii: "="))
            XCTAssertTrue(name.equals("com1"))
            XCTAssertEqual(value?.description, "115200,8n1")
            XCTAssertTrue(text.trimmed.hasPrefix("com1"))
        }
    }
}
