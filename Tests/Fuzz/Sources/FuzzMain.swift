// The libFuzzer entry point of Apus's host fuzz harness (scripts/fuzz.sh builds and runs it).
//
// One binary holds every target. APUS_FUZZ_TARGET=<name> hands each whole input to that
// target (fuzz.sh runs them one at a time, each with its own corpus); without it, the first
// byte picks the target and the rest is its input. A target reports a broken invariant with
// `invariant`/`violation`, which prints a line starting with `APUS-FUZZ INVARIANT` and
// aborts, so libFuzzer keeps the input as a crash artifact; fuzz.sh tells those apart from
// traps and sanitizer reports by that line.
//
// Host-only: this is compiled with the ApusCore sources into one module (so generics are
// specialised and internals are reachable, as with @testable), never into the hypervisor.
import Glibc

struct FuzzTarget {
    let name: String
    let run: (inout FuzzInput) -> Void
}

/// Every target, by the name fuzz.sh passes in APUS_FUZZ_TARGET.
let fuzzTargets: [FuzzTarget] = [
    FuzzTarget(name: "hypercall", run: HypercallFuzz.run),
    FuzzTarget(name: "evtchn-request", run: EventChannelRequestFuzz.run),
    FuzzTarget(name: "evtchn-ops", run: EventChannelOperationsFuzz.run),
    FuzzTarget(name: "bootopts", run: BootOptionsFuzz.run),
    FuzzTarget(name: "kernel", run: KernelImageFuzz.run),
    FuzzTarget(name: "inflate", run: InflateFuzz.run),
    FuzzTarget(name: "acpi", run: ACPIFuzz.run),
    FuzzTarget(name: "multiboot", run: MultibootFuzz.run),
    FuzzTarget(name: "descriptor", run: DescriptorFuzz.run),
    FuzzTarget(name: "pagetable", run: PageTableFuzz.run),
]

nonisolated(unsafe) var selectedTarget: Int? = nil
/// APUS_FUZZ_TRACE=1: targets say what they did (to read a crash input or check a seed).
let fuzzTrace = getenv("APUS_FUZZ_TRACE") != nil

func trace(_ message: @autoclosure () -> String) {
    if fuzzTrace { print(message()) }
}
nonisolated(unsafe) var currentTargetName = "?"

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let raw = getenv("APUS_FUZZ_TARGET") else { return 0 }
    let name = String(cString: raw)
    if name == "list" {
        for target in fuzzTargets { print(target.name) }
        exit(0)
    }
    guard let index = fuzzTargets.firstIndex(where: { $0.name == name }) else {
        fputs("apus-fuzz: unknown target \(name); known: \(fuzzTargets.map(\.name).joined(separator: " "))\n", stderr)
        exit(2)
    }
    selectedTarget = index
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var input = FuzzInput(bytes)
    let index: Int
    if let selected = selectedTarget {
        index = selected
    } else {
        index = Int(input.byte()) % fuzzTargets.count
    }
    currentTargetName = fuzzTargets[index].name
    fuzzTargets[index].run(&input)
    return 0
}

/// Reports a broken invariant and stops: the input becomes a crash artifact.
func violation(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fflush(stdout)
    fputs("APUS-FUZZ INVARIANT VIOLATION [\(currentTargetName)] \(file):\(line): \(message)\n", stderr)
    abort()
}

func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
               file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { violation(message(), file: file, line: line) }
}

func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
