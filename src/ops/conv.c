/* conv.c: convolution forward and backward: host references and the im2col + GEMM and direct launchers
 * (selftest cases in conv_selftest.c). */
#include "ops/conv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv_size.h"
#include "ops/gemm.h"
#include "runtime/error.h"

/* ---- shape ----------------------------------------------------------------------------------- */

void conv_shape_str(const struct conv_shape *s, char *buf, size_t size)
{
    snprintf(buf, size, "N%d C%d %dx%d K%d %dx%d/%d p%d g%d", s->n, s->c, s->h, s->w, s->k, s->kh, s->kw,
             s->stride, s->pad, s->groups);
}

acl_status conv_check_shape(const struct conv_shape *s)
{
    char d[96];
    conv_shape_str(s, d, sizeof d);
    if (s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->k < 1 || s->kh < 1 || s->kw < 1 || s->stride < 1 ||
        s->groups < 1 || s->pad < 0)
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: sizes, stride and groups must be positive and pad >= 0", d);
    if (s->c % s->groups || s->k % s->groups)
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: %d input and %d output channels must both divide into %d "
                        "groups", d, s->c, s->k, s->groups);
    int oh = conv_out_h(s), ow = conv_out_w(s);
    if (oh < 1 || ow < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: the %dx%d kernel is larger than the padded %dx%d input", d,
                        s->kh, s->kw, s->h + 2 * s->pad, s->w + 2 * s->pad);
    /* Kernels index in int: every tensor (and one image's column matrix) must stay below INT_MAX elements. */
    const struct { const char *what; double count; } sizes[] = {
        {"input", (double)s->n * s->c * s->h * s->w},
        {"output", (double)s->n * s->k * oh * ow},
        {"weight", (double)s->k * (s->c / s->groups) * s->kh * s->kw},
        {"column matrix of one image", (double)s->c * s->kh * s->kw * oh * ow},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].count >= (double)INT_MAX)
            return acl_fail(ACL_ERR_ARGUMENT, "conv %s: the %s has %.0f elements, more than kernels index (%d)", d,
                            sizes[i].what, sizes[i].count, INT_MAX);
    return ACL_OK;
}

/* ---- references ------------------------------------------------------------------------------- */

/* The outputs o in [0, out) whose tap o*stride + offset lands inside [0, in): [*lo, *hi). */
static void tap_range(int offset, int stride, int in, int out, int *lo, int *hi)
{
    int a = 0, b = out;
    while (a < b && a * stride + offset < 0)
        a++;
    while (b > a && (b - 1) * stride + offset >= in)
        b--;
    *lo = a;
    *hi = b;
}

/* The three references share one loop nest over (n, k, ci, i, j, oy, ox); op says what the innermost does:
 * FORWARD y = out += weight * inp, DATA y = dinp += weight * dout, WEIGHTS dweight += dout * inp. */
enum ref_op { REF_FORWARD, REF_DATA, REF_WEIGHTS };

static void ref_loops(enum ref_op op, const struct conv_shape *s, double *y, const double *inp, const double *dout,
                      const double *weight, double *dweight)
{
    int oh = conv_out_h(s), ow = conv_out_w(s), cg = s->c / s->groups, kg = s->k / s->groups;
    size_t npix = (size_t)oh * ow, hw = (size_t)s->h * s->w;
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++) {
            int g = k / kg;
            for (int ci = 0; ci < cg; ci++) {
                size_t xoff = ((size_t)n * s->c + (size_t)g * cg + ci) * hw, ooff = ((size_t)n * s->k + k) * npix;
                for (int i = 0; i < s->kh; i++) {
                    int y0, y1;
                    tap_range(i - s->pad, s->stride, s->h, oh, &y0, &y1);
                    for (int j = 0; j < s->kw; j++) {
                        int x0, x1;
                        tap_range(j - s->pad, s->stride, s->w, ow, &x0, &x1);
                        size_t wi = (((size_t)k * cg + ci) * s->kh + i) * s->kw + j;
                        double wv = op == REF_WEIGHTS ? 0 : weight[wi], acc = 0;
                        for (int oy = y0; oy < y1; oy++) {
                            /* x0 keeps the first tap inside the row, so this never goes below 0 */
                            size_t xr = xoff + (size_t)(oy * s->stride + i - s->pad) * s->w;
                            size_t orow = ooff + (size_t)oy * ow;
                            for (int ox = x0; ox < x1; ox++) {
                                size_t xi = xr + (size_t)(ox * s->stride + j - s->pad);
                                if (op == REF_FORWARD)
                                    y[orow + ox] += wv * inp[xi];
                                else if (op == REF_DATA)
                                    y[xi] += wv * dout[orow + ox];
                                else
                                    acc += dout[orow + ox] * inp[xi];
                            }
                        }
                        if (op == REF_WEIGHTS)
                            dweight[wi] += acc;
                    }
                }
            }
        }
}

void conv_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                      const struct conv_shape *s)
{
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s);
    for (size_t i = 0; i < (size_t)s->n * s->k; i++)
        for (size_t p = 0; p < npix; p++)
            out[i * npix + p] = bias ? bias[i % (size_t)s->k] : 0;
    ref_loops(REF_FORWARD, s, out, inp, NULL, weight, NULL);
}

void conv_backward_data_ref(double *dinp, const double *dout, const double *weight, const struct conv_shape *s)
{
    for (size_t i = 0; i < (size_t)s->n * s->c * s->h * s->w; i++)
        dinp[i] = 0;
    ref_loops(REF_DATA, s, dinp, NULL, dout, weight, NULL);
}

void conv_backward_weights_ref(double *dweight, double *dbias, const double *dout, const double *inp,
                               const struct conv_shape *s)
{
    ref_loops(REF_WEIGHTS, s, NULL, inp, dout, NULL, dweight);
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s);
    for (int n = 0; dbias && n < s->n; n++)
        for (int k = 0; k < s->k; k++) {
            double sum = 0;
            for (size_t p = 0; p < npix; p++)
                sum += dout[((size_t)n * s->k + k) * npix + p];
            dbias[k] += sum;
        }
}

/* ---- launchers -------------------------------------------------------------------------------- */

static const char *const pass_names[] = {"forward", "backward data", "backward weights"};

/* Geometry every GEMM-path kernel of cl/conv.cl takes after its tensors and image count: (c, h, w, kh, kw,
 * stride, pad, oh, ow). */
#define GEOMETRY(s) ARG_INT((s)->c), ARG_INT((s)->h), ARG_INT((s)->w), ARG_INT((s)->kh), ARG_INT((s)->kw), \
    ARG_INT((s)->stride), ARG_INT((s)->pad), ARG_INT(conv_out_h(s)), ARG_INT(conv_out_w(s))

/* A view of n floats must end below INT_MAX: kernels take element offsets as int. */
static acl_status check_view(const struct conv_shape *s, const char *what, struct acl_view v, size_t n)
{
    if (!v.buf)
        return acl_fail(ACL_ERR_ARGUMENT, "conv: no buffer for the %s", what);
    if (v.off > (size_t)INT_MAX || n > (size_t)INT_MAX - v.off) {
        char d[96];
        conv_shape_str(s, d, sizeof d);
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: the %s (offset %zu, %zu floats) ends past INT_MAX floats", d,
                        what, v.off, n);
    }
    return ACL_OK;
}

/* Whether one image of the pass fits in ws_floats. */
static int fits(enum conv_pass pass, enum conv_algo algo, const struct conv_shape *s, size_t ws_floats)
{
    struct ws_need w = conv_ws_need(pass, algo, s);
    return ws_floats >= w.fixed + w.per_image;
}

/* How many images one pass over the workspace holds (at least 1, at most n), or ACL_ERR_ARGUMENT. */
static acl_status chunk_images(enum conv_pass pass, enum conv_algo algo, const struct conv_shape *s,
                               struct acl_view ws, size_t ws_floats, int *chunk)
{
    struct ws_need w = conv_ws_need(pass, algo, s);
    size_t one = w.fixed + w.per_image;
    if (ws_floats < one) {
        char d[96];
        conv_shape_str(s, d, sizeof d);
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: a workspace of %zu floats is smaller than one image needs "
                        "(%zu floats) for the %s pass by %s", d, ws_floats, one, pass_names[pass],
                        algo == CONV_ALGO_DIRECT ? "the direct kernels" : "im2col and GEMM");
    }
    acl_status st = check_view(s, "workspace", ws, one);
    if (st != ACL_OK)
        return st;
    size_t per = w.per_image ? w.per_image : 1;
    size_t fit = (ws_floats - w.fixed) / per, indexable = ((size_t)INT_MAX - ws.off - w.fixed) / per;
    fit = fit < indexable ? fit : indexable;
    *chunk = fit < (size_t)s->n ? (int)fit : s->n;
    return ACL_OK;
}

/* Checks the tensor views of a launch on a valid shape: inp-shaped, out-shaped, weight-shaped, bias-shaped. */
static acl_status check_views(const struct conv_shape *s, struct acl_view inp, struct acl_view out,
                              struct acl_view weight, struct acl_view bias, int with_bias)
{
    acl_status st = ACL_OK;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s);
    ACL_TRY(check_view(s, "input", inp, (size_t)s->n * s->c * s->h * s->w));
    ACL_TRY(check_view(s, "output", out, (size_t)s->n * s->k * npix));
    ACL_TRY(check_view(s, "weight", weight, (size_t)s->k * (s->c / s->groups) * s->kh * s->kw));
    if (with_bias)
        ACL_TRY(check_view(s, "bias", bias, (size_t)s->k));
cleanup:
    return st;
}

static acl_status finish_event(struct acl_ctx *c, cl_event *ev)
{
    acl_status st = ACL_OK;
    if (ev)
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, ev));
cleanup:
    return st;
}

static acl_status resolve_algo(enum conv_algo *algo, enum conv_pass pass, const struct conv_shape *s,
                               size_t ws_floats)
{
    if (*algo == CONV_ALGO_AUTO)
        *algo = pass == PASS_FORWARD ? conv_pick_forward_algo(s, ws_floats)
              : pass == PASS_DATA    ? conv_pick_backward_data_algo(s, ws_floats)
                                     : conv_pick_backward_weights_algo(s, ws_floats);
    if (*algo != CONV_ALGO_DIRECT && *algo != CONV_ALGO_IM2COL)
        return acl_fail(ACL_ERR_ARGUMENT, "conv: unknown algorithm %d", (int)*algo);
    if (*algo == CONV_ALGO_DIRECT && pass == PASS_DATA && s->stride != 1) {
        char d[96];
        conv_shape_str(s, d, sizeof d);
        return acl_fail(ACL_ERR_ARGUMENT, "conv %s: the direct backward-data kernel takes stride 1 only; use "
                        "im2col (or AUTO)", d);
    }
    return ACL_OK;
}

/* ---- im2col + GEMM ---------------------------------------------------------------------------- */

/* The column matrices of images [b0, b0 + nb) of inp, into ws. */
static acl_status im2col(struct acl_ctx *c, struct acl_view ws, struct acl_view inp, int b0, int nb,
                         const struct conv_shape *s)
{
    size_t img = (size_t)s->c * s->h * s->w;
    size_t global[3] = {(size_t)conv_out_w(s), (size_t)conv_out_h(s), (size_t)nb * s->c};
    return acl_launch(c, "conv_im2col", 3, global, NULL,
                      ACL_ARGS(ARG_VIEW(ws), ARG_VIEW(acl_at(inp, (size_t)b0 * img)), ARG_INT(nb), GEOMETRY(s)),
                      NULL);
}

static acl_status forward_im2col(struct acl_ctx *c, struct acl_view out, struct acl_view inp, struct acl_view weight,
                                 struct acl_view bias, struct acl_view ws, int chunk, const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s), kg = (size_t)(s->k / s->groups);
    size_t ckkg = (size_t)(s->c / s->groups) * s->kh * s->kw, ckk = ckkg * s->groups;
    /* Per group: out[b, g] (K/g x OH*OW) = W[g] (K/g x C/g*KH*KW) col[b, g]; all images of a chunk in one
     * batched call that shares W (stride 0). */
    struct acl_gemm g = {0, 0, kg, npix, ckkg, ckkg, npix, npix, 1.0f, 0.0f};
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        struct acl_view o = acl_at(out, (size_t)b0 * s->k * npix);
        ACL_TRY(im2col(c, ws, inp, b0, nb, s));
        for (int gi = 0; gi < s->groups; gi++)
            ACL_TRY(acl_gemm_batched(c, &g, acl_at(weight, gi * kg * ckkg), 0, acl_at(ws, gi * ckkg * npix),
                                     ckk * npix, acl_at(o, gi * kg * npix), s->k * npix, (size_t)nb, NULL));
        if (bias.buf)
            ACL_TRY(ACL_LAUNCH1(c, "conv_bias_add", (size_t)nb * s->k * npix, NULL, ARG_VIEW(o), ARG_VIEW(bias),
                                ARG_INT(s->k), ARG_INT(npix), ARG_INT((size_t)nb * s->k * npix)));
    }
cleanup:
    return st;
}

static acl_status data_im2col(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view weight,
                              struct acl_view ws, int chunk, const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s), kg = (size_t)(s->k / s->groups);
    size_t ckkg = (size_t)(s->c / s->groups) * s->kh * s->kw, ckk = ckkg * s->groups;
    size_t img = (size_t)s->c * s->h * s->w;
    /* Per group: dcol[b, g] (C/g*KH*KW x OH*OW) = W[g]^T dout[b, g]; then each input pixel gathers its taps. */
    struct acl_gemm g = {1, 0, ckkg, npix, kg, ckkg, npix, npix, 1.0f, 0.0f};
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        struct acl_view dy = acl_at(dout, (size_t)b0 * s->k * npix);
        for (int gi = 0; gi < s->groups; gi++)
            ACL_TRY(acl_gemm_batched(c, &g, acl_at(weight, gi * kg * ckkg), 0, acl_at(dy, gi * kg * npix),
                                     s->k * npix, acl_at(ws, gi * ckkg * npix), ckk * npix, (size_t)nb, NULL));
        size_t global[3] = {(size_t)s->w, (size_t)s->h, (size_t)nb * s->c};
        ACL_TRY(acl_launch(c, "conv_col2im", 3, global, NULL,
                           ACL_ARGS(ARG_VIEW(acl_at(dinp, (size_t)b0 * img)), ARG_VIEW(ws), ARG_INT(nb),
                                    GEOMETRY(s)),
                           NULL));
    }
cleanup:
    return st;
}

static acl_status weights_im2col(struct acl_ctx *c, struct acl_view dweight, struct acl_view dout,
                                 struct acl_view inp, struct acl_view ws, int chunk, const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s), kg = (size_t)(s->k / s->groups);
    size_t ckkg = (size_t)(s->c / s->groups) * s->kh * s->kw, ckk = ckkg * s->groups;
    /* dW[g] (K/g x C/g*KH*KW) += dout[b, g] col[b, g]^T, one image at a time (beta 1 accumulates; a batched
     * call over images would race on dW), all groups of an image in one batched call. */
    struct acl_gemm g = {0, 1, kg, ckkg, npix, npix, npix, ckkg, 1.0f, 1.0f};
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        ACL_TRY(im2col(c, ws, inp, b0, nb, s));
        for (int b = 0; b < nb; b++)
            ACL_TRY(acl_gemm_batched(c, &g, acl_at(dout, (size_t)(b0 + b) * s->k * npix), kg * npix,
                                     acl_at(ws, (size_t)b * ckk * npix), ckkg * npix, dweight, kg * ckkg,
                                     (size_t)s->groups, NULL));
    }
cleanup:
    return st;
}

/* ---- direct ----------------------------------------------------------------------------------- */

/* dst (nc, hp, wp) = src (nc, h, w) shifted by (top, left), zero outside. */
static acl_status pad(struct acl_ctx *c, struct acl_view dst, struct acl_view src, int nc, int h, int w, int hp,
                      int wp, int top, int left)
{
    size_t global[2] = {(size_t)hp, (size_t)nc};
    return acl_launch(c, "conv_pad", 2, global, NULL,
                      ACL_ARGS(ARG_VIEW(dst), ARG_VIEW(src), ARG_INT(nc), ARG_INT(h), ARG_INT(w), ARG_INT(hp),
                               ARG_INT(wp), ARG_INT(top), ARG_INT(left)),
                      NULL);
}

/* Whether the direct forward sums with the input channels innermost (conv_direct_forward) or outermost
 * (conv_direct_forward_few), given the channels per group it sums over; conv_weight_relayout orders the taps to
 * match. */
static int channels_inner(int cg)
{
    return cg >= CONV_CIN_MIN;
}

/* wt (groups, kgp/16, rg, 16) from the weight; flip: the backward-data layout (see conv_weight_relayout). */
static acl_status relayout_weight(struct acl_ctx *c, struct acl_view wt, struct acl_view weight, int kg, int rg,
                                  int groups, int flip, const struct conv_shape *s)
{
    int khw = s->kh * s->kw;
    size_t global[3] = {(size_t)conv_round_kb(kg), (size_t)rg, (size_t)groups};
    return acl_launch(c, "conv_weight_relayout", 3, global, NULL,
                      ACL_ARGS(ARG_VIEW(wt), ARG_VIEW(weight), ARG_INT(kg), ARG_INT(rg), ARG_INT(conv_round_kb(kg)),
                               ARG_INT(groups), ARG_INT(flip), ARG_INT(s->kh), ARG_INT(s->kw),
                               ARG_INT(channels_inner(rg / khw))),
                      NULL);
}

/* One direct forward launch: out (nb, k, oh, ow) from xp (nb, c, hp, wp) and wt. */
struct direct_geom {
    int nb, c, hp, wp, k, stride, oh, ow;
};

static acl_status direct_forward(struct acl_ctx *c, struct acl_view out, struct acl_view xp, struct acl_view wt,
                                 struct acl_view bias, const struct direct_geom *d, const struct conv_shape *s)
{
    int kgp = conv_round_kb(d->k / s->groups);
    /* The pixels per work-item the program was built with (CONV_PX, CONV_PX_FEW) and the tuned work-group: one
     * table. */
    int inner = channels_inner(d->c / s->groups);
    size_t px = (size_t)(inner ? c->tune.conv_px : c->tune.conv_px_few);
    size_t tiles = ((size_t)d->nb * d->oh * d->ow + px - 1) / px;
    size_t global[2] = {tiles, (size_t)s->groups * kgp / CONV_KB}, local[2] = {(size_t)c->tune.conv_local, 1};
    struct acl_view b = bias.buf ? bias : wt; /* a stand-in that the kernel never reads without a bias */
    return acl_launch(c, inner ? "conv_direct_forward" : "conv_direct_forward_few", 2, global, local,
                      ACL_ARGS(ARG_VIEW(out), ARG_VIEW(xp), ARG_VIEW(wt), ARG_VIEW(b), ARG_INT(bias.buf != NULL),
                               ARG_INT(d->nb), ARG_INT(d->c), ARG_INT(d->hp), ARG_INT(d->wp), ARG_INT(d->k),
                               ARG_INT(s->kh), ARG_INT(s->kw), ARG_INT(d->stride), ARG_INT(s->groups), ARG_INT(d->oh),
                               ARG_INT(d->ow), ARG_INT(kgp)),
                      NULL);
}

static acl_status forward_by_direct(struct acl_ctx *c, struct acl_view out, struct acl_view inp,
                                    struct acl_view weight, struct acl_view bias, struct acl_view ws, int chunk,
                                    const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    struct ws_need need = conv_ws_need(PASS_FORWARD, CONV_ALGO_DIRECT, s);
    int kg = s->k / s->groups, rg = s->c / s->groups * s->kh * s->kw, hp = s->h + 2 * s->pad, wp = s->w + 2 * s->pad;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s), img = (size_t)s->c * s->h * s->w;
    struct acl_view xp = acl_at(ws, need.fixed);
    ACL_TRY(relayout_weight(c, ws, weight, kg, rg, s->groups, 0, s));
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        struct acl_view x = acl_at(inp, (size_t)b0 * img);
        if (s->pad)
            ACL_TRY(pad(c, xp, x, nb * s->c, s->h, s->w, hp, wp, s->pad, s->pad));
        struct direct_geom d = {nb, s->c, hp, wp, s->k, s->stride, conv_out_h(s), conv_out_w(s)};
        ACL_TRY(direct_forward(c, acl_at(out, (size_t)b0 * s->k * npix), s->pad ? xp : x, ws, bias, &d, s));
    }
cleanup:
    return st;
}

/* Stride 1: the input gradient is the forward pass over the output gradient padded by kh-1-pad (kw-1-pad), with
 * the weights flipped and their channel roles exchanged. */
static acl_status data_by_direct(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout,
                                 struct acl_view weight, struct acl_view ws, int chunk, const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    struct ws_need need = conv_ws_need(PASS_DATA, CONV_ALGO_DIRECT, s);
    int cg = s->c / s->groups, rg = s->k / s->groups * s->kh * s->kw, oh = conv_out_h(s), ow = conv_out_w(s);
    int top = s->kh - 1 - s->pad, left = s->kw - 1 - s->pad, hp = s->h + s->kh - 1, wp = s->w + s->kw - 1;
    size_t npix = (size_t)oh * ow, img = (size_t)s->c * s->h * s->w;
    struct acl_view dyp = acl_at(ws, need.fixed);
    ACL_TRY(relayout_weight(c, ws, weight, cg, rg, s->groups, 1, s));
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        ACL_TRY(pad(c, dyp, acl_at(dout, (size_t)b0 * s->k * npix), nb * s->k, oh, ow, hp, wp, top, left));
        struct direct_geom d = {nb, s->k, hp, wp, s->c, 1, s->h, s->w};
        ACL_TRY(direct_forward(c, acl_at(dinp, (size_t)b0 * img), dyp, ws, (struct acl_view){NULL, 0}, &d, s));
    }
cleanup:
    return st;
}

static acl_status weights_by_direct(struct acl_ctx *c, struct acl_view dweight, struct acl_view dbias,
                                    struct acl_view dout, struct acl_view inp, struct acl_view ws, int chunk,
                                    const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    struct ws_need need = conv_ws_need(PASS_WEIGHTS, CONV_ALGO_DIRECT, s);
    int kgp = conv_round_kb(s->k / s->groups), rg = s->c / s->groups * s->kh * s->kw, slices = conv_weight_slices(s);
    int hp = s->h + 2 * s->pad, wp = s->w + 2 * s->pad, oh = conv_out_h(s), ow = conv_out_w(s);
    size_t npix = (size_t)oh * ow, img = (size_t)s->c * s->h * s->w, padded = s->pad ? (size_t)s->c * hp * wp : 0;
    size_t rtiles = (size_t)(rg + CONV_RB - 1) / CONV_RB;
    for (int b0 = 0; b0 < s->n; b0 += chunk) {
        int nb = s->n - b0 < chunk ? s->n - b0 : chunk;
        struct acl_view x = acl_at(inp, (size_t)b0 * img), xp = acl_at(ws, need.fixed);
        struct acl_view dyt = acl_at(xp, (size_t)nb * padded);
        if (s->pad)
            ACL_TRY(pad(c, xp, x, nb * s->c, s->h, s->w, hp, wp, s->pad, s->pad));
        size_t tglobal[3] = {(npix + 7) / 8, (size_t)s->groups * kgp / 8, (size_t)nb};
        ACL_TRY(acl_launch(c, "conv_out_relayout", 3, tglobal, NULL,
                           ACL_ARGS(ARG_VIEW(dyt), ARG_VIEW(acl_at(dout, (size_t)b0 * s->k * npix)), ARG_INT(nb),
                                    ARG_INT(s->k), ARG_INT(npix), ARG_INT(s->groups), ARG_INT(kgp)),
                           NULL));
        size_t global[3] = {rtiles, (size_t)slices, (size_t)s->groups * kgp / CONV_KB};
        size_t local[3] = {rtiles < 16 ? rtiles : 16, 1, 1};
        ACL_TRY(acl_launch(c, "conv_direct_backward_weights", 3, global, local,
                           ACL_ARGS(ARG_VIEW(ws), ARG_VIEW(dyt), ARG_VIEW(s->pad ? xp : x), ARG_INT(nb),
                                    ARG_INT(s->c), ARG_INT(s->pad ? hp : s->h), ARG_INT(s->pad ? wp : s->w),
                                    ARG_INT(s->kh), ARG_INT(s->kw), ARG_INT(s->stride), ARG_INT(s->groups),
                                    ARG_INT(oh), ARG_INT(ow), ARG_INT(kgp), ARG_INT(slices)),
                           NULL));
        size_t rglobal[2] = {(size_t)rg + 1, (size_t)s->k};
        ACL_TRY(acl_launch(c, "conv_weights_reduce", 2, rglobal, NULL,
                           ACL_ARGS(ARG_VIEW(dweight), ARG_VIEW(dbias.buf ? dbias : dweight),
                                    ARG_INT(dbias.buf != NULL), ARG_VIEW(ws), ARG_INT(s->k), ARG_INT(rg),
                                    ARG_INT(s->groups), ARG_INT(kgp), ARG_INT(slices)),
                           NULL));
    }
cleanup:
    return st;
}

/* ---- algorithm choice and entry points -------------------------------------------------------- */

/* Measured on PoCL 3.1 (pthread, LLVM 15) on 2 cores of an AMD EPYC (AVX2, about 157 GFLOP/s of FMA peak),
 * bench_kernels, median ms (GFLOP/s); im2col = im2col + CLBlast SGEMM (+ col2im for backward data):
 *                      forward            backward data       backward weights (+ bias)
 *                      im2col   direct    im2col   direct     im2col   direct
 *   paper N32 conv1    616      78 (86)   634      (stride 4) 880      59 (115)
 *             conv2    1226     136 (105) 1158     109 (132)  1293     115 (125)
 *             conv3    873      112 (85)  1230     105 (91)   1159     96 (100)
 *             conv4    807      97 (74)   796      77 (93)    868      66 (109)
 *             conv5    544      66 (73)   531      54 (88)    547      51 (94)
 *   mini N128 conv1    30       4.5 (35)  24       21 (8)     46       3.5 (46)
 *             conv2    194      13 (88)   182      14 (77)    202      13 (89)
 *             conv3    107      7.9 (64)  75       6.8 (75)   91       7.9 (65)
 * The direct kernels win everywhere, 7-15x, and on every pass: a work-item's 16 channels x 6 pixels (or taps)
 * of float8 accumulators stay in 12 of AVX2's 16 vector registers, with 2 vector and 6 scalar loads per 12
 * multiply-adds. The previous direct forward (16 x 8 scalar accumulators) ran at 14-21 GFLOP/s. mini's conv1
 * backward data (one input channel, so 1 of 16 lanes busy) is the weakest case and still ahead; the model
 * never runs it (a first layer needs no input gradient). The direct figures predate the blocked weight and output
 * gradient layouts and the channel-innermost forward (cl/conv.cl): measured alternately against the old kernels
 * in one process (CPU time, the machine shared), at the paper's and torchvision's shapes the forward now runs
 * 1.3-1.8x as fast, backward data 1.1-1.7x (1.6-1.7x at 3x3), backward weights 1.15-1.25x. No GPU was measured: a
 * per-device tuning table should own these choices and the blocking. AUTO falls back to im2col only where the
 * workspace is too small. */
enum conv_algo conv_pick_forward_algo(const struct conv_shape *s, size_t ws_floats)
{
    if (fits(PASS_FORWARD, CONV_ALGO_DIRECT, s, ws_floats) || !fits(PASS_FORWARD, CONV_ALGO_IM2COL, s, ws_floats))
        return CONV_ALGO_DIRECT;
    return CONV_ALGO_IM2COL;
}

enum conv_algo conv_pick_backward_data_algo(const struct conv_shape *s, size_t ws_floats)
{
    if (s->stride == 1 && fits(PASS_DATA, CONV_ALGO_DIRECT, s, ws_floats))
        return CONV_ALGO_DIRECT;
    return CONV_ALGO_IM2COL;
}

enum conv_algo conv_pick_backward_weights_algo(const struct conv_shape *s, size_t ws_floats)
{
    if (fits(PASS_WEIGHTS, CONV_ALGO_DIRECT, s, ws_floats) || !fits(PASS_WEIGHTS, CONV_ALGO_IM2COL, s, ws_floats))
        return CONV_ALGO_DIRECT;
    return CONV_ALGO_IM2COL;
}

acl_status conv_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, struct acl_view weight,
                        struct acl_view bias, struct acl_view ws, size_t ws_floats, enum conv_algo algo,
                        const struct conv_shape *s, cl_event *ev)
{
    int chunk = 0;
    acl_status st = conv_check_shape(s);
    if (st != ACL_OK)
        return st;
    ACL_TRY(resolve_algo(&algo, PASS_FORWARD, s, ws_floats));
    ACL_TRY(chunk_images(PASS_FORWARD, algo, s, ws, ws_floats, &chunk));
    ACL_TRY(check_views(s, inp, out, weight, bias, bias.buf != NULL));
    if (algo == CONV_ALGO_DIRECT)
        ACL_TRY(forward_by_direct(c, out, inp, weight, bias, ws, chunk, s));
    else
        ACL_TRY(forward_im2col(c, out, inp, weight, bias, ws, chunk, s));
    ACL_TRY(finish_event(c, ev));
cleanup:
    return st;
}

acl_status conv_backward_data(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view weight,
                              struct acl_view ws, size_t ws_floats, enum conv_algo algo, const struct conv_shape *s,
                              cl_event *ev)
{
    int chunk = 0;
    acl_status st = conv_check_shape(s);
    if (st != ACL_OK)
        return st;
    ACL_TRY(resolve_algo(&algo, PASS_DATA, s, ws_floats));
    ACL_TRY(chunk_images(PASS_DATA, algo, s, ws, ws_floats, &chunk));
    ACL_TRY(check_views(s, dinp, dout, weight, weight, 0));
    if (algo == CONV_ALGO_DIRECT)
        ACL_TRY(data_by_direct(c, dinp, dout, weight, ws, chunk, s));
    else
        ACL_TRY(data_im2col(c, dinp, dout, weight, ws, chunk, s));
    ACL_TRY(finish_event(c, ev));
cleanup:
    return st;
}

static acl_status bias_backward(struct acl_ctx *c, struct acl_view dbias, struct acl_view dout,
                                const struct conv_shape *s)
{
    acl_status st = ACL_OK;
    struct acl_kernel_entry *k = NULL;
    ACL_TRY(acl_kernel(c, "conv_bias_backward", &k));
    size_t lanes = CONV_BIAS_LANES;
    while (lanes > k->max_wg)
        lanes /= 2;
    size_t global[2] = {lanes, (size_t)s->k}, local[2] = {lanes, 1};
    ACL_TRY(acl_launch(c, "conv_bias_backward", 2, global, local,
                       ACL_ARGS(ARG_VIEW(dbias), ARG_VIEW(dout), ARG_INT(s->n), ARG_INT(s->k),
                                ARG_INT(conv_out_h(s) * conv_out_w(s)), ARG_LOCAL(lanes * sizeof(float))),
                       NULL));
cleanup:
    return st;
}

acl_status conv_backward_weights(struct acl_ctx *c, struct acl_view dweight, struct acl_view dbias,
                                 struct acl_view dout, struct acl_view inp, struct acl_view ws, size_t ws_floats,
                                 enum conv_algo algo, const struct conv_shape *s, cl_event *ev)
{
    int chunk = 0;
    acl_status st = conv_check_shape(s);
    if (st != ACL_OK)
        return st;
    ACL_TRY(resolve_algo(&algo, PASS_WEIGHTS, s, ws_floats));
    ACL_TRY(chunk_images(PASS_WEIGHTS, algo, s, ws, ws_floats, &chunk));
    ACL_TRY(check_views(s, inp, dout, dweight, dbias, dbias.buf != NULL));
    if (algo == CONV_ALGO_DIRECT) {
        ACL_TRY(weights_by_direct(c, dweight, dbias, dout, inp, ws, chunk, s)); /* the bias gradient too */
    } else {
        ACL_TRY(weights_im2col(c, dweight, dout, inp, ws, chunk, s));
        if (dbias.buf)
            ACL_TRY(bias_backward(c, dbias, dout, s));
    }
    ACL_TRY(finish_event(c, ev));
cleanup:
    return st;
}
