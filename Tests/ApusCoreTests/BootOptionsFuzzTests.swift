// Randomised tests: the parser must survive any printable garbage, give every token exactly
// one verdict, and leave the options as if rejected tokens had never been there.
import ApusCore
import XCTest

final class BootOptionsFuzzTests: XCTestCase {
    /// Fragments that steer random lines into the parsers' deeper paths.
    private let fragments = [
        "dom0_mem=", "min:", "max:", "-", "%", "+", ",", "=", "/", "no-", "com1=", "com2=", "console=", "vga=",
        "gfx-", "text-80x", "mode-0x", "keep", "loglvl=", "guest_loglvl=", "conswitch=", "badpage=", "0x", "512M",
        "99999999999999999999", "1G", "8n1", "auto", "pci", "msi", "sched=", "credit", "nosmp", "hap", "mem=",
        "dom0_max_vcpus=", "reboot=", "acpi=", "edd=", "edid=", "nmi=", "all", "none", "x", "`", "00", "18446744073709551615",
    ]

    private func randomLine(_ random: inout SeededGenerator) -> String {
        var line = ""
        let pieces = Int(random.next() % 24)
        for _ in 0..<pieces {
            switch random.next() % 4 {
            case 0:
                line.append(" ")
            case 1:
                line += fragments[Int(random.next() % UInt64(fragments.count))]
            default:
                // Any printable ASCII, with blanks now and then.
                let length = Int(random.next() % 6)
                for _ in 0..<length {
                    let byte = UInt8(0x20 + random.next() % 95)
                    line.unicodeScalars.append(Unicode.Scalar(random.next() % 17 == 0 ? 0x09 : byte))
                }
            }
        }
        return line
    }

    private func tokens(of line: String) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    func testRandomGarbageGivesExactlyOneVerdictPerTokenAndNeverTraps() {
        var random = SeededGenerator(seed: 0xA9_05)
        for _ in 0..<4000 {
            let line = randomLine(&random)
            let (options, recorder) = parseBootOptions(line)
            let expectedTokens = tokens(of: line)
            XCTAssertEqual(recorder.tokens.map(\.token), expectedTokens, line)
            XCTAssertTrue(recorder.unattributed.isEmpty, "diagnostic after the last verdict: \(line)")
            for token in recorder.tokens {
                let rejecting = token.diagnostics.filter { $0.kind == .unknown || $0.kind == .malformed }
                if !token.applied {
                    XCTAssertFalse(rejecting.isEmpty, "rejected without a reason: \(token.token)")
                    XCTAssertFalse(token.diagnostics.contains { $0.kind == .overridden }, token.token)
                }
                XCTAssertEqual(token.option == nil, token.diagnostics.contains { $0.kind == .unknown }, token.token)
                if token.option == nil { XCTAssertFalse(token.applied, token.token) }
                for diagnostic in token.diagnostics {
                    XCTAssertTrue(diagnostic.logLine.hasPrefix("parameter \""), diagnostic.logLine)
                    XCTAssertTrue(diagnostic.logLine.hasSuffix("\n"), diagnostic.logLine)
                    XCTAssertEqual(diagnostic.logLine.filter { $0 == "\n" }.count, 1, diagnostic.logLine)
                    XCTAssertEqual(diagnostic.option, token.option, token.token)
                }
            }

            // Rejected tokens must have changed nothing: dropping them gives the same options.
            let kept = recorder.tokens.filter(\.applied).map(\.token).joined(separator: " ")
            let (withoutRejected, keptRecorder) = parseBootOptions(kept)
            XCTAssertEqual(withoutRejected, options, "line: \(line)\nkept: \(kept)")
            XCTAssertTrue(keptRecorder.tokens.allSatisfy(\.applied), kept)

            // Whatever was taken can be summarised and read back.
            var sink = ByteBufferSink()
            options.writeSummary(into: &sink)
            let (reparsed, _) = parseBootOptions(sink.text.replacingOccurrences(of: "\n", with: " "))
            XCTAssertEqual(reparsed, options, line)
        }
    }

    func testRandomBytesIncludingControlAndHighBytes() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            var bytes = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var recorder = RecordingDiagnostics()
            let options = bytes.withUnsafeMutableBufferPointer { buffer in
                BootOptions.parse(BootOptions.stripImageName(ByteText(UnsafeBufferPointer(buffer))),
                                  diagnostics: &recorder)
            }
            var sink = ByteBufferSink()
            options.writeSummary(into: &sink)
            XCTAssertFalse(sink.bytes.isEmpty)
            XCTAssertTrue(recorder.unattributed.isEmpty)
            _ = options.dom0Memory.decide(availableBytes: random.next())
        }
    }

    func testVeryLongCommandLines() {
        let line = Array(repeating: "dom0_mem=512M loglvl=all badpage=1-2 bogus", count: 2000).joined(separator: " ")
        let (options, recorder) = parseBootOptions(line)
        XCTAssertEqual(recorder.tokens.count, 8000)
        XCTAssertEqual(recorder.tokens.filter { !$0.applied }.count, 2000)
        XCTAssertEqual(options.logLevels.printedUpTo, .all)
        XCTAssertEqual(options.badPages.count, 1)
        let longToken = "console=" + Array(repeating: "com1", count: 10000).joined(separator: ",")
        XCTAssertEqual(parseBootOptionsClean(longToken).console.serial?.port, 1)
    }
}
