/* conv_selftest.c: the convolution's selftest cases: every algorithm of every pass against the host
 * references (conv.c) on random data, with chunked workspaces, offsets and poisoned outputs. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv.h"
#include "runtime/error.h"


struct conv_case {
    struct conv_shape s;
    int ws_images; /* the workspace holds this many images (0: the whole batch), to exercise chunking */
    int off;       /* element offset of the inputs and the workspace in their buffers */
    int no_bias;   /* also run the forward without a bias */
};

/* Host data of one case: floats for the device (each input behind `off` leading floats), doubles for the
 * references. */
struct conv_data {
    size_t n_inp, n_out, n_wt, off;
    float *inp, *wt, *bias, *dout, *dwt0, *dbias0;
    double *inp_d, *wt_d, *bias_d, *dout_d, *out_d, *dinp_d, *dwt_d, *dbias_d;
};

static acl_status data_alloc(struct conv_data *d, const struct conv_case *cc, uint64_t seed)
{
    const struct conv_shape *s = &cc->s;
    d->off = (size_t)cc->off;
    d->n_inp = (size_t)s->n * s->c * s->h * s->w;
    d->n_out = (size_t)s->n * s->k * conv_out_h(s) * conv_out_w(s);
    d->n_wt = (size_t)s->k * (s->c / s->groups) * s->kh * s->kw;
    size_t nf = 4 * d->off + d->n_inp + 2 * d->n_wt + 2 * (size_t)s->k + d->n_out;
    size_t nd = 2 * d->n_inp + 2 * d->n_wt + 2 * (size_t)s->k + 2 * d->n_out;
    float *f = malloc(nf * sizeof *f);
    double *x = malloc(nd * sizeof *x);
    d->inp = f;
    d->inp_d = x;
    if (!f || !x) {
        free(f);
        free(x);
        d->inp = NULL;
        d->inp_d = NULL;
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    }
    acl_rand_fill(&seed, f, nf, -1, 1);
    d->wt = d->inp + d->off + d->n_inp;
    d->bias = d->wt + d->off + d->n_wt;
    d->dout = d->bias + d->off + s->k;
    d->dwt0 = d->dout + d->off + d->n_out;
    d->dbias0 = d->dwt0 + d->n_wt;
    d->wt_d = d->inp_d + d->n_inp;
    d->bias_d = d->wt_d + d->n_wt;
    d->dout_d = d->bias_d + s->k;
    d->out_d = d->dout_d + d->n_out;
    d->dinp_d = d->out_d + d->n_out;
    d->dwt_d = d->dinp_d + d->n_inp;
    d->dbias_d = d->dwt_d + d->n_wt;
    acl_to_double(d->inp + d->off, d->inp_d, d->n_inp);
    acl_to_double(d->wt + d->off, d->wt_d, d->n_wt);
    acl_to_double(d->bias + d->off, d->bias_d, (size_t)s->k);
    acl_to_double(d->dout + d->off, d->dout_d, d->n_out);
    acl_to_double(d->dwt0, d->dwt_d, d->n_wt);
    acl_to_double(d->dbias0, d->dbias_d, (size_t)s->k);
    conv_forward_ref(d->out_d, d->inp_d, d->wt_d, d->bias_d, s);
    conv_backward_data_ref(d->dinp_d, d->dout_d, d->wt_d, s);
    conv_backward_weights_ref(d->dwt_d, d->dbias_d, d->dout_d, d->inp_d, s);
    return ACL_OK;
}

/* The workspace's floats around its view: up to 8 before it, and its sentinel after. */
#define CONV_GUARD_FLOATS (8 + ACL_SENTINEL_FLOATS)

static acl_status ws_guard(struct acl_ctx *c, cl_mem ws, size_t off, size_t ws_floats, float *guard)
{
    size_t before = off < 8 ? off : 8;
    for (int i = 0; i < CONV_GUARD_FLOATS; i++)
        guard[i] = 0;
    acl_status st = acl_read(c, ws, (off - before) * sizeof(float), before * sizeof(float), guard);
    if (st == ACL_OK)
        st = acl_read(c, ws, (off + ws_floats) * sizeof(float), ACL_SENTINEL_FLOATS * sizeof(float), guard + 8);
    return st;
}

static acl_status check_case(struct acl_ctx *c, struct acl_selftest *t, const struct conv_case *cc, uint64_t seed)
{
    const struct conv_shape *s = &cc->s;
    enum { INP, WT, BIAS, DOUT, OUT, DINP, DWT, DBIAS, WS, NMEM };
    cl_mem m[NMEM] = {NULL};
    struct conv_data d = {0};
    float guard[2][CONV_GUARD_FLOATS];
    acl_status st = data_alloc(&d, cc, seed);
    if (st != ACL_OK)
        return st;
    size_t off = d.off, ws_floats = conv_workspace_floats(s) * (size_t)(cc->ws_images ? cc->ws_images : s->n);
    ACL_TRY(acl_check_input(c, d.inp, off + d.n_inp, &m[INP]));
    ACL_TRY(acl_check_input(c, d.wt, off + d.n_wt, &m[WT]));
    ACL_TRY(acl_check_input(c, d.bias, off + (size_t)s->k, &m[BIAS]));
    ACL_TRY(acl_check_input(c, d.dout, off + d.n_out, &m[DOUT]));
    /* The workspace is poisoned too: an element read before any kernel wrote it turns an output into NaN. */
    ACL_TRY(acl_check_output(c, off + ws_floats, &m[WS]));
    ACL_TRY(ws_guard(c, m[WS], off, ws_floats, guard[0]));
    struct acl_view inp = {m[INP], off}, wt = {m[WT], off}, bias = {m[BIAS], off}, dout = {m[DOUT], off},
                    ws = {m[WS], off};

    acl_check_row row = {.op = "conv.forward.im2col"};
    conv_shape_str(s, row.shape, sizeof row.shape);
    static const enum conv_algo algos[] = {CONV_ALGO_IM2COL, CONV_ALGO_DIRECT};
    static const char *const algo_names[] = {"im2col", "direct"};
    for (int no_bias = 0; no_bias <= cc->no_bias; no_bias++) {
        if (no_bias) /* the same forward without a bias (bias.buf NULL), against its own reference */
            conv_forward_ref(d.out_d, d.inp_d, d.wt_d, NULL, s);
        for (int a = 0; a < 2; a++) {
            snprintf(row.op, sizeof row.op, "conv.forward.%s%s", algo_names[a], no_bias ? ".nobias" : "");
            ACL_TRY(acl_check_output(c, d.n_out, &m[OUT]));
            ACL_TRY(conv_forward(c, (struct acl_view){m[OUT], 0}, inp, wt, no_bias ? (struct acl_view){NULL, 0} : bias,
                                 ws, ws_floats, algos[a], s, NULL));
            ACL_TRY(acl_check_compare(c, m[OUT], d.out_d, d.n_out, 1e-5, &row));
            acl_selftest_report(t, &row);
            acl_release_mems(&m[OUT], 1);
        }
    }

    for (int a = 0; a < 2; a++) {
        if (algos[a] == CONV_ALGO_DIRECT && s->stride != 1)
            continue; /* the direct backward data takes stride 1 only */
        snprintf(row.op, sizeof row.op, "conv.backward_data.%s", algo_names[a]);
        ACL_TRY(acl_check_output(c, d.n_inp, &m[DINP]));
        ACL_TRY(conv_backward_data(c, (struct acl_view){m[DINP], 0}, dout, wt, ws, ws_floats, algos[a], s, NULL));
        ACL_TRY(acl_check_compare(c, m[DINP], d.dinp_d, d.n_inp, 1e-5, &row));
        acl_selftest_report(t, &row);
        acl_release_mems(&m[DINP], 1);
    }

    for (int a = 0; a < 2; a++) {
        ACL_TRY(acl_check_output_init(c, d.dwt0, d.n_wt, &m[DWT]));
        ACL_TRY(acl_check_output_init(c, d.dbias0, (size_t)s->k, &m[DBIAS]));
        ACL_TRY(conv_backward_weights(c, (struct acl_view){m[DWT], 0}, (struct acl_view){m[DBIAS], 0}, dout, inp,
                                      ws, ws_floats, algos[a], s, NULL));
        snprintf(row.op, sizeof row.op, "conv.backward_weights.%s", algo_names[a]);
        ACL_TRY(acl_check_compare(c, m[DWT], d.dwt_d, d.n_wt, 1e-5, &row));
        acl_selftest_report(t, &row);
        snprintf(row.op, sizeof row.op, "conv.backward_bias.%s", algo_names[a]);
        ACL_TRY(acl_check_compare(c, m[DBIAS], d.dbias_d, (size_t)s->k, 1e-5, &row));
        acl_selftest_report(t, &row);
        acl_release_mems(&m[DWT], 2);
    }

    /* No launcher wrote outside the workspace view it was given (before its offset or past its end). */
    ACL_TRY(ws_guard(c, m[WS], off, ws_floats, guard[1]));
    snprintf(row.op, sizeof row.op, "conv.workspace_bounds");
    row.pass = memcmp(guard[0], guard[1], sizeof guard[0]) == 0;
    row.max_abs = 0;
    row.max_err = row.pass ? 0 : 2;
    snprintf(row.note, sizeof row.note, "%s", row.pass ? "" : "written outside its view");
    acl_selftest_report(t, &row);
cleanup:
    acl_release_mems(m, NMEM);
    free(d.inp);
    free(d.inp_d);
    return st;
}

acl_status conv_selftest(struct acl_ctx *c, struct acl_selftest *t)
{
    /* {n, c, h, w, k, kh, kw, stride, pad, groups}, workspace images, offset, no-bias rows. Tiny ones first. */
    static const struct conv_case cases[] = {
        {{1, 1, 1, 1, 1, 1, 1, 1, 0, 1}, 0, 0, 0},
        {{3, 37, 1, 1, 21, 1, 1, 1, 0, 1}, 0, 2, 0},    /* a fully connected layer, as the model runs it */
        {{2, 3, 13, 11, 5, 3, 3, 1, 1, 1}, 0, 3, 1},    /* batch 2, odd sizes, 3 -> 5 channels */
        {{2, 6, 13, 11, 4, 3, 3, 2, 1, 2}, 1, 0, 1},    /* groups 2, stride 2, one image per pass */
        {{1, 7, 15, 15, 6, 5, 5, 2, 2, 1}, 0, 1, 0},
        {{2, 4, 23, 19, 6, 11, 11, 4, 0, 2}, 1, 5, 0},  /* conv1-like, grouped */
        {{1, 67, 9, 7, 10, 1, 1, 1, 0, 1}, 0, 0, 0},    /* 1x1 */
        {{2, 10, 7, 9, 14, 3, 3, 2, 2, 2}, 0, 2, 0},    /* pad beyond half the kernel; 7 channels per group */
        {{2, 3, 31, 29, 8, 11, 11, 4, 2, 1}, 1, 0, 0},  /* 11x11 stride 4 pad 2 */
        {{2, 67, 13, 11, 66, 5, 5, 1, 2, 1}, 0, 7, 0},  /* 67 -> 66 channels */
        /* Either side of CONV_CIN_MIN (16) channels per group, for the forward (C/groups) and the backward data
         * (K/groups): 17 and 19 sum with the channels innermost, 15 outermost; odd widths, groups 2. */
        {{2, 34, 9, 11, 38, 3, 3, 1, 1, 2}, 0, 1, 0},
        {{2, 30, 7, 9, 30, 3, 3, 1, 1, 2}, 1, 0, 0},
        /* AlexNet at batch 1, the paper's (Caffe's) geometry */
        {{1, 3, 227, 227, 96, 11, 11, 4, 0, 1}, 0, 0, 0},
        {{1, 96, 27, 27, 256, 5, 5, 1, 2, 2}, 0, 0, 0},
        {{1, 256, 13, 13, 384, 3, 3, 1, 1, 1}, 0, 0, 0},
        {{1, 384, 13, 13, 384, 3, 3, 1, 1, 2}, 0, 0, 0},
        {{1, 384, 13, 13, 256, 3, 3, 1, 1, 2}, 0, 0, 0},
    };
    int count = t->tiny ? 8 : (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < count; i++) {
        acl_status st = check_case(c, t, &cases[i], 3000 + (uint64_t)i);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}
