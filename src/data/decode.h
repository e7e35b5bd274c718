/* decode.h: JPEG and PNG decoding to 8-bit RGB with stb_image, behind a header check and size limits.
 *
 * Every decode first reads the image header and refuses, before any large allocation, an image whose header
 * claims more than the limits allow. A JPEG is also walked segment by segment before stb_image sees it: it is
 * refused when it ends before its end-of-image marker (stb_image would fill the missing part with grey) and when a
 * Huffman table has more codes than stb_image 2.27's tables hold (which would overflow them); a PNG is refused
 * when it ends before its IEND chunk. Only then does stb_image read the header (stbi_info_from_memory) and decode.
 * Errors name the file (the `name` argument) and include stb_image's reason where it gave one. Gray, gray+alpha
 * and RGBA images come out as RGB (alpha is dropped, as PIL's convert("RGB") does). */
#ifndef ACL_DATA_DECODE_H
#define ACL_DATA_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

/* An 8-bit image, rows of pixels with interleaved channels: data[(y * width + x) * channels + k]. */
struct acl_image {
    uint8_t *data;
    int height, width, channels; /* channels: 1 (gray) or 3 (RGB) */
};

void acl_image_free(struct acl_image *img); /* frees data and zeroes the struct; NULL-safe */

#define ACL_DECODE_MAX_SIDE 16384                    /* pixels a side */
#define ACL_DECODE_MAX_PIXELS 100000000LL            /* width * height */
#define ACL_DECODE_MAX_FILE_BYTES ((size_t)256 << 20) /* a bigger file is refused before it is read */

struct acl_decode_limits {
    int max_side;           /* <= 65535 (stb_image's own ceiling in this build) */
    long long max_pixels;
    size_t max_file_bytes;
};

/* The defaults above. A NULL limits argument anywhere below means these. */
struct acl_decode_limits acl_decode_default_limits(void);

/* Reads the header only: *width, *height and *channels (as stored: 1..4) of a JPEG or PNG in memory, after
 * checking it against the limits and, for a JPEG, that the file is complete. ACL_ERR_FORMAT when the bytes are
 * empty, not a JPEG or PNG, corrupt, truncated or too large; the message starts with name. */
acl_status acl_image_info(const uint8_t *buf, size_t len, const char *name, const struct acl_decode_limits *lim,
                          int *width, int *height, int *channels);

/* Decodes a JPEG or PNG in memory to RGB (out->channels = 3); out->data is malloc'd (acl_image_free). */
acl_status acl_decode_image(const uint8_t *buf, size_t len, const char *name, const struct acl_decode_limits *lim,
                            struct acl_image *out);

/* Reads path whole (refusing files over lim->max_file_bytes) and decodes it. ACL_ERR_IO when it cannot be read. */
acl_status acl_decode_file(const char *path, const struct acl_decode_limits *lim, struct acl_image *out);

/* Reads a whole file into a malloc'd buffer (plus one NUL byte after the end, not counted in *len, so text
 * parsers may treat it as a string). A file over max_bytes is refused with ACL_ERR_FORMAT, a missing or
 * unreadable one with ACL_ERR_IO; both name the path. An empty file gives *len = 0 and a 1-byte buffer. */
acl_status acl_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len);

/* The largest single allocation stb_image asked for on this thread since the last reset: lets a test show
 * that an image with a huge header is refused without a large allocation. */
size_t acl_decode_peak_alloc(void);
void acl_decode_reset_peak_alloc(void);

#endif
