// TestReport.swift: the verdict protocol of the test guests.
//
// A guest makes named checks, then calls finish(), which prints exactly one verdict
// line and powers the domain off:
//   APUS-TEST <guest>: PASS (<n> checks)
//   APUS-TEST <guest>: FAIL <first failed check> (<k> of <n> failed)
// scripts/guest-tests.sh looks for that line and nothing else, so every other line a
// guest prints is for people. Each check also prints one line ("  ok name" or
// "  FAIL name ..."), so a failure on one hypervisor can be compared with the other's log.
// A guest that runs the same checks over several cases names the case with group(_:):
// the lines and the verdict then say "<group>: <name>".
public struct TestReport {
    private let guest: StaticString
    private var checks = 0
    private var failures = 0
    private var firstFailure: StaticString? = nil
    private var firstFailureGroup: StaticString? = nil
    private var currentGroup: StaticString? = nil

    public init(guest: StaticString) {
        self.guest = guest
        Console.write("APUS-TEST ")
        Console.write(guest)
        Console.write(": start\n")
    }

    /// Names the case the following checks belong to (nil: none).
    public mutating func group(_ name: StaticString?) {
        currentGroup = name
    }

    private func writeName(_ name: StaticString) {
        if let currentGroup {
            Console.write(currentGroup)
            Console.write(": ")
        }
        Console.write(name)
    }

    /// Records one check; returns the condition so callers can skip dependent checks.
    @discardableResult
    public mutating func check(_ name: StaticString, _ condition: Bool) -> Bool {
        checks += 1
        if condition {
            Console.write("  ok ")
            writeName(name)
            Console.newline()
        } else {
            recordFailure(name)
            Console.write("  FAIL ")
            writeName(name)
            Console.newline()
        }
        return condition
    }

    /// A check of an integer result, printing both values when they differ.
    @discardableResult
    public mutating func expect(_ name: StaticString, _ actual: Int64, equals expected: Int64) -> Bool {
        checks += 1
        if actual == expected {
            Console.write("  ok ")
            writeName(name)
            Console.write(" = ")
            Console.write(decimal: actual)
            Console.newline()
            return true
        }
        recordFailure(name)
        Console.write("  FAIL ")
        writeName(name)
        Console.write(": got ")
        Console.write(decimal: actual)
        Console.write(", expected ")
        Console.write(decimal: expected)
        Console.newline()
        return false
    }

    /// A check of a value best read in hexadecimal (addresses, selectors, error codes).
    @discardableResult
    public mutating func expect(_ name: StaticString, hex actual: UInt64, equals expected: UInt64) -> Bool {
        checks += 1
        if actual == expected {
            Console.write("  ok ")
            writeName(name)
            Console.write(" = ")
            Console.write(hex: actual)
            Console.newline()
            return true
        }
        recordFailure(name)
        Console.write("  FAIL ")
        writeName(name)
        Console.write(": got ")
        Console.write(hex: actual)
        Console.write(", expected ")
        Console.write(hex: expected)
        Console.newline()
        return false
    }

    /// Prints an informational line ("  info <label> <value>"): facts, not checks.
    public func info(_ label: StaticString, _ value: Int64) {
        Console.write("  info ")
        writeName(label)
        Console.write(" ")
        Console.write(decimal: value)
        Console.newline()
    }

    public func info(_ label: StaticString, hex value: UInt64) {
        Console.write("  info ")
        writeName(label)
        Console.write(" ")
        Console.write(hex: value)
        Console.newline()
    }

    private mutating func recordFailure(_ name: StaticString) {
        failures += 1
        if firstFailure == nil {
            firstFailure = name
            firstFailureGroup = currentGroup
        }
    }

    /// Prints the verdict line and powers the domain off. Never returns.
    public func finish() -> Never {
        Console.write("APUS-TEST ")
        Console.write(guest)
        if let first = firstFailure {
            Console.write(": FAIL ")
            if let group = firstFailureGroup {
                Console.write(group)
                Console.write(": ")
            }
            Console.write(first)
            Console.write(" (")
            Console.write(decimal: Int64(failures))
            Console.write(" of ")
            Console.write(decimal: Int64(checks))
            Console.write(" failed)\n")
        } else {
            Console.write(": PASS (")
            Console.write(decimal: Int64(checks))
            Console.write(" checks)\n")
        }
        Power.off()
    }
}
