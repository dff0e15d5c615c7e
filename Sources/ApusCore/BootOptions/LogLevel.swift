// LogLevel and LogThresholds: what `loglvl=` and `guest_loglvl=` choose.
//
// Xen keeps two thresholds for each message class. A message at or below the first level
// is always printed. One above it, but at or below the second, is printed subject to rate
// limiting. Anything else is dropped. `loglvl=<a>[/<b>]` sets them. A second level below the
// first is raised to it, as Xen does, so `rateLimitedUpTo >= printedUpTo` always holds.
// The defaults are those of Xen's release build, the one Debian ships and the manual
// documents: `loglvl=warning` and `guest_loglvl=none/warning`.
// Imports nothing.

/// A severity threshold, least verbose first. `all` lets everything through, as `debug` does.
public enum LogLevel: UInt8, Comparable {
    case none = 0
    case error
    case warning
    case info
    case debug
    case all

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level named exactly `text`, or nil.
    public static func named(_ text: ByteText) -> LogLevel? {
        if text.equals("none") { return LogLevel.none }
        if text.equals("error") { return .error }
        if text.equals("warning") { return .warning }
        if text.equals("info") { return .info }
        if text.equals("debug") { return .debug }
        if text.equals("all") { return .all }
        return nil
    }

    public var name: StaticString {
        switch self {
        case .none: return "none"
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "info"
        case .debug: return "debug"
        case .all: return "all"
        }
    }

    /// Xen's number for the threshold, where `all` and `debug` are the same (4).
    public var xenThreshold: UInt8 { Swift.min(rawValue, LogLevel.debug.rawValue) }

    /// The wording Xen's "Std. Loglevel:" line uses for a threshold.
    public var xenDescription: StaticString {
        switch self {
        case .none: return "Nothing"
        case .error: return "Errors"
        case .warning: return "Errors and warnings"
        case .info: return "Errors, warnings and info"
        case .debug, .all: return "All"
        }
    }
}

/// What happens to a message of some severity.
public enum LogDisposition: Equatable {
    case print
    case printRateLimited
    case discard
}

/// The pair of thresholds for one message class (hypervisor or guest).
public struct LogThresholds: Equatable {
    /// Messages at or below this level are always printed.
    public private(set) var printedUpTo: LogLevel
    /// Messages above `printedUpTo` and at or below this level are rate limited.
    public private(set) var rateLimitedUpTo: LogLevel

    /// Raises `rateLimitedUpTo` to `printedUpTo` if it is lower.
    public init(printedUpTo: LogLevel, rateLimitedUpTo: LogLevel) {
        self.printedUpTo = printedUpTo
        self.rateLimitedUpTo = Swift.max(rateLimitedUpTo, printedUpTo)
    }

    /// `loglvl=warning`: errors and warnings printed, nothing rate limited.
    public static var hypervisorDefault: LogThresholds { LogThresholds(printedUpTo: .warning, rateLimitedUpTo: .warning) }
    /// `guest_loglvl=none/warning`: guest-caused errors and warnings are rate limited.
    public static var guestDefault: LogThresholds { LogThresholds(printedUpTo: .none, rateLimitedUpTo: .warning) }

    /// What to do with a message of `severity` (error, warning, info or debug). A message
    /// of severity `none` is treated as an error.
    public func disposition(of severity: LogLevel) -> LogDisposition {
        let level = Swift.max(severity, .error)
        if level <= printedUpTo { return .print }
        if level <= rateLimitedUpTo { return .printRateLimited }
        return .discard
    }

    /// `<level>[/<level>]`, level names as Xen spells them.
    public static func parse(_ text: ByteText) -> ParsedValue<LogThresholds> {
        let (first, second) = text.split(at: 0x2F)  // '/'
        guard let printed = LogLevel.named(first) else {
            return .malformed(reason: "expected none, error, warning, info, debug or all, optionally /<level>")
        }
        guard let second else { return .value(LogThresholds(printedUpTo: printed, rateLimitedUpTo: printed)) }
        guard let limited = LogLevel.named(second) else {
            return .malformed(reason: "expected a level after '/': none, error, warning, info, debug or all")
        }
        return .value(LogThresholds(printedUpTo: printed, rateLimitedUpTo: limited))
    }

    /// Back in `loglvl=` syntax: `warning`, or `none/warning` when the two differ.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        sink.write(printedUpTo.name)
        if rateLimitedUpTo != printedUpTo {
            sink.put(0x2F)
            sink.write(rateLimitedUpTo.name)
        }
    }

    /// Xen's wording: `Errors and warnings`, plus ` (Rate-limited: All)` when the two differ.
    public func writeXenDescription<Sink: TextSink>(into sink: inout Sink) {
        sink.write(printedUpTo.xenDescription)
        if rateLimitedUpTo.xenThreshold != printedUpTo.xenThreshold {
            sink.write(" (Rate-limited: ")
            sink.write(rateLimitedUpTo.xenDescription)
            sink.put(0x29)
        }
    }
}
