/*
 * linker/apus.ld.S: how the Apus image is laid out (run through the C preprocessor
 * for boot/layout.h).
 *
 * The boot code runs at its load address (virtual = physical, from 2 MiB); everything
 * else runs in the image window, virtual = physical + IMAGE_VIRT_OFFSET. Each kind of
 * content gets its own page-aligned segment so that W^X holds from the first instruction
 * the boot tables let run in 64-bit mode: text is R-X, rodata R--, data and bss RW-.
 * The symbol table the crash handler prints from comes last, so that generating it
 * (a second link) moves nothing else.
 */
#include "../boot/layout.h"

ENTRY(apus_start_32)
OUTPUT_FORMAT("elf64-x86-64")

PHDRS
{
    boot_rx  PT_LOAD FLAGS(5);
    boot_rw  PT_LOAD FLAGS(6);
    text     PT_LOAD FLAGS(5);
    rodata   PT_LOAD FLAGS(4);
    data     PT_LOAD FLAGS(6);
    symbols  PT_LOAD FLAGS(4);
}

SECTIONS
{
    . = IMAGE_PHYS_BASE;
    __image_start_phys = .;

    .boot.text : {
        KEEP(*(.multiboot))
        *(.boot.text)
        *(.boot.rodata)
    } :boot_rx

    . = ALIGN(4096);
    .boot.data : { *(.boot.data) } :boot_rw
    .boot.bss (NOLOAD) : { *(.boot.bss) } :boot_rw

    . = ALIGN(4096);
    . += IMAGE_VIRT_OFFSET;

    __text_start = .;
    .text : AT(ADDR(.text) - IMAGE_VIRT_OFFSET) {
        *(.text.apus_start_64)
        *(.text .text.*)
    } :text
    . = ALIGN(4096);
    __text_end = .;

    __rodata_start = .;
    .rodata : AT(ADDR(.rodata) - IMAGE_VIRT_OFFSET) {
        __build_id_note = .;
        KEEP(*(.note.gnu.build-id))
        __build_id_note_end = .;
        *(.rodata .rodata.*)
        *(.got .got.plt)
        *(.eh_frame_hdr)
    } :rodata
    . = ALIGN(4096);
    __rodata_end = .;

    __data_start = .;
    .data : AT(ADDR(.data) - IMAGE_VIRT_OFFSET) {
        *(.data .data.*)
    } :data
    .bss (NOLOAD) : AT(ADDR(.bss) - IMAGE_VIRT_OFFSET) {
        __bss_start = .;
        *(.bss .bss.*)
        *(COMMON)
        __bss_end = .;
    } :data
    . = ALIGN(4096);
    __data_end = .;

    __symbols_start = .;
    .apus_symbols : AT(ADDR(.apus_symbols) - IMAGE_VIRT_OFFSET) {
        KEEP(*(.apus_symbols))
    } :symbols
    . = ALIGN(4096);
    __image_end = .;

    /DISCARD/ : {
        *(.swift_modhash)
        *(.comment)
        *(.note .note.*)
        *(.eh_frame)
    }
}
