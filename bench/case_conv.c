/* case_conv.c: bench cases for the convolutions conv1..conv5 of the paper (Caffe bvlc_alexnet geometry):
 * forward by both algorithms, backward data, backward weights and bias. */
#include <stdio.h>
#include <string.h>

#include "cases.h"
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

acl_status bench_case_conv(struct acl_ctx *c, struct bench_report *r)
{
    struct conv_layer { const char *layer; struct conv_shape s; };
    static const struct conv_layer paper[] = {
        {"conv1", {0, 3, 227, 227, 96, 11, 11, 4, 0, 1}},  {"conv2", {0, 96, 27, 27, 256, 5, 5, 1, 2, 2}},
        {"conv3", {0, 256, 13, 13, 384, 3, 3, 1, 1, 1}},   {"conv4", {0, 384, 13, 13, 384, 3, 3, 1, 1, 2}},
        {"conv5", {0, 384, 13, 13, 256, 3, 3, 1, 1, 2}},
    };
    /* the mini preset (src/net/presets.c) on 28x28 Fashion-MNIST */
    static const struct conv_layer mini[] = {
        {"conv1", {0, 1, 28, 28, 32, 5, 5, 1, 2, 1}},  {"conv2", {0, 32, 14, 14, 64, 5, 5, 1, 2, 2}},
        {"conv3", {0, 64, 7, 7, 96, 3, 3, 1, 1, 1}},    {"conv4", {0, 96, 7, 7, 96, 3, 3, 1, 1, 2}},
        {"conv5", {0, 96, 7, 7, 64, 3, 3, 1, 1, 2}},
    };
    int is_mini = r->shapes && !strcmp(r->shapes, "mini");
    const struct conv_layer *layers = is_mini ? mini : paper;
    size_t nlayers = is_mini ? sizeof mini / sizeof mini[0] : sizeof paper / sizeof paper[0];
    static const char *names[] = {"conv.forward.direct",        "conv.forward.im2col",
                                  "conv.backward_data.direct",  "conv.backward_data.im2col",
                                  "conv.backward_weights.direct", "conv.backward_weights.im2col"};
    acl_status st = ACL_OK;
    for (size_t l = 0; l < nlayers; l++) {
        struct bench_bufs b = {0};
        struct conv_arg a = {.s = layers[l].s};
        a.s.n = r->batch;
        const struct conv_shape *s = &a.s;
        double oh = conv_out_h(s), ow = conv_out_w(s);
        double in = (double)s->n * s->c * s->h * s->w, out = s->n * s->k * oh * ow;
        double wn = (double)s->k * (s->c / s->groups) * s->kh * s->kw;
        double macs = out * (s->c / s->groups) * s->kh * s->kw;
        /* enough for every pass of both algorithms over the whole batch, up to the cap the model uses */
        a.ws_floats = conv_workspace_floats_batch(s, CONV_WORKSPACE_CAP);
        size_t col = conv_workspace_floats(s) * (size_t)s->n;
        col = col < CONV_WORKSPACE_CAP ? col : CONV_WORKSPACE_CAP;
        a.ws_floats = a.ws_floats > col ? a.ws_floats : col;
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)wn, &a.w));
        ACL_TRY(bench_buf(c, &b, (size_t)s->k, &a.b));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.y));
        ACL_TRY(bench_buf(c, &b, a.ws_floats, &a.ws));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.dy));
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.dx));
        ACL_TRY(bench_buf(c, &b, (size_t)wn, &a.dw));
        ACL_TRY(bench_buf(c, &b, (size_t)s->k, &a.db));
        for (a.which = 0; a.which < 6; a.which++) {
            if (a.which == 2 && s->stride != 1)
                continue; /* the direct backward data takes stride 1 only */
            /* bytes: the tensors each pass must read and write once, however it tiles them */
            double bytes = a.which < 4 ? 4 * (in + wn + out) : 4 * (out + in + 2 * wn);
            struct bench_item item = {"", "", 2 * macs, bytes, enqueue_conv, &a};
            snprintf(item.kernel, sizeof item.kernel, "%s", names[a.which]);
            snprintf(item.shape, sizeof item.shape, "%s N%d %dx%dx%d K%d %dx%d/%d g%d", layers[l].layer, s->n, s->c,
                     s->h, s->w, s->k, s->kh, s->kw, s->stride, s->groups);
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}
