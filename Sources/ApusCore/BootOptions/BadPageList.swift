// BadPageList: the page frames that `badpage=` says the allocator must never hand out.
//
// Syntax: a comma list of page numbers (`0x12345`) or inclusive ranges (`0x20000-0x200ff`),
// the form Xen 4 accepts. A page number is a physical address shifted right by 12.
// Invariants: at most `capacity` ranges, each with `first <= last`, kept in the order
// given. The list lives inside BootOptions with no heap. A longer list is rejected as
// malformed and does not trap.
// Imports nothing.

public struct BadPageRange: Equatable {
    public var first: UInt64
    public var last: UInt64

    public init(first: UInt64, last: UInt64) {
        precondition(first <= last)
        self.first = first
        self.last = last
    }

    public func contains(_ frame: UInt64) -> Bool { frame >= first && frame <= last }
}

public struct BadPageList: Equatable {
    public static let capacity = 32

    private var storage = InlineArray<32, BadPageRange>(repeating: BadPageRange(first: 0, last: 0))
    public private(set) var count = 0

    public init() {}

    public var isEmpty: Bool { count == 0 }

    public subscript(index: Int) -> BadPageRange {
        precondition(index >= 0 && index < count)
        return storage[index]
    }

    /// Adds a range; false (and no change) when the list is full.
    @discardableResult
    public mutating func append(_ range: BadPageRange) -> Bool {
        guard count < BadPageList.capacity else { return false }
        storage[count] = range
        count += 1
        return true
    }

    public func contains(frame: UInt64) -> Bool {
        for index in 0..<count where storage[index].contains(frame) { return true }
        return false
    }

    public static func == (lhs: BadPageList, rhs: BadPageList) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for index in 0..<lhs.count where lhs.storage[index] != rhs.storage[index] { return false }
        return true
    }

    public static func parse(_ text: ByteText) -> ParsedValue<BadPageList> {
        var list = BadPageList()
        var entries = text.listEntries()
        while let entry = entries.next() {
            let (firstText, lastText) = entry.split(at: 0x2D)  // '-'
            guard let first = firstText.parseUnsigned() else {
                return .malformed(reason: "expected page numbers or ranges like 0x12345,0x20000-0x200ff")
            }
            var last = first
            if let lastText {
                guard let value = lastText.parseUnsigned() else {
                    return .malformed(reason: "expected a page number after '-', like 0x20000-0x200ff")
                }
                guard value >= first else { return .malformed(reason: "a range ends before it starts") }
                last = value
            }
            guard list.append(BadPageRange(first: first, last: last)) else {
                return .malformed(reason: "more than 32 bad-page entries")
            }
        }
        return .value(list)
    }

    /// Back in `badpage=` syntax, hex page numbers.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        for index in 0..<count {
            if index > 0 { sink.put(0x2C) }
            let range = storage[index]
            sink.write(hex0x: range.first)
            if range.last != range.first {
                sink.put(0x2D)
                sink.write(hex0x: range.last)
            }
        }
    }
}
