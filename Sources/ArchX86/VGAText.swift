// The VGA text screen (80x25 at physical 0xB8000), written through the direct map.
//
// Invariant: `row`/`column` always point inside the screen; writing past the last row
// scrolls. Not thread-safe: the console serialises callers.
import _Volatile

public struct VGAText {
    public static let columns = 80
    public static let rows = 25
    let base: UInt64
    var row = 0
    var column = 0
    let attribute: UInt16 = 0x0700  // light grey on black

    /// `bufferVirtualAddress`: where physical 0xB8000 is mapped.
    public init(bufferVirtualAddress: UInt64) {
        base = bufferVirtualAddress
        clear()
    }

    @inline(__always) func cell(_ r: Int, _ c: Int) -> VolatileMappedRegister<UInt16> {
        VolatileMappedRegister<UInt16>(unsafeBitPattern: UInt(base) + UInt((r * VGAText.columns + c) * 2))
    }

    public mutating func clear() {
        for r in 0..<VGAText.rows { for c in 0..<VGAText.columns { cell(r, c).store(attribute | 0x20) } }
        row = 0; column = 0
    }

    public mutating func put(_ byte: UInt8) {
        switch byte {
        case 0x0A: newline()
        case 0x0D: column = 0
        default:
            cell(row, column).store(attribute | UInt16(byte))
            column += 1
            if column == VGAText.columns { newline() }
        }
    }

    mutating func newline() {
        column = 0
        if row + 1 < VGAText.rows {
            row += 1
        } else {
            for r in 1..<VGAText.rows {
                for c in 0..<VGAText.columns { cell(r - 1, c).store(cell(r, c).load()) }
            }
            for c in 0..<VGAText.columns { cell(VGAText.rows - 1, c).store(attribute | 0x20) }
        }
        moveCursor()
    }

    /// The blinking hardware cursor follows the output (CRTC registers 0x0E/0x0F), once per line.
    func moveCursor() {
        let position = UInt16(row * VGAText.columns + column)
        Port.out8(0x3D4, 0x0F); Port.out8(0x3D5, UInt8(truncatingIfNeeded: position))
        Port.out8(0x3D4, 0x0E); Port.out8(0x3D5, UInt8(truncatingIfNeeded: position >> 8))
    }
}
