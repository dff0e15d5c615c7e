import Foundation
import XCTest
@testable import ApusCore

/// The blob scripts/gen-symbols.sh emits, built on the host.
private func symbolBlob(_ symbols: [(address: UInt64, name: String)], end: UInt64 = 0) -> [UInt8] {
    var strings: [UInt8] = []
    var entries: [UInt8] = []
    for symbol in symbols {
        entries.fwLE64(symbol.address)
        entries.fwLE32(UInt32(strings.count))
        entries.fwLE32(0)
        strings += Array(symbol.name.utf8) + [0]
    }
    var blob: [UInt8] = []
    blob.fwASCII("ASYM")
    blob.fwLE32(UInt32(symbols.count))
    blob.fwLE32(UInt32(strings.count))
    blob.fwLE32(0)
    blob.fwLE64(end)
    return blob + entries + strings
}

private func lookup(_ blob: [UInt8], _ address: UInt64) throws -> (String, UInt64)? {
    try blob.withUnsafeBytes { raw in
        let table = try SymbolTable(blob: raw)
        return table.nearestSymbol(to: address).map { ($0.name.description, $0.offset) }
    }
}

final class FirmwareSymbolTableTests: XCTestCase {
    let symbols: [(address: UInt64, name: String)] = [
        (0xFFFF_8000_0010_0000, "apus_entry"),
        (0xFFFF_8000_0010_0040, "Apus.kmain() -> Never"),
        (0xFFFF_8000_0010_0400, "Apus.handleTrap(frame:)"),
        (0xFFFF_8000_0010_0400 + 0x230, "memcpy"),
    ]

    func testLookups() throws {
        let blob = symbolBlob(symbols, end: 0xFFFF_8000_0010_0700)
        // Exact hits.
        for symbol in symbols {
            let (name, offset) = try XCTUnwrap(lookup(blob, symbol.address))
            XCTAssertEqual(name, symbol.name)
            XCTAssertEqual(offset, 0)
        }
        // Between two symbols.
        XCTAssertTrue(try lookup(blob, 0xFFFF_8000_0010_0123)! == ("Apus.kmain() -> Never", 0xE3))
        XCTAssertTrue(try lookup(blob, 0xFFFF_8000_0010_03FF)! == ("Apus.kmain() -> Never", 0x3BF))
        // Before the first, at and after the end.
        XCTAssertNil(try lookup(blob, 0xFFFF_8000_000F_FFFF))
        XCTAssertNil(try lookup(blob, 0))
        XCTAssertTrue(try lookup(blob, 0xFFFF_8000_0010_06FF)! == ("memcpy", 0xCF))
        XCTAssertNil(try lookup(blob, 0xFFFF_8000_0010_0700))
        XCTAssertNil(try lookup(blob, UInt64.max))
        // Without an end address, everything past the last symbol belongs to it.
        XCTAssertTrue(try lookup(symbolBlob(symbols), UInt64.max)! == ("memcpy", UInt64.max - 0xFFFF_8000_0010_0630))

        var sink = ByteBufferSink()
        try blob.withUnsafeBytes { raw in
            let table = try SymbolTable(blob: raw)
            XCTAssertEqual(table.count, 4)
            XCTAssertEqual(table.symbol(1)?.name.description, "Apus.kmain() -> Never")
            XCTAssertNil(table.symbol(4))
            sink.write(symbolFor: 0xFFFF_8000_0010_0410, in: table)
            sink.write(" ")
            sink.write(symbolFor: 0x1000, in: table)
            sink.write(" ")
            sink.write(symbolFor: 0x2000, in: nil)
        }
        XCTAssertEqual(sink.text, "Apus.handleTrap(frame:)+0x10 0x1000 0x2000")
    }

    func testEmptyTable() throws {
        let blob = symbolBlob([])
        XCTAssertNil(try lookup(blob, 0x1000))
        try blob.withUnsafeBytes { XCTAssertEqual(try SymbolTable(blob: $0).count, 0) }
    }

    func testCorruptHeaders() {
        func error(_ blob: [UInt8]) -> SymbolTableError? {
            blob.withUnsafeBytes { raw -> SymbolTableError? in
                do throws(SymbolTableError) { _ = try SymbolTable(blob: raw); return nil } catch { return error }
            }
        }
        let good = symbolBlob(symbols)
        XCTAssertNil(error(good))
        XCTAssertEqual(error(Array(good.prefix(20))), .tooShort)
        XCTAssertEqual(error([]), .tooShort)
        var magic = good; magic[0] = 0x61
        XCTAssertEqual(error(magic), .badMagic)
        var count = good; count.fwSetLE32(5, at: 4)
        XCTAssertEqual(error(count), .sizeMismatch)
        var huge = good; huge.fwSetLE32(0xFFFF_FFFF, at: 4)
        XCTAssertEqual(error(huge), .sizeMismatch)
        var strings = good; strings.fwSetLE32(0xFFFF_FFFF, at: 8)
        XCTAssertEqual(error(strings), .sizeMismatch)
        XCTAssertEqual(error(Array(good.dropLast())), .sizeMismatch)
        XCTAssertEqual(error(symbolBlob([(0x2000, "b"), (0x1000, "a")])), .notSorted(index: 1))
    }

    func testBadNameOffsetsGiveEmptyOrCutNames() throws {
        var blob = symbolBlob([(0x1000, "first"), (0x2000, "second")])
        blob.fwSetLE32(0x7FFF_FFFF, at: 24 + 8)                 // first entry's name offset
        XCTAssertTrue(try lookup(blob, 0x1000)! == ("", 0))
        blob.removeLast()                                       // "second" loses its NUL
        blob.fwSetLE32(UInt32(blob.count - 24 - 32), at: 8)
        XCTAssertTrue(try lookup(blob, 0x2001)! == ("second", 1))
        let long = String(repeating: "x", count: 2000)
        XCTAssertEqual(try lookup(symbolBlob([(0x1000, long)]), 0x1000)?.0.count, SymbolTable.maximumNameLength)
    }

    /// Against a linear search, on random sorted tables (duplicates included).
    func testRandomTablesAgreeWithLinearSearch() throws {
        var random = SeededGenerator(seed: 0x5E1B01)
        for _ in 0..<300 {
            let count = Int.random(in: 0...40, using: &random)
            var addresses = (0..<count).map { _ in UInt64.random(in: 0x1000...0x1_0000, using: &random) }
            addresses.sort()
            let table = addresses.enumerated().map { (address: $0.element, name: "f\($0.offset)") }
            let end: UInt64 = Bool.random(using: &random) ? 0 : 0x1_0000 + UInt64.random(in: 0...64, using: &random)
            let blob = symbolBlob(table, end: end)
            for _ in 0..<50 {
                let probe = UInt64.random(in: 0...0x1_0100, using: &random)
                let expected: (String, UInt64)? = {
                    if end != 0 && probe >= end { return nil }
                    guard let index = table.lastIndex(where: { $0.address <= probe }) else { return nil }
                    return (table[index].name, probe - table[index].address)
                }()
                let actual = try lookup(blob, probe)
                XCTAssertEqual(actual?.0, expected?.0, "probe \(probe)")
                XCTAssertEqual(actual?.1, expected?.1, "probe \(probe)")
            }
        }
    }

    // MARK: scripts/gen-symbols.sh, end to end

    private func tool(_ name: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in ["/opt/swift/usr/bin"] + paths {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "\(executable) \(arguments): \(output)")
        return output
    }

    /// Links a small image high in the address space, runs the script, assembles its output
    /// and reads the section back through SymbolTable.
    func testGeneratedBlobMatchesNM() throws {
        guard let clang = tool("clang"), let lld = tool("ld.lld"), let nm = tool("llvm-nm"),
              let objcopy = tool("llvm-objcopy") else { throw XCTSkip("LLVM tools not found") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/gen-symbols.sh").path
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("apus-symbols-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let source = work.appendingPathComponent("image.c").path
        try """
            __attribute__((noinline)) static int helper(int x) { return x * 3; }
            int first(int x) { return helper(x) + 1; }
            __attribute__((weak)) int weak_one(int x) { return x - 1; }
            int $s4Apus5kmainyyF(int x) { return first(x) * weak_one(x); }
            int data_after = 5;
            void _start(void) { for (;;) $s4Apus5kmainyyF(data_after); }
            """.write(toFile: source, atomically: true, encoding: .utf8)
        let object = work.appendingPathComponent("image.o").path
        let image = work.appendingPathComponent("image.elf").path
        try run(clang, ["--target=x86_64-unknown-none-elf", "-ffreestanding", "-fdollars-in-identifiers", "-O1",
                        "-c", source, "-o", object])
        try run(lld, ["-nostdlib", "-static", "-e", "_start", "-Ttext=0xffff800000100000", object, "-o", image])

        for demangle in ["0", "1"] {
            let assembly = work.appendingPathComponent("symbols-\(demangle).S").path
            try run("/bin/bash", [script, image, assembly], environment: ["NM": nm, "DEMANGLE": demangle])
            let symbolObject = work.appendingPathComponent("symbols-\(demangle).o").path
            let blobPath = work.appendingPathComponent("symbols-\(demangle).bin").path
            try run(clang, ["--target=x86_64-unknown-none-elf", "-c", assembly, "-o", symbolObject])
            try run(objcopy, ["-O", "binary", "--only-section=.apus_symbols", symbolObject, blobPath])
            let blob = [UInt8](try Data(contentsOf: URL(fileURLWithPath: blobPath)))
            XCTAssertTrue(try run(nm, [symbolObject]).contains("apus_symbol_table_end"))

            // Every text symbol nm reports resolves to itself; the data symbol ends the table.
            let listing = try run(nm, ["-n", "--defined-only", image])
            var textCount = 0
            for line in listing.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let address = UInt64(fields[0], radix: 16) else { continue }
                var name = String(fields[2])
                if demangle == "1" && name.hasPrefix("$s") && tool("swift") != nil { name = "Apus.kmain() -> ()" }
                switch fields[1] {
                case "t", "T", "W":
                    textCount += 1
                    XCTAssertTrue(try lookup(blob, address)! == (name, 0), "\(name) (demangle \(demangle))")
                    XCTAssertEqual(try lookup(blob, address + 1)?.0, name)
                case "D":
                    XCTAssertNil(try lookup(blob, address), "data symbol \(name) must be past the end")
                default:
                    break
                }
            }
            XCTAssertGreaterThanOrEqual(textCount, 4)
            try blob.withUnsafeBytes { XCTAssertEqual(try SymbolTable(blob: $0).count, textCount) }
            XCTAssertNil(try lookup(blob, 0xFFFF_8000_000F_FFFF))
        }
    }
}
