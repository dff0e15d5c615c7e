// VGAOption: the video mode that `vga=<mode>[,keep]` asks for.
//
// Modes: `ask`, `current`, `text-80x25|28|30|34|43|50|60`, `gfx-<W>x<H>x<D>` and
// `mode-0x<hex>`. `,keep` (or plain `keep`) keeps writing to VGA after dom0 starts.
// Xen sets these modes from real mode before it enters protected mode. Apus starts in
// long mode from the boot loader, so it can only use the 80x25 text mode it is given.
// Which values Apus honours is decided in BootOption.swift's support table.
// Imports nothing.

public enum VGAMode: Equatable {
    case ask
    case current
    case text(rows: UInt8)
    case graphics(width: UInt16, height: UInt16, depthBits: UInt8)
    case modeNumber(UInt16)
}

public struct VGAOption: Equatable {
    public var mode: VGAMode = .text(rows: 25)
    public var keep = false

    public init() {}

    public static func parse(_ text: ByteText) -> ParsedValue<VGAOption> {
        var option = VGAOption()
        let (modeText, rest) = text.split(at: 0x2C)
        if let rest {
            guard rest.equals("keep") else { return .malformed(reason: "only ,keep may follow the mode") }
            option.keep = true
        }
        if modeText.equals("keep") && rest == nil {
            option.keep = true
            return .value(option)
        }
        guard let mode = parseMode(modeText) else {
            return .malformed(
                reason: "expected ask, current, text-80x<25|28|30|34|43|50|60>, gfx-<W>x<H>x<D> or mode-0x<hex>")
        }
        option.mode = mode
        return .value(option)
    }

    static func parseMode(_ text: ByteText) -> VGAMode? {
        if text.equals("ask") { return .ask }
        if text.equals("current") { return .current }
        if text.hasPrefix("text-80x") {
            guard let rows = decimal(text.dropFirst(8), max: 60) else { return nil }
            switch rows {
            case 25, 28, 30, 34, 43, 50, 60: return .text(rows: UInt8(rows))
            default: return nil
            }
        }
        if text.hasPrefix("gfx-") {
            let (widthText, afterWidth) = text.dropFirst(4).split(at: 0x78)  // 'x'
            guard let afterWidth else { return nil }
            let (heightText, depthText) = afterWidth.split(at: 0x78)
            guard let depthText,
                  let width = decimal(widthText, max: 0xFFFF), width > 0,
                  let height = decimal(heightText, max: 0xFFFF), height > 0,
                  let depth = decimal(depthText, max: 32), isColourDepth(depth)
            else { return nil }
            return .graphics(width: UInt16(width), height: UInt16(height), depthBits: UInt8(depth))
        }
        if text.hasPrefix("mode-0x") || text.hasPrefix("mode-0X") {
            guard let number = text.dropFirst(5).parseUnsigned(), number <= 0xFFFF else { return nil }
            return .modeNumber(UInt16(number))
        }
        return nil
    }

    private static func isColourDepth(_ bits: UInt64) -> Bool {
        switch bits {
        case 8, 15, 16, 24, 32: return true
        default: return false
        }
    }

    /// Plain decimal digits only: in `gfx-1024x768x32` a leading 0 is not octal.
    private static func decimal(_ text: ByteText, max: UInt64) -> UInt64? {
        guard !text.isEmpty, text.count <= 6 else { return nil }
        var value: UInt64 = 0
        for index in 0..<text.count {
            guard (0x30...0x39).contains(text[index]) else { return nil }
            value = value * 10 + UInt64(text[index] - 0x30)
        }
        return value <= max ? value : nil
    }

    public func write<Sink: TextSink>(into sink: inout Sink) {
        switch mode {
        case .ask: sink.write("ask")
        case .current: sink.write("current")
        case .text(let rows):
            sink.write("text-80x")
            sink.write(decimal: UInt64(rows))
        case .graphics(let width, let height, let depth):
            sink.write("gfx-")
            sink.write(decimal: UInt64(width))
            sink.put(0x78)
            sink.write(decimal: UInt64(height))
            sink.put(0x78)
            sink.write(decimal: UInt64(depth))
        case .modeNumber(let number):
            sink.write("mode-")
            sink.write(hex0x: UInt64(number), minimumDigits: 3)
        }
        if keep { sink.write(",keep") }
    }
}
