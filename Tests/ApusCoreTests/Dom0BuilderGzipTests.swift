import Foundation
import XCTest
@testable import ApusCore

final class Dom0BuilderGzipTests: XCTestCase {
    private let text = Array("The quick brown fox jumps over the lazy dog. The quick brown fox.".utf8)

    private func storedDeflate(_ data: [UInt8]) -> [UInt8] {
        precondition(data.count < 65536)
        let length = UInt16(data.count)
        return [0x01, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)] + data
    }

    private func gunzipError(_ input: [UInt8], capacity: Int = 4096) -> InflateError? {
        if case .failure(let error) = InflateRun.gunzip(input, capacity: capacity) { return error }
        return nil
    }

    func testHeaderFieldsAreSkippedAndRead() throws {
        let name = Array("vmlinux".utf8) + [0]
        let comment = Array("a comment".utf8) + [0]
        let extra: [UInt8] = [4, 0, 0x41, 0x42, 2, 0]  // XLEN 4, one subfield "AB" of length 2... as raw bytes
        var header: [UInt8] = [0x1F, 0x8B, 8, 0x04 | 0x08 | 0x10 | 0x02, 0x78, 0x56, 0x34, 0x12, 2, 3]
        header += extra + name + comment
        let crc16 = UInt16(truncatingIfNeeded: header.withUnsafeBytes { CRC32Table().checksum($0) })
        let member = header + [UInt8(crc16 & 0xFF), UInt8(crc16 >> 8)]
            + gzipMember(deflate: storedDeflate(text), original: text).dropFirst(10)
        let parsed = try member.withUnsafeBytes { raw in try GzipHeader.parse(ByteWindow(raw), crc: CRC32Table()) }
        XCTAssertEqual(parsed.modificationTime, 0x1234_5678)
        XCTAssertEqual(parsed.extraFlags, 2)
        XCTAssertEqual(parsed.operatingSystem, 3)
        XCTAssertEqual(parsed.name?.description, "vmlinux")
        XCTAssertEqual(parsed.dataOffset, header.count + 2)

        guard case .success(let (output, result)) = InflateRun.gunzip(Array(member), capacity: 200) else {
            return XCTFail("member with every header field did not decompress")
        }
        XCTAssertEqual(output, text)
        XCTAssertEqual(result.consumedBytes, member.count)

        var broken = Array(member)
        broken[header.count] ^= 1
        XCTAssertEqual(gunzipError(broken), .headerCRCMismatch(stored: crc16 ^ 1, computed: crc16))
    }

    func testHeaderErrors() {
        let good = gzipMember(deflate: storedDeflate(text), original: text)
        XCTAssertEqual(gunzipError([]), .truncatedHeader)
        XCTAssertEqual(gunzipError([0x1F]), .truncatedHeader)
        XCTAssertEqual(gunzipError([0x50, 0x4B, 3, 4, 0, 0, 0, 0, 0, 0, 0]), .notGzip)
        XCTAssertEqual(gunzipError(Array(good.prefix(9))), .truncatedHeader)
        var method = good
        method[2] = 7
        XCTAssertEqual(gunzipError(method), .unsupportedMethod(7))
        var reserved = good
        reserved[3] = 0x20
        XCTAssertEqual(gunzipError(reserved), .reservedFlags(0x20))
        // FNAME without its NUL, FEXTRA longer than the data, FHCRC cut off.
        XCTAssertEqual(gunzipError([0x1F, 0x8B, 8, 0x08, 0, 0, 0, 0, 0, 3, 0x61, 0x62]), .truncatedHeader)
        XCTAssertEqual(gunzipError([0x1F, 0x8B, 8, 0x04, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 1, 2]), .truncatedHeader)
        XCTAssertEqual(gunzipError([0x1F, 0x8B, 8, 0x02, 0, 0, 0, 0, 0, 3, 0x12]), .truncatedHeader)
        XCTAssertEqual(gunzipError(Array(good.prefix(10))), .truncatedInput)
    }

    func testTrailerChecks() {
        let deflate = storedDeflate(text)
        let crc = text.withUnsafeBytes { CRC32Table().checksum($0) }
        XCTAssertEqual(gunzipError(gzipMember(deflate: deflate, original: text, crcDelta: 1)),
                       .crcMismatch(stored: crc &+ 1, computed: crc))
        XCTAssertEqual(gunzipError(gzipMember(deflate: deflate, original: text, sizeDelta: 0x1_0000)),
                       .sizeMismatch(stored: UInt32(text.count) + 0x1_0000, produced: UInt64(text.count)))
        let member = gzipMember(deflate: deflate, original: text)
        for cut in 1...8 {
            XCTAssertEqual(gunzipError(Array(member.dropLast(cut))), .truncatedTrailer)
        }
    }

    func testKnownCRCValues() {
        let table = CRC32Table()
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { table.checksum($0) }, 0xCBF4_3926)
        XCTAssertEqual([UInt8]().withUnsafeBytes { table.checksum($0) }, 0)
        let whole = text.withUnsafeBytes { table.checksum($0) }
        let split = text.withUnsafeBytes { raw in
            table.update(table.checksum(UnsafeRawBufferPointer(rebasing: raw[..<10])), UnsafeRawBufferPointer(rebasing: raw[10...]))
        }
        XCTAssertEqual(whole, split)
    }

    func testMembersAndTrailingBytes() throws {
        let first = try XCTUnwrap(HostTool.gzip(Array("first member, ".utf8), level: 9))
        let second = try XCTUnwrap(HostTool.gzip(Array(repeating: 0x62, count: 5000), level: 1))
        let empty = try XCTUnwrap(HostTool.gzip([], level: 6))
        let input = first + empty + second + [0, 0, 0, 0, 0, 0, 0]
        guard case .success(let (output, result)) = InflateRun.gunzip(input, capacity: 6000) else {
            return XCTFail("concatenated members failed")
        }
        XCTAssertEqual(output, Array("first member, ".utf8) + Array(repeating: 0x62, count: 5000))
        XCTAssertEqual(result, GzipResult(members: 3, consumedBytes: input.count - 7, trailingBytes: 7, producedBytes: 5014))
        // A second member that is broken is an error, not trailing data.
        var broken = first + second
        broken[first.count + 2] = 9
        XCTAssertEqual(gunzipError(broken, capacity: 6000), .unsupportedMethod(9))
        // The output of all members shares the capacity.
        XCTAssertEqual(gunzipError(first + second, capacity: 5013), .outputOverflow(capacity: 5013))
    }

    func testSizeHint() throws {
        let data = [UInt8](repeating: 7, count: 123_457)
        let compressed = try XCTUnwrap(HostTool.gzip(data, level: 9))
        XCTAssertEqual(compressed.withUnsafeBytes { GzipHeader.sizeHint(ByteWindow($0)) }, 123_457)
        XCTAssertNil([UInt8](repeating: 0, count: 17).withUnsafeBytes { GzipHeader.sizeHint(ByteWindow($0)) })
    }

    func testErrorSentences() {
        func sentence(_ error: InflateError) -> String {
            var sink = ByteBufferSink()
            error.write(to: &sink)
            return sink.text
        }
        XCTAssertEqual(sentence(.crcMismatch(stored: 0xDEAD, computed: 0xBEEF)),
                       "CRC-32 of the decompressed data is 0xbeef, the gzip trailer says 0xdead")
        XCTAssertEqual(sentence(.outputOverflow(capacity: 4096)), "decompressed data is larger than the 4096-byte buffer for it")
        XCTAssertEqual(sentence(.distanceTooFarBack(distance: 40, available: 3)),
                       "back-reference 40 bytes back with only 3 bytes of output so far")
        XCTAssertEqual(sentence(.unsupportedMethod(7)), "gzip compression method 7 is not deflate (8)")
        XCTAssertEqual(sentence(.sizeMismatch(stored: 10, produced: 12)),
                       "decompressed 12 bytes, the gzip trailer says 10 (modulo 4 GiB)")
    }

    // MARK: Format detection

    private func format(_ bytes: [UInt8]) -> KernelImageFormat {
        bytes.withUnsafeBytes { KernelImageFormat.detect(ByteWindow($0)) }
    }

    func testMagicNumbers() {
        XCTAssertEqual(format([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1]), .elf)
        XCTAssertEqual(format([0x1F, 0x8B, 8, 0]), .gzip)
        XCTAssertEqual(format([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 0, 4]), .xz)
        XCTAssertEqual(format(Array("BZh9".utf8)), .bzip2)
        XCTAssertEqual(format(Array("BZh0".utf8)), .unknown)
        XCTAssertEqual(format([0x04, 0x22, 0x4D, 0x18, 0x64]), .lz4)
        XCTAssertEqual(format([0x02, 0x21, 0x4C, 0x18, 0, 0]), .lz4)
        XCTAssertEqual(format([0x28, 0xB5, 0x2F, 0xFD, 0x24]), .zstd)
        XCTAssertEqual(format([0x89, 0x4C, 0x5A, 0x4F, 0x00, 0x0D, 0x0A, 0x1A, 0x0A, 0x10]), .lzo)
        XCTAssertEqual(format([0x5D, 0x00, 0x00, 0x80, 0x00]), .lzma)
        XCTAssertEqual(format([]), .unknown)
        XCTAssertEqual(format([0x1F]), .unknown)
        XCTAssertEqual(format(Array("#!/bin/sh\n".utf8)), .unknown)
        XCTAssertTrue(KernelImageFormat.gzip.isSupported)
        XCTAssertFalse(KernelImageFormat.xz.isSupported)
        var sink = ByteBufferSink()
        KernelImageFormat.zstd.writeName(to: &sink)
        XCTAssertEqual(sink.text, "zstd")
    }

    func testHostCompressorsAreRecognised() throws {
        let data = Array(repeating: Array("kernel ".utf8), count: 200).flatMap { $0 }
        let tools: [(String, [String], KernelImageFormat)] = [
            ("/usr/bin/xz", ["-c"], .xz), ("/usr/bin/xz", ["-c", "--format=lzma"], .lzma),
            ("/usr/bin/bzip2", ["-c"], .bzip2), ("/usr/bin/lz4", ["-c"], .lz4), ("/usr/bin/lz4", ["-c", "-l"], .lz4),
            ("/usr/bin/zstd", ["-c"], .zstd), ("/usr/bin/gzip", ["-c"], .gzip), ("/usr/bin/lzop", ["-c"], .lzo),
        ]
        var found = 0
        for (path, arguments, expected) in tools {
            guard let compressed = HostTool.run(path, arguments, input: data) else { continue }
            found += 1
            XCTAssertEqual(format(compressed), expected, "\(path) \(arguments)")
        }
        if found == 0 { throw XCTSkip("no compressors on this host") }
    }

    func testBzImagePayload() {
        var image = [UInt8](repeating: 0, count: 0x2000)
        image[0x1F1] = 3  // setup sectors: payload base (3 + 1) * 512 = 0x800
        image.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        image[0x206] = 0x0F; image[0x207] = 0x02          // version 2.15
        image[0x248] = 0x00; image[0x249] = 0x01          // payload_offset 0x100
        image[0x24C] = 0x00; image[0x24D] = 0x02          // payload_length 0x200
        image.replaceSubrange(0x900..<0x902, with: [0x1F, 0x8B])
        XCTAssertEqual(format(image), .bzImage(payloadOffset: 0x900, payloadLength: 0x200))
        XCTAssertEqual(Array(image[0x900..<0xB00]).withUnsafeBytes { KernelImageFormat.detectCompression(ByteWindow($0)) }, .gzip)

        var setupZero = image
        setupZero[0x1F1] = 0  // means 4 sectors: base 0xA00
        XCTAssertEqual(format(setupZero), .bzImage(payloadOffset: 0xB00, payloadLength: 0x200))

        var old = image
        old[0x206] = 0x07  // 2.07 has no payload fields
        XCTAssertEqual(format(old), .unknown)

        var outside = image
        outside[0x24E] = 0x01  // payload_length 0x10200: past the end
        XCTAssertEqual(format(outside), .unknown)
        XCTAssertEqual(format(Array(image.prefix(0x24F))), .unknown)
    }

    // MARK: Finding the kernel in the module

    private func locate(_ module: [UInt8]) -> Result<KernelModuleContents, KernelImageError> {
        module.withUnsafeBytes { raw in
            do { return .success(try KernelModuleContents.locate(ByteWindow(raw))) } catch { return .failure(error as! KernelImageError) }
        }
    }

    private func unpack(_ module: [UInt8], _ contents: KernelModuleContents, capacity: Int) -> Result<[UInt8], KernelImageError> {
        var output = [UInt8](repeating: 0, count: capacity)
        var inflater = Inflater()
        return module.withUnsafeBytes { raw in
            output.withUnsafeMutableBytes { destination in
                do {
                    let size = try contents.unpack(ByteWindow(raw), into: destination, using: &inflater)
                    return .success(Array(destination.prefix(size)))
                } catch {
                    return .failure(error as! KernelImageError)
                }
            }
        }
    }

    func testKernelInEveryWrapping() throws {
        let elf = TestELF.linuxLike().build()
        let gzipped = try XCTUnwrap(HostTool.gzip(elf, level: 9))
        var bzImage = [UInt8](repeating: 0, count: 0x1000)
        bzImage[0x1F1] = 1                                     // payload base 0x400
        bzImage.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        bzImage[0x206] = 0x0F; bzImage[0x207] = 0x02
        bzImage.replaceSubrange(0x248..<0x24C, with: le32(0x200))
        bzImage.replaceSubrange(0x24C..<0x250, with: le32(UInt32(gzipped.count)))
        bzImage.replaceSubrange(0x600..<0x600, with: gzipped)   // payload at 0x400 + 0x200

        for (module, encoding, isBzImage, offset) in [(elf, KernelModuleContents.Encoding.elf, false, 0),
                                                      (gzipped, .gzip, false, 0), (bzImage, .gzip, true, 0x600)] {
            guard case .success(let contents) = locate(module) else { XCTFail("not located"); continue }
            XCTAssertEqual(contents.encoding, encoding)
            XCTAssertEqual(contents.isBzImagePayload, isBzImage)
            XCTAssertEqual(contents.offset, offset)
            if encoding == .gzip { XCTAssertEqual(contents.uncompressedSizeHint, UInt32(elf.count)) }
            guard case .success(let unpacked) = unpack(module, contents, capacity: elf.count) else {
                XCTFail("not unpacked"); continue
            }
            XCTAssertEqual(unpacked, elf)
            XCTAssertNil(KernelParse.run(unpacked))
        }

        // A bzImage whose payload is xz, a bare zstd module, a damaged gzip, a short buffer.
        var xzPayload = bzImage
        xzPayload.replaceSubrange(0x600..<0x606, with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])
        XCTAssertEqual(locate(xzPayload), .failure(.unsupportedFormat(.xz)))
        XCTAssertEqual(locate([0x28, 0xB5, 0x2F, 0xFD, 0, 0]), .failure(.unsupportedFormat(.zstd)))
        let cut = Array(gzipped.prefix(gzipped.count / 2))
        guard case .success(let contents) = locate(cut) else { return XCTFail("cut gzip not located") }
        XCTAssertEqual(unpack(cut, contents, capacity: elf.count), .failure(.decompressionFailed(.truncatedInput)))
        guard case .success(let whole) = locate(gzipped) else { return XCTFail("gzip not located") }
        XCTAssertEqual(unpack(gzipped, whole, capacity: 100), .failure(.decompressionFailed(.outputOverflow(capacity: 100))))
        guard case .success(let plain) = locate(elf) else { return XCTFail("elf not located") }
        XCTAssertEqual(unpack(elf, plain, capacity: 100), .failure(.loadAreaTooSmall(needed: UInt64(elf.count), given: 100)))
    }
}
