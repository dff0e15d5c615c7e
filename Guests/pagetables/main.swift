// pagetables: a PV kernel manages its own page tables with mmu_update and mmuext_op
// at every level, and the hypervisor keeps every frame either a table or writable.
//
// Sections (one file each): Build (private L1/L2/L3 from pool pages, pinned, linked
// with mmu_update on an L2, L3 and L4 entry, used), Operations (PRESERVE_AD,
// MACHPHYS_UPDATE, COPY/CLEAR_PAGE, flushes, update_va_mapping flags and
// _otherdomain), BasePointers (a second L4 run on), Batches (done counts, multicalls,
// huge counts, 4096 updates in one call), Refusals, References (when a frame stops
// being a table), Teardown. Frames are pool pages or spare frames (Support.swift).
//
// Facts Xen 4.17 showed (the spec Apus must meet). Errnos: -EPERM -1, -ESRCH -3,
// -EFAULT -14, -EBUSY -16, -EINVAL -22, -ENOSYS -38, -EOPNOTSUPP -95.
// Pins (MMUEXT_PIN_L1..L4_TABLE, UNPIN_TABLE)
//   -EINVAL: any level while the page is still mapped writable; a table pinned again;
//     UNPIN of a page never pinned, of a data page, of a frame dom0 does not own, twice.
//   0: a read-only page of valid entries (an all-zero L2 or L3 too); a writable mapping
//     of a pinned table is then -EBUSY.
//   The builder pins the bootstrap L4 (PIN_L4 of it: -EINVAL; UNPIN: 0, and it still
//   cannot be mapped writable while it is the base pointer; PIN again: 0). The bootstrap
//   L3 and the L1 that maps the image are typed, not pinned: PIN 0, UNPIN 0; PIN_L2 of
//   the L3: -EINVAL.
//   A page whose entry maps a frame dom0 does not own or the L4 read-write: PIN_L1
//   -EBUSY; an entry with pte bit 51 (mfn bit 39): -EPERM; the L4 read-only: 0. PIN_L2
//   with a PSE entry or an entry at a pinned L2, PIN_L3 with an entry at a pinned L1,
//   PIN_L4 with a garbage entry in slot 9: -EINVAL; PIN_L3 at a pinned L2, PIN_L4 at a
//   pinned L3: 0. A refused pin leaves no type behind: the frame maps writable.
// mmu_update
//   MMU_NORMAL_PT_UPDATE on an L2, an L3 and the live L4's slot 32: 0, read back exactly
//   as written. L1 entries get two bits from Xen: global (0x100) on an entry with user
//   set (0x..067 reads 0x..167), user plus bit 52 on one without (0x..001 reads
//   0x10000000..005); the checks mask them (PTE.stored), info lines show them.
//   MMU_PT_UPDATE_PRESERVE_AD keeps the old accessed|dirty bits, NORMAL replaces them;
//   command 3 (NO_TRANSLATE) is NORMAL for a PV guest.
//   ptr in a plain data page (mapped writable, or not mapped at all): 0, the word is
//   written as given, unvalidated (even a value mapping the L4 writable). ptr in a frame
//   dom0 does not own or in mfn 0: -EINVAL.
//   A frame of the wrong type: L2 entry -> a data page mapped writable, a pinned L3, the
//   live L4; L3 entry -> a pinned L1, the live L4; L4 entry -> a pinned L2, a pinned L1,
//   a writable data page: -EINVAL. L1 entry -> a pinned L2 or the live L4 read-write:
//   -EBUSY; read-only: 0. A refused entry stays as it was.
//   Linear entries: an L2 entry at its own L2 read-only: 0 (the L2's targets read as
//   pages through it; a store there: #PF 3); read-write: -EINVAL. The live L4's slot 33
//   at the live L4 read-only: 0 (the L4 reads itself at 33/33/33/33); read-write: -EINVAL.
//   Flags: PSE in an L2, L3 or L4 entry, PCD or global in an L2 entry: -EINVAL; an L1
//   entry may have global, NX, bits 9-11 and 52-62, PCD|PWT: 0.
//   The live L4's slots 256-271: -EINVAL for any value, also the one it holds; slots 255
//   and 272 (0xffff880000000000) take an L3: 0.
//   An L2 entry at a zeroed frame nobody maps writable: 0, and the frame is an L1 from
//   then on (writable mapping -EBUSY, PIN_L2 -EINVAL, PIN_L1 0); once the entry is gone
//   it maps writable and pins as an L2. An L2 entry at a frame mapped writable: -EINVAL.
//   MMU_MACHPHYS_UPDATE of an own frame: 0, the M2P reads the new value; of a frame dom0
//   does not own or mfn 0: -EINVAL.
// Reference counts (asked as "may the frame be mapped writable?")
//   An unpinned L1 referenced by two L2 entries: -EBUSY until both entries are gone,
//   then 0. A pinned L1 whose last entry goes: still -EBUSY until UNPIN. UNPIN while an
//   entry references it: 0, but -EBUSY until the entry goes. Teardown: unhooked from the
//   L4, each level stays typed while pinned and maps writable once unpinned.
// mmuext_op
//   COPY_PAGE: 0 from a pinned L1 into a data page (tables may be read), onto itself,
//   into an unmapped own frame; -EINVAL into a pinned L2 or the live L4, from or into a
//   frame dom0 does not own, from mfn 0. CLEAR_PAGE: 0 for a writable data page or an
//   unmapped own frame; -EINVAL for the pinned L1, the live L4, a frame dom0 does not
//   own, mfn 0.
//   TLB_FLUSH_LOCAL/MULTI/ALL and INVLPG_LOCAL/MULTI/ALL: 0, and an L1 entry changed by
//   mmu_update (which flushes nothing) is seen afterwards. INVLPG_LOCAL of a
//   non-canonical address, INVLPG_ALL of one in Xen's range: 0 (ignored). FLUSH_MULTI
//   with an empty mask or only vCPU 40: 0; with an unmapped mask or one in Xen's range:
//   -EINVAL. FLUSH_CACHE, FLUSH_CACHE_GLOBAL: 0 (dom0). MARK_SUPER, UNMARK_SUPER:
//   -EOPNOTSUPP. Command 21: -ENOSYS.
//   A copy (COPY_PAGE) of the live L4 with garbage in slots 256-271 pins as an L4 (0);
//   Xen rewrites those slots (non-zero afterwards: 258, 260, 261, 262; 256, the
//   read-only M2P, is filled when it becomes a base pointer). NEW_BASEPTR to it: 0, and
//   hypercalls, traps and the M2P work on it; a slot changed only there is seen only
//   there; UNPIN while it is the base pointer: 0 (still -EBUSY writable); back on the
//   bootstrap L4 it maps writable. NEW_BASEPTR to an unpinned read-only L4: 0 (validated
//   then). NEW_USER_BASEPTR: -EINVAL while writable, 0 read-only (then -EBUSY writable),
//   0 with mfn 0 (releases it). NEW_BASEPTR to a pinned L3 or L2, a writable data page, a
//   frame dom0 does not own, NEW_USER_BASEPTR to a pinned L3: -EINVAL. An L4 with a
//   writable data page in slot 34: PIN_L4 and NEW_BASEPTR -EINVAL, no type left.
// update_va_mapping: UVMF_NONE, TLB_FLUSH or INVLPG with LOCAL, ALL or a vCPU mask, and
//   flush type 3 (flushes nothing): 0. A mask pointer unmapped or in Xen's range:
//   -EFAULT, yet the entry is written.
// update_va_mapping_otherdomain: DOMID_SELF as update_va_mapping; domain 0 by its id
//   and domain 1234: -ESRCH; DOMID_IO with an own frame: -EBUSY, with the HPET page: 0;
//   DOMID_XEN with an own frame: -EBUSY.
// Stores into page tables through their read-only mappings (writable_page_tables): a
//   valid entry stored into a pinned L1 is emulated (no fault; written, with Xen's bits);
//   an entry mapping the L4 writable or a frame dom0 does not own: #PF error code 3 at
//   the store, the entry unchanged. Any store into an L2, L3 or L4 page: #PF 3.
// Batches
//   4 mmu_updates with the third refused: -EBUSY, done 2 (the first two made, the fourth
//   not). done NULL: 0; done in Xen's range: 0 (updates made, done not written); count
//   0: 0, done 0; list NULL: -EFAULT, done 0 written. foreigndom 0 (its own id) or 1234:
//   -ESRCH; page-table owner field (foreigndom >> 16) 1235: -ESRCH, 1 (domain 0): 0.
//   mmuext_op of 5 with the fourth refused: -EINVAL, done 3; foreigndom 0 or 1234:
//   -ESRCH; DOMID_IO: -EPERM; list NULL: -EFAULT.
//   In a multicall each mmu_update/mmuext_op/update_va_mapping entry gets what it would
//   alone, and writes its own done.
//   count 0x7fffffff with 2 requests before unmapped memory: -EFAULT, done 2, both made
//   (mmuext_op alike). Bit 31 of count is Xen's continuation mark and a guest may set
//   it: done is then read first and added to (0xffffffff: -EFAULT, done 99 + 2 = 101;
//   0x80000001 with done 5: 0, done 6), and count 0x80000000 with a NULL list returns
//   foreigndom itself (mmu_update: 32752 = DOMID_SELF; mmuext_op: 1234). A list in Xen's
//   range with count 0x7fffffff, a non-canonical one: -EFAULT.
//   4096 updates in one call: 0, done 4096 (any continuation is invisible), every entry
//   as the last round left it; 512 more clearing them: done 512, and no writable
//   reference is left (the frame pins as an L1).
// (Xen logs "d0v0 Error mfn ...: rd=d0 od=..." for each frame it refuses by owner.)
import XenGuest
import XenGuestC
import ApusPublic

@c(guest_main)
public func guestMain() {
    var report = TestReport(guest: "pagetables")
    report.expect("install the trap table", Traps.install(guest: "pagetables"), equals: 0)
    Frames.setUp()
    report.info("first spare pfn", hex: Frames.firstSparePFN)
    guard T.allocate() else {
        report.check("page pool has 8 pages", false)
        report.finish()
    }
    buildAndHook(&report)
    operations(&report)
    directWrites(&report)
    basePointers(&report)
    batches(&report)
    refusals(&report)
    references(&report)
    teardown(&report)
    report.group(nil)
    report.expect("the hypervisor still answers", hypervisorVersion(), equals: 4 << 16 | 17)
    report.finish()
}
