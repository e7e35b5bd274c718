/* jpegenc.h: a small baseline JPEG encoder for the tests (header-only; datatest.h includes it).
 *
 * stb_image_write's JPEG encoder shifts signed ints past their range, which UndefinedBehaviorSanitizer stops on, so
 * the tests make their JPEGs here instead. Written from the JPEG standard (ITU T.81), for test images only: no
 * chroma subsampling, one quantization table of all 2s (close to lossless), and Huffman tables that give every DC
 * category a 4-bit code and every AC symbol an 8-bit code (valid canonical tables, just not compact). Three
 * channels are stored as JFIF YCbCr; one channel as gray. */
#ifndef ACL_TESTS_JPEGENC_H
#define ACL_TESTS_JPEGENC_H

#include <math.h>
#include <stdint.h>

#define JPEG_PI 3.14159265358979323846

struct jpeg_bits {
    struct bytes *out;
    uint32_t acc;
    int n;
};

static inline void jpeg_put_bits(struct jpeg_bits *w, uint32_t bits, int len)
{
    for (int i = len - 1; i >= 0; i--) {
        w->acc = (w->acc << 1) | ((bits >> i) & 1);
        if (++w->n == 8) {
            uint8_t c = (uint8_t)w->acc, zero = 0;
            bytes_put(w->out, &c, 1);
            if (c == 0xFF) /* byte stuffing: FF in entropy-coded data is followed by 00 */
                bytes_put(w->out, &zero, 1);
            w->acc = 0;
            w->n = 0;
        }
    }
}

/* The magnitude category of v (bits needed for |v|) and its value bits. */
static inline int jpeg_category(int v, uint32_t *bits)
{
    int a = v < 0 ? -v : v, s = 0;
    while (a >> s)
        s++;
    *bits = (uint32_t)(v >= 0 ? v : v + (1 << s) - 1);
    return s;
}

static inline void jpeg_marker(struct bytes *b, uint8_t m, uint16_t len)
{
    uint8_t h[4] = {0xFF, m, (uint8_t)(len >> 8), (uint8_t)len};
    bytes_put(b, h, 4);
}

/* The AC symbols in the order of their codes: EOB, ZRL, then (run, size) for run 0..15 and size 1..10. */
static inline int jpeg_ac_symbols(uint8_t *sym)
{
    int n = 0;
    sym[n++] = 0x00;
    sym[n++] = 0xF0;
    for (int run = 0; run < 16; run++)
        for (int size = 1; size <= 10; size++)
            sym[n++] = (uint8_t)(run << 4 | size);
    return n;
}

/* Encodes one 8x8 block (values 0..255, row-major) with predictor *dc. */
static inline void jpeg_block(struct jpeg_bits *w, const double *px, int *dc, const int *zigzag,
                              const uint8_t *ac_code)
{
    double coef[64];
    for (int v = 0; v < 8; v++)
        for (int u = 0; u < 8; u++) {
            double s = 0;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    s += (px[y * 8 + x] - 128) * cos((2 * x + 1) * u * JPEG_PI / 16) *
                         cos((2 * y + 1) * v * JPEG_PI / 16);
            double cu = u ? 1 : sqrt(0.5), cv = v ? 1 : sqrt(0.5);
            coef[v * 8 + u] = 0.25 * cu * cv * s / 2; /* quantizer 2 */
        }
    uint32_t bits;
    int q = (int)lround(coef[0]);
    int size = jpeg_category(q - *dc, &bits);
    *dc = q;
    jpeg_put_bits(w, (uint32_t)size, 4); /* DC code = category, 4 bits */
    jpeg_put_bits(w, bits, size);
    int run = 0;
    for (int k = 1; k < 64; k++) {
        int a = (int)lround(coef[zigzag[k]]);
        a = a > 1023 ? 1023 : a < -1023 ? -1023 : a; /* baseline AC values have at most 10 bits */
        if (a == 0) {
            run++;
            continue;
        }
        for (; run > 15; run -= 16)
            jpeg_put_bits(w, ac_code[0xF0], 8);
        size = jpeg_category(a, &bits);
        jpeg_put_bits(w, ac_code[run << 4 | size], 8);
        jpeg_put_bits(w, bits, size);
        run = 0;
    }
    if (run)
        jpeg_put_bits(w, ac_code[0x00], 8);
}

/* A baseline JPEG of an (h, w, c) image, c = 1 or 3. */
static inline struct bytes encode_jpg(const uint8_t *img, int h, int w, int c)
{
    struct bytes b = {0};
    int zigzag[64], k = 0;
    for (int s = 0; s < 15; s++) /* walk the anti-diagonals, alternating direction */
        for (int i = s < 8 ? s : 7; i >= 0 && s - i < 8; i--)
            zigzag[k++] = s % 2 == 0 ? i * 8 + (s - i) : (s - i) * 8 + i;
    uint8_t sym[162], ac_code[256] = {0};
    int nsym = jpeg_ac_symbols(sym);
    for (int i = 0; i < nsym; i++)
        ac_code[sym[i]] = (uint8_t)i;

    static const uint8_t soi[2] = {0xFF, 0xD8};
    bytes_put(&b, soi, 2);
    jpeg_marker(&b, 0xDB, 67); /* DQT: table 0, 8-bit, all 2 */
    uint8_t dqt[65] = {0};
    memset(dqt + 1, 2, 64);
    bytes_put(&b, dqt, 65);
    jpeg_marker(&b, 0xC0, (uint16_t)(8 + 3 * c)); /* SOF0 */
    uint8_t sof[6] = {8, (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)c};
    bytes_put(&b, sof, 6);
    for (int i = 0; i < c; i++) {
        uint8_t comp[3] = {(uint8_t)(i + 1), 0x11, 0};
        bytes_put(&b, comp, 3);
    }
    jpeg_marker(&b, 0xC4, 2 + 17 + 12 + 17 + 162); /* DHT: DC table 0, then AC table 0 */
    uint8_t counts[17] = {0x00};
    counts[4] = 12; /* 12 codes of length 4 */
    bytes_put(&b, counts, 17);
    for (uint8_t v = 0; v < 12; v++)
        bytes_put(&b, &v, 1);
    memset(counts, 0, sizeof counts);
    counts[0] = 0x10;
    counts[8] = (uint8_t)nsym; /* 162 codes of length 8 */
    bytes_put(&b, counts, 17);
    bytes_put(&b, sym, (size_t)nsym);
    jpeg_marker(&b, 0xDA, (uint16_t)(6 + 2 * c)); /* SOS */
    uint8_t nc = (uint8_t)c;
    bytes_put(&b, &nc, 1);
    for (int i = 0; i < c; i++) {
        uint8_t sel[2] = {(uint8_t)(i + 1), 0x00};
        bytes_put(&b, sel, 2);
    }
    static const uint8_t spectral[3] = {0, 63, 0};
    bytes_put(&b, spectral, 3);

    struct jpeg_bits bw = {&b, 0, 0};
    int dc[3] = {0, 0, 0};
    double block[64];
    for (int by = 0; by < h; by += 8)
        for (int bx = 0; bx < w; bx += 8)
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < 8; y++)
                    for (int x = 0; x < 8; x++) {
                        int yy = by + y < h ? by + y : h - 1, xx = bx + x < w ? bx + x : w - 1; /* repeat edges */
                        const uint8_t *p = img + ((size_t)yy * w + xx) * c;
                        double v = p[0];
                        if (c == 3) {
                            double r = p[0], g = p[1], bl = p[2];
                            v = ch == 0   ? 0.299 * r + 0.587 * g + 0.114 * bl
                                : ch == 1 ? 128 - 0.168736 * r - 0.331264 * g + 0.5 * bl
                                          : 128 + 0.5 * r - 0.418688 * g - 0.081312 * bl;
                        }
                        block[y * 8 + x] = v;
                    }
                jpeg_block(&bw, block, &dc[ch], zigzag, ac_code);
            }
    if (bw.n) /* pad the last byte with 1s */
        jpeg_put_bits(&bw, (1u << (8 - bw.n)) - 1, 8 - bw.n);
    static const uint8_t eoi[2] = {0xFF, 0xD9};
    bytes_put(&b, eoi, 2);
    return b;
}

#endif
