// Names for addresses in Apus's own text, for crash reports. The table is generated from
// the first link of the image (scripts/gen-symbols.sh) and linked into the second.
import ApusCore
import ArchX86

enum Symbols {
    nonisolated(unsafe) static var table: SymbolTable? = nil

    static func load() {
        let start = ImageLayout.symbolTable
        let end = ImageLayout.symbolTableEnd
        guard end > start else { return }
        let blob = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(start)), count: Int(end - start))
        table = try? SymbolTable(blob: blob)
    }

    static func isHypervisorText(_ address: UInt64) -> Bool {
        address >= ImageLayout.textStart && address < ImageLayout.textEnd
    }

    /// Writes `name+0xoffset` for `address`, or the bare address's position in the text.
    static func describe(_ address: UInt64, into sink: inout Console) {
        guard isHypervisorText(address) else { sink.write("??"); return }
        if table != nil, table!.nearestSymbol(to: address) != nil {
            sink.write(symbolFor: address, in: table)
        } else {
            sink.write("text+"); sink.write(hex0x: address - ImageLayout.textStart)
        }
    }
}
