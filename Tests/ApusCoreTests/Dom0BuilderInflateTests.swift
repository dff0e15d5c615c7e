import Foundation
import XCTest
@testable import ApusCore

final class Dom0BuilderInflateTests: XCTestCase {
    /// Data shaped like a kernel image: runs, repeated phrases, some noise.
    static func mixedData(_ count: Int, _ random: inout Dom0BuilderRandom) -> [UInt8] {
        var data = [UInt8](repeating: 0, count: count)
        let words: [[UInt8]] = ["mov", "push", "xen_", "hypercall", "\0\0\0\0", "page_table", "ffffffff81"].map { Array($0.utf8) }
        var index = 0
        while index < count {
            let run: Int
            switch random.below(10) {
            case 0:
                run = min(count - index, 1 + random.below(300))
                let byte = UInt8(truncatingIfNeeded: random.next())
                for offset in 0..<run { data[index + offset] = byte }
            case 1...3:
                let bytes = random.bytes(1 + random.below(40))
                run = min(count - index, bytes.count)
                for offset in 0..<run { data[index + offset] = bytes[offset] }
            case 4...5 where index > 10:
                let start = random.below(index)
                run = min(count - index, 3 + random.below(400))
                for offset in 0..<run { data[index + offset] = data[start + offset] }
            default:
                let word = words[random.below(words.count)]
                run = min(count - index, word.count)
                for offset in 0..<run { data[index + offset] = word[offset] }
            }
            index += run
        }
        return data
    }

    private func assertRoundTrip(_ data: [UInt8], _ compressed: [UInt8], level: Int,
                                 file: StaticString = #filePath, line: UInt = #line) {
        switch InflateRun.gunzip(compressed, capacity: data.count + 16) {
        case .success(let (output, result)):
            XCTAssertEqual(output.count, data.count, file: file, line: line)
            XCTAssertTrue(output == data, "round trip differs (\(data.count) bytes, -\(level))", file: file, line: line)
            XCTAssertEqual(result.members, 1, file: file, line: line)
            XCTAssertEqual(result.consumedBytes, compressed.count, file: file, line: line)
            XCTAssertEqual(result.trailingBytes, 0, file: file, line: line)
        case .failure(let error):
            XCTFail("gunzip failed: \(error) (\(data.count) bytes, -\(level))", file: file, line: line)
        }
    }

    func testEdgeSizesRoundTrip() throws {
        var random = Dom0BuilderRandom(seed: 1)
        var inputs: [[UInt8]] = [[0x41], [UInt8](repeating: 0, count: 1 << 20), random.bytes(100_000),
                                 (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) }]
        for size in [0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 32767, 32768, 32769, 65535, 65536, 65537, 200_000] {
            inputs.append(Self.mixedData(size, &random))
        }
        for level in [1, 6, 9] {
            let outputs = try XCTUnwrap(HostTool.gzipMany(inputs, level: level))
            for (data, compressed) in zip(inputs, outputs) { assertRoundTrip(data, compressed, level: level) }
        }
    }

    func testHundredsOfSeededRoundTrips() throws {
        var random = Dom0BuilderRandom(seed: 0xD0_0000)
        for level in [1, 2, 4, 6, 9] {
            var inputs: [[UInt8]] = []
            for round in 0..<60 {
                let size: Int
                switch round % 4 {
                case 0: size = random.below(65)
                case 1: size = random.below(4097)
                case 2: size = random.below(70_001)
                default: size = 60_000 + random.below(100_001)
                }
                inputs.append(round % 5 == 0 ? random.bytes(size) : Self.mixedData(size, &random))
            }
            let outputs = try XCTUnwrap(HostTool.gzipMany(inputs, level: level))
            for (data, compressed) in zip(inputs, outputs) {
                switch InflateRun.gunzip(compressed, capacity: data.count + Int(random.below(3))) {
                case .success(let (output, result)):
                    XCTAssertTrue(output == data, "round trip differs (\(data.count) bytes, -\(level))")
                    XCTAssertEqual(result.consumedBytes, compressed.count)
                case .failure(let error):
                    XCTFail("gunzip failed: \(error) (\(data.count) bytes, -\(level))")
                }
            }
        }
    }

    func testZlibStrategiesRoundTrip() throws {
        var random = Dom0BuilderRandom(seed: 77)
        for strategy in 0...4 {
            for size in [0, 1, 1000, 70_000] {
                let data = Self.mixedData(size, &random)
                guard let raw = HostTool.zlibRawDeflate(data, level: 9, strategy: strategy) else {
                    throw XCTSkip("python3 with zlib is not available")
                }
                switch InflateRun.inflate(raw, capacity: size) {
                case .success(let (output, result)):
                    XCTAssertTrue(output == data, "strategy \(strategy), \(size) bytes")
                    XCTAssertEqual(result.consumedBytes, raw.count)
                case .failure(let error):
                    XCTFail("strategy \(strategy), \(size) bytes: \(error)")
                }
            }
        }
    }

    /// An encoder independent of zlib: random literals and matches (overlapping ones
    /// included) in fixed-Huffman and stored blocks.
    func testHandEncodedStreamsRoundTrip() {
        var random = Dom0BuilderRandom(seed: 4242)
        for _ in 0..<200 {
            var writer = DeflateBitWriter()
            var expected: [UInt8] = []
            let blocks = Int.random(in: 1...4, using: &random)
            for block in 0..<blocks {
                writer.write(block == blocks - 1 ? 1 : 0, bits: 1)
                if Bool.random(using: &random) {
                    writer.write(0, bits: 2)
                    writer.alignToByte()
                    let bytes = random.bytes(Int.random(in: 0...600, using: &random))
                    writer.write(UInt64(bytes.count), bits: 16)
                    writer.write(UInt64(~UInt16(bytes.count)), bits: 16)
                    for byte in bytes { writer.write(UInt64(byte), bits: 8) }
                    expected += bytes
                } else {
                    writer.write(1, bits: 2)
                    for _ in 0..<Int.random(in: 0...400, using: &random) {
                        if expected.count > 0 && Int.random(in: 0..<3, using: &random) == 0 {
                            let distance = Int.random(in: 1...min(expected.count, 32768), using: &random)
                            let length = Int.random(in: 3...258, using: &random)
                            writer.fixedLength(length)
                            writer.fixedDistance(distance)
                            for _ in 0..<length { expected.append(expected[expected.count - distance]) }
                        } else {
                            let byte = UInt8.random(in: 0...255, using: &random)
                            writer.fixedLiteralLength(Int(byte))
                            expected.append(byte)
                        }
                    }
                    writer.fixedLiteralLength(256)
                }
            }
            let stream = writer.finish()
            // Exact capacity, so the eight-byte match copy must fall back near the end.
            switch InflateRun.inflate(stream, capacity: expected.count) {
            case .success(let (output, result)):
                XCTAssertTrue(output == expected)
                XCTAssertEqual(result.consumedBytes, stream.count)
            case .failure(let error):
                XCTFail("\(error)")
            }
        }
    }

    func testEveryLengthAndDistanceCode() {
        // Each length 3...258 once at distance 1 and each distance symbol's first and last value.
        var writer = DeflateBitWriter()
        var expected = [UInt8](repeating: 0x5A, count: 1)
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        writer.fixedLiteralLength(0x5A)
        for length in 3...258 {
            writer.fixedLength(length)
            writer.fixedDistance(1)
            expected += [UInt8](repeating: 0x5A, count: length)
        }
        var random = Dom0BuilderRandom(seed: 9)
        for byte in random.bytes(33000) { writer.fixedLiteralLength(Int(byte)); expected.append(byte) }
        for symbol in 0...29 {
            let (base, extra) = Inflater.distanceBase(symbol)
            for distance in [base, base + (1 << extra) - 1] {
                writer.fixedLength(5)
                writer.fixedDistance(distance)
                for _ in 0..<5 { expected.append(expected[expected.count - distance]) }
            }
        }
        writer.fixedLiteralLength(256)
        guard case .success(let (output, _)) = InflateRun.inflate(writer.finish(), capacity: expected.count + 100) else {
            return XCTFail("did not decode")
        }
        XCTAssertTrue(output == expected)
    }

    /// The workspace lives on a hypervisor stack or in a static: keep it small.
    func testWorkspaceSize() {
        print("Inflater workspace: \(MemoryLayout<Inflater>.size) bytes")
        XCTAssertLessThanOrEqual(MemoryLayout<Inflater>.size, 7 * 1024)
    }

    func testCodeTables() {
        XCTAssertEqual(Inflater.lengthBase(257).base, 3)
        XCTAssertEqual(Inflater.lengthBase(264).base, 10)
        XCTAssertTrue(Inflater.lengthBase(265) == (11, 1))
        XCTAssertTrue(Inflater.lengthBase(269) == (19, 2))
        XCTAssertTrue(Inflater.lengthBase(284) == (227, 5))
        XCTAssertTrue(Inflater.lengthBase(285) == (258, 0))
        XCTAssertTrue(Inflater.distanceBase(3) == (4, 0))
        XCTAssertTrue(Inflater.distanceBase(4) == (5, 1))
        XCTAssertTrue(Inflater.distanceBase(29) == (24577, 13))
        XCTAssertEqual((0..<19).map(Inflater.codeLengthOrder), [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15])
    }

    // MARK: Malformed streams

    private func inflateError(_ stream: [UInt8], capacity: Int = 1000) -> InflateError? {
        if case .failure(let error) = InflateRun.inflate(stream, capacity: capacity) { return error }
        return nil
    }

    func testReservedBlockType() {
        var writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(3, bits: 2)
        XCTAssertEqual(inflateError(writer.finish()), .reservedBlockType)
    }

    func testStoredLengthMismatchAndTruncation() {
        XCTAssertEqual(inflateError([0x01, 0x05, 0x00, 0xFA, 0xFE, 1, 2, 3, 4, 5]),
                       .storedLengthMismatch(length: 5, complement: 0xFEFA))
        XCTAssertEqual(inflateError([0x01, 0x05, 0x00, 0xFA, 0xFF, 1, 2, 3]), .truncatedInput)
        XCTAssertEqual(inflateError([0x01, 0x05, 0x00]), .truncatedInput)
        XCTAssertEqual(inflateError([]), .truncatedInput)
        // A non-final empty stored block with nothing after it.
        XCTAssertEqual(inflateError([0x00, 0x00, 0x00, 0xFF, 0xFF]), .truncatedInput)
        guard case .success(let (output, result)) = InflateRun.inflate([0x01, 0x03, 0x00, 0xFC, 0xFF, 7, 8, 9, 0xEE], capacity: 3) else {
            return XCTFail("stored block failed")
        }
        XCTAssertEqual(output, [7, 8, 9])
        XCTAssertEqual(result.consumedBytes, 8)
    }

    func testDistanceTooFarBack() {
        var writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        writer.fixedLiteralLength(0x41)
        writer.fixedLiteralLength(0x42)
        writer.fixedLength(4)
        writer.fixedDistance(3)
        writer.fixedLiteralLength(256)
        XCTAssertEqual(inflateError(writer.finish()), .distanceTooFarBack(distance: 3, available: 2))
    }

    func testUnusedFixedSymbols() {
        var writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        writer.fixedLiteralLength(286)
        XCTAssertEqual(inflateError(writer.finish()), .badLiteralLengthCode)

        writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(1, bits: 2)
        writer.fixedLiteralLength(0x41)
        writer.fixedLength(3)
        writer.writeCode(30, length: 5)
        XCTAssertEqual(inflateError(writer.finish()), .badDistanceCode)
    }

    func testOutputOverflow() {
        var random = Dom0BuilderRandom(seed: 5)
        let data = Self.mixedData(5000, &random)
        let raw = HostTool.gzip(data, level: 6)!
        for capacity in [0, 1, 100, 4999] {
            guard case .failure(let error) = InflateRun.gunzip(raw, capacity: capacity) else {
                XCTFail("capacity \(capacity) accepted"); continue
            }
            XCTAssertEqual(error, .outputOverflow(capacity: capacity))
        }
        // Stored data one byte too large.
        XCTAssertEqual(inflateError([0x01, 0x03, 0x00, 0xFC, 0xFF, 7, 8, 9], capacity: 2), .outputOverflow(capacity: 2))
    }

    func testDynamicHeaderErrors() {
        // HLIT = 30 -> 287 literal/length codes.
        var writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(30, bits: 5)
        writer.write(0, bits: 5)
        writer.write(0, bits: 4)
        XCTAssertEqual(inflateError(writer.finish()), .tooManyCodes(literalLengths: 287, distances: 1))

        // Code-length code with every one of 19 lengths at 1: over-subscribed.
        writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(0, bits: 5)
        writer.write(0, bits: 5)
        writer.write(15, bits: 4)
        for _ in 0..<19 { writer.write(1, bits: 3) }
        XCTAssertEqual(inflateError(writer.finish()), .overSubscribedCode)

        // A single code-length code of length 1: incomplete, not allowed for that code.
        writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(0, bits: 5)
        writer.write(0, bits: 5)
        writer.write(0, bits: 4)
        writer.write(1, bits: 3)  // symbol 16 gets length 1, 17, 18 and 0 none
        writer.write(0, bits: 9)
        XCTAssertEqual(inflateError(writer.finish()), .incompleteCode)

        // Code lengths: symbols 16 and 0 with one bit each; start with a repeat (16).
        writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(0, bits: 5)
        writer.write(0, bits: 5)
        writer.write(0, bits: 4)  // four code-length lengths: 16, 17, 18, 0
        writer.write(1, bits: 3)
        writer.write(0, bits: 3)
        writer.write(0, bits: 3)
        writer.write(1, bits: 3)
        writer.writeCode(1, length: 1)  // symbol 16 (code 1; symbol 0 has code 0)
        writer.write(0, bits: 2)
        XCTAssertEqual(inflateError(writer.finish()), .badCodeLengthRepeat)

        // Same code, but all 258 lengths zero: no end-of-block code.
        writer = DeflateBitWriter()
        writer.write(1, bits: 1)
        writer.write(2, bits: 2)
        writer.write(0, bits: 5)
        writer.write(0, bits: 5)
        writer.write(0, bits: 4)
        writer.write(1, bits: 3)
        writer.write(0, bits: 3)
        writer.write(0, bits: 3)
        writer.write(1, bits: 3)
        for _ in 0..<258 { writer.writeCode(0, length: 1) }
        XCTAssertEqual(inflateError(writer.finish()), .missingEndOfBlock)
    }

    /// Corruptions of valid streams: bit flips, truncation, garbage. The decoder must return
    /// (success or an error) without trapping, and never report more output than capacity.
    func testCorruptedInputsNeverTrap() {
        var random = Dom0BuilderRandom(seed: 0xBAD)
        var samples: [[UInt8]] = []
        for size in [0, 10, 700, 5000, 40_000] {
            samples.append(HostTool.gzip(Self.mixedData(size, &random), level: 9)!)
            samples.append(HostTool.gzip(random.bytes(size), level: 1)!)
        }
        var failures = 0
        for round in 0..<3000 {
            var input = samples[round % samples.count]
            switch round % 4 {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &random) where !input.isEmpty {
                    input[Int.random(in: 0..<input.count, using: &random)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                }
            case 1:
                input = Array(input.prefix(Int.random(in: 0...input.count, using: &random)))
            case 2:
                let start = min(input.count, 10)
                input = Array(input.prefix(start)) + random.bytes(Int.random(in: 0...2000, using: &random))
            default:
                if input.count > 12 {
                    let index = Int.random(in: 10..<input.count, using: &random)
                    input[index] = UInt8.random(in: 0...255, using: &random)
                    input.insert(contentsOf: random.bytes(3), at: index)
                }
            }
            let capacity = Int.random(in: 0...60_000, using: &random)
            switch InflateRun.gunzip(input, capacity: capacity) {
            case .success(let (output, _)): XCTAssertLessThanOrEqual(output.count, capacity)
            case .failure: failures += 1
            }
            // The raw decoder on the same bytes past a 10-byte header, too.
            _ = InflateRun.inflate(Array(input.dropFirst(min(10, input.count))), capacity: capacity)
        }
        XCTAssertGreaterThan(failures, 2000)
    }

    /// Throughput on the host; the figure goes to the test log (run with -c release for a
    /// realistic number).
    func testThroughput() throws {
        var random = Dom0BuilderRandom(seed: 2024)
        let data = Self.mixedData(4 << 20, &random)
        let compressed = try XCTUnwrap(HostTool.gzip(data, level: 9))
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: compressed.count, alignment: 16)
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        defer { source.deallocate(); destination.deallocate() }
        source.copyBytes(from: compressed)
        var inflater = Inflater()
        let start = Date()
        var rounds = 0
        repeat {
            let result = try inflater.gunzip(UnsafeRawBufferPointer(source), into: destination)
            XCTAssertEqual(result.producedBytes, data.count)
            rounds += 1
        } while Date().timeIntervalSince(start) < 1.0
        let seconds = Date().timeIntervalSince(start)
        let megabytes = Double(data.count * rounds) / 1_048_576
        print(String(format: "gunzip throughput: %.1f MB/s of output (%.1f MB/s of input, ratio %.2f)",
                     megabytes / seconds, Double(compressed.count * rounds) / 1_048_576 / seconds,
                     Double(compressed.count) / Double(data.count)))
        let output = [UInt8](destination)
        XCTAssertTrue(output == data)
    }
}
