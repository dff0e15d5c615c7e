// Tests for the shared value syntaxes (sizes, booleans, integers) and for every numeric
// option's range, malformed and overflow cases.
import ApusCore
import XCTest

final class BootOptionsValueTests: XCTestCase {
    private func size(_ text: String) -> UInt64? { withByteText(text) { BootValueSyntax.size($0) } }

    func testSizeSuffixesInEitherCase() {
        XCTAssertEqual(size("100B"), 100)
        XCTAssertEqual(size("100b"), 100)
        XCTAssertEqual(size("4K"), 4 << 10)
        XCTAssertEqual(size("4k"), 4 << 10)
        XCTAssertEqual(size("512M"), 512 << 20)
        XCTAssertEqual(size("512m"), 512 << 20)
        XCTAssertEqual(size("2G"), 2 << 30)
        XCTAssertEqual(size("2g"), 2 << 30)
        XCTAssertEqual(size("3T"), 3 << 40)
        XCTAssertEqual(size("3t"), 3 << 40)
    }

    func testSizeWithoutSuffixIsKiB() {
        XCTAssertEqual(size("262144"), 256 << 20)  // the manual's dom0_mem=262144
        XCTAssertEqual(size("1"), 1024)
        XCTAssertEqual(size("0"), 0)
    }

    func testSizeNumbersUseCSyntax() {
        XCTAssertEqual(size("0x10M"), 16 << 20)
        XCTAssertEqual(size("0X10M"), 16 << 20)
        XCTAssertEqual(size("010M"), 8 << 20)  // octal, as simple_strtoull reads it
        XCTAssertEqual(size("0x1b"), 0x1B << 10)  // 'b' is a hex digit here, so KiB
    }

    func testSizeOverflowAndJunkAreRejected() {
        XCTAssertEqual(size("16777215T"), (1 << 24 - 1) << 40)
        XCTAssertNil(size("16777216T"))
        XCTAssertEqual(size("18446744073709551615B"), UInt64.max)
        XCTAssertNil(size("18446744073709551616B"))
        XCTAssertNil(size("18014398509481984"))  // 2^54 KiB
        XCTAssertNil(size(""))
        XCTAssertNil(size("M"))
        XCTAssertNil(size("12MB"))
        XCTAssertNil(size("-1M"))
        XCTAssertNil(size("1.5G"))
        XCTAssertNil(size("512 M"))
        XCTAssertNil(size("512P"))
    }

    func testSizesAreWrittenBackInTheLargestExactUnit() {
        func written(_ bytes: UInt64) -> String {
            var sink = ByteBufferSink()
            sink.write(bootOptionSize: bytes)
            return sink.text
        }
        XCTAssertEqual(written(0), "0B")
        XCTAssertEqual(written(100), "100B")
        XCTAssertEqual(written(4096), "4K")
        XCTAssertEqual(written(1536 << 20), "1536M")
        XCTAssertEqual(written(1 << 30), "1G")
        XCTAssertEqual(written(5 << 40), "5T")
        XCTAssertEqual(written(UInt64.max), "18446744073709551615B")
        for bytes: UInt64 in [0, 1, 1023, 1024, 4095, 1 << 20, 3 << 30, 7 << 40, UInt64.max, 0x1234_5678] {
            XCTAssertEqual(size(written(bytes)), bytes)
        }
    }

    func testBooleanWords() {
        let cases: [(String, Bool?)] = [
            ("1", true), ("yes", true), ("on", true), ("true", true), ("enable", true),
            ("0", false), ("no", false), ("off", false), ("false", false), ("disable", false),
            ("", nil), ("2", nil), ("Yes", nil), ("enabled", nil), ("n", nil), ("truee", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(withByteText(text) { BootValueSyntax.boolean($0) }, expected, text)
        }
    }

    func testMemLimit() {
        XCTAssertEqual(parseBootOptionsClean("mem=4G").memLimitBytes, 4 << 30)
        XCTAssertEqual(parseBootOptionsClean("mem=1048576").memLimitBytes, 1 << 30)  // KiB without a suffix
        XCTAssertEqual(parseBootOptionsClean("mem=4294967296B").memLimitBytes, 1 << 32)
        // As with Xen's simple_strtoull, a B after hex digits is one more hex digit: KiB.
        XCTAssertEqual(parseBootOptionsClean("mem=0x100000000B").memLimitBytes, 0x1_0000_0000B << 10)
        let (cleared, recorder) = parseBootOptions("mem=4G mem=0")
        XCTAssertNil(cleared.memLimitBytes, "mem=0 means no limit, as in Xen")
        XCTAssertEqual(recorder.kinds(), [.overridden])
        let reason = expectMalformedBootOption("mem=foo")
        XCTAssertTrue(reason.hasPrefix("expected a size like 512M"), reason)
        expectMalformedBootOption("mem=99999999999999999999")
        expectMalformedBootOption("mem=17179869184G")  // 2^64 bytes
        expectMalformedBootOption("mem=")
        expectMalformedBootOption("mem")
        expectMalformedBootOption("mem=-1G")
    }

    func testMaxCPUs() {
        XCTAssertEqual(parseBootOptionsClean("maxcpus=4").maxCPUs, 4)
        XCTAssertEqual(parseBootOptionsClean("maxcpus=0x10").maxCPUs, 16)
        XCTAssertNil(parseBootOptions("maxcpus=4 maxcpus=0").0.maxCPUs, "maxcpus=0 means all CPUs, as in Xen")
        XCTAssertEqual(parseBootOptionsClean("maxcpus=4294967295").maxCPUs, UInt32.max)
        for token in ["maxcpus=4294967296", "maxcpus=-1", "maxcpus=", "maxcpus=four", "maxcpus=4k",
                      "maxcpus=99999999999999999999999"] {
            expectMalformedBootOption(token)
        }
    }

    func testTraceBufferSize() {
        XCTAssertEqual(parseBootOptions("tbuf_size=64").0.traceBufferPages, 64)
        expectMalformedBootOption("tbuf_size=4294967296")
        expectMalformedBootOption("tbuf_size=1M")
        expectMalformedBootOption("tbuf_size=")
    }

    func testDMABits() {
        XCTAssertEqual(parseBootOptions("dma_bits=24").0.dmaBits, 24)
        XCTAssertEqual(parseBootOptions("dma_bits=64").0.dmaBits, 64)
        XCTAssertEqual(parseBootOptions("dma_bits=32").0.dmaBits, 32)
        for token in ["dma_bits=23", "dma_bits=65", "dma_bits=0", "dma_bits=", "dma_bits=32b",
                      "dma_bits=18446744073709551616"] {
            let reason = expectMalformedBootOption(token)
            XCTAssertEqual(reason, "expected a bit width in 24...64")
        }
    }

    func testDMAEmergencyPool() {
        XCTAssertEqual(parseBootOptions("dma_emergency_pool=16M").0.dmaEmergencyPoolBytes, 16 << 20)
        XCTAssertEqual(parseBootOptions("dma_emergency_pool=0").0.dmaEmergencyPoolBytes, 0)
        expectMalformedBootOption("dma_emergency_pool=lots")
        expectMalformedBootOption("dma_emergency_pool=99999999999999999999K")
    }

    func testCreditTimesliceRangeIsXens() {
        XCTAssertEqual(parseBootOptionsClean("sched_credit_tslice_ms=1").creditTimesliceMs, 1)
        XCTAssertEqual(parseBootOptionsClean("sched_credit_tslice_ms=1000").creditTimesliceMs, 1000)
        XCTAssertEqual(parseBootOptionsClean("sched_credit_tslice_ms=5").creditTimesliceMs, 5)
        for token in ["sched_credit_tslice_ms=0", "sched_credit_tslice_ms=1001", "sched_credit_tslice_ms=",
                      "sched_credit_tslice_ms=5ms", "sched_credit_tslice_ms=4294967301"] {
            XCTAssertEqual(expectMalformedBootOption(token), "expected milliseconds in 1...1000")
        }
    }

    func testRateLimitRangeIsXens() {
        XCTAssertEqual(parseBootOptionsClean("sched_ratelimit_us=0").schedulerRateLimitUs, 0)
        XCTAssertEqual(parseBootOptionsClean("sched_ratelimit_us=100").schedulerRateLimitUs, 100)
        XCTAssertEqual(parseBootOptionsClean("sched_ratelimit_us=500000").schedulerRateLimitUs, 500_000)
        for token in ["sched_ratelimit_us=1", "sched_ratelimit_us=99", "sched_ratelimit_us=500001",
                      "sched_ratelimit_us=", "sched_ratelimit_us=1e3", "sched_ratelimit_us=18446744073709551616"] {
            XCTAssertEqual(expectMalformedBootOption(token), "expected 0 (off) or microseconds in 100...500000")
        }
    }

    func testRateLimitIsCappedAtTheTimesliceAsXenDoes() {
        XCTAssertEqual(parseBootOptionsClean("sched_credit_tslice_ms=5 sched_ratelimit_us=10000").effectiveRateLimitUs, 5000)
        XCTAssertEqual(parseBootOptionsClean("sched_ratelimit_us=2000").effectiveRateLimitUs, 2000)
        XCTAssertEqual(BootOptions().effectiveRateLimitUs, 1000)
    }
}
