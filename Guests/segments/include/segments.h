/*
 * segments.h: the segments guest's kernel probes (segs.S) and its user program
 * (user.S) with the user address space it runs in.
 *
 * Kernel probes: reads through %fs and %gs at an offset (a fault label for each,
 * resumed at seg_fixup, which returns SEG_FAULTED_VALUE) and the %fs / %gs selectors.
 *
 * The user program occupies the start of one page of the image (user_page), mapped
 * read-only at USER_CODE_VA in a separate user page table, with one read-write data
 * page at USER_DATA_VA (its top is the user stack). It reads two offsets the kernel
 * left in the data page (USER_FS_OFFSET_VA, USER_GS_OFFSET_VA), then makes the exit
 * `syscall` (rax = USER_CALL_EXIT) with rdi = the 8 bytes at %fs:(fs offset), rsi =
 * those at %gs:(gs offset), r8 = %fs, r9 = %gs (selectors).
 */
#ifndef SEGMENTS_SEGMENTS_H
#define SEGMENTS_SEGMENTS_H

#define USER_CODE_VA        0x400000
#define USER_DATA_VA        0x401000
#define USER_FS_OFFSET_VA   0x401100
#define USER_GS_OFFSET_VA   0x401108
#define USER_STACK_TOP      0x402000
#define USER_CALL_EXIT      0x5CFF

#define SEG_FAULTED_VALUE   0xFA17FA17FA17FA17

#ifndef __ASSEMBLER__
#include <stdint.h>

uint64_t seg_read_via_fs(uint64_t offset);
uint64_t seg_read_via_gs(uint64_t offset);
uint64_t seg_fs_selector(void);
uint64_t seg_gs_selector(void);
extern uint8_t seg_read_via_fs_fault[1], seg_read_via_gs_fault[1], seg_fixup[1];
extern uint8_t user_page[4096], user_entry[1], user_end[1];

#define SEG_INLINE static inline __attribute__((always_inline))
SEG_INLINE uint64_t seg_read_via_fs_fault_address(void) { return (uint64_t)seg_read_via_fs_fault; }
SEG_INLINE uint64_t seg_read_via_gs_fault_address(void) { return (uint64_t)seg_read_via_gs_fault; }
SEG_INLINE uint64_t seg_fixup_address(void) { return (uint64_t)seg_fixup; }
SEG_INLINE uint64_t user_page_address(void) { return (uint64_t)user_page; }
SEG_INLINE uint64_t user_entry_offset(void) { return (uint64_t)user_entry - (uint64_t)user_page; }
SEG_INLINE uint64_t user_end_offset(void) { return (uint64_t)user_end - (uint64_t)user_page; }
#endif
#endif
