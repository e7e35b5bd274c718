/* decode.c: JPEG/PNG decoding with stb_image (its implementation is in stb_image_impl.c), header checks,
 * completeness walks and whole-file reading. */
#include "data/decode.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/stb_image_impl.h"
#include "runtime/error.h"

/* ---- images ----------------------------------------------------------------------------------- */

void acl_image_free(struct acl_image *img)
{
    if (!img)
        return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

struct acl_decode_limits acl_decode_default_limits(void)
{
    return (struct acl_decode_limits){ACL_DECODE_MAX_SIDE, ACL_DECODE_MAX_PIXELS, ACL_DECODE_MAX_FILE_BYTES};
}

static struct acl_decode_limits limits_or_default(const struct acl_decode_limits *lim)
{
    struct acl_decode_limits l = lim ? *lim : acl_decode_default_limits();
    if (l.max_side <= 0 || l.max_side > ACL_STB_MAX_SIDE)
        l.max_side = ACL_STB_MAX_SIDE;
    if (l.max_pixels <= 0)
        l.max_pixels = ACL_DECODE_MAX_PIXELS;
    if (l.max_file_bytes == 0 || l.max_file_bytes > (size_t)INT_MAX)
        l.max_file_bytes = (size_t)INT_MAX; /* stb takes an int length */
    return l;
}

/* ---- completeness walks ------------------------------------------------------------------------ */

/* Where the segments after a JPEG's start-of-image marker begin, 0 if the bytes are not a JPEG. Like stb_image, this
 * takes any number of FF fill bytes before the marker. */
static size_t jpeg_start(const uint8_t *b, size_t n)
{
    size_t p = 0;
    while (p < n && b[p] == 0xFF)
        p++;
    return p > 0 && p < n && b[p] == 0xD8 ? p + 1 : 0;
}

static int is_jpeg(const uint8_t *b, size_t n) { return jpeg_start(b, n) != 0; }

static int is_png(const uint8_t *b, size_t n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    return n >= 8 && memcmp(b, sig, 8) == 0;
}

/* Checks a DHT segment's tables (class and id byte, 16 code counts, the symbols) before stb_image sees them:
 * stb 2.27 builds a table from the counts before checking that they fit its 256-entry arrays, so counts summing
 * past 256 would write past them. */
static const char *jpeg_dht_bad(const uint8_t *s, size_t len)
{
    size_t q = 0;
    while (q < len) {
        if (len - q < 17)
            return "corrupt JPEG: a Huffman table header cut short";
        size_t codes = 0;
        for (int i = 1; i <= 16; i++)
            codes += s[q + i];
        if (codes > 256)
            return "corrupt JPEG: a Huffman table with more than 256 codes";
        if (codes > len - q - 17)
            return "corrupt JPEG: a Huffman table runs past its segment";
        q += 17 + codes;
    }
    return NULL;
}

/* Walks the JPEG's segments from SOI to EOI, as stb_image reads them: a segment with a length is skipped whole (so
 * thumbnails inside EXIF blocks, which hold their own end markers, are never looked into), except that Huffman
 * tables are checked (jpeg_dht_bad) and the first start-of-frame gives the size (*w, *h; 0 when none); after each
 * start-of-scan the entropy-coded data is scanned for the next marker (FF followed by anything but 00, a restart
 * marker or more FF fill). Reaching EOI means complete; running out of bytes first means truncated. Bytes after
 * EOI are allowed. Returns NULL or what is wrong. */
static const char *jpeg_walk(const uint8_t *b, size_t n, long long *w, long long *h)
{
    size_t p = jpeg_start(b, n);
    *w = *h = 0;
    for (;;) {
        while (p < n && b[p] != 0xFF) /* stb skips junk between segments too */
            p++;
        while (p < n && b[p] == 0xFF)
            p++;
        if (p >= n)
            return "truncated JPEG: the file ends before its end-of-image marker";
        uint8_t m = b[p++];
        if (m == 0xD9)
            return NULL;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD8))
            continue; /* markers without a length */
        if (n - p < 2)
            return "truncated JPEG: the file ends inside a segment header";
        size_t seg = (size_t)b[p] << 8 | b[p + 1];
        if (seg < 2)
            return "corrupt JPEG: a segment length below 2";
        if (seg > n - p)
            return "truncated JPEG: the file ends inside a segment";
        if (m == 0xC4) {
            const char *why = jpeg_dht_bad(b + p + 2, seg - 2);
            if (why)
                return why;
        }
        /* SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) */
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && *w == 0 && seg >= 7) {
            *h = (long long)b[p + 3] << 8 | b[p + 4];
            *w = (long long)b[p + 5] << 8 | b[p + 6];
        }
        p += seg;
        if (m != 0xDA)
            continue;
        for (;;) { /* entropy-coded data up to the next real marker */
            while (p < n && b[p] != 0xFF)
                p++;
            if (n - p < 2)
                return "truncated JPEG: the file ends inside the image data";
            uint8_t x = b[p + 1];
            if (x == 0x00 || (x >= 0xD0 && x <= 0xD7)) {
                p += 2;
                continue;
            }
            if (x == 0xFF) {
                p++;
                continue;
            }
            break; /* p is at the FF of the next marker */
        }
    }
}

/* Walks the PNG's chunks (length, type, data, CRC) and wants IEND within the file. */
static const char *png_incomplete(const uint8_t *b, size_t n)
{
    size_t p = 8;
    for (;;) {
        if (n - p < 12)
            return "truncated PNG: the file ends before its IEND chunk";
        size_t len = (size_t)b[p] << 24 | (size_t)b[p + 1] << 16 | (size_t)b[p + 2] << 8 | b[p + 3];
        if (len > 0x7FFFFFFFu)
            return "corrupt PNG: a chunk length over 2^31";
        if (len > n - p - 12)
            return "truncated PNG: the file ends inside a chunk";
        if (memcmp(b + p + 4, "IEND", 4) == 0)
            return NULL;
        p += 12 + len;
    }
}

/* The size a PNG's IHDR chunk (which must come first) claims; 0 when there is none. */
static void png_size(const uint8_t *b, size_t n, long long *w, long long *h)
{
    *w = *h = 0;
    if (n < 24 || memcmp(b + 12, "IHDR", 4) != 0)
        return;
    *w = (long long)b[16] << 24 | b[17] << 16 | b[18] << 8 | b[19];
    *h = (long long)b[20] << 24 | b[21] << 16 | b[22] << 8 | b[23];
}

/* ---- header check and decoding ----------------------------------------------------------------- */

static acl_status check_header(const uint8_t *buf, size_t len, const char *name, const struct acl_decode_limits *l,
                               int *width, int *height, int *channels)
{
    if (len == 0)
        return acl_fail(ACL_ERR_FORMAT, "%s: the file is empty (0 bytes)", name);
    if (len > l->max_file_bytes)
        return acl_fail(ACL_ERR_FORMAT, "%s: %zu bytes, over the limit of %zu for one image", name, len,
                        l->max_file_bytes);
    /* Our own reading of the header and structure comes first: the limits are checked on the size the header
     * claims, an oversized image is reported with that size (stb's info call keeps only its last, least useful
     * reason), and nothing that could trip stb_image reaches it. */
    long long cw = 0, ch = 0;
    const char *why = NULL;
    if (is_jpeg(buf, len))
        why = jpeg_walk(buf, len, &cw, &ch);
    else if (is_png(buf, len)) {
        png_size(buf, len, &cw, &ch);
        why = png_incomplete(buf, len);
    }
    if (cw > l->max_side || ch > l->max_side || cw * ch > l->max_pixels)
        return acl_fail(ACL_ERR_FORMAT, "%s: the header claims %lldx%lld pixels, over the limit of %d a side and "
                        "%lld pixels in all (too large)", name, cw, ch, l->max_side, l->max_pixels);
    if (why)
        return acl_fail(ACL_ERR_FORMAT, "%s: %s", name, why);
    int w = 0, h = 0, c = 0;
    if (!acl_stb_info(buf, (int)len, &w, &h, &c)) {
        const char *reason = acl_stb_failure_reason();
        if (strcmp(reason, "too large") == 0)
            return acl_fail(ACL_ERR_FORMAT, "%s: the image header claims a size over %d pixels a side or 1 Gpx "
                            "(stb_image: %s)", name, ACL_STB_MAX_SIDE, reason);
        if (!is_jpeg(buf, len) && !is_png(buf, len))
            return acl_fail(ACL_ERR_FORMAT, "%s: not a JPEG or PNG image (stb_image: %s)", name, reason);
        return acl_fail(ACL_ERR_FORMAT, "%s: corrupt %s header (stb_image: %s)", name,
                        is_jpeg(buf, len) ? "JPEG" : "PNG", reason);
    }
    if (w <= 0 || h <= 0 || c < 1 || c > 4)
        return acl_fail(ACL_ERR_FORMAT, "%s: the header gives an impossible size %dx%d with %d channels", name, w, h,
                        c);
    if (w > l->max_side || h > l->max_side || (long long)w * h > l->max_pixels)
        return acl_fail(ACL_ERR_FORMAT, "%s: the header claims %dx%d pixels, over the limit of %d a side and %lld "
                        "pixels in all", name, w, h, l->max_side, l->max_pixels);
    *width = w;
    *height = h;
    *channels = c;
    return ACL_OK;
}

acl_status acl_image_info(const uint8_t *buf, size_t len, const char *name, const struct acl_decode_limits *lim,
                          int *width, int *height, int *channels)
{
    if (!buf && len)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_image_info: NULL buffer");
    struct acl_decode_limits l = limits_or_default(lim);
    return check_header(buf, len, name ? name : "image", &l, width, height, channels);
}

acl_status acl_decode_image(const uint8_t *buf, size_t len, const char *name, const struct acl_decode_limits *lim,
                            struct acl_image *out)
{
    memset(out, 0, sizeof *out);
    if (!buf && len)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_decode_image: NULL buffer");
    if (!name)
        name = "image";
    struct acl_decode_limits l = limits_or_default(lim);
    int w, h, c;
    acl_status st = check_header(buf, len, name, &l, &w, &h, &c);
    if (st != ACL_OK)
        return st;
    /* The header is within limits: no honest decode needs more than 8 bytes a pixel (16-bit RGBA) in one
     * block, plus slack for compressed data and tables. */
    size_t ceiling = (size_t)w * (size_t)h * 8 + ((size_t)64 << 20) + len;
    int dw = 0, dh = 0;
    uint8_t *px = acl_stb_load_rgb(buf, (int)len, ceiling, &dw, &dh);
    if (!px)
        return acl_fail(ACL_ERR_FORMAT, "%s: corrupt %s data (stb_image: %s)", name,
                        is_jpeg(buf, len) ? "JPEG" : "PNG", acl_stb_failure_reason());
    if (dw != w || dh != h) {
        free(px);
        return acl_fail(ACL_ERR_FORMAT, "%s: decoded %dx%d but the header said %dx%d", name, dw, dh, w, h);
    }
    *out = (struct acl_image){px, h, w, 3};
    return ACL_OK;
}

/* ---- files ------------------------------------------------------------------------------------- */

acl_status acl_read_file(const char *path, size_t max_bytes, uint8_t **buf, size_t *len)
{
    acl_status st = ACL_OK;
    uint8_t *b = NULL;
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return acl_fail(ACL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = acl_fail(ACL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = acl_fail(ACL_ERR_IO, "%s: not a regular file", path);
        goto cleanup;
    }
    if (sb.st_size < 0 || (unsigned long long)sb.st_size > max_bytes) {
        st = acl_fail(ACL_ERR_FORMAT, "%s: %lld bytes, over the limit of %zu", path, (long long)sb.st_size,
                      max_bytes);
        goto cleanup;
    }
    size_t n = (size_t)sb.st_size;
    b = malloc(n + 1);
    if (!b) {
        st = acl_fail(ACL_ERR_MEMORY, "%s: out of memory for %zu bytes", path, n + 1);
        goto cleanup;
    }
    size_t got = n ? fread(b, 1, n, f) : 0;
    if (got != n) {
        st = acl_fail(ACL_ERR_IO, "%s: read %zu of %zu bytes%s%s", path, got, n, ferror(f) ? ": " : "",
                      ferror(f) ? strerror(errno) : " (the file shrank while being read)");
        goto cleanup;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    b = NULL;
cleanup:
    free(b);
    fclose(f);
    return st;
}

acl_status acl_decode_file(const char *path, const struct acl_decode_limits *lim, struct acl_image *out)
{
    memset(out, 0, sizeof *out);
    struct acl_decode_limits l = limits_or_default(lim);
    uint8_t *buf = NULL;
    size_t len = 0;
    acl_status st = acl_read_file(path, l.max_file_bytes, &buf, &len);
    if (st == ACL_OK)
        st = acl_decode_image(buf, len, path, &l, out);
    free(buf);
    return st;
}
