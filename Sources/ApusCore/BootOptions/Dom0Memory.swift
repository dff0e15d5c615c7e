// Dom0MemorySpec and Dom0MemoryDecision: `dom0_mem=` and how much memory dom0 gets.
//
// Syntax: a comma list of `<amt>`, `min:<amt>` and `max:<amt>`. Each amt is
// `[-]<size>`, `[-]<frac>%` or `[-]<size>+<frac>%`, where <frac> is below 100 and a size
// without a unit is in KiB. A leading `-` means "all available memory minus this".
// Several `dom0_mem=` options merge part by part, as Xen's do: `dom0_mem=512M dom0_mem=max:1G`
// gives 512 MiB with a 1 GiB ceiling. Inside one option a later part replaces an earlier one.
//
// The decision (Xen's dom0_compute_nr_pages) works in 4 KiB pages:
// 1. Resolve each part against the available pages: size/4K plus frac% of the available
//    memory, and for a negative part, the available pages minus that, floored at 0.
//    A part that resolves to 0 counts as not given, as in Xen.
// 2. With no amount, use the available memory less min(1/16 of it, 128 MiB).
// 3. Raise the amount to the minimum, then lower it to the maximum (the maximum wins), then
//    lower it to what is available.
// The maximum is also dom0's reservation ceiling. Without one dom0 may balloon up freely.
// Imports nothing.

/// One `dom0_mem` quantity before it is resolved against the available memory.
public struct Dom0MemoryQuantity: Equatable {
    public var bytes: UInt64
    /// 0...99.
    public var percentOfAvailable: UInt8
    /// `-<amt>`: the available memory minus the amount.
    public var subtractedFromAvailable: Bool

    public init(bytes: UInt64, percentOfAvailable: UInt8 = 0, subtractedFromAvailable: Bool = false) {
        self.bytes = bytes
        self.percentOfAvailable = percentOfAvailable
        self.subtractedFromAvailable = subtractedFromAvailable
    }

    /// Pages this quantity stands for when `availablePages` are available.
    public func pages(availablePages: UInt64) -> UInt64 {
        let sizePages = bytes >> UInt64(BootValueSyntax.pageShift)
        // availablePages / 100 * p + remainder keeps the product from overflowing.
        let percentPages = availablePages / 100 * UInt64(percentOfAvailable)
            + availablePages % 100 * UInt64(percentOfAvailable) / 100
        let (sum, overflow) = sizePages.addingReportingOverflow(percentPages)
        let pages = overflow ? UInt64.max : sum
        guard subtractedFromAvailable else { return pages }
        return availablePages > pages ? availablePages - pages : 0
    }

    /// `[-]<size>`, `[-]<frac>%` or `[-]<size>+<frac>%`.
    public static func parse(_ text: ByteText) -> Dom0MemoryQuantity? {
        var rest = text
        var quantity = Dom0MemoryQuantity(bytes: 0)
        if rest.first == 0x2D {  // '-'
            quantity.subtractedFromAvailable = true
            rest = rest.dropFirst(1)
        }
        // A number directly followed by '%' is a fraction rather than a size.
        let (number, afterNumber) = rest.parseUnsignedPrefix()
        if let number, afterNumber.first == 0x25 {
            guard afterNumber.count == 1, let percent = fraction(number) else { return nil }
            quantity.percentOfAvailable = percent
            return quantity
        }
        let (bytes, afterSize) = BootValueSyntax.sizePrefix(rest)
        guard let bytes else { return nil }
        quantity.bytes = bytes
        if afterSize.isEmpty { return quantity }
        guard afterSize.first == 0x2B else { return nil }  // '+'
        let (fractionNumber, tail) = afterSize.dropFirst(1).parseUnsignedPrefix()
        guard let fractionNumber, tail.count == 1, tail.first == 0x25, let percent = fraction(fractionNumber) else {
            return nil
        }
        quantity.percentOfAvailable = percent
        return quantity
    }

    private static func fraction(_ number: UInt64) -> UInt8? { number < 100 ? UInt8(number) : nil }

    /// Back in `dom0_mem` syntax: `512M`, `-128M`, `25%`, `1G+25%`.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        if subtractedFromAvailable { sink.put(0x2D) }
        if bytes != 0 || percentOfAvailable == 0 { sink.write(bootOptionSize: bytes) }
        if percentOfAvailable != 0 {
            if bytes != 0 { sink.put(0x2B) }
            sink.write(decimal: UInt64(percentOfAvailable))
            sink.put(0x25)
        }
    }
}

/// The parts of `dom0_mem=` given so far.
public struct Dom0MemorySpec: Equatable {
    public var amount: Dom0MemoryQuantity? = nil
    public var minimum: Dom0MemoryQuantity? = nil
    public var maximum: Dom0MemoryQuantity? = nil

    public init(amount: Dom0MemoryQuantity? = nil, minimum: Dom0MemoryQuantity? = nil,
                maximum: Dom0MemoryQuantity? = nil) {
        self.amount = amount
        self.minimum = minimum
        self.maximum = maximum
    }

    public var isEmpty: Bool { amount == nil && minimum == nil && maximum == nil }

    /// Parses a `dom0_mem=` value and lays its parts over `earlier`.
    public static func parse(_ text: ByteText, over earlier: Dom0MemorySpec = Dom0MemorySpec())
        -> ParsedValue<Dom0MemorySpec>
    {
        var spec = earlier
        var entries = text.listEntries()
        while let entry = entries.next() {
            if entry.hasPrefix("min:") {
                guard let quantity = Dom0MemoryQuantity.parse(entry.dropFirst(4)) else { return malformed }
                spec.minimum = quantity
            } else if entry.hasPrefix("max:") {
                guard let quantity = Dom0MemoryQuantity.parse(entry.dropFirst(4)) else { return malformed }
                spec.maximum = quantity
            } else {
                guard let quantity = Dom0MemoryQuantity.parse(entry) else { return malformed }
                spec.amount = quantity
            }
        }
        return .value(spec)
    }

    private static var malformed: ParsedValue<Dom0MemorySpec> {
        .malformed(reason: "expected a list of [min:|max:][-]<size>[+<frac>%] like 512M,max:1G")
    }

    /// How much memory dom0 gets when `availableBytes` are free for it.
    public func decide(availableBytes: UInt64) -> Dom0MemoryDecision {
        let available = availableBytes >> UInt64(BootValueSyntax.pageShift)
        let amountPages = amount?.pages(availablePages: available) ?? 0
        let minimumPages = minimum?.pages(availablePages: available) ?? 0
        let maximumPages = maximum?.pages(availablePages: available) ?? 0

        var pages = amountPages
        if pages == 0 {
            let reserve = Swift.min(available / 16, Dom0MemoryDecision.defaultReserveLimitPages)
            pages = available - reserve
        }
        pages = Swift.max(pages, minimumPages)
        if maximumPages != 0 { pages = Swift.min(pages, maximumPages) }
        pages = Swift.min(pages, available)

        return Dom0MemoryDecision(
            pages: pages,
            minimumPages: minimumPages,
            maximumPages: maximumPages == 0 ? nil : maximumPages,
            amountGiven: amountPages != 0,
            minimumGiven: minimumPages != 0,
            maximumGiven: maximumPages != 0)
    }

    /// Back in `dom0_mem=` syntax, parts in the order amount, min, max. Empty when none is given.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        var separator = false
        if let amount {
            amount.write(into: &sink)
            separator = true
        }
        if let minimum {
            if separator { sink.put(0x2C) }
            sink.write("min:")
            minimum.write(into: &sink)
            separator = true
        }
        if let maximum {
            if separator { sink.put(0x2C) }
            sink.write("max:")
            maximum.write(into: &sink)
        }
    }
}

/// How much memory dom0 gets, in 4 KiB pages.
public struct Dom0MemoryDecision: Equatable {
    public static let pageSize: UInt64 = 4096
    /// The most that is held back for Apus (DMA buffers and the like) when no amount is given: 128 MiB.
    public static let defaultReserveLimitPages: UInt64 = (128 << 20) / pageSize

    /// What dom0 is built with.
    public var pages: UInt64
    public var minimumPages: UInt64
    /// dom0's reservation ceiling; nil when `max:` was not given (no ceiling).
    public var maximumPages: UInt64?
    /// Whether each part was given and resolved to more than zero pages.
    public var amountGiven: Bool
    public var minimumGiven: Bool
    public var maximumGiven: Bool

    public var bytes: UInt64 { Dom0MemoryDecision.bytes(pages) }
    /// Saturates at UInt64.max: a `min:` may ask for more than a 64-bit byte count holds.
    public var minimumBytes: UInt64 { Dom0MemoryDecision.bytes(minimumPages) }
    public var maximumBytes: UInt64? { maximumPages.map(Dom0MemoryDecision.bytes) }

    static func bytes(_ pages: UInt64) -> UInt64 {
        let (product, overflow) = pages.multipliedReportingOverflow(by: pageSize)
        return overflow ? UInt64.max : product
    }

    /// One line without a newline: `dom0 memory: 512MB (131072 pages), min 0B, max 512MB`.
    public func write<Sink: TextSink>(into sink: inout Sink) {
        sink.write("Dom0 memory: ")
        sink.write(size: bytes)
        sink.write(" (")
        sink.write(decimal: pages)
        sink.write(" pages")
        if !amountGiven { sink.write(", default") }
        sink.write("), min ")
        sink.write(size: minimumBytes)
        sink.write(", max ")
        if let maximumBytes { sink.write(size: maximumBytes) } else { sink.write("unlimited") }
    }
}
