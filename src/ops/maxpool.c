/* maxpool.c: max pooling forward and backward: host reference, launchers, selftest cases. */
#include "ops/maxpool.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* ---- shape ----------------------------------------------------------------------------------- */

acl_status pool_check_shape(const struct pool_shape *s)
{
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: sizes must be positive (n=%d c=%d h=%d w=%d)", s->n, s->c,
                        s->h, s->w);
    if (s->size < 1 || s->stride < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: window size %d and stride %d must be at least 1", s->size,
                        s->stride);
    if (s->pad < 0 || s->pad >= s->size)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: padding %d must be in [0, window size %d): a window could "
                        "otherwise lie wholly in the padding", s->pad, s->size);
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    if (oh < 1 || ow < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: a %dx%d window with padding %d does not fit a %dx%d input",
                        s->size, s->size, s->pad, s->h, s->w);
    if ((double)s->n * s->c * s->h * s->w >= INT_MAX)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: %d x %d x %d x %d elements exceed INT_MAX", s->n, s->c, s->h,
                        s->w);
    return ACL_OK; /* the output is no larger than the input (pad < size) */
}

/* The kernels index with int: the view's offset plus its extent must fit. */
static acl_status view_fits(const char *what, struct acl_view v, size_t count)
{
    if (v.off > (size_t)INT_MAX - count)
        return acl_fail(ACL_ERR_ARGUMENT, "maxpool: %s at offset %zu plus %zu elements exceeds INT_MAX", what,
                        v.off, count);
    return ACL_OK;
}

/* ---- reference ------------------------------------------------------------------------------- */

void maxpool_forward_ref(double *out, int *argmax, const double *inp, const struct pool_shape *s)
{
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    for (size_t plane = 0; plane < (size_t)s->n * s->c; plane++) {
        const double *p = inp + plane * s->h * s->w;
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int y0 = oy * s->stride - s->pad, x0 = ox * s->stride - s->pad;
                int y1 = y0 + s->size < s->h ? y0 + s->size : s->h, x1 = x0 + s->size < s->w ? x0 + s->size : s->w;
                y0 = y0 < 0 ? 0 : y0;
                x0 = x0 < 0 ? 0 : x0;
                int best_at = y0 * s->w + x0;
                for (int y = y0; y < y1; y++)
                    for (int x = x0; x < x1; x++) {
                        double v = p[y * s->w + x], best = p[best_at];
                        if (v > best || (isnan(v) && !isnan(best)))
                            best_at = y * s->w + x;
                    }
                size_t o = (plane * oh + oy) * ow + ox;
                out[o] = p[best_at];
                argmax[o] = best_at;
            }
    }
}

void maxpool_backward_ref(double *dinp, const double *dout, const int *argmax, const struct pool_shape *s)
{
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    size_t in_plane = (size_t)s->h * s->w, out_plane = (size_t)oh * ow;
    for (size_t i = 0; i < (size_t)s->n * s->c * in_plane; i++)
        dinp[i] = 0;
    for (size_t plane = 0; plane < (size_t)s->n * s->c; plane++)
        for (size_t o = 0; o < out_plane; o++)
            dinp[plane * in_plane + argmax[plane * out_plane + o]] += dout[plane * out_plane + o];
}

/* ---- launchers ------------------------------------------------------------------------------- */

/* Backward: dimension 1 runs over the N*C planes, dimension 0 over runs of columns (cl/maxpool.cl). The
 * kernel loops when dimension 0 is short of the runs, so RUN only sizes the launch (MAXPOOL_VEC's default); a
 * group spans all the runs of a row where it can, so that few work-items fall off its end. Forward: one
 * work-item per plane, PLANES to a group (4 ran 5-15% faster than 16 at pool2's and pool5's small planes on
 * PoCL, the same at pool1's). */
enum { POOL_RUN = 8, POOL_GROUP = 64, POOL_PLANES = 4 };

static void launch_size(const struct pool_shape *s, int cols, size_t global[2], size_t local[2])
{
    size_t runs = ((size_t)cols + POOL_RUN - 1) / POOL_RUN;
    local[0] = 1;
    while (local[0] < runs && local[0] < (size_t)POOL_GROUP)
        local[0] *= 2;
    local[1] = (size_t)POOL_GROUP / local[0];
    global[0] = runs;
    global[1] = (size_t)s->n * s->c;
}

acl_status maxpool_forward(struct acl_ctx *c, struct acl_view out, struct acl_view argmax, struct acl_view inp,
                           const struct pool_shape *s, cl_event *ev)
{
    acl_status st = pool_check_shape(s);
    if (st != ACL_OK)
        return st;
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * oh * ow;
    if ((st = view_fits("out", out, nout)) != ACL_OK || (st = view_fits("argmax", argmax, nout)) != ACL_OK ||
        (st = view_fits("inp", inp, nin)) != ACL_OK)
        return st;
    /* one work-item per plane (cl/maxpool.cl): its stores may overlap, within the plane */
    size_t global = (size_t)s->n * s->c, local = POOL_PLANES;
    return acl_launch(c, "maxpool_forward", 1, &global, &local,
                      ACL_ARGS(ARG_VIEW(out), ARG_VIEW(argmax), ARG_VIEW(inp), ARG_INT(s->h), ARG_INT(s->w),
                               ARG_INT(oh), ARG_INT(ow), ARG_INT(s->size), ARG_INT(s->stride), ARG_INT(s->pad),
                               ARG_INT(s->n * s->c)),
                      ev);
}

/* scatter: one work-item per plane (cl/maxpool.cl), else the gather (which narrow rows scatter anyway) */
static acl_status backward_run(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view argmax,
                               const struct pool_shape *s, int scatter, cl_event *ev)
{
    acl_status st = pool_check_shape(s);
    if (st != ACL_OK)
        return st;
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * oh * ow;
    if ((st = view_fits("dinp", dinp, nin)) != ACL_OK || (st = view_fits("dout", dout, nout)) != ACL_OK ||
        (st = view_fits("argmax", argmax, nout)) != ACL_OK)
        return st;
    size_t global[2], local[2];
    launch_size(s, (s->w + 1) / 2, global, local); /* runs of 2 MAXPOOL_VEC columns */
    return acl_launch(c, "maxpool_backward", 2, global, local,
                      ACL_ARGS(ARG_VIEW(dinp), ARG_VIEW(dout), ARG_VIEW(argmax), ARG_INT(s->h), ARG_INT(s->w),
                               ARG_INT(oh), ARG_INT(ow), ARG_INT(s->size), ARG_INT(s->stride), ARG_INT(s->pad),
                               ARG_INT(s->n * s->c), ARG_INT(scatter)),
                      ev);
}

acl_status maxpool_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view argmax,
                            const struct pool_shape *s, cl_event *ev)
{
    return backward_run(c, dinp, dout, argmax, s, strcmp(c->dev.info.type, "CPU") == 0, ev);
}

/* ---- selftest -------------------------------------------------------------------------------- */

enum pool_data { POOL_RANDOM, POOL_TIES, POOL_NAN };

struct pool_case {
    struct pool_shape s;
    enum pool_data data; /* TIES: few distinct values, so the first-maximum rule decides; NAN: some NaNs */
    int off;             /* every tensor sits this many elements into its buffer */
};

/* A buffer of off + n elements of 4 bytes: prefix (NaN bits for inputs, a survivor for outputs), then
 * body (the data, or NaN poison for outputs); outputs get the sentinel behind (acl_check_output_init). */
static acl_status buffer_at(struct acl_ctx *c, const void *body, size_t n, int off, float prefix, int output,
                            cl_mem *out)
{
    float *h = malloc((off + n) * sizeof *h);
    if (!h)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (size_t i = 0; i < off + n; i++)
        h[i] = i < (size_t)off ? prefix : NAN;
    if (body)
        memcpy(h + off, body, n * sizeof *h);
    acl_status st = output ? acl_check_output_init(c, h, off + n, out) : acl_check_input(c, h, off + n, out);
    free(h);
    return st;
}

/* The forward output where the reference holds NaN: acl_check_compare fails on any NaN, so this row
 * requires NaN exactly where the reference has it and equality elsewhere (max pooling only selects). */
static acl_status compare_nan(struct acl_ctx *c, cl_mem out, const double *ref, size_t n, acl_check_row *row)
{
    float *dev = malloc(n * sizeof *dev);
    if (!dev)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    acl_status st = acl_read(c, out, 0, n * sizeof *dev, dev);
    if (st == ACL_OK) {
        size_t wrong = 0, first = n, nans = 0;
        row->max_abs = 0;
        for (size_t i = 0; i < n; i++) {
            nans += isnan(ref[i]) != 0;
            int ok = isnan(ref[i]) ? isnan(dev[i]) != 0 : (double)dev[i] == ref[i];
            if (!isnan(ref[i]) && !isnan(dev[i]))
                row->max_abs = fmax(row->max_abs, fabs(dev[i] - ref[i]));
            if (!ok && wrong++ == 0)
                first = i;
        }
        row->pass = wrong == 0 && nans > 0;
        row->max_err = row->pass ? 0 : 2;
        if (wrong)
            snprintf(row->note, sizeof row->note, "%zu wrong, NaN or not (first at %zu)", wrong, first);
        else if (!nans)
            snprintf(row->note, sizeof row->note, "case holds no NaN output");
        else
            row->note[0] = '\0';
    }
    free(dev);
    return st;
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct pool_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    const struct pool_shape *s = &k->s;
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * oh * ow, off = (size_t)k->off;
    cl_mem m[6] = {NULL}; /* inp, out, argmax, dout, dinp (gather), dinp (scatter) */
    float *x = malloc((nin + nout) * sizeof *x), *dy = x ? x + nin : NULL;
    int *am = malloc((off + nout) * sizeof *am);
    double *xd = malloc((nin + 2 * (off + nout) + off + nin) * sizeof *xd);
    double *yd = xd ? xd + nin : NULL, *dyd = xd ? yd + off + nout : NULL, *dxd = xd ? dyd + off + nout : NULL;
    if (!x || !xd || !am) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, x, nin, -2, 2);
    acl_rand_fill(&seed, dy, nout, -1, 1);
    for (size_t i = 0; i < nin; i++) {
        if (k->data == POOL_TIES)
            x[i] = (float)(acl_rand_u32(&seed) % 4);
        else if (k->data == POOL_NAN && acl_rand_u32(&seed) % 23 == 0)
            x[i] = NAN;
    }
    acl_to_double(x, xd, nin);
    acl_to_double(dy, dyd + off, nout);
    for (size_t i = 0; i < off; i++) {
        yd[i] = dxd[i] = 0.25;
        am[i] = -7;
    }
    maxpool_forward_ref(yd + off, am + off, xd, s);
    maxpool_backward_ref(dxd + off, dyd + off, am + off, s);

    float survivor;
    int survivor_int = -7;
    memcpy(&survivor, &survivor_int, sizeof survivor);
    ACL_TRY(buffer_at(c, x, nin, k->off, NAN, 0, &m[0]));
    ACL_TRY(buffer_at(c, NULL, nout, k->off, 0.25f, 1, &m[1]));
    ACL_TRY(buffer_at(c, NULL, nout, k->off, survivor, 1, &m[2]));
    ACL_TRY(buffer_at(c, dy, nout, k->off, NAN, 0, &m[3]));
    ACL_TRY(buffer_at(c, NULL, nin, k->off, 0.25f, 1, &m[4]));
    ACL_TRY(buffer_at(c, NULL, nin, k->off, 0.25f, 1, &m[5]));

    const char *data = k->data == POOL_TIES ? " ties" : k->data == POOL_NAN ? " NaN" : "";
    acl_check_row row = {.op = "maxpool.forward"};
    snprintf(row.shape, sizeof row.shape, "N%d C%d %dx%d->%dx%d %d/%d p%d%s%s%s", s->n, s->c, s->h, s->w, oh, ow,
             s->size, s->stride, s->pad, s->ceil_mode ? " ceil" : "", data, k->off ? " @off" : "");
    ACL_TRY(maxpool_forward(c, (struct acl_view){m[1], off}, (struct acl_view){m[2], off},
                            (struct acl_view){m[0], off}, s, NULL));
    if (k->data == POOL_NAN) {
        snprintf(row.op, sizeof row.op, "maxpool.forward.nan");
        ACL_TRY(compare_nan(c, m[1], yd, off + nout, &row));
    } else {
        ACL_TRY(acl_check_compare(c, m[1], yd, off + nout, 1e-7, &row)); /* a selection: exact */
    }
    acl_selftest_report(t, &row);
    snprintf(row.op, sizeof row.op, "maxpool.argmax");
    ACL_TRY(acl_check_compare_int(c, m[2], am, off + nout, &row));
    acl_selftest_report(t, &row);

    /* backward reads the device's argmax, as training does */
    /* both paths, whichever this device's launcher takes, each into its own poisoned buffer */
    for (int scatter = 0; scatter < 2; scatter++) {
        snprintf(row.op, sizeof row.op, scatter ? "maxpool.backward.scatter" : "maxpool.backward");
        ACL_TRY(backward_run(c, (struct acl_view){m[4 + scatter], off}, (struct acl_view){m[3], off},
                             (struct acl_view){m[2], off}, s, scatter, NULL));
        /* sums of at most ceil(size/stride)^2 */
        ACL_TRY(acl_check_compare(c, m[4 + scatter], dxd, off + nin, 1e-6, &row));
        acl_selftest_report(t, &row);
    }
cleanup:
    acl_release_mems(m, 6);
    free(x);
    free(am);
    free(xd);
    return st;
}

acl_status maxpool_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* Small cases first (all of them run under --tiny): batch 1 and 2, odd planes, channel counts 1, 3, 5, 67,
     * overlapping 3x3/2, 2x2/2, 3x3/1 pad 1, ceil mode with its last-window rule (11 -> 6 with pad 1, and a
     * stride larger than the window), ties and NaNs, rows wide enough for the kernels' vector paths, the forward's
     * fast path; then pool1, pool2 and pool5 of AlexNet at batch 1. */
    static const struct pool_case cases[] = {
        {{1, 1, 5, 5, 3, 2, 0, 0}, POOL_RANDOM, 0},
        {{2, 3, 7, 9, 3, 2, 0, 1}, POOL_RANDOM, 0},
        {{1, 5, 9, 7, 2, 2, 0, 0}, POOL_RANDOM, 3},
        {{2, 5, 7, 7, 3, 1, 1, 0}, POOL_RANDOM, 0},
        {{1, 67, 11, 11, 3, 2, 1, 1}, POOL_RANDOM, 0},
        {{1, 3, 5, 7, 1, 3, 0, 1}, POOL_RANDOM, 0},
        {{2, 3, 9, 11, 4, 3, 2, 1}, POOL_RANDOM, 5},
        {{1, 1, 1, 1, 1, 1, 0, 0}, POOL_RANDOM, 0},
        {{2, 5, 9, 9, 3, 2, 0, 0}, POOL_TIES, 0},
        {{2, 3, 9, 9, 3, 1, 1, 0}, POOL_TIES, 0},
        {{2, 3, 13, 11, 3, 2, 1, 1}, POOL_NAN, 7},
        /* rows of at least two vectors at stride 2, for the kernels' contiguous paths (cl/maxpool.cl) */
        {{2, 3, 17, 19, 3, 2, 0, 0}, POOL_RANDOM, 0},
        {{1, 5, 17, 21, 3, 2, 0, 1}, POOL_TIES, 3},
        {{1, 5, 21, 23, 3, 2, 1, 1}, POOL_NAN, 0},
        /* the forward's fast path (3x3/2, no padding; cl/maxpool.cl): rows of two runs, of one, of a half run, of
         * less than a row per run; ceil mode, whose last window lacks its third row and column; ties, NaNs */
        {{2, 3, 40, 42, 3, 2, 0, 1}, POOL_RANDOM, 1},
        {{2, 5, 28, 28, 3, 2, 0, 1}, POOL_TIES, 0},
        {{2, 3, 17, 35, 3, 2, 0, 0}, POOL_NAN, 2},
        {{3, 2, 14, 14, 3, 2, 0, 1}, POOL_NAN, 0},
        {{2, 3, 7, 7, 3, 2, 0, 1}, POOL_TIES, 0},
        {{2, 2, 4, 5, 3, 2, 0, 0}, POOL_RANDOM, 0},
        {{1, 96, 55, 55, 3, 2, 0, 0}, POOL_RANDOM, 0}, /* pool1 */
        {{1, 256, 27, 27, 3, 2, 0, 0}, POOL_RANDOM, 0}, /* pool2 */
        {{1, 256, 13, 13, 3, 2, 0, 0}, POOL_RANDOM, 0}, /* pool5 */
        {{2, 96, 27, 27, 3, 2, 0, 1}, POOL_TIES, 11},
    };
    int count = t->tiny ? 20 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 4000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
