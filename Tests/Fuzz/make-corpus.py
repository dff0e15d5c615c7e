#!/usr/bin/env python3
"""Writes the fuzz harness's seed corpus, Tests/Fuzz/corpus/<target>/ (checked in).

Each seed is an input in the format the target's file in Tests/Fuzz/Sources describes (a
few leading bytes choose a mode or shape, then the data): boot command lines, a small
Xen-PV ELF kernel (plain, gzip'd, inside a bzImage, with notes in sections or as
__xen_guest), DEFLATE and gzip streams, QEMU's real ACPI tables (from the firmware XCTest
fixture), Multiboot 1 and 2 information, a symbol table, a page-table tree, and some fixed
pseudo-random bytes for the targets whose inputs are operation scripts. Deterministic:
running it again rewrites the same files. Run from the repository root after changing an
input format: python3 Tests/Fuzz/make-corpus.py
"""
import gzip
import os
import random
import re
import shutil
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
rng = random.Random(20260)


def u8(v): return struct.pack("<B", v & 0xFF)
def u16(v): return struct.pack("<H", v & 0xFFFF)
def u32(v): return struct.pack("<I", v & 0xFFFFFFFF)
def u64(v): return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def write(target, name, data):
    directory = os.path.join(ROOT, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def noise(count, lo, hi):
    return [bytes(rng.randrange(256) for _ in range(rng.randrange(lo, hi))) for _ in range(count)]


# --- bootopts -------------------------------------------------------------------------
def bootopts():
    lines = [
        "dom0_mem=256M,max:256M sched=credit console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot",
        "/boot/apus.elf dom0_mem=512M,min:128M,max:1G dom0_max_vcpus=2 console=com1,vga com1=115200,8n1,0x3f8,4",
        "(hd0,0)/boot/xen.gz console=com2H,vga vga=text-80x50,keep no-real-mode edid=no edd=skipmbr console_to_ring sync_console",
        "badpage=0x12345,0x20000-0x200ff,7 mem=2G dma_bits=32 nosmp maxcpus=4 conswitch=ax",
        "com1=115200/1843200,7o2,0x2e8,0 com2=auto/1843200,,0x2e8 console=com1,com2 loglvl=warning/all guest_loglvl=none/info",
        "acpi=off apic=flat apic_verbosity=debug,verbose noapic acpi_skip_timer_override hap=0 nmi=dom0 reboot=acpi,warm",
        "dom0_mem=-512M,max:+50% sched_credit_tslice_ms=10 sched_ratelimit_us=500 tbuf_size=8 watchdog noirqbalance",
        "dom0_mem=1G dom0_mem=max:2G no-sync_console sync_console=0 vga=gfx-1024x768x32 vga=mode-0x317 unknown_option=1",
        "\tconsole=none  noreboot=yes   dom0_vcpus_pin  apus_selftest=poweroff  \t",
    ]
    for i, line in enumerate(lines):
        write("bootopts", "line-%02d" % i, line.encode())


# --- hypercall ------------------------------------------------------------------------
def hypercall():
    records = []
    records.append(u8(0) + u64(0) + u64(42) + u64(0))                  # console write
    records.append(u8(0) + u64(1) + u64(0xFFFFFFFF) + u64(1 << 32))    # console read, -1
    records.append(u8(1) + u64(3) + u64(0x7FFF0000) + u64(0))          # sched poll
    records.append(u8(2) + u64(0x7FFF_FFFF_F002))                      # flags + vCPU mask
    records.append(u8(3) + u8(1) + u8(13) + u64(0x10000) + u64(8192))  # set_ldt
    records.append(u8(4) + b"".join(u64(v) for v in [1, 2, 3, 0x100, 0xFFFFFFFF80001000, 0xE030, 0x202,
                                                     0x7FFF0000, 0xE02B]) + u64(0))
    records.append(u8(5) + u8(0) + u8(1) + u16(0x10) + u8(0) + u8(0) + u16(0x100))
    records.append(u8(6) + u8(2) + u8(14) + u8(1) + u16(0xE030) + u8(1) + u64(0xFFFFFFFF81000000))
    records.append(u8(7) + u64(0x1000) + u16(0xE033) + u64(0x202) + u8(1) + u64(0x7FFF_FFFF_E000) + u16(0xE02B)
                   + u64(1) + u64(2) + u8(1) + u8(0) + u8(0) + u64(0) + u8(0) + u64(0xFFFFFFFF81002000) + u8(1) + u64(14) + u8(0))
    instructions = [bytes.fromhex(h) for h in [
        "488907", "48c70701000000", "48870f", "f0480fb10f", "48090f", "48830f02", "480fba2f01",
        "66890f", "880f", "4c8907", "f0480fbb07", "48812701f0ffff"]]
    for code in instructions:
        regs = b"".join(u8(1) + u64(rng.getrandbits(64)) for _ in range(16))
        records.append(u8(8) + u8(len(code)) + code + u8(0) + u8(rng.randrange(8) * 8)
                       + u64(0x8000000012345067) + regs)
    write("hypercall", "all-records", b"".join(records))
    for i, r in enumerate(records):
        write("hypercall", "record-%02d" % i, r)


# --- evtchn-request / evtchn-ops / descriptor / pagetable noise ------------------------
def evtchn_request():
    sizes = {0: 12, 1: 12, 2: 12, 3: 4, 4: 4, 5: 24, 6: 8, 7: 8, 8: 8, 9: 4, 10: 2, 14: 2}
    blob = b""
    for command, size in sizes.items():
        record = u8(0) + u8(command) + bytes(rng.randrange(256) for _ in range(size)) + bytes(rng.randrange(256) for _ in range(16))
        write("evtchn-request", "command-%02d" % command, record)
        blob += record
    write("evtchn-request", "all-commands", blob)


def evtchn_ops():
    for i, data in enumerate(noise(8, 64, 700)):
        write("evtchn-ops", "noise-%d" % i, data)
    # dom0 privileged + two domUs, then many alloc_unbound/bind pairs (op 14/15) and sends.
    # Per domain: id choice, privilege, vCPU gate and count, capacity choice.
    setup = u8(1) + u8(0) + u8(0) + u8(0) + u8(1) + u8(6) + u8(1) + u8(255) + u8(0) + u8(0) + u8(4) \
        + u8(2) + u8(255) + u8(0) + u8(2) + u8(2)
    steps = b""
    for k in range(40):
        caller = u8(0) + u8(k % 3)
        steps += caller + u8(14 + (k % 2)) + u8(rng.randrange(256)) * 4
        steps += caller + u8(k % 9) + bytes(rng.randrange(256) for _ in range(8))
    write("evtchn-ops", "pairs", setup + steps)


def descriptor():
    blob = b""
    for how in range(4):
        for _ in range(8):
            blob += u8(how) + u64(rng.getrandbits(64)) + u8(rng.randrange(12)) + u8(rng.randrange(2))
    write("descriptor", "shapes", blob)
    known = [0x00CF9A000000FFFF, 0x00AF9A000000FFFF, 0x00CF92000000FFFF, 0x0000EC00E0331000,
             0x0000E50000000000, 0x0000890000000067, 0x00008E0000101000, 0]
    write("descriptor", "known", b"".join(u8(0) + u64(v) for v in known))


def pagetable():
    for i, data in enumerate(noise(6, 32, 600)):
        write("pagetable", "noise-%d" % i, data)
    # 16 RAM frames, 40 bits, dom0 privileged, shared_info in RAM; frames 0-9 dom0's, 10-13 dom1's.
    machine = u8(8) + u8(2) + u8(0) + u8(255) + bytes([0] * 10 + [4] * 4)
    entries = [(0, 0, 1, 1), (0, 6, 0, 0), (1, 0, 2, 1), (2, 0, 3, 1), (3, 0, 5, 1), (3, 1, 0, 0), (3, 11, 6, 1)]
    initial = u8(len(entries))
    for frame, index_choice, target, writable in entries:
        # frame, index (position in FuzzFrameTable.indices), entry: shape >= 32, RAM target, flags
        initial += u8(frame) + u8(index_choice) + u8(200) + u8(0) + u8(target) + u8(writable | 2)
    ops = b""
    ops += u8(0) + u8(0) + u8(0) + u8(0) + u8(0) + u8(3) + u8(0)  # d0 pins frame 0 as L4
    ops += u8(0) + u8(3) + u8(3) + u8(1) + u8(200) + u8(0) + u8(7) + u8(1)   # d0 writes L1 frame 3 entry 1
    ops += u8(0) + u8(4) + u8(2) + u8(0) + u8(200) + u8(0) + u8(4) + u8(0)   # d0 updates L2 frame 2 entry 0
    ops += u8(1) + u8(0) + u8(0) + u8(10) + u8(0) + u8(0) + u8(0)  # d1 pins frame 10 as L1
    ops += u8(0) + u8(2) + u8(0)                                  # d0 unpins
    write("pagetable", "tree", machine + initial + ops)


# --- kernel ---------------------------------------------------------------------------
def note(kind, desc, name=b"Xen\0"):
    pad = lambda b: b + b"\0" * ((4 - len(b) % 4) % 4)
    return u32(len(name)) + u32(len(desc)) + u32(kind) + pad(name) + pad(desc)


def linux_notes(entry, hypercall_page):
    return b"".join([
        note(6, b"linux\0"), note(7, b"2.6\0"), note(5, b"xen-3.0\0"), note(3, u64(0xFFFFFFFF80000000)),
        note(15, u64(0x8000000000)), note(1, u64(entry)), note(2, u64(hypercall_page)),
        note(10, b"!writable_page_tables"), note(9, b"yes\0"), note(13, u64(1) + u64(1)), note(16, u32(1)),
        note(4, u64(0)), note(17, u32(1 | 1 << 11 | 1 << 15)), note(8, b"generic\0"), note(14, u32(1)),
        note(12, u64(0xFFFF800000000000)),
    ])


def elf(segments, note_segments=(), note_sections=(), guest_info=None, symtab=False, entry=0xFFFFFFFF80002000):
    phnum = len(segments) + len(note_segments)
    body = bytearray(64 + 56 * phnum)

    def append(data):
        while len(body) % 16:
            body.append(0)
        offset = len(body)
        body.extend(data)
        return offset

    phdrs = []
    for flags, vaddr, paddr, data, memsz in segments:
        off = append(data)
        phdrs.append(u32(1) + u32(flags) + u64(off) + u64(vaddr) + u64(paddr) + u64(len(data)) + u64(memsz) + u64(0x1000))
    for notes in note_segments:
        off = append(notes)
        phdrs.append(u32(4) + u32(4) + u64(off) + u64(0) + u64(0) + u64(len(notes)) + u64(len(notes)) + u64(4))
    names = bytearray(b"\0")

    def name(text):
        offset = len(names)
        names.extend(text.encode() + b"\0")
        return offset

    shdrs = [bytes(64)]

    def section(name_offset, kind, offset, size, link=0):
        shdrs.append(u32(name_offset) + u32(kind) + u64(0) + u64(0) + u64(offset) + u64(size) + u32(link) + u32(0)
                     + u64(1) + u64(0))

    for notes in note_sections:
        section(name(".note.Xen"), 7, append(notes), len(notes))
    if guest_info is not None:
        data = guest_info.encode() + b"\0"
        section(name("__xen_guest"), 1, append(data), len(data))
    if symtab:
        index = len(shdrs)
        section(name(".symtab"), 2, append(bytes(48)), 48, link=index + 1)
        section(name(".strtab"), 3, append(b"\0start\0"), 7)
    shstr = name(".shstrtab")
    shstrndx = len(shdrs)
    section(shstr, 3, append(bytes(names)), len(names))
    shoff = append(b"".join(shdrs))
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + u16(2) + u16(62) + u32(1) + u64(entry)
    header += u64(64 if phnum else 0) + u64(shoff) + u32(0) + u16(64) + u16(56) + u16(phnum) + u16(64)
    header += u16(len(shdrs)) + u16(shstrndx)
    body[0:64] = header
    for i, ph in enumerate(phdrs):
        body[64 + 56 * i:64 + 56 * (i + 1)] = ph
    return bytes(body)


def small_segments():
    return [(5, 0xFFFFFFFF80002000, 0x2000, b"\x90" * 0x300, 0x2000),
            (6, 0xFFFFFFFF80004000, 0x4000, b"\x11" * 0x80, 0x3000)]


def bzimage(payload):
    setup_sectors = 1
    image = bytearray((setup_sectors + 1) * 512)
    image[0x1F1] = setup_sectors
    image[0x202:0x206] = b"HdrS"
    image[0x206:0x208] = u16(0x20F)
    image[0x248:0x24C] = u32(0x40)
    image[0x24C:0x250] = u32(len(payload))
    image += bytes(0x40) + payload + u32(len(payload))
    return bytes(image)


def kernel():
    notes = linux_notes(0xFFFFFFFF80002000, 0xFFFFFFFF80003000)
    plain = elf(small_segments(), note_segments=[notes])
    sections = elf(small_segments(), note_sections=[notes], symtab=True)
    legacy = elf([(7, 0xFFFFFFFF80002000, 0x2000, b"\xCC" * 0x100, 0x1000)],
                 guest_info="GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,ELF_PADDR_OFFSET=0x0,"
                            "HYPERCALL_PAGE=0x2,LOADER=generic,PAE=yes[extended-cr3],BSD_SYMTAB", symtab=True)
    gz = gzip.compress(plain, mtime=0)
    prefix = lambda mode: u8(mode) + u8(1) + u8(1)
    write("kernel", "elf-notes", prefix(0) + plain)
    write("kernel", "elf-note-sections", prefix(0) + sections)
    write("kernel", "elf-xen-guest", prefix(0) + legacy)
    write("kernel", "gzip", prefix(0) + gz)
    write("kernel", "bzimage-gzip", prefix(0) + bzimage(gz))
    write("kernel", "bzimage-elf", prefix(0) + bzimage(plain))
    write("kernel", "elf-only", prefix(1) + sections)
    write("kernel", "notes-area", prefix(2) + notes)
    write("kernel", "guest-info", prefix(3) + b"GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xffffffff80000000,"
          b"VIRT_ENTRY=0xffffffff80100000,HYPERCALL_PAGE=0x101,FEATURES=writable_page_tables|!pae_pgdir_above_4gb")


# --- inflate --------------------------------------------------------------------------
def inflate():
    text = (b"Apus is a bare-metal x86-64 hypervisor that speaks Xen's guest ABI and takes Xen's boot "
            b"options. dom0's kernel arrives as a module, often gzip-compressed. ") * 12
    data = text + bytes(range(256)) + b"\0" * 300
    for level, strategy in [(0, 0), (1, 0), (6, 0), (9, 0), (9, zlib.Z_FIXED), (9, zlib.Z_HUFFMAN_ONLY), (9, zlib.Z_RLE)]:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 8, strategy)
        raw = compressor.compress(data) + compressor.flush()
        write("inflate", "raw-l%d-s%d" % (level, strategy), u8(0) + u8(3) + raw)
    for i, chunk in enumerate([b"", b"a", b"abcabcabcabc" * 20, bytes(range(256)) * 3]):
        write("inflate", "roundtrip-%d" % i, u8(1) + u8(7) + u8(8) + u8(i % 5) + u8(i % 2) + u8(2) + chunk)
    gz = gzip.compress(data, mtime=0)
    write("inflate", "gzip", u8(2) + u8(3) + gz)
    write("inflate", "gzip-two-members", u8(2) + u8(3) + gz + gzip.compress(b"second member", mtime=0) + b"\0" * 16)
    # Every header flag: FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT, with a correct header CRC16.
    header = b"\x1f\x8b\x08" + u8(0x1F) + u32(0) + u8(2) + u8(3) + u16(4) + b"ab\x02\x00" + b"vmlinux\0" + b"comment\0"
    header += u16(zlib.crc32(header) & 0xFFFF)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = compressor.compress(data) + compressor.flush()
    write("inflate", "gzip-all-flags", u8(2) + u8(3) + header + body + u32(zlib.crc32(data)) + u32(len(data)))


# --- acpi -----------------------------------------------------------------------------
BASES = [0, 0x400, 0x9FC00, 0xE0000, 0xF0000, 0xF59D0, 0x100000, 0x3FFE0000, 0xFFFFFFFFFFFFF000]


def region(base_index, offset, content, size=None):
    size = len(content) if size is None else size
    return u8(base_index) + u16(offset) + u32(size) + u16(len(content)) + content


def qemu_tables():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ApusCoreTests",
                        "FirmwareQEMUTablesFixtureForTests.swift")
    source = open(path).read()
    rsdp = re.search(r'static let rsdp = \[UInt8\]\(fwHex: "([0-9a-f]+)"\)', source).group(1)
    tables = re.search(r'static let tables = \[UInt8\]\(fwHex: """(.*?)"""\)', source, re.S).group(1)
    return bytes.fromhex(rsdp), bytes.fromhex("".join(tables.split()))


def split_tables(blob):
    found, offset = {}, 0
    while offset + 8 <= len(blob):
        signature = blob[offset:offset + 4].decode("latin-1")
        length = struct.unpack_from("<I", blob, offset + 4)[0]
        if length < 8 or offset + length > len(blob):
            break
        found.setdefault(signature, blob[offset:offset + length])
        offset += length
    return found


def acpi():
    rsdp, tables = qemu_tables()
    regions = region(5, 0, rsdp) + region(7, 0, tables)
    write("acpi", "qemu-scan", u8(0) + u8(0) + u8(1) + regions)           # locate: BIOS-area scan
    write("acpi", "qemu-given", u8(0) + u8(8) + u8(1) + regions)          # parse at 0xF59D0
    write("acpi", "qemu-fixed", u8(0) + u8(3) + u8(1) + regions)          # checksums repaired
    for signature, mode in [("APIC", 1), ("FACP", 2), ("HPET", 3), ("DSDT", 4)]:
        table = split_tables(tables).get(signature)
        if table:
            write("acpi", "table-" + signature.lower(), u8(mode) + u8(0) + table)
    # An ACPI 2.0 RSDP with an XSDT over the same tables, found through a Multiboot copy.
    found = split_tables(tables)
    addresses, offset = [], 0
    while offset + 8 <= len(tables):
        length = struct.unpack_from("<I", tables, offset + 4)[0]
        if length < 8:
            break
        if tables[offset:offset + 4] not in (b"FACS", b"DSDT", b"RSDT"):
            addresses.append(0x3FFE0000 + offset)
        offset += length
    xsdt = bytearray(b"XSDT" + u32(36 + 8 * len(addresses)) + u8(1) + u8(0) + b"BOCHS " + b"BXPCXSDT" + u32(1)
                     + b"BXPC" + u32(1) + b"".join(u64(a) for a in addresses))
    xsdt[9] = (-sum(xsdt)) & 0xFF
    rsdp2 = bytearray(b"RSD PTR " + u8(0) + b"BOCHS " + u8(2) + u32(0) + u32(36) + u64(0x100040) + u8(0) + bytes(3))
    rsdp2[8] = (-sum(rsdp2[:20])) & 0xFF
    rsdp2[32] = (-sum(rsdp2)) & 0xFF
    # mode 0, flags: Multiboot copy given, memory scan first; 2 regions; then the copy's address.
    write("acpi", "xsdt", u8(0) + u8(4 | 16) + u8(1)
          + region(6, 0, bytes(rsdp2) + bytes(28) + bytes(xsdt)) + region(7, 0, tables) + u8(6) + u16(0))
    del found


# --- multiboot ------------------------------------------------------------------------
def multiboot():
    base = 0x100000
    # Multiboot 1: flags mem|cmdline|mods|mmap|loader name; strings, modules and map in the same page.
    info = bytearray(0x400)
    struct.pack_into("<I", info, 0, 1 | 4 | 8 | 64 | 512)
    struct.pack_into("<II", info, 4, 639, 523264)
    cmdline, loader, mods, mmap, modcmd = 0x100, 0x140, 0x180, 0x200, 0x160
    info[cmdline:cmdline + 60] = b"/boot/apus.elf dom0_mem=256M console=com1 loglvl=all\0".ljust(60, b"\0")
    info[loader:loader + 16] = b"GRUB 2.06\0".ljust(16, b"\0")
    info[modcmd:modcmd + 20] = b"/boot/vmlinuz ro\0".ljust(20, b"\0")
    struct.pack_into("<I", info, 16, base + cmdline)
    struct.pack_into("<II", info, 20, 2, base + mods)
    struct.pack_into("<IIII", info, mods, 0x200000, 0x800000, base + modcmd, 0)
    struct.pack_into("<IIII", info, mods + 16, 0x800000, 0x900000, 0, 0)
    entries = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (0x100000, 0x3FEE0000, 1),
               (0x3FFE0000, 0x20000, 2)]
    mm = b"".join(u32(20) + u64(a) + u64(l) + u32(t) for a, l, t in entries)
    info[mmap:mmap + len(mm)] = mm
    struct.pack_into("<II", info, 44, len(mm), base + mmap)
    struct.pack_into("<I", info, 64, base + loader)
    write("multiboot", "mb1", u8(0) + u8(0) + u8(0) + u8(6) + u16(0) + u8(0) + region(6, 0, bytes(info)))

    def tag(kind, payload):
        t = u32(kind) + u32(8 + len(payload)) + payload
        return t + b"\0" * ((8 - len(t) % 8) % 8)
    tags = tag(1, b"dom0_mem=256M,max:256M console=com1\0") + tag(2, b"GRUB 2.06\0")
    tags += tag(3, u32(0x200000) + u32(0x800000) + b"/boot/vmlinuz console=hvc0\0")
    tags += tag(4, u32(639) + u32(523264))
    tags += tag(6, u32(24) + u32(0) + b"".join(u64(a) + u64(l) + u32(t) + u32(0) for a, l, t in entries))
    tags += tag(14, b"RSD PTR " + bytes(12)) + tag(0, b"")
    mb2 = u32(8 + len(tags)) + u32(0) + tags
    write("multiboot", "mb2", u8(0) + u8(2) + u8(0) + u8(6) + u16(0) + u8(0) + region(6, 0, mb2))
    # A symbol table blob.
    names = [b"apus_start", b"main", b"Traps.handle", b"PV.hypercall", b"_end"]
    strings, offsets = b"", []
    for n in names:
        offsets.append(len(strings))
        strings += n + b"\0"
    addresses = [0x100000, 0x101000, 0x101800, 0x120000, 0x180000]
    blob = b"ASYM" + u32(len(names)) + u32(len(strings)) + u32(0) + u64(0x180000)
    blob += b"".join(u64(a) + u32(o) + u32(0) for a, o in zip(addresses, offsets)) + strings
    write("multiboot", "symbols", u8(1) + u8(3) + u64(0x101234) + u64(0xFFFFF) + u64(0x17FFFF) + blob)


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    bootopts()
    hypercall()
    evtchn_request()
    evtchn_ops()
    descriptor()
    pagetable()
    kernel()
    inflate()
    acpi()
    multiboot()


if __name__ == "__main__":
    main()
