/* stb_image_impl.c: the one translation unit that holds stb_image's implementation (Debian's libstb-dev,
 * stb_image 2.27), configured for JPEG and PNG from memory, with our allocation hooks.
 *
 * It is alone in this file for its build flags. On corrupt JPEGs stb 2.27 computes past what C defines: a
 * running DC sum times a quantizer overflows int (stb_image.h:2197), and the bit reader shifts by 32 when its
 * count goes negative (stb_image.h:2065); later stb releases check both. Both come out as wrong pixels on every
 * compiler we build with, never as a wrong memory access (the fuzz target runs it under AddressSanitizer), so
 * the sanitizer builds (CMake ACL_SANITIZE, scripts/fuzz.sh) leave UndefinedBehaviorSanitizer off for this file
 * alone: our own code around it stays checked, and a fuzzer run is not stopped by a library we cannot patch.
 * -fwrapv makes the overflow defined (wrapping) in every build. */
#include "data/stb_image_impl.h"

#include <stdlib.h>

#include "data/decode.h"

/* Every allocation stb makes goes through here: we record the largest request (tests show a huge header is
 * refused without a large allocation) and refuse any request past a per-call ceiling as a second line of
 * defence behind the header check. */
static _Thread_local size_t peak_alloc;
static _Thread_local size_t ceiling = (size_t)-1;

static void *decode_malloc(size_t n)
{
    if (n > peak_alloc)
        peak_alloc = n;
    return n > ceiling ? NULL : malloc(n);
}

static void *decode_realloc(void *p, size_t n)
{
    if (n > peak_alloc)
        peak_alloc = n;
    return n > ceiling ? NULL : realloc(p, n);
}

size_t acl_decode_peak_alloc(void) { return peak_alloc; }
void acl_decode_reset_peak_alloc(void) { peak_alloc = 0; }

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC /* keep stb's symbols out of the shared library's interface */
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_STDIO /* we read files ourselves, with a size limit */
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS ACL_STB_MAX_SIDE /* a backstop: our own limit (lim->max_side) is checked first */
#define STBI_MALLOC(sz) decode_malloc(sz)
#define STBI_REALLOC(p, sz) decode_realloc(p, sz)
#define STBI_FREE(p) free(p)
/* With STB_IMAGE_STATIC the functions we do not call are unused statics; GCC reports those at the end of the
 * file, so this one warning stays off for the whole file. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#if defined(__GNUC__) && !defined(__clang__) /* GCC 12 on stbi__context, once inlined into our calls */
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if defined(__has_include) && !__has_include(<stb_image.h>)
#include <stb/stb_image.h> /* Debian's place, when stb's folder is not on the include path (scripts/fuzz.sh) */
#else
#include <stb_image.h>
#endif
#pragma GCC diagnostic pop

int acl_stb_info(const uint8_t *buf, int len, int *w, int *h, int *c)
{
    return stbi_info_from_memory(buf, len, w, h, c);
}

uint8_t *acl_stb_load_rgb(const uint8_t *buf, int len, size_t alloc_ceiling, int *w, int *h)
{
    int c = 0;
    ceiling = alloc_ceiling;
    uint8_t *px = stbi_load_from_memory(buf, len, w, h, &c, 3);
    ceiling = (size_t)-1;
    return px;
}

const char *acl_stb_failure_reason(void)
{
    const char *r = stbi_failure_reason();
    return r ? r : "?";
}
