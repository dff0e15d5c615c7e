import XCTest
@testable import ApusCore

final class GrantMapTrackTests: XCTestCase {
    func withTrack(_ body: (inout GrantMapTrack) -> Void) {
        let records = UnsafeMutableBufferPointer<GrantMapRecord>.allocate(capacity: 4)
        let pins = UnsafeMutableBufferPointer<GrantPins>.allocate(capacity: 32)
        defer { records.deallocate(); pins.deallocate() }
        var track = GrantMapTrack(records: records, pins: pins)
        body(&track)
    }

    func mapping(_ ref: UInt32, host: Bool = true, device: Bool = false, readOnly: Bool = false) -> GrantMapRecord {
        var r = GrantMapRecord()
        r.ref = ref; r.frame = 0x500; r.hostAddress = 0x1000; r.host = host; r.device = device; r.readOnly = readOnly
        return r
    }

    func testHandlesCountFromZeroAndAreReused() {
        withTrack { t in
            XCTAssertEqual(t.add(mapping(10)), 0)
            XCTAssertEqual(t.add(mapping(11)), 1)
            t.update(0, GrantMapRecord())
            XCTAssertNil(t.record(0), "freed")
            XCTAssertEqual(t.add(mapping(12)), 0, "the lowest free handle")
            XCTAssertEqual(t.add(mapping(13)), 2)
            XCTAssertEqual(t.add(mapping(14)), 3)
            XCTAssertNil(t.add(mapping(15)), "full")
            XCTAssertNil(t.add(GrantMapRecord()), "a record mapping nothing")
            XCTAssertNil(t.record(9999))
            XCTAssertTrue(t.holds(0x500))
        }
    }

    func testPinsDecideTheEntryStatusBits() {
        withTrack { t in
            t.pin(10, frame: 0x500, writable: true)
            XCTAssertEqual(t.statusBits(10), GrantMapTrack.reading | GrantMapTrack.writing)
            t.pin(10, frame: 0x500, writable: false)
            XCTAssertEqual(t.statusBits(10), GrantMapTrack.reading | GrantMapTrack.writing, "a read-only map adds nothing visible")
            t.unpin(10, writable: true)
            XCTAssertEqual(t.statusBits(10), GrantMapTrack.reading)
            XCTAssertEqual(t.pins(of: 10).frame, 0x500, "still active")
            t.unpin(10, writable: false)
            XCTAssertEqual(t.statusBits(10), 0)
            XCTAssertFalse(t.pins(of: 10).isActive)
            t.unpin(10, writable: false)
            XCTAssertEqual(t.pins(of: 10).readers, 0, "never below zero")
            t.pin(999, frame: 1, writable: true)
            XCTAssertEqual(t.statusBits(999), 0, "past the table: ignored")
        }
    }
}
