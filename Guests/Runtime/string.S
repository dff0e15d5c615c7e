/*
 * string.S: the four C library routines compiled Swift code may call (struct copies
 * and zeroing). Plain `rep` string instructions: the guests never copy enough for
 * anything cleverer to matter, and no SSE may be used.
 */
    .text
    .globl memcpy, memmove, memset, memcmp

/* void *memcpy(void *dst, const void *src, size_t n) */
memcpy:
    movq %rdi, %rax
    movq %rdx, %rcx
    rep movsb
    ret

/* void *memmove(void *dst, const void *src, size_t n): copies backwards on overlap. */
memmove:
    movq %rdi, %rax
    movq %rdx, %rcx
    cmpq %rsi, %rdi
    jbe 1f
    leaq -1(%rsi,%rdx), %rsi
    leaq -1(%rdi,%rdx), %rdi
    std
    rep movsb
    cld
    ret
1:  rep movsb
    ret

/* void *memset(void *dst, int c, size_t n) */
memset:
    movq %rdi, %r9
    movl %esi, %eax
    movq %rdx, %rcx
    rep stosb
    movq %r9, %rax
    ret

/* int memcmp(const void *a, const void *b, size_t n) */
memcmp:
    xorl %eax, %eax
    testq %rdx, %rdx
    jz 2f
1:  movzbl (%rdi), %eax
    movzbl (%rsi), %ecx
    subl %ecx, %eax
    jnz 2f
    incq %rdi
    incq %rsi
    decq %rdx
    jnz 1b
2:  ret
