// SymbolTable: maps a code address in the hypervisor image to "symbol+offset" for crash lines.
//
// At -Osize every failed Swift check is a bare ud2, so the #UD and #PF handlers print RIP and
// the nearest symbol. scripts/gen-symbols.sh turns `nm -n` output of the linked image into a
// blob in section .apus_symbols (label apus_symbol_table ... apus_symbol_table_end):
//
//   offset 0   magic "ASYM"          offset 4   count (u32)
//   offset 8   string bytes (u32)    offset 12  reserved, 0
//   offset 16  end address (u64): first address past the last text symbol, 0 if unknown
//   offset 24  count entries of 16 bytes: address (u64), name offset (u32), reserved (u32),
//              sorted by address, ascending
//   then       the string table: names, each ending in NUL
//
// Invariants: `init` checks the magic, that header + entries + strings fit in the blob, and
// that addresses never decrease, so lookups index only inside the blob; a name offset past
// the string table yields an empty name, and a name without its NUL ends at the table's end.
// Imports nothing.

public enum SymbolTableError: Error, Equatable {
    case tooShort
    case badMagic
    case sizeMismatch
    case notSorted(index: Int)
}

public struct SymbolTable {
    public static let magic: UInt32 = 0x4D59_5341  // "ASYM" read little-endian
    public static let headerSize = 24
    public static let entrySize = 16
    /// Longest name returned; longer (demangled generic) names are cut.
    public static let maximumNameLength = 512

    let blob: ByteWindow
    public let count: Int
    public let endAddress: UInt64
    let stringsOffset: Int
    let stringsSize: Int

    public init(blob raw: UnsafeRawBufferPointer) throws(SymbolTableError) {
        let blob = ByteWindow(raw)
        guard blob.count >= SymbolTable.headerSize, let magic = blob.uint32(at: 0), let count = blob.uint32(at: 4),
              let stringsSize = blob.uint32(at: 8), let end = blob.uint64(at: 16) else { throw .tooShort }
        guard magic == SymbolTable.magic else { throw .badMagic }
        let (entriesBytes, overflow1) = Int(count).multipliedReportingOverflow(by: SymbolTable.entrySize)
        let (stringsOffset, overflow2) = SymbolTable.headerSize.addingReportingOverflow(entriesBytes)
        guard !overflow1, !overflow2, blob.contains(offset: stringsOffset, size: Int(stringsSize)) else {
            throw .sizeMismatch
        }
        var previous: UInt64 = 0
        for index in 0..<Int(count) {
            let address = blob.uint64(at: SymbolTable.headerSize + index * SymbolTable.entrySize) ?? 0
            guard address >= previous else { throw .notSorted(index: index) }
            previous = address
        }
        self.blob = blob
        self.count = Int(count)
        self.endAddress = end
        self.stringsOffset = stringsOffset
        self.stringsSize = Int(stringsSize)
    }

    /// The `index`-th symbol's address and name.
    public func symbol(_ index: Int) -> (address: UInt64, name: ByteText)? {
        guard index >= 0 && index < count else { return nil }
        let entry = SymbolTable.headerSize + index * SymbolTable.entrySize
        guard let address = blob.uint64(at: entry), let nameOffset = blob.uint32(at: entry + 8) else { return nil }
        return (address, name(at: Int(nameOffset)))
    }

    /// The symbol at or below `address` and how far past it `address` is; nil before the first
    /// symbol, at or past the end address, or for an empty table.
    public func nearestSymbol(to address: UInt64) -> (name: ByteText, offset: UInt64)? {
        guard count > 0, endAddress == 0 || address < endAddress else { return nil }
        // Find the last entry whose address is <= `address`.
        var low = 0, high = count
        while low < high {
            let middle = low + (high - low) / 2
            if let entryAddress = blob.uint64(at: SymbolTable.headerSize + middle * SymbolTable.entrySize),
               entryAddress <= address {
                low = middle + 1
            } else {
                high = middle
            }
        }
        guard low > 0, let found = symbol(low - 1) else { return nil }
        return (found.name, address - found.address)
    }

    private func name(at offset: Int) -> ByteText {
        guard offset >= 0, offset < stringsSize,
              let strings = blob.slice(offset: stringsOffset, size: stringsSize) else { return .empty }
        var end = offset
        while end < stringsSize && end - offset < SymbolTable.maximumNameLength && strings.uint8(at: end) != 0 {
            end += 1
        }
        return strings.text(at: offset, count: end - offset) ?? .empty
    }
}

extension TextSink {
    /// "name+0x1f" for `address`, or just the address in hex when no symbol covers it.
    public mutating func write(symbolFor address: UInt64, in table: SymbolTable?) {
        if let table, let (name, offset) = table.nearestSymbol(to: address) {
            write(name)
            write("+")
            write(hex0x: offset)
        } else {
            write(hex0x: address)
        }
    }
}
