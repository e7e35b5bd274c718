/* case_conv.c: bench cases for the network's convolutions: forward, backward data, backward weights and bias,
 * each by both algorithms; the one the model does not pick at a shape is marked alt. */
#include <stdio.h>

#include "cases.h"
#include "net/model.h"
#include "net/shapes.h"
#include "ops/conv.h"
#include "runtime/error.h"

#define V(m) ((struct acl_view){(m), 0})

struct conv_arg {
    struct conv_shape s;
    cl_mem x, w, b, y, ws, dy, dx, dw, db;
    size_t ws_floats;
    int which; /* forward, backward data, backward weights + bias; each direct then im2col */
};

static acl_status enqueue_conv(struct acl_ctx *c, void *arg)
{
    struct conv_arg *a = arg;
    switch (a->which) {
    case 0: return conv_forward(c, V(a->y), V(a->x), V(a->w), V(a->b), V(a->ws), a->ws_floats, CONV_ALGO_DIRECT,
                                &a->s, NULL);
    case 1: return conv_forward(c, V(a->y), V(a->x), V(a->w), V(a->b), V(a->ws), a->ws_floats, CONV_ALGO_IM2COL,
                                &a->s, NULL);
    case 2: return conv_backward_data(c, V(a->dx), V(a->dy), V(a->w), V(a->ws), a->ws_floats, CONV_ALGO_DIRECT,
                                      &a->s, NULL);
    case 3: return conv_backward_data(c, V(a->dx), V(a->dy), V(a->w), V(a->ws), a->ws_floats, CONV_ALGO_IM2COL,
                                      &a->s, NULL);
    case 4: return conv_backward_weights(c, V(a->dw), V(a->db), V(a->dy), V(a->x), V(a->ws), a->ws_floats,
                                         CONV_ALGO_DIRECT, &a->s, NULL);
    default: return conv_backward_weights(c, V(a->dw), V(a->db), V(a->dy), V(a->x), V(a->ws), a->ws_floats,
                                          CONV_ALGO_IM2COL, &a->s, NULL);
    }
}

/* The workspace the model gives every convolution (model.c): the largest any of its layers asks for. With it the
 * model's CONV_ALGO_AUTO picks each pass's algorithm; the rows of the other algorithm are marked alt. */
static size_t model_workspace(struct acl_ctx *c, const struct bench_report *r)
{
    size_t ws = 0;
    int fc_conv = !acl_fc_through_gemm(c);
    for (int i = 0; i < r->net->n_layers; i++) {
        const struct acl_layer *l = &r->net->layers[i];
        if (l->kind != ACL_CONV && !(l->kind == ACL_FC && fc_conv))
            continue;
        struct conv_shape s = l->kind == ACL_CONV ? acl_conv_shape(l, r->batch) : acl_fc_conv_shape(l, r->batch);
        size_t w = conv_workspace_floats_batch(&s, CONV_WORKSPACE_CAP);
        ws = w > ws ? w : ws;
    }
    return ws;
}

acl_status bench_case_conv(struct acl_ctx *c, struct bench_report *r)
{
    static const char *names[] = {"conv.forward.direct",        "conv.forward.im2col",
                                  "conv.backward_data.direct",  "conv.backward_data.im2col",
                                  "conv.backward_weights.direct", "conv.backward_weights.im2col"};
    if (!report_wants_kind(r, "conv."))
        return ACL_OK;
    const size_t model_ws = model_workspace(c, r);
    acl_status st = ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_CONV || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct conv_arg a = {.s = acl_conv_shape(layer, r->batch)};
        const struct conv_shape *s = &a.s;
        double oh = conv_out_h(s), ow = conv_out_w(s);
        double in = (double)s->n * s->c * s->h * s->w, out = s->n * s->k * oh * ow;
        double wn = (double)s->k * (s->c / s->groups) * s->kh * s->kw;
        double macs = out * (s->c / s->groups) * s->kh * s->kw;
        const enum conv_algo picked[3] = {conv_pick_forward_algo(s, model_ws),
                                          conv_pick_backward_data_algo(s, model_ws),
                                          conv_pick_backward_weights_algo(s, model_ws)};
        /* enough for every pass of both algorithms over the whole batch, up to the cap the model uses; the
         * algorithm the model picks runs with the model's workspace, so that it goes in the same chunks */
        size_t all = conv_workspace_floats_batch(s, CONV_WORKSPACE_CAP);
        size_t col = conv_workspace_floats(s) * (size_t)s->n;
        col = col < CONV_WORKSPACE_CAP ? col : CONV_WORKSPACE_CAP;
        all = all > col ? all : col;
        all = all > model_ws ? all : model_ws;
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)wn, &a.w));
        ACL_TRY(bench_buf(c, &b, (size_t)s->k, &a.b));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.y));
        ACL_TRY(bench_buf(c, &b, all, &a.ws));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.dy));
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.dx));
        ACL_TRY(bench_buf(c, &b, (size_t)wn, &a.dw));
        ACL_TRY(bench_buf(c, &b, (size_t)s->k, &a.db));
        for (a.which = 0; a.which < 6; a.which++) {
            if (a.which == 2 && s->stride != 1)
                continue; /* the direct backward data takes stride 1 only */
            if ((a.which == 2 || a.which == 3) && l == 0)
                continue; /* the model never computes the first layer's input gradient (need_dx in model.c) */
            enum conv_algo algo = a.which % 2 ? CONV_ALGO_IM2COL : CONV_ALGO_DIRECT;
            int used = picked[a.which / 2] == algo;
            a.ws_floats = used ? model_ws : all;
            /* bytes: the tensors each pass must read and write once, however it tiles them */
            double bytes = a.which < 4 ? 4 * (in + wn + out) : 4 * (out + in + 2 * wn);
            struct bench_item item = {"", "", 2 * macs, bytes, enqueue_conv, &a, used ? ROLE_ARITH : ROLE_ALT};
            snprintf(item.kernel, sizeof item.kernel, "%s", names[a.which]);
            snprintf(item.shape, sizeof item.shape, "%s N%d %dx%dx%d K%d %dx%d/%d g%d", label, s->n, s->c, s->h, s->w,
                     s->k, s->kh, s->kw, s->stride, s->groups);
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}
