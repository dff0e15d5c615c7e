import Foundation
import XCTest
@testable import ApusCore

final class Dom0BuilderLayoutTests: XCTestCase {
    /// Lines 118-131 of ../shared/reference/xen-4.17-dom0-linux-boot.log (Xen 4.17, Debian's
    /// Linux 6.1, dom0_mem=256M, a 0x100413-byte initrd), without the "(XEN) " prefix.
    static let referenceArrangement = """
        PHYSICAL MEMORY ARRANGEMENT:
         Dom0 alloc.:   0000000030000000->0000000038000000 (32511 pages to be allocated)
         Init. ramdisk: 000000003f8ff000->000000003f9ff413
        VIRTUAL MEMORY ARRANGEMENT:
         Loaded kernel: ffffffff81000000->ffffffff84a00000
         Phys-Mach map: 0000008000000000->0000008000080000
         Start info:    ffffffff84a00000->ffffffff84a004b8
         Page tables:   ffffffff84a01000->ffffffff84a2a000
         Boot stack:    ffffffff84a2a000->ffffffff84a2b000
         TOTAL:         ffffffff80000000->ffffffff84c00000
         ENTRY ADDRESS: ffffffff830791c0

        """

    static let referenceRequest = Dom0LayoutRequest(
        virtBase: 0xFFFF_FFFF_8000_0000, kernelStart: 0xFFFF_FFFF_8100_0000, kernelEnd: 0xFFFF_FFFF_84A0_0000,
        p2mBase: 0x80_0000_0000, unmappedInitrd: true, initrdBytes: 0x10_0413, nrPages: 65536,
        hypercallPage: 0xFFFF_FFFF_8100_1000)

    private func arrangement(_ layout: Dom0Layout, allocation: UInt64 = 0x3000_0000, initrd: UInt64? = 0x3F8F_F000,
                             entry: UInt64 = 0xFFFF_FFFF_8307_91C0) -> String {
        var sink = ByteBufferSink()
        layout.printArrangement(into: &sink, allocationStart: allocation, initrdStart: initrd, entry: entry)
        return sink.text
    }

    func testReproducesTheReferenceBootLog() throws {
        let layout = try Dom0Layout.compute(Self.referenceRequest)
        XCTAssertEqual(arrangement(layout), Self.referenceArrangement)
        XCTAssertEqual(layout.pageTableFrames, 41)
        XCTAssertEqual([layout.l4Frames, layout.l3Frames, layout.l2Frames, layout.l1Frames], [1, 1, 1, 38])
        XCTAssertEqual(layout.allocationOrder, 15)
        XCTAssertEqual(layout.initrdPages, 257)
        XCTAssertEqual(layout.initialPages, 33025)
        XCTAssertEqual(layout.remainingPages, 32511)
        XCTAssertEqual(layout.initrdPFN, 32768)
        XCTAssertEqual(layout.moduleStart, 32768)
        XCTAssertTrue(layout.moduleStartIsPFN)
        XCTAssertFalse(layout.p2mInInitialMapping)
        XCTAssertEqual(layout.initialStackPointer, 0xFFFF_FFFF_84A2_B000)
        XCTAssertEqual(layout.startInfoAddress, 0xFFFF_FFFF_84A0_0000)
        XCTAssertEqual(layout.pfn(of: layout.pageTables.start), 0x4A01)
        XCTAssertNil(layout.pfn(of: 0xFFFF_FFFF_84C0_0000))

        // start_info.first_p2m_pfn / nr_p2m_frames as Xen sets them: the 512 KiB list at
        // 0x8000000000 takes an L3, an L2, an L1 and 128 pages.
        let p2m = try XCTUnwrap(try layout.p2mMapping(allow1GiBPages: true))
        XCTAssertEqual(p2m, Dom0P2MMapping(l3Tables: 1, l2Tables: 1, l1Tables: 1, pages4K: 128, firstPFN: 33025))
        XCTAssertEqual(p2m.frameCount, 131)

        // Against the log file itself, where it is.
        let log = URL(fileURLWithPath: "/work/shared/reference/xen-4.17-dom0-linux-boot.log")
        if let text = try? String(contentsOf: log, encoding: .utf8) {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let start = try XCTUnwrap(lines.firstIndex(of: "(XEN) PHYSICAL MEMORY ARRANGEMENT:"))
            let fromLog = lines[start..<(start + 11)].map { String($0.dropFirst(6)) }.joined(separator: "\n") + "\n"
            XCTAssertEqual(arrangement(layout), fromLog)
        }
    }

    /// The same numbers from a parsed kernel: ELF fixture -> notes -> layout -> log lines.
    func testFromParsedKernel() throws {
        let bytes = TestELF.linuxLike().build()
        XCTAssertNil(KernelParse.run(bytes) { image in
            let layout = try Dom0Layout.compute(Dom0LayoutRequest(kernel: image, initrdBytes: 0x10_0413, nrPages: 65536))
            XCTAssertEqual(self.arrangement(layout, entry: image.entry), Self.referenceArrangement)
            XCTAssertEqual(layout.request, Self.referenceRequest)
        })
    }

    /// An older-style kernel: initrd and p2m list inside the mapping. Numbers worked out by hand.
    func testMappedInitrdAndP2M() throws {
        let layout = try Dom0Layout.compute(Dom0LayoutRequest(
            virtBase: 0xFFFF_FFFF_8000_0000, kernelStart: 0xFFFF_FFFF_8100_0000, kernelEnd: 0xFFFF_FFFF_8200_0000,
            initrdBytes: 0x10_0413, nrPages: 0x10000))
        XCTAssertEqual(layout.initrd, VirtualRange(start: 0xFFFF_FFFF_8200_0000, end: 0xFFFF_FFFF_8210_0413))
        XCTAssertEqual(layout.p2m, VirtualRange(start: 0xFFFF_FFFF_8210_1000, end: 0xFFFF_FFFF_8218_1000))
        XCTAssertTrue(layout.p2mInInitialMapping)
        XCTAssertEqual(layout.startInfo, VirtualRange(start: 0xFFFF_FFFF_8218_1000, end: 0xFFFF_FFFF_8218_14B8))
        XCTAssertEqual(layout.pageTables, VirtualRange(start: 0xFFFF_FFFF_8218_2000, end: 0xFFFF_FFFF_8219_7000))
        XCTAssertEqual(layout.pageTableFrames, 21)
        XCTAssertEqual(layout.bootStack, VirtualRange(start: 0xFFFF_FFFF_8219_7000, end: 0xFFFF_FFFF_8219_8000))
        XCTAssertEqual(layout.total, VirtualRange(start: 0xFFFF_FFFF_8000_0000, end: 0xFFFF_FFFF_8240_0000))
        XCTAssertEqual(layout.allocationOrder, 14)       // 0x2400000 - 0x101000 bytes -> 16384 pages
        XCTAssertEqual(layout.initialPages, 16384 + 257)
        XCTAssertEqual(layout.initrdPFN, 0x2000)
        XCTAssertEqual(layout.moduleStart, 0xFFFF_FFFF_8200_0000)
        XCTAssertFalse(layout.moduleStartIsPFN)
        XCTAssertNil(try layout.p2mMapping(allow1GiBPages: true))
        XCTAssertEqual(arrangement(layout, allocation: 0x100_0000, initrd: 0x7F00_0000, entry: 0xFFFF_FFFF_8100_0000), """
            PHYSICAL MEMORY ARRANGEMENT:
             Dom0 alloc.:   0000000001000000->0000000005000000 (48895 pages to be allocated)
             Init. ramdisk: 000000007f000000->000000007f100413
            VIRTUAL MEMORY ARRANGEMENT:
             Loaded kernel: ffffffff81000000->ffffffff82000000
             Init. ramdisk: ffffffff82000000->ffffffff82100413
             Phys-Mach map: ffffffff82101000->ffffffff82181000
             Start info:    ffffffff82181000->ffffffff821814b8
             Page tables:   ffffffff82182000->ffffffff82197000
             Boot stack:    ffffffff82197000->ffffffff82198000
             TOTAL:         ffffffff80000000->ffffffff82400000
             ENTRY ADDRESS: ffffffff81000000

            """)
    }

    func testPaddingRule() throws {
        // With 4 table frames the stack would end at 0x781000, 0x7f000 short of 4 MiB: less
        // than 512 KiB, so v_end moves to 12 MiB, which needs 7 frames; the stack ends at 0x784000.
        let tight = try Dom0Layout.compute(Dom0LayoutRequest(
            virtBase: 0x40_0000, kernelStart: 0x40_0000, kernelEnd: 0x77_B000, p2mBase: 0x1_0000_0000,
            nrPages: 0x10000))
        XCTAssertEqual(tight.bootStack.end, 0x78_4000)
        XCTAssertEqual(tight.pageTableFrames, 7)
        XCTAssertEqual(tight.total.end, 0xC0_0000)
        XCTAssertGreaterThanOrEqual(tight.total.end - tight.bootStack.end, 512 << 10)
        let roomy = try Dom0Layout.compute(Dom0LayoutRequest(
            virtBase: 0x40_0000, kernelStart: 0x40_0000, kernelEnd: 0x60_0000, p2mBase: 0x1_0000_0000, nrPages: 0x10000))
        XCTAssertEqual(roomy.total.end, 0x80_0000)
    }

    func testRefusals() {
        func error(_ request: Dom0LayoutRequest) -> Dom0LayoutError? {
            do { _ = try Dom0Layout.compute(request); return nil } catch { return error }
        }
        var request = Self.referenceRequest
        request.nrPages = 33024
        XCTAssertEqual(error(request), .tooSmallForKernel(neededPages: 33025, nrPages: 33024))
        request.nrPages = 33025
        XCTAssertNil(error(request))

        request = Self.referenceRequest
        request.p2mBase = 0xFFFF_FFFF_84C0_0000  // touching v_end counts as overlap, as in Xen
        XCTAssertEqual(error(request), .p2mOverlapsMapping(p2m: VirtualRange(start: 0xFFFF_FFFF_84C0_0000, end: 0xFFFF_FFFF_84C8_0000),
                                                          mapping: VirtualRange(start: 0xFFFF_FFFF_8000_0000, end: 0xFFFF_FFFF_84C0_0000)))
        request.p2mBase = 0xFFFF_8400_0000_0000
        XCTAssertEqual(error(request), .overlapsHypervisor(VirtualRange(start: 0xFFFF_8400_0000_0000, end: 0xFFFF_8400_0008_0000)))
        request.p2mBase = 0x7FFF_FFFF_0000
        XCTAssertEqual(error(request), .notCanonical(VirtualRange(start: 0x7FFF_FFFF_0000, end: 0x8000_0007_0000)))

        request = Self.referenceRequest
        request.hypercallPage = 0xFFFF_FFFF_84C0_0000
        XCTAssertEqual(error(request), .hypercallPageOutsideMapping(
            address: 0xFFFF_FFFF_84C0_0000, mapping: VirtualRange(start: 0xFFFF_FFFF_8000_0000, end: 0xFFFF_FFFF_84C0_0000)))

        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0xFFFF_8000_0000_0000, kernelStart: 0xFFFF_8000_0010_0000,
                                               kernelEnd: 0xFFFF_8000_0020_0000, p2mBase: 0x80_0000_0000, nrPages: 1 << 20)),
                       .overlapsHypervisor(VirtualRange(start: 0xFFFF_8000_0000_0000, end: 0xFFFF_8000_0040_0000)))
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0x7FFF_FFC0_0000, kernelStart: 0x7FFF_FFC0_0000,
                                               kernelEnd: 0x7FFF_FFF8_0000, p2mBase: 0x80_0000_0000, nrPages: 1 << 20)),
                       .notCanonical(VirtualRange(start: 0x7FFF_FFC0_0000, end: 0x8000_0040_0000)))
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0xFFFF_FFFF_FFC0_0000, kernelStart: 0xFFFF_FFFF_FFC0_0000,
                                               kernelEnd: 0xFFFF_FFFF_FFE0_0000, nrPages: 1 << 20)),
                       .addressOverflow)
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0, kernelStart: 0, kernelEnd: UInt64.max, nrPages: 1)),
                       .addressOverflow)
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0x1000, kernelStart: 0x2000, kernelEnd: 0x1000, nrPages: 100)),
                       .kernelOutsideMapping(virtBase: 0x1000, kernelStart: 0x2000, kernelEnd: 0x1000))
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0x3000, kernelStart: 0x2000, kernelEnd: 0x4000, nrPages: 100)),
                       .kernelOutsideMapping(virtBase: 0x3000, kernelStart: 0x2000, kernelEnd: 0x4000))
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0, kernelStart: 0, kernelEnd: 0x1000, initrdBytes: UInt64.max - 0x800,
                                               nrPages: 100)), .addressOverflow)
        XCTAssertEqual(error(Dom0LayoutRequest(virtBase: 0, kernelStart: 0, kernelEnd: 0x1000, nrPages: UInt64.max / 4)),
                       .addressOverflow)
    }

    func testErrorSentences() {
        func sentence(_ error: Dom0LayoutError) -> String {
            var sink = ByteBufferSink()
            error.write(to: &sink)
            return sink.text
        }
        XCTAssertEqual(sentence(.tooSmallForKernel(neededPages: 33025, nrPages: 1000)),
                       "Domain 0 allocation is too small for kernel image: it needs 33025 pages, dom0_mem gives 1000")
        XCTAssertEqual(sentence(.overlapsHypervisor(VirtualRange(start: 0xFFFF_8000_0000_0000, end: 0xFFFF_8000_0040_0000))),
                       "DOM0 image overlaps with Xen private area: ffff800000000000->ffff800000400000 touches ffff800000000000->ffff880000000000")
        XCTAssertEqual(sentence(.hypercallPageOutsideMapping(address: 0x10, mapping: VirtualRange(start: 0x1000, end: 0x2000))),
                       "Invalid HYPERCALL_PAGE field in ELF notes: 0x10 is outside the initial mapping 0000000000001000->0000000000002000")
        for error: Dom0LayoutError in [.addressOverflow, .notCanonical(VirtualRange(start: 1, end: 2)),
                                       .p2mOverlapsMapping(p2m: VirtualRange(start: 1, end: 2), mapping: VirtualRange(start: 1, end: 2)),
                                       .tooSmallForP2M(neededPages: 1, nrPages: 0),
                                       .kernelOutsideMapping(virtBase: 1, kernelStart: 0, kernelEnd: 0)] {
            XCTAssertFalse(sentence(error).isEmpty)
        }
    }

    func testPageTableFramesInXensOrder() throws {
        let layout = try Dom0Layout.compute(Self.referenceRequest)
        var frames: [Dom0PageTableFrame] = []
        layout.forEachPageTableFrame { frames.append($0) }
        XCTAssertEqual(frames.count, 41)
        XCTAssertEqual(frames.prefix(5).map(\.level), [4, 1, 2, 3, 1])
        XCTAssertEqual(frames[0].pfn, 0x4A01)
        XCTAssertEqual(frames[40].pfn, 0x4A01 + 40)
        XCTAssertEqual(frames[40].virtualAddress, 0xFFFF_FFFF_84A2_9000)
        XCTAssertEqual(frames[1].coveredStart, 0xFFFF_FFFF_8000_0000)
        XCTAssertEqual(frames[2].coveredStart, 0xFFFF_FFFF_8000_0000)
        XCTAssertEqual(frames[3].coveredStart, 0xFFFF_FF80_0000_0000)
        XCTAssertEqual(frames.last?.coveredStart, 0xFFFF_FFFF_84A0_0000)

        // A range crossing a 1 GiB boundary takes a second L2 right after that region's L1.
        let crossing = try Dom0Layout.compute(Dom0LayoutRequest(
            virtBase: 0x3FC0_0000, kernelStart: 0x3FC0_0000, kernelEnd: 0x4020_0000, p2mBase: 0x100_0000_0000, nrPages: 1 << 16))
        var levels: [Int] = []
        crossing.forEachPageTableFrame { levels.append($0.level) }
        XCTAssertEqual(levels, [4, 1, 2, 3, 1, 1, 2, 1])
        XCTAssertEqual(crossing.pageTableFrames, levels.count)
    }

    /// Invariants over many random kernels, initrds and memory sizes.
    func testRandomLayoutsKeepTheABIPromises() throws {
        var random = Dom0BuilderRandom(seed: 0x1A70)
        var refused = 0
        for _ in 0..<3000 {
            let virtBase: UInt64 = [0xFFFF_FFFF_8000_0000, 0xFFFF_FF80_0000_0000, 0x40_0000, 0x1_0000_0000,
                                    0x7F80_0000_0000, 0xFFFF_8800_0000_0000][random.below(6)] + UInt64(random.below(4)) * 0x20_0000
            let kernelStart = virtBase + UInt64(random.below(64)) * 0x1000 * UInt64(1 + random.below(512))
            let kernelEnd = kernelStart + UInt64(random.below(1 << 26))
            let initrd: UInt64? = random.below(3) == 0 ? nil : UInt64(random.below(1 << 27))
            let p2m: UInt64? = random.below(2) == 0 ? nil : 0x80_0000_0000 * UInt64(1 + random.below(4))
            let nrPages = UInt64(1 << (12 + random.below(14))) + UInt64(random.below(5000))
            let request = Dom0LayoutRequest(virtBase: virtBase, kernelStart: kernelStart, kernelEnd: kernelEnd, p2mBase: p2m,
                                            unmappedInitrd: random.below(2) == 0, initrdBytes: initrd, nrPages: nrPages)
            let layout: Dom0Layout
            do { layout = try Dom0Layout.compute(request) } catch {
                refused += 1
                continue
            }
            let page: UInt64 = 4096
            // Order and alignment of the elements (public/xen.h, start of day).
            XCTAssertEqual(layout.total.start, virtBase)
            XCTAssertEqual(layout.kernel, VirtualRange(start: kernelStart, end: kernelEnd))
            var next = (kernelEnd + page - 1) & ~(page - 1)
            if !layout.initrd.isEmpty || !request.unmappedInitrd {
                XCTAssertEqual(layout.initrd.start, next)
                XCTAssertEqual(layout.initrd.byteCount, initrd ?? 0)
                next = (layout.initrd.end + page - 1) & ~(page - 1)
            } else {
                XCTAssertTrue(layout.initrd.isEmpty)
            }
            if layout.p2mInInitialMapping {
                XCTAssertEqual(layout.p2m, VirtualRange(start: next, end: next + nrPages * 8))
                next = (layout.p2m.end + page - 1) & ~(page - 1)
            } else {
                XCTAssertEqual(layout.p2m, VirtualRange(start: p2m!, end: p2m! + nrPages * 8))
                XCTAssertFalse(layout.p2m.end >= layout.total.start && layout.p2m.start <= layout.total.end)
            }
            XCTAssertEqual(layout.startInfo, VirtualRange(start: next, end: next + 0x4B8))
            XCTAssertEqual(layout.pageTables.start, next + page)
            XCTAssertEqual(layout.pageTables.byteCount, UInt64(layout.pageTableFrames) * page)
            XCTAssertEqual(layout.bootStack, VirtualRange(start: layout.pageTables.end, end: layout.pageTables.end + page))
            let padding = layout.total.end - layout.bootStack.end
            XCTAssertEqual(layout.total.end % (4 << 20), 0)
            XCTAssertGreaterThanOrEqual(padding, 512 << 10)
            XCTAssertLessThan(padding, (4 << 20) + (512 << 10))

            // Page-table frames: enough for the mapping, and the fewest that are.
            func needed(_ end: UInt64) -> Int {
                func spans(_ shift: UInt64) -> Int { Int(((end - 1) >> shift) - (virtBase >> shift) + 1) }
                return 1 + spans(39) + spans(30) + spans(21)
            }
            XCTAssertEqual(needed(layout.total.end), layout.pageTableFrames)
            XCTAssertEqual(layout.l4Frames + layout.l3Frames + layout.l2Frames + layout.l1Frames, layout.pageTableFrames)
            let smallerStackEnd = layout.bootStack.end - page
            var smallerEnd = (smallerStackEnd + (4 << 20) - 1) & ~((4 << 20) - 1)
            if smallerEnd - smallerStackEnd < 512 << 10 { smallerEnd += 4 << 20 }
            XCTAssertTrue(layout.pageTableFrames == 2 || needed(smallerEnd) > layout.pageTableFrames - 1)
            var levels = [0, 0, 0, 0, 0]
            var count = 0
            layout.forEachPageTableFrame { frame in
                XCTAssertEqual(frame.index, count)
                XCTAssertEqual(frame.virtualAddress, layout.pageTables.start + UInt64(count) * page)
                levels[frame.level] += 1
                count += 1
            }
            XCTAssertEqual(count, layout.pageTableFrames)
            XCTAssertEqual([levels[4], levels[3], levels[2], levels[1]], [1, layout.l3Frames, layout.l2Frames, layout.l1Frames])

            // The allocation: 2^order pages hold the mapping (less a mapped initrd), 2^(order-1) would not.
            var mapped = layout.total.byteCount
            if !request.unmappedInitrd { mapped -= ((initrd ?? 0) + page - 1) & ~(page - 1) }
            XCTAssertGreaterThanOrEqual(layout.allocationPages * page, mapped)
            if layout.allocationOrder > 0 { XCTAssertLessThan(layout.allocationPages / 2 * page, mapped) }
            XCTAssertLessThanOrEqual(layout.initialPages, nrPages)

            if let plan = try? layout.p2mMapping(allow1GiBPages: random.below(2) == 0) {
                // Every byte of the list is covered by a page of the mapping.
                let covered = plan.pages4K * page + plan.pages2M * (2 << 20) + plan.pages1G * (1 << 30)
                XCTAssertGreaterThanOrEqual(covered, layout.p2m.byteCount)
                XCTAssertLessThan(covered, layout.p2m.byteCount + (1 << 30) + page)
                XCTAssertEqual(plan.firstPFN, layout.initialPages)
            }
        }
        print("random layouts refused: \(refused) of 3000")
        XCTAssertGreaterThan(refused, 50)
        XCTAssertLessThan(refused, 2500)
    }

    func testP2MSuperpages() throws {
        // 4 GiB of dom0: an 8 MiB list at 0x8000000000, 2 MiB-aligned: an L3, an L2, four 2 MiB pages.
        var request = Self.referenceRequest
        request.nrPages = 1 << 20
        var plan = try XCTUnwrap(try Dom0Layout.compute(request).p2mMapping(allow1GiBPages: true))
        XCTAssertEqual(plan, Dom0P2MMapping(l3Tables: 1, l2Tables: 1, pages2M: 4, firstPFN: (1 << 15) + 257))
        XCTAssertEqual(plan.frameCount, 2 + 4 * 512)

        // 512 GiB + 4 KiB of dom0: a 1 GiB page, then a tail in 4 KiB pages.
        request.nrPages = (1 << 27) + 1
        plan = try XCTUnwrap(try Dom0Layout.compute(request).p2mMapping(allow1GiBPages: true))
        XCTAssertEqual(plan, Dom0P2MMapping(l3Tables: 1, l2Tables: 1, l1Tables: 1, pages4K: 1, pages1G: 1,
                                            firstPFN: (1 << 15) + 257))
        plan = try XCTUnwrap(try Dom0Layout.compute(request).p2mMapping(allow1GiBPages: false))
        XCTAssertEqual(plan.pages2M, 512)
        XCTAssertEqual(plan.l2Tables, 2)

        // A list at an odd address: 4 KiB pages up to the first 2 MiB boundary.
        request.nrPages = 1 << 20
        request.p2mBase = 0x80_0000_0000 + 0x1F_F000
        plan = try XCTUnwrap(try Dom0Layout.compute(request).p2mMapping(allow1GiBPages: true))
        XCTAssertEqual(plan.pages4K, 1 + 0x1F_F000 / 4096)
        XCTAssertEqual(plan.pages2M, 3)
        XCTAssertEqual(plan.l1Tables, 2)

        // Enough memory for the kernel but not for the list's mapping.
        request = Self.referenceRequest
        request.nrPages = 33025 + 40
        XCTAssertThrowsError(try Dom0Layout.compute(request).p2mMapping(allow1GiBPages: true)) { error in
            XCTAssertEqual(error as? Dom0LayoutError, .tooSmallForP2M(neededPages: 33025 + 65 + 3, nrPages: 33065))
        }
    }
}
