// The machine-to-phys table (M2P): one 8-byte entry per machine frame, giving the
// pseudo-physical frame a PV guest uses for it, or INVALID_M2P_ENTRY. The PV ABI places a
// read-only view of it at MACH2PHYS_VIRT_START (0xFFFF800000000000) in every address
// space, so guest kernels translate without a hypercall; Apus maps it inside its own L4
// slot (which every guest L4 shares) with user access, read-only, no-execute.
import ApusCore
import ArchX86

enum MachineToPhys {
    static let virtualStart: UInt64 = 0xFFFF_8000_0000_0000
    static let invalidEntry: UInt64 = ~0
    nonisolated(unsafe) static var tableMachineAddress: UInt64 = 0
    nonisolated(unsafe) static var entries: UInt64 = 0

    /// Allocates and maps the table for every frame below the top of RAM.
    static func create() {
        entries = Memory.ramFrameEnd
        let bytes = (entries * 8 + 0x1F_FFFF) & ~0x1F_FFFF  // whole 2 MiB pages
        let order = orderFor(bytes: bytes)
        guard let first = Memory.allocator.allocate(order: order) else { panic("No memory for the machine-to-phys table") }
        tableMachineAddress = first << 12
        DirectMap.pointer(to: tableMachineAddress, as: UInt64.self).update(repeating: invalidEntry, count: Int(bytes / 8))
        let flags = PageTableEntry.user | PageTableEntry.noExecute
        var mapper = PageTableMapper(memory: AllocatorTableMemory(), rootFrame: HypervisorPageTables.rootFrame)
        do throws(PagingError) {
            try mapper.map(virtual: virtualStart, physical: tableMachineAddress, count: Int(bytes >> 21),
                           size: .size2M, flags: flags)
        } catch {
            panic("Cannot map the machine-to-phys table")
        }
        Log.line(.info) { c in
            c.write("Machine-to-phys table: "); c.write(decimal: entries); c.write(" entries at ")
            c.write(hex0x: virtualStart); c.write(" (read-only to guests)")
        }
    }

    static func get(machineFrame: UInt64) -> UInt64 {
        guard machineFrame < entries else { return invalidEntry }
        return DirectMap.pointer(to: tableMachineAddress + machineFrame * 8, as: UInt64.self).pointee
    }

    static func set(machineFrame: UInt64, pseudoPhysicalFrame: UInt64) {
        guard machineFrame < entries else { return }
        DirectMap.pointer(to: tableMachineAddress + machineFrame * 8, as: UInt64.self).pointee = pseudoPhysicalFrame
    }

    static func orderFor(bytes: UInt64) -> Int {
        var order = 0
        while (UInt64(4096) << UInt64(order)) < bytes { order += 1 }
        return order
    }
}

/// Page-table frames for Apus's own tables once the frame allocator runs.
struct AllocatorTableMemory: PageTableMemory {
    func table(_ frame: UInt64) -> UnsafeMutablePointer<UInt64> {
        DirectMap.pointer(to: frame << 12, as: UInt64.self)
    }

    mutating func allocateTableFrame() -> UInt64? {
        guard let frame = Memory.allocator.allocate(order: 0) else { return nil }
        table(frame).update(repeating: 0, count: 512)
        return frame
    }
}
