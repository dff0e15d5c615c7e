// BootOptionDiagnostic: what the parser says about a command-line token it did not simply take.
//
// The parser cannot allocate, so it hands each diagnostic to a caller-supplied sink as it
// goes. The sink is generic (`some BootOptionDiagnostics`), not an existential. A diagnostic
// holds ByteTexts that point into the command line, so a sink that keeps diagnostics
// beyond the call must copy the bytes.
// Per token the parser makes exactly one `finished` call. `applied == false` means the token
// changed nothing, and at least one `.unknown` or `.malformed` diagnostic came before it.
// `.notImplemented` and `.overridden` are advisory and come with applied tokens. So does a
// `.malformed` for one bad entry in a list whose other entries were kept.
// Owns: the diagnostic types and their log wording (Xen 4.17's, where Xen has one).
// Imports nothing.

public struct BootOptionDiagnostic {
    public enum Kind {
        /// No option has this name. Xen: `parameter "foo" unknown!`.
        case unknown
        /// The value (or one list entry of it) could not be used.
        case malformed(reason: StaticString)
        /// Accepted and recorded, but Apus does not act on it yet.
        case notImplemented(note: StaticString)
        /// The option was given before, and this occurrence replaces it.
        case overridden
    }

    public var kind: Kind
    /// nil for `.unknown`.
    public var option: BootOption?
    /// The option's name as written, including any `no-` prefix.
    public var name: ByteText
    /// The value as written, or the offending entry of a list. Empty when there is none.
    public var value: ByteText

    public init(kind: Kind, option: BootOption?, name: ByteText, value: ByteText) {
        self.kind = kind
        self.option = option
        self.name = name
        self.value = value
    }

    /// One log line with its newline, in Xen 4.17's wording where Xen has one:
    /// `parameter "foo" unknown!`
    /// `parameter "com1" has invalid value "xyz": <reason>` (Xen prints `, rc=<n>!` instead)
    /// `parameter "hap" accepted but not implemented by Apus yet: <note>`
    /// `parameter "loglvl" given again, the last value wins`
    public func writeLogLine<Sink: TextSink>(into sink: inout Sink) {
        sink.write("parameter \"")
        sink.write(name)
        switch kind {
        case .unknown:
            sink.write("\" unknown!")
        case .malformed(let reason):
            sink.write("\" has invalid value \"")
            sink.write(value)
            sink.write("\": ")
            sink.write(reason)
        case .notImplemented(let note):
            sink.write("\" accepted but not implemented by Apus yet: ")
            sink.write(note)
        case .overridden:
            sink.write("\" given again, the last value wins")
        }
        sink.newline()
    }
}

/// Where the parser sends diagnostics and per-token verdicts.
public protocol BootOptionDiagnostics {
    mutating func report(_ diagnostic: BootOptionDiagnostic)
    /// Called once per token, after its diagnostics. `option` is nil for an unknown name.
    mutating func finished(token: ByteText, option: BootOption?, applied: Bool)
}

extension BootOptionDiagnostics {
    public mutating func finished(token: ByteText, option: BootOption?, applied: Bool) {}
}

/// Drops everything. Use it when the diagnostics were already printed once.
public struct IgnoredBootOptionDiagnostics: BootOptionDiagnostics {
    public init() {}
    public mutating func report(_ diagnostic: BootOptionDiagnostic) {}
}

/// Prints every diagnostic as a log line into a TextSink, e.g. the hypervisor console.
public struct BootOptionDiagnosticPrinter<Sink: TextSink>: BootOptionDiagnostics {
    public var sink: Sink
    public private(set) var reported = 0

    public init(sink: Sink) { self.sink = sink }

    public mutating func report(_ diagnostic: BootOptionDiagnostic) {
        diagnostic.writeLogLine(into: &sink)
        reported += 1
    }
}
