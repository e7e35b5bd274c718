/* lrn.c: local response normalization across channels: host reference, launchers, selftest cases. */
#include "ops/lrn.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"

/* ---- shape ----------------------------------------------------------------------------------- */

acl_status lrn_check_shape(const struct lrn_shape *s)
{
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: sizes must be positive (n=%d c=%d h=%d w=%d)", s->n, s->c, s->h,
                        s->w);
    if (s->size < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: window size %d must be at least 1", s->size);
    if ((double)s->n * s->c * s->h * s->w >= INT_MAX)
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: %d x %d x %d x %d elements exceed INT_MAX", s->n, s->c, s->h, s->w);
    if (!isfinite(s->alpha) || !isfinite(s->beta) || !isfinite(s->k))
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: alpha %g, beta %g, k %g must be finite", (double)s->alpha,
                        (double)s->beta, (double)s->k);
    if (!(s->k > 0) || !(s->alpha >= 0))
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: k = %g must be > 0 and alpha = %g >= 0, so that scale stays "
                        "positive", (double)s->k, (double)s->alpha);
    return ACL_OK;
}

/* The kernels index with int: the view's offset plus its extent must fit. */
static acl_status view_fits(const char *what, struct acl_view v, size_t count)
{
    if (v.off > (size_t)INT_MAX - count)
        return acl_fail(ACL_ERR_ARGUMENT, "lrn: %s at offset %zu plus %zu elements exceeds INT_MAX", what, v.off,
                        count);
    return ACL_OK;
}

/* ---- reference ------------------------------------------------------------------------------- */

/* scale of channel c at pixel p of image b */
static double scale_ref(const double *inp, const struct lrn_shape *s, int b, int c, size_t p)
{
    size_t plane = (size_t)s->h * s->w, first = (size_t)b * s->c * plane;
    int lo = c - s->size / 2 < 0 ? 0 : c - s->size / 2;
    int hi = c + (s->size - 1) / 2 >= s->c ? s->c - 1 : c + (s->size - 1) / 2;
    double sum = 0;
    for (int j = lo; j <= hi; j++) {
        double v = inp[first + (size_t)j * plane + p];
        sum += v * v;
    }
    return s->k + (double)s->alpha / s->size * sum;
}

void lrn_forward_ref(double *out, double *scale, const double *inp, const struct lrn_shape *s)
{
    size_t plane = (size_t)s->h * s->w;
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < s->c; c++) {
            size_t at = ((size_t)b * s->c + c) * plane;
            for (size_t p = 0; p < plane; p++) {
                double sc = scale_ref(inp, s, b, c, p);
                if (scale)
                    scale[at + p] = sc;
                out[at + p] = inp[at + p] * pow(sc, -(double)s->beta);
            }
        }
}

void lrn_backward_ref(double *dinp, const double *dout, const double *inp, const struct lrn_shape *s)
{
    size_t plane = (size_t)s->h * s->w;
    double coef = 2.0 * s->alpha * s->beta / s->size;
    for (int b = 0; b < s->n; b++)
        for (int c = 0; c < s->c; c++) {
            /* the channels c' whose window [c' - size/2, c' + (size-1)/2] holds c */
            int lo = c - (s->size - 1) / 2 < 0 ? 0 : c - (s->size - 1) / 2;
            int hi = c + s->size / 2 >= s->c ? s->c - 1 : c + s->size / 2;
            size_t at = ((size_t)b * s->c + c) * plane, first = (size_t)b * s->c * plane;
            for (size_t p = 0; p < plane; p++) {
                double acc = 0;
                for (int j = lo; j <= hi; j++) {
                    size_t e = first + (size_t)j * plane + p;
                    double sc = scale_ref(inp, s, b, j, p);
                    acc += dout[e] * inp[e] * pow(sc, -(double)s->beta) / sc; /* dy y / scale */
                }
                dinp[at + p] = dout[at + p] * pow(scale_ref(inp, s, b, c, p), -(double)s->beta) - coef * inp[at + p] * acc;
            }
        }
}

/* ---- launchers ------------------------------------------------------------------------------- */

/* Forward: one work-item per plane or two, PLANES to a group; two planes a work-item from PAIR_PLANE pixels a
 * plane: at conv1's 55x55 they ran 15-17% faster than one, at conv2's 27x27 5-15% slower (interleaved runs,
 * PoCL on AVX-512). Backward: one work-item per run of LRN_VEC pixels of an image (cl/lrn.cl), PLANES to a group
 * as well: groups of 4 and 64 ran within the noise of 16 (four alternating rounds at batch 32, 2026-12-08). */
enum { LRN_PLANES = 16, LRN_PAIR_PLANE = 2048 };

acl_status lrn_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, const struct lrn_shape *s,
                       cl_event *ev)
{
    acl_status st = lrn_check_shape(s);
    if (st != ACL_OK)
        return st;
    size_t total = (size_t)s->n * s->c * s->h * s->w;
    if ((st = view_fits("out", out, total)) != ACL_OK || (st = view_fits("inp", inp, total)) != ACL_OK)
        return st;
    int per = (size_t)s->h * s->w >= LRN_PAIR_PLANE ? 2 : 1, rows = s->n * ((s->c + per - 1) / per);
    size_t global = (size_t)rows, local = LRN_PLANES;
    return acl_launch(c, "lrn_forward", 1, &global, &local,
                      ACL_ARGS(ARG_VIEW(out), ARG_VIEW(inp), ARG_INT(s->c), ARG_INT(s->h * s->w), ARG_INT(rows),
                               ARG_INT(s->size), ARG_FLOAT((double)s->alpha / s->size), ARG_FLOAT(s->beta),
                               ARG_FLOAT(s->k), ARG_INT(per)),
                      ev);
}

acl_status lrn_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view inp,
                        const struct lrn_shape *s, cl_event *ev)
{
    acl_status st = lrn_check_shape(s);
    if (st != ACL_OK)
        return st;
    size_t total = (size_t)s->n * s->c * s->h * s->w;
    if ((st = view_fits("dinp", dinp, total)) != ACL_OK || (st = view_fits("dout", dout, total)) != ACL_OK ||
        (st = view_fits("inp", inp, total)) != ACL_OK)
        return st;
    int plane = s->h * s->w, vec = c->tune.lrn_vec;
    int rows = s->n * (plane >= vec ? (plane + vec - 1) / vec : 1);
    size_t global = (size_t)rows, local = LRN_PLANES;
    return acl_launch(c, "lrn_backward", 1, &global, &local,
                      ACL_ARGS(ARG_VIEW(dinp), ARG_VIEW(dout), ARG_VIEW(inp), ARG_INT(s->c), ARG_INT(plane),
                               ARG_INT(rows), ARG_INT(s->size), ARG_FLOAT((double)s->alpha / s->size),
                               ARG_FLOAT(s->k), ARG_FLOAT(s->beta), ARG_FLOAT(2.0 * s->alpha * s->beta / s->size)),
                      ev);
}

/* ---- selftest -------------------------------------------------------------------------------- */

struct lrn_case {
    struct lrn_shape s;
    float amp; /* inputs in [-amp, amp): activations after ReLU reach tens, where the paper's alpha matters */
    int off;   /* every tensor sits this many elements into its buffer, as inside the engine's arenas */
};

/* A buffer of off + n floats: a NaN prefix (an input read at the wrong offset poisons the result) and data. */
static acl_status input_at(struct acl_ctx *c, const float *x, size_t n, int off, cl_mem *out)
{
    float *h = malloc((off + n) * sizeof *h);
    if (!h)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < off; i++)
        h[i] = NAN;
    memcpy(h + off, x, n * sizeof *h);
    acl_status st = acl_check_input(c, h, off + n, out);
    free(h);
    return st;
}

/* An output of off + n floats: a prefix that must survive (ref holds it too), a NaN-poisoned body, the
 * sentinel behind. ref[0..off) is filled here. */
static acl_status output_at(struct acl_ctx *c, size_t n, int off, double *ref, cl_mem *out)
{
    float *h = malloc((off + n) * sizeof *h);
    if (!h)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (size_t i = 0; i < off + n; i++)
        h[i] = i < (size_t)off ? 0.25f : NAN;
    for (int i = 0; i < off; i++)
        ref[i] = 0.25;
    acl_status st = acl_check_output_init(c, h, off + n, out);
    free(h);
    return st;
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct lrn_case *k, uint64_t seed)
{
    acl_status st = ACL_OK;
    const struct lrn_shape *s = &k->s;
    size_t n = (size_t)s->n * s->c * s->h * s->w, off = (size_t)k->off, len = off + n;
    cl_mem m[4] = {NULL}; /* inp, out, dout, dinp */
    float *x = malloc(2 * n * sizeof *x), *dy = x ? x + n : NULL;
    /* each double array holds off + n: the prefix of the output references is what must survive */
    double *xd = malloc(4 * len * sizeof *xd), *yd = xd ? xd + len : NULL, *dyd = xd ? yd + len : NULL,
           *dxd = xd ? dyd + len : NULL;
    if (!x || !xd) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    acl_rand_fill(&seed, x, n, -k->amp, k->amp);
    acl_rand_fill(&seed, dy, n, -1, 1);
    acl_to_double(x, xd + off, n);
    acl_to_double(dy, dyd + off, n);
    lrn_forward_ref(yd + off, NULL, xd + off, s);
    lrn_backward_ref(dxd + off, dyd + off, xd + off, s);

    struct acl_view v[4];
    ACL_TRY(input_at(c, x, n, k->off, &m[0]));
    ACL_TRY(output_at(c, n, k->off, yd, &m[1]));
    ACL_TRY(input_at(c, dy, n, k->off, &m[2]));
    ACL_TRY(output_at(c, n, k->off, dxd, &m[3]));
    for (int i = 0; i < 4; i++)
        v[i] = (struct acl_view){m[i], off};

    acl_check_row row = {.op = "lrn.forward"};
    snprintf(row.shape, sizeof row.shape, "N%d C%d %dx%d n%d a%g b%g k%g%s", s->n, s->c, s->h, s->w, s->size,
             (double)s->alpha, (double)s->beta, (double)s->k, k->off ? " @off" : "");
    ACL_TRY(lrn_forward(c, v[1], v[0], s, NULL));
    /* a sum of at most n squares and one pow: a few ulp */
    ACL_TRY(acl_check_compare(c, m[1], yd, len, 2e-6, &row));
    acl_selftest_report(t, &row);

    snprintf(row.op, sizeof row.op, "lrn.backward");
    ACL_TRY(lrn_backward(c, v[3], v[2], v[0], s, NULL));
    ACL_TRY(acl_check_compare(c, m[3], dxd, len, 2e-6, &row)); /* two terms, one pow: as forward */
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, 4);
    free(x);
    free(xd);
    return st;
}

acl_status lrn_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* Small cases first (all of them run under --tiny): batch 1 and 2, odd planes, channel counts 1, 3, 5, 67,
     * windows odd, even (asymmetric), 1 and wider than C; then conv1 and conv2 of AlexNet at batch 1 with
     * the paper's parameters (alpha = 5e-4 in this convention) and Caffe's. */
    static const struct lrn_case cases[] = {
        {{1, 1, 3, 5, 5, 1e-4f, 0.75f, 2}, 20, 0},
        {{2, 3, 5, 7, 5, 1.0f, 0.75f, 2}, 1, 0},
        {{1, 5, 7, 3, 4, 2.0f, 0.75f, 1}, 1, 3},
        {{2, 5, 3, 3, 1, 0.5f, 0.6f, 1}, 1, 0},
        {{1, 3, 5, 5, 7, 1.5f, 1.0f, 0.5f}, 1, 0},
        {{2, 67, 5, 9, 5, 1.0f, 0.75f, 2}, 2, 17},
        {{1, 67, 9, 7, 6, 3e-3f, 0.75f, 2}, 10, 0},
        /* planes large enough for the forward's two planes a work-item: an odd C, an even window, a pow */
        {{2, 5, 46, 45, 4, 2.0f, 0.75f, 1}, 1, 3},
        {{1, 6, 48, 48, 5, 1e-2f, 0.6f, 2}, 10, 0},
        {{2, 96, 13, 11, 5, 5e-4f, 0.75f, 2}, 30, 0},
        {{1, 96, 55, 55, 5, 5e-4f, 0.75f, 2}, 30, 0}, /* after conv1: paper */
        {{1, 256, 27, 27, 5, 1e-4f, 0.75f, 1}, 30, 5}, /* after conv2: Caffe's reference net */
    };
    int count = t->tiny ? 8 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 3000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
