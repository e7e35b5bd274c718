/* resize.c: antialiased bilinear (tent-filter) resizing in fixed point, centre crops, and the paper's
 * shorter-side-then-centre-crop preprocessing. The filter and its rounding are described in data/resize.h. */
#include "data/resize.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

#define FRAC_BITS 22 /* 255 * 2^22 still fits an int32 accumulator */
#define ONE (1 << FRAC_BITS)
#define MAX_SIDE (1 << 20)

/* For each output coordinate of a window along one axis: the first input index, the number of taps and the
 * fixed-point weights (n[j] of them at w + j * max_taps). */
struct taps {
    int *first, *n;
    int32_t *w;
    int max_taps;
};

static void taps_free(struct taps *t)
{
    free(t->first);
    free(t->n);
    free(t->w);
    memset(t, 0, sizeof *t);
}

static acl_status taps_make(struct taps *t, int from, int count, int out_size, int in_size)
{
    memset(t, 0, sizeof *t);
    double scale = (double)in_size / out_size;
    double support = scale > 1 ? scale : 1; /* the tent's half-width in input pixels */
    t->max_taps = (int)ceil(support) * 2 + 2;
    t->first = malloc((size_t)count * sizeof *t->first);
    t->n = malloc((size_t)count * sizeof *t->n);
    t->w = malloc((size_t)count * (size_t)t->max_taps * sizeof *t->w);
    double *wd = malloc((size_t)t->max_taps * sizeof *wd);
    if (!t->first || !t->n || !t->w || !wd) {
        free(wd);
        taps_free(t);
        return acl_fail(ACL_ERR_MEMORY, "resize: out of memory for filter weights");
    }
    for (int j = 0; j < count; j++) {
        double center = (from + j + 0.5) * scale;
        int lo = (int)floor(center - support), hi = (int)ceil(center + support);
        if (lo < 0)
            lo = 0;
        if (hi > in_size)
            hi = in_size;
        double sum = 0;
        for (int k = lo; k < hi; k++) {
            double x = fabs((k + 0.5 - center) / support);
            wd[k - lo] = x < 1 ? 1 - x : 0;
            sum += wd[k - lo];
        }
        /* Drop zero weights at both ends, so the integer loops run over real taps only. */
        while (hi > lo && wd[hi - 1 - lo] == 0)
            hi--;
        int skip = 0;
        while (lo + skip < hi && wd[skip] == 0)
            skip++;
        int32_t *w = t->w + (size_t)j * t->max_taps;
        int n = hi - lo - skip, big = 0;
        int32_t total = 0;
        for (int k = 0; k < n; k++) {
            w[k] = (int32_t)floor(wd[skip + k] / sum * ONE + 0.5);
            total += w[k];
            if (w[k] > w[big])
                big = k;
        }
        if (n > 0)
            w[big] += ONE - total; /* the sum is exactly one, so flat images stay flat */
        t->first[j] = lo + skip;
        t->n[j] = n;
    }
    free(wd);
    return ACL_OK;
}

static uint8_t round_fixed(int32_t acc)
{
    int32_t v = (acc + (ONE >> 1)) >> FRAC_BITS;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static acl_status check_image(const char *what, int h, int w, int c)
{
    if (h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE || c < 1 || c > 4)
        return acl_fail(ACL_ERR_ARGUMENT, "resize: %s is %dx%dx%d (want sides in [1, %d], 1 to 4 channels)", what,
                        h, w, c, MAX_SIDE);
    return ACL_OK;
}

acl_status acl_resize_window(uint8_t *dst, int top, int left, int wh, int ww, int dh, int dw, const uint8_t *src,
                             int sh, int sw, int c)
{
    acl_status st = ACL_OK;
    struct taps tx = {0}, ty = {0};
    uint8_t *tmp = NULL;
    ACL_TRY(check_image("the source", sh, sw, c));
    ACL_TRY(check_image("the output", dh, dw, c));
    if (top < 0 || left < 0 || wh < 1 || ww < 1 || top > dh - wh || left > dw - ww)
        return acl_fail(ACL_ERR_ARGUMENT, "resize: the window %dx%d at (%d, %d) is not inside the %dx%d output", wh,
                        ww, top, left, dh, dw);
    ACL_TRY(taps_make(&tx, left, ww, dw, sw));
    ACL_TRY(taps_make(&ty, top, wh, dh, sh));
    /* Only the source rows that some output row reads go through the horizontal pass. */
    int y0 = ty.first[0], y1 = ty.first[wh - 1] + ty.n[wh - 1];
    for (int j = 0; j < wh; j++) {
        if (ty.first[j] < y0)
            y0 = ty.first[j];
        if (ty.first[j] + ty.n[j] > y1)
            y1 = ty.first[j] + ty.n[j];
    }
    size_t row = (size_t)ww * c;
    tmp = malloc((size_t)(y1 - y0) * row);
    if (!tmp) {
        st = acl_fail(ACL_ERR_MEMORY, "resize: out of memory for %d rows of %zu bytes", y1 - y0, row);
        goto cleanup;
    }
    for (int y = y0; y < y1; y++) {
        const uint8_t *s = src + (size_t)y * sw * c;
        uint8_t *t = tmp + (size_t)(y - y0) * row;
        for (int x = 0; x < ww; x++) {
            const int32_t *w = tx.w + (size_t)x * tx.max_taps;
            const uint8_t *p = s + (size_t)tx.first[x] * c;
            for (int k = 0; k < c; k++) {
                int32_t acc = 0;
                for (int i = 0; i < tx.n[x]; i++)
                    acc += w[i] * p[(size_t)i * c + k];
                t[(size_t)x * c + k] = round_fixed(acc);
            }
        }
    }
    for (int y = 0; y < wh; y++) {
        const int32_t *w = ty.w + (size_t)y * ty.max_taps;
        const uint8_t *t = tmp + (size_t)(ty.first[y] - y0) * row;
        uint8_t *d = dst + (size_t)y * row;
        for (size_t x = 0; x < row; x++) {
            int32_t acc = 0;
            for (int i = 0; i < ty.n[y]; i++)
                acc += w[i] * t[(size_t)i * row + x];
            d[x] = round_fixed(acc);
        }
    }
cleanup:
    free(tmp);
    taps_free(&tx);
    taps_free(&ty);
    return st;
}

acl_status acl_resize(uint8_t *dst, int dh, int dw, const uint8_t *src, int sh, int sw, int c)
{
    return acl_resize_window(dst, 0, 0, dh, dw, dh, dw, src, sh, sw, c);
}

void acl_resize_shorter_size(int h, int w, int s, int *out_h, int *out_w)
{
    long long lng = h <= w ? (long long)s * w / h : (long long)s * h / w;
    int l = lng > INT_MAX ? INT_MAX : (int)lng; /* callers refuse sides this large */
    *out_h = h <= w ? s : l;
    *out_w = h <= w ? l : s;
}

acl_status acl_center_crop(uint8_t *dst, int ch, int cw, const uint8_t *src, int h, int w, int c)
{
    acl_status st = check_image("the source", h, w, c);
    if (st != ACL_OK)
        return st;
    if (ch < 1 || cw < 1 || ch > h || cw > w)
        return acl_fail(ACL_ERR_ARGUMENT, "center crop: %dx%d does not fit in %dx%d", ch, cw, h, w);
    int top = (h - ch) / 2, left = (w - cw) / 2;
    for (int y = 0; y < ch; y++)
        memcpy(dst + (size_t)y * cw * c, src + ((size_t)(top + y) * w + left) * c, (size_t)cw * c);
    return ACL_OK;
}

acl_status acl_resize_shorter_crop(uint8_t *dst, int s, const uint8_t *src, int h, int w, int c)
{
    acl_status st = check_image("the source", h, w, c);
    if (st != ACL_OK)
        return st;
    if (s < 1 || s > MAX_SIDE)
        return acl_fail(ACL_ERR_ARGUMENT, "resize: size %d outside [1, %d]", s, MAX_SIDE);
    int rh, rw;
    acl_resize_shorter_size(h, w, s, &rh, &rw);
    if (rh > MAX_SIDE || rw > MAX_SIDE)
        return acl_fail(ACL_ERR_ARGUMENT, "resize: %dx%d to shorter side %d would be %dx%d, over %d a side", h, w, s,
                        rh, rw, MAX_SIDE);
    return acl_resize_window(dst, (rh - s) / 2, (rw - s) / 2, s, s, rh, rw, src, h, w, c);
}
