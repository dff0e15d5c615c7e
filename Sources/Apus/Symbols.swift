// Names for addresses in Apus's own text, for crash reports.
import ApusCore
import ArchX86

enum Symbols {
    static func isHypervisorText(_ address: UInt64) -> Bool {
        address >= ImageLayout.textStart && address < ImageLayout.textEnd
    }

    /// Writes `name+0xoffset` for `address`, or `??` when it is not in Apus's text.
    static func describe(_ address: UInt64, into sink: inout Console) {
        guard isHypervisorText(address) else { sink.write("??"); return }
        sink.write("text+"); sink.write(hex0x: address - ImageLayout.textStart)
    }
}
