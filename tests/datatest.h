/* datatest.h: helpers for the data tests (header-only, each test program gets its own copy): temporary folders,
 * writing files, PNG encoding with stb_image_write, JPEG encoding (jpegenc.h), CRC-32, crafted PNG and gzip. */
#ifndef ACL_TESTS_DATATEST_H
#define ACL_TESTS_DATATEST_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STBIWDEF static inline /* unused encoders raise no warning */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

/* A growable byte buffer. */
struct bytes {
    uint8_t *p;
    size_t n, cap;
};

static inline void bytes_put(struct bytes *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->n + n)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p)
            abort(); /* a test helper: out of memory ends the test */
        b->cap = c;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static inline void bytes_be32(struct bytes *b, uint32_t v)
{
    uint8_t q[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bytes_put(b, q, 4);
}

static inline void bytes_le32(struct bytes *b, uint32_t v)
{
    uint8_t q[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    bytes_put(b, q, 4);
}

static inline void stbiw_sink(void *ctx, void *data, int size) { bytes_put(ctx, data, (size_t)size); }

/* A PNG of an (h, w, c) 8-bit image (JPEGs: encode_jpg in jpegenc.h). */
static inline struct bytes encode_png(const uint8_t *px, int h, int w, int c)
{
    struct bytes b = {0};
    if (!stbi_write_png_to_func(stbiw_sink, &b, w, h, c, px, w * c))
        abort();
    return b;
}

/* CRC-32 as PNG and gzip use it (reflected, polynomial 0xEDB88320). */
static inline uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return c ^ 0xFFFFFFFFu;
}

static inline void png_chunk(struct bytes *b, const char *type, const uint8_t *data, uint32_t n)
{
    bytes_be32(b, n);
    size_t at = b->n;
    bytes_put(b, type, 4);
    if (n)
        bytes_put(b, data, n);
    bytes_be32(b, crc32_of(b->p + at, 4 + (size_t)n));
}

/* A PNG with a valid signature and IHDR (with its CRC) claiming w x h RGB, a tiny IDAT and IEND: only the header
 * is honest. */
static inline struct bytes png_claiming(uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    struct bytes b = {0};
    bytes_put(&b, sig, 8);
    uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                        (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                        8, 2, 0, 0, 0};
    png_chunk(&b, "IHDR", ihdr, 13);
    static const uint8_t idat[] = {0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01};
    png_chunk(&b, "IDAT", idat, sizeof idat);
    png_chunk(&b, "IEND", NULL, 0);
    return b;
}

/* gzip of data with stored (uncompressed) deflate blocks: a real gzip member without needing zlib. */
static inline struct bytes gzip_stored(const uint8_t *data, size_t n)
{
    static const uint8_t head[10] = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF};
    struct bytes b = {0};
    bytes_put(&b, head, 10);
    size_t pos = 0;
    do {
        size_t m = n - pos > 65535 ? 65535 : n - pos;
        uint8_t h[5] = {(uint8_t)(pos + m == n), (uint8_t)m, (uint8_t)(m >> 8), (uint8_t)~m, (uint8_t)(~m >> 8)};
        bytes_put(&b, h, 5);
        if (m)
            bytes_put(&b, data + pos, m);
        pos += m;
    } while (pos < n);
    bytes_le32(&b, crc32_of(data, n));
    bytes_le32(&b, (uint32_t)n);
    return b;
}

/* ---- files ------------------------------------------------------------------------------------- */

static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        abort();
    }
}

static inline void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

/* A fresh folder under $TMPDIR (or /tmp); path gets its name. */
static inline void temp_folder(char *path, size_t cap)
{
    const char *t = getenv("TMPDIR");
    snprintf(path, cap, "%s/acl-data-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(path))
        abort();
}

static inline void make_folder(const char *path)
{
    if (mkdir(path, 0755) != 0)
        abort();
}

/* rm -r path (files and folders only; the tests make nothing else). */
static inline void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* An (h, w, c) test pattern: smooth gradients without wrap-around, so JPEG keeps it close. */
static inline uint8_t *pattern(int h, int w, int c, int seed)
{
    uint8_t *p = malloc((size_t)h * w * c);
    if (!p)
        abort();
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                p[((size_t)y * w + x) * c + k] = (uint8_t)(y * 70 / h + x * 70 / w + k * 30 + seed % 40);
    return p;
}

#include "jpegenc.h"

#endif
