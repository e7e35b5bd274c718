/* report_filters.c: the first convolution's kernels as one image, as in the paper's Figure 3, and its PNG
 * (stb_image_write; this is the one file that holds its implementation). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "train/report.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC /* keep stb's symbols out of the shared library's interface */
#define STBI_WRITE_NO_STDIO    /* we write through io/atomic.h */
#pragma GCC diagnostic ignored "-Wunused-function" /* the writers we do not call (see data/stb_image_impl.c) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#if defined(__has_include) && !__has_include(<stb_image_write.h>)
#include <stb/stb_image_write.h> /* Debian's place, when stb's folder is not on the include path */
#else
#include <stb_image_write.h>
#endif
#pragma GCC diagnostic pop

#define TILE_TARGET_PX 44      /* an 11x11 kernel at 4x, as the paper's figure shows them */
#define GRID_SIDE_LIMIT 16384  /* pixels; the image stays far below what a browser or stb will take */

void acl_filter_grid_free(struct acl_filter_grid *g)
{
    free(g->pixels);
    memset(g, 0, sizeof *g);
}

int acl_filter_columns(int count)
{
    if (count <= 1)
        return 1;
    /* cols / rows = 16 / 6 with cols * rows = count gives cols = sqrt(count * 8 / 3). */
    double target = sqrt(count * 8.0 / 3.0);
    int best = 0;
    for (int d = 1; d <= count; d++)
        if (count % d == 0 && fabs(d - target) <= 0.25 * target && (!best || fabs(d - target) < fabs(best - target)))
            best = d;
    if (!best)
        best = (int)lround(target);
    return best < count ? best : count;
}

acl_status acl_filter_tile(const float *w, int count, int c, int kh, int kw, int scale, int gap,
                           struct acl_filter_grid *out)
{
    memset(out, 0, sizeof *out);
    if (count < 1 || c < 1 || kh < 1 || kw < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "filter image of %d kernels of %dx%dx%d: nothing to show", count, c, kh, kw);
    if (scale <= 0) {
        int side = kh > kw ? kh : kw;
        scale = (TILE_TARGET_PX + side - 1) / side;
    }
    if (gap < 0)
        gap = scale > 1 ? 2 : 1;
    int cols = acl_filter_columns(count), rows = (count + cols - 1) / cols;
    int tw = kw * scale, th = kh * scale;
    double width = (double)cols * tw + (double)(cols + 1) * gap, height = (double)rows * th + (double)(rows + 1) * gap;
    if (width > GRID_SIDE_LIMIT || height > GRID_SIDE_LIMIT)
        return acl_fail(ACL_ERR_ARGUMENT, "filter image of %d kernels of %dx%d at %dx would be %.0fx%.0f pixels, past "
                        "the %d limit", count, kh, kw, scale, width, height, GRID_SIDE_LIMIT);
    int ch = c == 3 ? 3 : 1;
    *out = (struct acl_filter_grid){.width = (int)width, .height = (int)height, .channels = ch, .count = count,
                                    .rows = rows, .cols = cols, .scale = scale, .gap = gap};
    size_t stride = (size_t)out->width * ch, plane = (size_t)kh * kw;
    out->pixels = malloc(stride * (size_t)out->height);
    float *px = malloc(plane * ch * sizeof *px);
    if (!out->pixels || !px) {
        free(px);
        acl_filter_grid_free(out);
        return acl_fail(ACL_ERR_MEMORY, "out of host memory for the filter image");
    }
    memset(out->pixels, 255, stride * (size_t)out->height); /* the gaps are white */
    for (int f = 0; f < count; f++) {
        const float *k = w + (size_t)f * c * plane;
        /* The kernel's pixels in the image's channels: its own for RGB, the mean over channels for grey. */
        for (size_t i = 0; i < plane; i++) {
            if (ch == 3) {
                for (int j = 0; j < 3; j++)
                    px[i * 3 + j] = k[j * plane + i];
            } else {
                double s = 0;
                for (int j = 0; j < c; j++)
                    s += k[j * plane + i];
                px[i] = (float)(s / c);
            }
        }
        float lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < plane * ch; i++) {
            if (!isfinite(px[i]))
                continue; /* non-finite weights (a diverged run) show as black, outside the range */
            lo = px[i] < lo ? px[i] : lo;
            hi = px[i] > hi ? px[i] : hi;
        }
        int x0 = gap + (f % cols) * (tw + gap), y0 = gap + (f / cols) * (th + gap);
        for (int y = 0; y < th; y++) {
            uint8_t *row = out->pixels + (size_t)(y0 + y) * stride + (size_t)x0 * ch;
            for (int x = 0; x < tw; x++)
                for (int j = 0; j < ch; j++) {
                    float v = px[((size_t)(y / scale) * kw + (size_t)(x / scale)) * ch + j];
                    double t = hi > lo ? ((double)v - lo) / ((double)hi - lo) * 255.0 : 128.0;
                    row[(size_t)x * ch + j] = (uint8_t)(isfinite(v) ? floor(t + 0.5) : 0);
                }
        }
    }
    free(px);
    return ACL_OK;
}

acl_status acl_filter_tile_net(const struct acl_net *net, const float *params, struct acl_filter_grid *out,
                               const struct acl_tensor_desc **tensor)
{
    memset(out, 0, sizeof *out);
    *tensor = NULL;
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (l->kind != ACL_CONV || l->weight < 0)
            continue;
        const struct acl_tensor_desc *d = &net->tensors[l->weight];
        if (d->ndim != 4)
            return acl_fail(ACL_ERR_ARGUMENT, "%s has %d dimensions, not 4", d->name, d->ndim);
        *tensor = d;
        return acl_filter_tile(params + d->offset, d->dims[0], d->dims[1], d->dims[2], d->dims[3], 0, -1, out);
    }
    return acl_fail(ACL_ERR_ARGUMENT, "model %s has no convolution to show", net->name);
}

struct mem_out {
    uint8_t *p;
    size_t n, cap;
    int failed;
};

static void to_memory(void *ctx, void *data, int size)
{
    struct mem_out *m = ctx;
    if (m->failed || size <= 0)
        return;
    if (m->cap - m->n < (size_t)size) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap - m->n < (size_t)size)
            cap *= 2;
        uint8_t *p = realloc(m->p, cap);
        if (!p) {
            m->failed = 1;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

acl_status acl_filter_png(const struct acl_filter_grid *g, uint8_t **png, size_t *len)
{
    struct mem_out m = {0};
    *png = NULL;
    *len = 0;
    int ok = stbi_write_png_to_func(to_memory, &m, g->width, g->height, g->channels, g->pixels,
                                    g->width * g->channels);
    if (!ok || m.failed) {
        free(m.p);
        return acl_fail(ACL_ERR_MEMORY, "cannot encode the %dx%d filter image as PNG (out of memory)", g->width,
                        g->height);
    }
    *png = m.p;
    *len = m.n;
    return ACL_OK;
}
