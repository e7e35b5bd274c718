/* conv_size.c: the convolution's output size and workspace arithmetic, plain C without OpenCL, so the net
 * description parser and its memory plan (and their fuzz target) link without the launchers. */
#include "ops/conv_size.h"

#include <stddef.h>

static int out_size(int in, int pad, int kernel, int stride)
{
    long long span = (long long)in + 2LL * pad - kernel;
    if (stride < 1 || span < 0)
        return 0;
    return (int)(span / stride + 1);
}

int conv_out_h(const struct conv_shape *s) { return out_size(s->h, s->pad, s->kh, s->stride); }
int conv_out_w(const struct conv_shape *s) { return out_size(s->w, s->pad, s->kw, s->stride); }

/* n rounded up to the direct kernels' channel block. */
int conv_round_kb(int n) { return (n + CONV_KB - 1) / CONV_KB * CONV_KB; }

/* The backward-weights direct kernel splits the (image, row) sum into slices of about CONV_SLICE_BYTES of
 * output gradient per 16 channels, which the work-items of a work-group (one slice, all its tap blocks) then
 * read from cache, and into at least enough slices that every core gets work. A function of the shape only,
 * so a result does not depend on the chunking. */
int conv_weight_slices(const struct conv_shape *s)
{
    int rg = s->c / s->groups * s->kh * s->kw, ow = conv_out_w(s);
    long items = (long)(rg + CONV_RB - 1) / CONV_RB * s->groups * (conv_round_kb(s->k / s->groups) / CONV_KB);
    long rows = (long)s->n * conv_out_h(s), per = CONV_SLICE_BYTES / ((long)ow * CONV_KB * 4);
    per = per < 1 ? 1 : per;
    long want = (rows + per - 1) / per, enough = (CONV_WEIGHT_ITEMS + items - 1) / items;
    want = want > enough ? want : enough;
    want = want < rows ? want : rows;
    return want < 1 ? 1 : (int)want;
}

struct ws_need conv_ws_need(enum conv_pass pass, enum conv_algo algo, const struct conv_shape *s)
{
    size_t cg = (size_t)(s->c / s->groups), kg = (size_t)(s->k / s->groups), khw = (size_t)s->kh * s->kw;
    size_t npix = (size_t)conv_out_h(s) * conv_out_w(s), g = (size_t)s->groups;
    size_t padded = (size_t)s->c * (s->h + 2 * (size_t)s->pad) * (s->w + 2 * (size_t)s->pad);
    if (algo != CONV_ALGO_DIRECT)
        return (struct ws_need){0, (size_t)s->c * khw * npix};
    if (pass == PASS_FORWARD) /* weights (groups, kgp/16, cg*khw, 16); the padded input unless pad is 0 */
        return (struct ws_need){g * cg * khw * conv_round_kb((int)kg), s->pad ? padded : 0};
    if (pass == PASS_DATA) /* flipped weights (groups, cgp/16, kg*khw, 16); the output gradient padded by kh-1-pad */
        return (struct ws_need){g * kg * khw * conv_round_kb((int)cg),
                                (size_t)s->k * (s->h + (size_t)s->kh - 1) * (s->w + (size_t)s->kw - 1)};
    /* partial sums (slices, groups, cg*khw + 1, kgp); padded input; output gradient (groups, kgp/16, npix, 16) */
    size_t kp = g * conv_round_kb((int)kg);
    return (struct ws_need){(size_t)conv_weight_slices(s) * g * (cg * khw + 1) * (kp / g),
                            (s->pad ? padded : 0) + npix * kp};
}

size_t conv_workspace_floats(const struct conv_shape *s)
{
    size_t most = 0;
    for (int pass = PASS_FORWARD; pass <= PASS_WEIGHTS; pass++)
        for (int a = CONV_ALGO_IM2COL; a <= CONV_ALGO_DIRECT; a++) {
            struct ws_need w = conv_ws_need((enum conv_pass)pass, (enum conv_algo)a, s);
            most = w.fixed + w.per_image > most ? w.fixed + w.per_image : most;
        }
    return most;
}

size_t conv_workspace_floats_batch(const struct conv_shape *s, size_t cap)
{
    size_t most = 0;
    for (int pass = PASS_FORWARD; pass <= PASS_WEIGHTS; pass++) {
        struct ws_need w = conv_ws_need((enum conv_pass)pass, CONV_ALGO_DIRECT, s);
        size_t all = w.fixed + w.per_image * (size_t)s->n;
        most = all > most ? all : most;
    }
    most = most < cap ? most : cap;
    size_t least = conv_workspace_floats(s);
    return most > least ? most : least;
}
