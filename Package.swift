// swift-tools-version:6.0
// Host build of Apus's pure logic and its XCTest suites.
//
// The hypervisor image itself is not built here: `scripts/build.sh` compiles the same
// `ApusCore` sources in Embedded mode (with `-no-allocations`) together with the
// hardware glue, because SwiftPM would otherwise link the kernel's libc shims into host
// executables (see ../shared/design/embedded-swift-notes.md §9).
import PackageDescription

let package = Package(
    name: "Apus",
    targets: [
        // The Xen guest ABI as C headers (header-only; its one .c file runs the layout asserts).
        .target(name: "ApusPublic", path: "Sources/ApusPublic"),
        .target(name: "ApusCore", dependencies: ["ApusPublic"], path: "Sources/ApusCore"),
        .testTarget(name: "ApusCoreTests", dependencies: ["ApusCore", "ApusPublic"], path: "Tests/ApusCoreTests"),
        // Host benchmark of the credit scheduler's decision cost (scripts/bench-scheduler.sh).
        .executableTarget(name: "SchedulerBench", dependencies: ["ApusCore"], path: "Sources/SchedulerBench"),
    ]
)
