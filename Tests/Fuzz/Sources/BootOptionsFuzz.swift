// Target "bootopts": the boot command-line parser (BootOptions/), over any bytes.
//
// Input: the command line itself (as a loader might pass it, image name and all).
// Invariants (BootOptionDiagnostic.swift and BootOptionsParser.swift promise them):
// stripping the image name leaves a suffix of the line; exactly one verdict per
// blank-separated token, in order, with no diagnostic left over; a rejected token has an
// unknown/malformed diagnostic and no `overridden` one; the option is nil exactly for
// unknown names; every log line is one `parameter "..."` line; dropping the rejected tokens
// gives the same options; the summary parses back to the same options; applying the line in
// two parts gives what parsing it whole gives; dom0_mem's decision stays within the memory
// available and the max: given.

enum BootOptionsFuzz {
    struct Token {
        var text: [UInt8]
        var option: BootOption?
        var applied: Bool
        var diagnostics: [Diagnostic]
    }
    struct Diagnostic {
        var rejecting: Bool
        var overridden: Bool
        var unknown: Bool
        var option: BootOption?
        var logLine: [UInt8]
    }

    struct Recorder: BootOptionDiagnostics {
        var tokens: [Token] = []
        var pending: [Diagnostic] = []

        mutating func report(_ diagnostic: BootOptionDiagnostic) {
            var line = ByteBufferSink()
            diagnostic.writeLogLine(into: &line)
            var rejecting = false, overridden = false, unknown = false
            switch diagnostic.kind {
            case .unknown: rejecting = true; unknown = true
            case .malformed: rejecting = true
            case .notImplemented: break
            case .overridden: overridden = true
            }
            pending.append(Diagnostic(rejecting: rejecting, overridden: overridden, unknown: unknown,
                                      option: diagnostic.option, logLine: line.bytes))
        }

        mutating func finished(token: ByteText, option: BootOption?, applied: Bool) {
            let text = (0..<token.count).map { token[$0] }
            tokens.append(Token(text: text, option: option, applied: applied, diagnostics: pending))
            pending = []
        }
    }

    static func parse(_ bytes: [UInt8]) -> (BootOptions, Recorder) {
        let buffer = ExactBuffer(bytes)
        var recorder = Recorder()
        let text = ByteText(base: buffer.raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: buffer.count)
        let options = BootOptions.parse(text, diagnostics: &recorder)
        return (options, recorder)
    }

    static func blankSplit(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split(whereSeparator: ByteText.isBlank).map(Array.init)
    }

    static func show(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self).debugDescription }

    static func run(_ input: inout FuzzInput) {
        let line = ExactBuffer(copying: input.rest())
        let whole = ByteText(base: line.raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: line.count)
        let stripped = BootOptions.stripImageName(whole)
        invariant(line.holds(stripped) && (stripped.count == 0 || stripped.base! + stripped.count == whole.base! + whole.count),
                  "stripImageName did not return a suffix of the line")
        if let first = stripped.first { invariant(!ByteText.isBlank(first), "stripped line starts with a blank") }
        let commandLine = (0..<stripped.count).map { stripped[$0] }

        let (options, recorder) = parse(commandLine)
        let tokens = blankSplit(commandLine)
        invariant(recorder.tokens.map(\.text) == tokens,
                  "verdicts for \(recorder.tokens.map { show($0.text) }), tokens are \(tokens.map(show))")
        invariant(recorder.pending.isEmpty, "a diagnostic after the last verdict")
        for token in recorder.tokens {
            let name = show(token.text)
            if !token.applied {
                invariant(token.diagnostics.contains { $0.rejecting }, "\(name) rejected without a reason")
                invariant(!token.diagnostics.contains { $0.overridden }, "\(name) rejected but reported as overriding")
            }
            invariant((token.option == nil) == token.diagnostics.contains { $0.unknown },
                      "\(name): option \(String(describing: token.option)) vs unknown diagnostic")
            if token.option == nil { invariant(!token.applied, "\(name) unknown but applied") }
            for diagnostic in token.diagnostics {
                let text = diagnostic.logLine
                invariant(text.starts(with: Array("parameter \"".utf8)) && text.last == 0x0A
                          && text.filter { $0 == 0x0A }.count == 1,
                          "\(name): log line \(show(text))")
                invariant(diagnostic.option == token.option, "\(name): diagnostic names another option")
            }
        }

        // Rejected tokens changed nothing.
        let kept = Array(recorder.tokens.filter(\.applied).map(\.text).joined(separator: [0x20]))
        let (withoutRejected, keptRecorder) = parse(kept)
        invariant(withoutRejected == options, "dropping the rejected tokens changes the options; kept: \(show(kept))")
        invariant(keptRecorder.tokens.allSatisfy(\.applied), "a kept token was rejected the second time: \(show(kept))")

        // The summary reads back.
        var summary = ByteBufferSink()
        options.writeSummary(into: &summary)
        let (reparsed, _) = parse(summary.bytes.map { $0 == 0x0A ? 0x20 : $0 })
        invariant(reparsed == options, "the summary \(show(summary.bytes)) parses to other options")

        // Two applications, split at a blank, give the whole line's options.
        if tokens.count >= 2 {
            let cut = 1 + Int(commandLine.count > 0 ? commandLine[commandLine.count / 2] : 0) % (tokens.count - 1)
            let first = Array(tokens[..<cut].joined(separator: [0x20]))
            let second = Array(tokens[cut...].joined(separator: [0x20]))
            var (split, _) = parse(first)
            let secondBuffer = ExactBuffer(second)
            var ignored = IgnoredBootOptionDiagnostics()
            split.apply(commandLine: ByteText(base: secondBuffer.raw.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                              count: secondBuffer.count), diagnostics: &ignored)
            invariant(split == options, "applying \(show(first)) then \(show(second)) differs from the whole line")
        }

        // dom0_mem's decision.
        for available in [0, 4095, 1 << 20, 512 << 20, 3 << 30, 1 << 40, UInt64.max] as [UInt64] {
            let decision = options.dom0Memory.decide(availableBytes: available)
            let availablePages = available >> 12
            invariant(decision.pages <= availablePages, "dom0 gets \(decision.pages) pages of \(availablePages)")
            if let maximum = decision.maximumPages {
                invariant(decision.pages <= maximum, "dom0 gets \(decision.pages) pages above max: \(maximum)")
            }
        }
        var sink = CountingSink()
        options.writeLoglevelBanner(into: &sink)
        options.writeDom0CommandLineAdditions(existing: stripped, into: &sink)
    }
}
