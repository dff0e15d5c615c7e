// Host-side helpers for the dom0 builder tests: a seeded generator, the host's gzip and
// zlib as reference compressors, and a DEFLATE bit writer for hand-made streams.
import Foundation
import XCTest
@testable import ApusCore

/// SplitMix64, private to these tests so a failing seed reproduces exactly.
struct Dom0BuilderRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = next()
            for _ in 0..<8 where index < count {
                result[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return result
    }

    /// 0..<bound without the standard library's generic machinery (fast in debug builds).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

enum HostTool {
    /// Runs `path arguments`, feeding `input` on stdin; nil if the tool is missing or fails.
    static func run(_ path: String, _ arguments: [String], input: [UInt8]) -> [UInt8]? {
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        // Write on another thread so a large input cannot deadlock against a full stdout pipe.
        let writer = Thread {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return [UInt8](output)
    }

    static func gzip(_ data: [UInt8], level: Int = 6, extra: [String] = []) -> [UInt8]? {
        run("/usr/bin/gzip", ["-c", "-\(level)"] + extra, input: data)
    }

    /// Compresses many inputs with one gzip process (process start-up dominates otherwise).
    static func gzipMany(_ inputs: [[UInt8]], level: Int) -> [[UInt8]]? {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("apus-gzip-\(ProcessInfo.processInfo.processIdentifier)-\(level)-\(UInt64.random(in: 0...UInt64.max))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var paths: [String] = []
            for (index, input) in inputs.enumerated() {
                let url = directory.appendingPathComponent("\(index)")
                try Data(input).write(to: url)
                paths.append(url.path)
            }
            guard run("/usr/bin/gzip", ["-\(level)", "-n"] + paths, input: []) != nil else { return nil }
            return try paths.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0 + ".gz"))) }
        } catch {
            return nil
        }
    }

    /// Raw DEFLATE from Python's zlib with a given strategy (0 default, 1 filtered,
    /// 2 Huffman only, 3 RLE, 4 fixed). nil when python3 is not there.
    static func zlibRawDeflate(_ data: [UInt8], level: Int, strategy: Int) -> [UInt8]? {
        let script = """
        import sys, zlib
        c = zlib.compressobj(\(level), zlib.DEFLATED, -15, 9, \(strategy))
        sys.stdout.buffer.write(c.compress(sys.stdin.buffer.read()) + c.flush())
        """
        for path in ["/usr/bin/python3", "/usr/local/bin/python3"] {
            if let out = run(path, ["-c", script], input: data) { return out }
        }
        return nil
    }
}

/// Writes DEFLATE bit streams by hand: LSB-first fields, MSB-first Huffman codes.
struct DeflateBitWriter {
    var bytes: [UInt8] = []
    private var accumulator: UInt64 = 0
    private var count = 0

    mutating func write(_ value: UInt64, bits: Int) {
        accumulator |= (value & ((1 << UInt64(bits)) - 1)) << UInt64(count)
        count += bits
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: accumulator))
            accumulator >>= 8
            count -= 8
        }
    }

    /// A Huffman code, most significant bit first.
    mutating func writeCode(_ code: Int, length: Int) {
        var reversed = 0
        for bit in 0..<length where code & (1 << bit) != 0 { reversed |= 1 << (length - 1 - bit) }
        write(UInt64(reversed), bits: length)
    }

    mutating func alignToByte() { if count > 0 { write(0, bits: 8 - count) } }

    mutating func finish() -> [UInt8] {
        alignToByte()
        return bytes
    }

    // Fixed Huffman codes (RFC 1951 §3.2.6).
    mutating func fixedLiteralLength(_ symbol: Int) {
        switch symbol {
        case 0...143: writeCode(0x30 + symbol, length: 8)
        case 144...255: writeCode(0x190 + symbol - 144, length: 9)
        case 256...279: writeCode(symbol - 256, length: 7)
        default: writeCode(0xC0 + symbol - 280, length: 8)
        }
    }

    mutating func fixedLength(_ length: Int) {
        let (symbol, base, extra) = DeflateBitWriter.lengthSymbol(length)
        fixedLiteralLength(symbol)
        write(UInt64(length - base), bits: extra)
    }

    mutating func fixedDistance(_ distance: Int) {
        let (symbol, base, extra) = DeflateBitWriter.distanceSymbol(distance)
        writeCode(symbol, length: 5)
        write(UInt64(distance - base), bits: extra)
    }

    static func lengthSymbol(_ length: Int) -> (symbol: Int, base: Int, extra: Int) {
        precondition((3...258).contains(length))
        if length == 258 { return (285, 258, 0) }
        var best = (257, 3, 0)
        for symbol in 257...284 {
            let (base, extra) = Inflater.lengthBase(symbol)
            if base <= length { best = (symbol, base, extra) }
        }
        return best
    }

    static func distanceSymbol(_ distance: Int) -> (symbol: Int, base: Int, extra: Int) {
        precondition((1...32768).contains(distance))
        var best = (0, 1, 0)
        for symbol in 0...29 {
            let (base, extra) = Inflater.distanceBase(symbol)
            if base <= distance { best = (symbol, base, extra) }
        }
        return best
    }
}

/// Builds a gzip member around raw DEFLATE data, with a correct or deliberately wrong trailer.
func gzipMember(deflate: [UInt8], original: [UInt8], flags: UInt8 = 0, headerExtras: [UInt8] = [],
                crcDelta: UInt32 = 0, sizeDelta: UInt32 = 0) -> [UInt8] {
    var member: [UInt8] = [0x1F, 0x8B, 8, flags, 0, 0, 0, 0, 0, 3] + headerExtras + deflate
    let crc = original.withUnsafeBytes { CRC32Table().checksum($0) } &+ crcDelta
    let size = UInt32(truncatingIfNeeded: original.count) &+ sizeDelta
    for shift in stride(from: 0, to: 32, by: 8) { member.append(UInt8(truncatingIfNeeded: crc >> UInt32(shift))) }
    for shift in stride(from: 0, to: 32, by: 8) { member.append(UInt8(truncatingIfNeeded: size >> UInt32(shift))) }
    return member
}

enum InflateRun {
    /// gunzip into a buffer of `capacity` bytes (default: exactly the expected size + 16).
    static func gunzip(_ input: [UInt8], capacity: Int) -> Result<([UInt8], GzipResult), InflateError> {
        var inflater = Inflater()
        var output = [UInt8](repeating: 0xAA, count: capacity)
        do {
            let result = try input.withUnsafeBytes { source in
                try output.withUnsafeMutableBytes { destination in
                    try inflater.gunzip(source, into: destination)
                }
            }
            return .success((Array(output[..<result.producedBytes]), result))
        } catch {
            return .failure(error as! InflateError)
        }
    }

    static func inflate(_ input: [UInt8], capacity: Int) -> Result<([UInt8], InflateResult), InflateError> {
        var inflater = Inflater()
        var output = [UInt8](repeating: 0xAA, count: capacity)
        do {
            let result = try input.withUnsafeBytes { source in
                try output.withUnsafeMutableBytes { destination in
                    try inflater.inflate(source, into: destination)
                }
            }
            return .success((Array(output[..<result.producedBytes]), result))
        } catch {
            return .failure(error as! InflateError)
        }
    }
}
