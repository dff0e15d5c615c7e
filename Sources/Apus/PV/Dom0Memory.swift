// dom0's memory: the machine frames behind its pseudo-physical frames.
//
// Allocated as the largest buddy blocks available, so the p2m is a short list of runs
// rather than a table Apus would need memory for before dom0 exists. Pseudo-physical
// frame n is the n-th frame across the runs in order. Every frame is marked as owned by
// the domain and entered in the machine-to-phys table.
import ApusCore
import ArchX86

struct FrameRun {
    var firstFrame: UInt64 = 0
    var count: UInt64 = 0
}

struct Dom0Frames {
    static let runCapacity = 256
    var runs = InlineArray<256, FrameRun>(repeating: FrameRun())
    var runCount = 0
    var pageCount: UInt64 = 0

    /// Allocates `pages` frames (largest blocks first). nil when memory runs out.
    static func allocate(pages: UInt64, owner: UInt16) -> Dom0Frames? {
        var frames = Dom0Frames()
        var order = FrameAllocator.maxOrder
        while frames.pageCount < pages {
            let remaining = pages - frames.pageCount
            while order > 0 && (UInt64(1) << UInt64(order)) > remaining { order -= 1 }
            guard let block = Memory.allocator.allocate(order: order) else {
                if order == 0 { return nil }
                order -= 1
                continue
            }
            let count = UInt64(1) << UInt64(order)
            if frames.runCount > 0 && frames.runs[frames.runCount - 1].firstFrame + frames.runs[frames.runCount - 1].count == block {
                frames.runs[frames.runCount - 1].count += count
            } else {
                guard frames.runCount < runCapacity else { return nil }
                frames.runs[frames.runCount] = FrameRun(firstFrame: block, count: count)
                frames.runCount += 1
            }
            for frame in block..<(block + count) {
                Memory.allocator.frameTable[Int(frame)].owner = owner
                Memory.allocator.frameTable[Int(frame)].typeInfo = 0
                Memory.allocator.frameTable[Int(frame)].countInfo = 0
                MachineToPhys.set(machineFrame: frame, pseudoPhysicalFrame: frames.pageCount + (frame - block))
            }
            frames.pageCount += count
        }
        return frames
    }

    /// The machine frame behind pseudo-physical frame `pfn`.
    func machineFrame(_ pfn: UInt64) -> UInt64 {
        var base: UInt64 = 0
        for index in 0..<runCount {
            let run = runs[index]
            if pfn < base + run.count { return run.firstFrame + (pfn - base) }
            base += run.count
        }
        preconditionFailure("pfn beyond the domain")
    }

    /// A writable pointer to pseudo-physical frame `pfn` through the direct map.
    func page(_ pfn: UInt64) -> UnsafeMutablePointer<UInt8> {
        DirectMap.pointer(to: machineFrame(pfn) << 12, as: UInt8.self)
    }

    func forEachFrame(_ body: (_ pfn: UInt64, _ mfn: UInt64) -> Void) {
        var pfn: UInt64 = 0
        for index in 0..<runCount {
            let run = runs[index]
            for offset in 0..<run.count { body(pfn + offset, run.firstFrame + offset) }
            pfn += run.count
        }
    }

    var lowestFrame: UInt64 { runCount > 0 ? runs[0].firstFrame : 0 }
}
