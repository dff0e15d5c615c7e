// Tests for dom0_mem= parsing and the dom0 memory decision (Xen's dom0_compute_nr_pages rule).
import ApusCore
import XCTest

final class BootOptionsDom0MemoryTests: XCTestCase {
    private let mib: UInt64 = 1 << 20
    private let gib: UInt64 = 1 << 30

    private func spec(_ value: String, file: StaticString = #filePath, line: UInt = #line) -> Dom0MemorySpec {
        parseBootOptionsClean("dom0_mem=\(value)", file: file, line: line).dom0Memory
    }

    private func decide(_ value: String?, available: UInt64) -> Dom0MemoryDecision {
        let parsed = value.map { spec($0) } ?? Dom0MemorySpec()
        return parsed.decide(availableBytes: available)
    }

    private func quantity(_ bytes: UInt64, percent: UInt8 = 0, minus: Bool = false) -> Dom0MemoryQuantity {
        Dom0MemoryQuantity(bytes: bytes, percentOfAvailable: percent, subtractedFromAvailable: minus)
    }

    // MARK: Parsing

    func testParsesEachPartAndForm() {
        XCTAssertEqual(spec("512M"), Dom0MemorySpec(amount: quantity(512 * mib)))
        XCTAssertEqual(spec("262144"), Dom0MemorySpec(amount: quantity(256 * mib)))  // KiB, the manual's example
        XCTAssertEqual(spec("min:128M"), Dom0MemorySpec(minimum: quantity(128 * mib)))
        XCTAssertEqual(spec("max:1G"), Dom0MemorySpec(maximum: quantity(gib)))
        XCTAssertEqual(spec("512M,max:512M"), Dom0MemorySpec(amount: quantity(512 * mib), maximum: quantity(512 * mib)))
        XCTAssertEqual(spec("min:1G,max:2G,768M"),
                       Dom0MemorySpec(amount: quantity(768 * mib), minimum: quantity(gib), maximum: quantity(2 * gib)))
        XCTAssertEqual(spec("-128M"), Dom0MemorySpec(amount: quantity(128 * mib, minus: true)))
        XCTAssertEqual(spec("max:-256M"), Dom0MemorySpec(maximum: quantity(256 * mib, minus: true)))
        XCTAssertEqual(spec("25%"), Dom0MemorySpec(amount: quantity(0, percent: 25)))
        XCTAssertEqual(spec("1G+25%"), Dom0MemorySpec(amount: quantity(gib, percent: 25)))
        XCTAssertEqual(spec("-1G+10%"), Dom0MemorySpec(amount: quantity(gib, percent: 10, minus: true)))
        XCTAssertEqual(spec("99%"), Dom0MemorySpec(amount: quantity(0, percent: 99)))
        XCTAssertEqual(spec("512M,256M"), Dom0MemorySpec(amount: quantity(256 * mib)), "later part replaces")
    }

    func testMalformedValuesAreRejectedWhole() {
        for value in ["", "lots", "100%", "512M+", "512M+25", "512M+25%%", "min:", "max:", "mid:5M", "512M,,max:1G",
                      "512X", "--1M", "512M,max:lots", "1G+100%", "99999999999999999999", "17179869184G",
                      "min:-", "%", "-%", "25%M", "min=5M"] {
            let reason = expectMalformedBootOption("dom0_mem=\(value)")
            XCTAssertEqual(reason, "expected a list of [min:|max:][-]<size>[+<frac>%] like 512M,max:1G", value)
        }
    }

    func testRepeatedOptionsMergePartByPartAsXenDoes() {
        let (options, recorder) = parseBootOptions("dom0_mem=512M dom0_mem=max:1G")
        XCTAssertEqual(options.dom0Memory, Dom0MemorySpec(amount: quantity(512 * mib), maximum: quantity(gib)))
        XCTAssertEqual(recorder.kinds(), [.overridden])
        let (kept, _) = parseBootOptions("dom0_mem=512M dom0_mem=max:bad")
        XCTAssertEqual(kept.dom0Memory, Dom0MemorySpec(amount: quantity(512 * mib)))
    }

    func testWritesBackInCommandLineSyntax() {
        for value in ["512M", "min:128M", "max:1G", "512M,max:512M", "-128M", "25%", "1G+25%", "-1G+10%",
                      "768M,min:1G,max:2G", "1K", "100B", "0B"] {
            var sink = ByteBufferSink()
            spec(value).write(into: &sink)
            XCTAssertEqual(sink.text, value)
        }
    }

    // MARK: The decision

    func testNoDom0MemGivesAvailableLessOneSixteenthCappedAt128MiB() {
        XCTAssertEqual(decide(nil, available: gib).bytes, gib - 64 * mib)
        XCTAssertEqual(decide(nil, available: 512 * mib).bytes, 480 * mib)
        XCTAssertEqual(decide(nil, available: 2 * gib).bytes, 2 * gib - 128 * mib)
        XCTAssertEqual(decide(nil, available: 16 * gib).bytes, 16 * gib - 128 * mib)
        let decision = decide(nil, available: gib)
        XCTAssertFalse(decision.amountGiven || decision.minimumGiven || decision.maximumGiven)
        XCTAssertNil(decision.maximumPages)
        XCTAssertEqual(decision.minimumPages, 0)
    }

    func testTheManualsExamples() {
        let exact = decide("512M,max:512M", available: gib)
        XCTAssertEqual(exact.bytes, 512 * mib)
        XCTAssertEqual(exact.pages, 131_072)
        XCTAssertEqual(exact.maximumBytes, 512 * mib)
        XCTAssertTrue(exact.amountGiven && exact.maximumGiven && !exact.minimumGiven)

        let balloon = decide("512M,max:1G", available: 4 * gib)
        XCTAssertEqual(balloon.bytes, 512 * mib)
        XCTAssertEqual(balloon.maximumBytes, gib)
    }

    func testNegativeAmountsAreSubtractedFromAvailable() {
        XCTAssertEqual(decide("-128M", available: gib).bytes, 896 * mib)
        XCTAssertEqual(decide("max:-256M", available: gib).bytes, 768 * mib)
        XCTAssertEqual(decide("-1G+10%", available: 4 * gib).bytes, 4 * gib - gib - (4 * gib / 10 / 4096) * 4096)
    }

    func testANegativeAmountLargerThanAvailableCountsAsNotGiven() {
        let decision = decide("-2G", available: gib)
        XCTAssertEqual(decision.bytes, gib - 64 * mib)
        XCTAssertFalse(decision.amountGiven)
        XCTAssertEqual(decide("0", available: gib).bytes, gib - 64 * mib, "Xen reads 0 as not given")
    }

    func testMinimumRaisesAndMaximumLowersAndMaximumWins() {
        XCTAssertEqual(decide("256M,min:768M", available: gib).bytes, 768 * mib)
        XCTAssertEqual(decide("768M,max:256M", available: gib).bytes, 256 * mib)
        XCTAssertEqual(decide("min:768M,max:256M", available: gib).bytes, 256 * mib)
        XCTAssertEqual(decide("max:512M", available: gib).bytes, 512 * mib)
        XCTAssertEqual(decide("min:512M", available: gib).bytes, gib - 64 * mib, "default already above the minimum")
    }

    func testNeverMoreThanAvailable() {
        XCTAssertEqual(decide("2G", available: gib).bytes, gib)
        XCTAssertEqual(decide("min:2G", available: gib).bytes, gib)
        XCTAssertEqual(decide("min:2G,max:4G", available: gib).bytes, gib)
        XCTAssertEqual(decide("512M", available: 0).bytes, 0)
        XCTAssertEqual(decide(nil, available: 0).bytes, 0)
    }

    func testFractionsOfAvailable() {
        XCTAssertEqual(decide("25%", available: gib).bytes, 256 * mib)
        XCTAssertEqual(decide("128M+25%", available: gib).bytes, 384 * mib)
        XCTAssertEqual(decide("max:50%", available: gib).bytes, 512 * mib)
    }

    func testPartialPagesRoundDown() {
        XCTAssertEqual(decide("1001K", available: gib).pages, 250)
        XCTAssertEqual(decide("4095B", available: gib).bytes, gib - 64 * mib, "less than a page is 0: default")
        let odd = decide(nil, available: gib + 4095)
        XCTAssertEqual(odd.bytes, gib - 64 * mib)
    }

    func testHugeQuantitiesSaturateInsteadOfTrapping() {
        let decision = decide("min:16777215T+99%", available: UInt64.max)
        XCTAssertEqual(decision.pages, UInt64.max >> 12)
        XCTAssertEqual(decision.minimumBytes, UInt64.max)
        XCTAssertEqual(decide("16777215T", available: UInt64.max).pages, ((1 << 24) - 1) << 28)
    }

    func testDecisionLine() {
        var sink = ByteBufferSink()
        decide("512M,max:512M", available: gib).write(into: &sink)
        XCTAssertEqual(sink.text, "Dom0 memory: 512MB (131072 pages), min 0B, max 512MB")
        sink = ByteBufferSink()
        decide(nil, available: gib).write(into: &sink)
        XCTAssertEqual(sink.text, "Dom0 memory: 960MB (245760 pages, default), min 0B, max unlimited")
    }

    /// Invariants of the rule over many random specs and machine sizes.
    func testDecisionInvariantsHoldForRandomSpecs() {
        var random = SeededGenerator(seed: 0xD0_E0_3E3)
        for _ in 0..<20_000 {
            let available = random.next() >> (random.next() % 64)
            let spec = Dom0MemorySpec(amount: randomQuantity(&random), minimum: randomQuantity(&random),
                                      maximum: randomQuantity(&random))
            let decision = spec.decide(availableBytes: available)
            let availablePages = available >> 12
            let amount = spec.amount?.pages(availablePages: availablePages) ?? 0
            let minimum = spec.minimum?.pages(availablePages: availablePages) ?? 0
            let maximum = spec.maximum?.pages(availablePages: availablePages) ?? 0
            XCTAssertLessThanOrEqual(decision.pages, availablePages)
            XCTAssertEqual(decision.bytes, decision.pages * 4096)
            XCTAssertEqual(decision.amountGiven, amount != 0)
            XCTAssertEqual(decision.minimumGiven, minimum != 0)
            XCTAssertEqual(decision.maximumGiven, maximum != 0)
            XCTAssertEqual(decision.maximumPages, maximum == 0 ? nil : maximum)
            if maximum != 0 { XCTAssertLessThanOrEqual(decision.pages, maximum) }
            if minimum <= availablePages && (maximum == 0 || minimum <= maximum) {
                XCTAssertGreaterThanOrEqual(decision.pages, minimum)
            }
            if amount != 0 && amount >= minimum && (maximum == 0 || amount <= maximum) && amount <= availablePages {
                XCTAssertEqual(decision.pages, amount, "a fitting amount is taken as is")
            }
            if amount == 0 && minimum == 0 && maximum == 0 {
                XCTAssertEqual(decision.pages, availablePages - min(availablePages / 16, 32768))
            }
        }
    }

    private func randomQuantity(_ random: inout SeededGenerator) -> Dom0MemoryQuantity? {
        switch random.next() % 4 {
        case 0: return nil
        default:
            let bytes = random.next() % 3 == 0 ? random.next() : (random.next() % 8192) << 20
            return Dom0MemoryQuantity(bytes: bytes, percentOfAvailable: UInt8(random.next() % 3 == 0 ? random.next() % 100 : 0),
                                      subtractedFromAvailable: random.next() % 3 == 0)
        }
    }
}

