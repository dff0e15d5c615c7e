// zlib for the fuzz harness's differential checks of Apus's Inflater (host only).
// zlib's init calls are macros Swift cannot import; these wrap them.
#include <zlib.h>

static inline int apus_fuzz_inflate_init(z_stream *stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int apus_fuzz_deflate_init(z_stream *stream, int level, int windowBits, int memLevel, int strategy) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, strategy);
}
