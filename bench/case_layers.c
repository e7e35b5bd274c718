/* case_layers.c: bench cases for LRN, max pooling, the fully connected layers and the SGD update, at the
 * network's layer shapes. */
#include <stdio.h>

#include "cases.h"
#include "net/shapes.h"
#include "ops/fc.h"
#include "ops/lrn.h"
#include "ops/maxpool.h"
#include "ops/sgd.h"
#include "runtime/error.h"

#define V(m) ((struct acl_view){(m), 0})

/* ---- LRN ------------------------------------------------------------------------------------ */

struct lrn_arg {
    struct lrn_shape s;
    cl_mem x, y, dy, dx;
    int backward;
};

static acl_status enqueue_lrn(struct acl_ctx *c, void *arg)
{
    struct lrn_arg *a = arg;
    return a->backward ? lrn_backward(c, V(a->dx), V(a->dy), V(a->x), &a->s, NULL)
                       : lrn_forward(c, V(a->y), V(a->x), &a->s, NULL);
}

acl_status bench_case_lrn(struct acl_ctx *c, struct bench_report *r)
{
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "lrn."))
        return ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_LRN || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct lrn_arg a = {.s = acl_lrn_shape(layer, r->batch)};
        double n = (double)r->batch * acl_layer_in_size(layer), win = a.s.size;
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.y));
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.dy));
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.dx));
        for (a.backward = 0; a.backward < 2; a.backward++) {
            /* forward: a window sum of squares, scale, pow, multiply; reads x, writes y. Backward: the same for
             * the term dy y / scale of each channel, the window sum of the terms, two multiplies and a
             * subtract; reads x and dy, writes dx. */
            struct bench_item item = {"", "", n * (a.backward ? 3 * win + 10 : 2 * win + 6), n * (a.backward ? 12 : 8),
                                      enqueue_lrn, &a, 0};
            snprintf(item.kernel, sizeof item.kernel, "lrn.%s", a.backward ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d C%d %dx%d n%d", label, r->batch, a.s.c, a.s.h, a.s.w,
                     a.s.size);
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}

/* ---- max pooling ------------------------------------------------------------------------------ */

struct pool_arg {
    struct pool_shape s;
    cl_mem x, y, argmax, dy, dx;
    int backward;
};

static acl_status enqueue_pool(struct acl_ctx *c, void *arg)
{
    struct pool_arg *a = arg;
    return a->backward ? maxpool_backward(c, V(a->dx), V(a->dy), V(a->argmax), &a->s, NULL)
                       : maxpool_forward(c, V(a->y), V(a->argmax), V(a->x), &a->s, NULL);
}

acl_status bench_case_maxpool(struct acl_ctx *c, struct bench_report *r)
{
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "maxpool."))
        return ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_MAXPOOL || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct pool_arg a = {.s = acl_pool_shape(layer, r->batch)};
        double in = (double)r->batch * acl_layer_in_size(layer), out = (double)r->batch * acl_layer_out_size(layer);
        double win = (double)layer->kernel * layer->kernel;
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.y));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.argmax)); /* ints: the forward below writes real indices */
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.dy));
        ACL_TRY(bench_buf(c, &b, (size_t)in, &a.dx));
        ACL_TRY(enqueue_pool(c, &a));
        for (a.backward = 0; a.backward < 2; a.backward++) {
            /* 4 bytes per input element, 8 per output element (value and argmax), both ways */
            struct bench_item item = {"", "", a.backward ? out : out * win, 4 * in + 8 * out, enqueue_pool, &a, 0};
            snprintf(item.kernel, sizeof item.kernel, "maxpool.%s", a.backward ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d C%d %d->%d %d/%d%s", label, r->batch, layer->in_c,
                     layer->in_h, layer->out_h, layer->kernel, layer->stride, layer->ceil_mode ? " ceil" : "");
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}

/* ---- fully connected ---------------------------------------------------------------------------- */

struct fc_arg {
    struct fc_shape s;
    cl_mem x, w, bias, y, dy, dx, dw, db;
    int backward;
};

static acl_status enqueue_fc(struct acl_ctx *c, void *arg)
{
    struct fc_arg *a = arg;
    return a->backward ? fc_backward(c, V(a->dx), V(a->dw), V(a->db), V(a->dy), V(a->x), V(a->w), &a->s, NULL)
                       : fc_forward(c, V(a->y), V(a->x), V(a->w), V(a->bias), &a->s, NULL);
}

/* OpenBLAS on the products of fc_forward (NT) or fc_backward (NN for dx, TN with beta 1 for dW), GFLOP/s over
 * them together; 0 where the host peak was not measured. A layer's row can then say whether its shape or its
 * kernel holds it back (fc8 at batch 32: OpenBLAS itself reaches about half its 2048^3 peak there). */
static double host_fc(const struct bench_report *r, const struct fc_shape *s, int backward)
{
    if (r->host_gflops <= 0)
        return 0;
    double flops = 2.0 * s->n * s->in * s->out;
    if (!backward)
        return bench_host_sgemm_at(r->host_threads, 0, 1, s->n, s->out, s->in, 0.0f);
    double nn = bench_host_sgemm_at(r->host_threads, 0, 0, s->n, s->in, s->out, 0.0f);
    double tn = bench_host_sgemm_at(r->host_threads, 1, 0, s->out, s->in, s->n, 1.0f);
    return nn > 0 && tn > 0 ? 2 * flops / (flops / nn + flops / tn) : 0;
}

acl_status bench_case_fc(struct acl_ctx *c, struct bench_report *r)
{
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "fc."))
        return ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_FC || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct fc_arg a = {.s = acl_fc_shape(layer, r->batch)};
        double n = r->batch, in = a.s.in, out = a.s.out;
        ACL_TRY(bench_buf(c, &b, (size_t)(n * in), &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)(in * out), &a.w));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.bias));
        ACL_TRY(bench_buf(c, &b, (size_t)(n * out), &a.y));
        ACL_TRY(bench_buf(c, &b, (size_t)(n * out), &a.dy));
        ACL_TRY(bench_buf(c, &b, (size_t)(n * in), &a.dx));
        ACL_TRY(bench_buf(c, &b, (size_t)(in * out), &a.dw));
        ACL_TRY(bench_buf(c, &b, (size_t)out, &a.db));
        for (a.backward = 0; a.backward < 2; a.backward++) {
            /* forward reads W once; backward reads W, and reads and writes dW */
            double bytes = a.backward ? 3 * in * out + 2 * n * in + n * out : in * out + n * in + n * out;
            struct bench_item item = {"", "", (a.backward ? 4 : 2) * n * in * out, 4 * bytes, enqueue_fc, &a, 0};
            snprintf(item.kernel, sizeof item.kernel, "fc.%s", a.backward ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d %d->%d", label, r->batch, a.s.in, a.s.out);
            ACL_TRY(report_time_host(c, r, &item, report_wants(r, item.kernel) ? host_fc(r, &a.s, a.backward) : 0));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}

/* ---- SGD ------------------------------------------------------------------------------------ */

struct sgd_arg {
    cl_mem w, v, g;
    size_t n;
};

static acl_status enqueue_sgd(struct acl_ctx *c, void *arg)
{
    struct sgd_arg *a = arg;
    struct sgd_params p = {0.01f, 0.9f, 5e-4f};
    return sgd_update(c, V(a->w), V(a->v), V(a->g), 0, a->n, &p, NULL);
}

acl_status bench_case_sgd(struct acl_ctx *c, struct bench_report *r)
{
    /* one update over every parameter of the network (the paper's: 60,965,224) */
    struct sgd_arg a = {.n = r->net->param_count};
    struct bench_bufs b = {0};
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "sgd."))
        return ACL_OK;
    ACL_TRY(bench_buf(c, &b, a.n, &a.w));
    ACL_TRY(bench_buf(c, &b, a.n, &a.v));
    ACL_TRY(bench_buf(c, &b, a.n, &a.g));
    struct bench_item item = {"sgd.update", "", 6.0 * (double)a.n, 20.0 * (double)a.n, enqueue_sgd, &a, 0};
    snprintf(item.shape, sizeof item.shape, "%s, %zu params", r->net->name, a.n);
    ACL_TRY(report_time(c, r, &item));
cleanup:
    bench_bufs_free(&b);
    return st;
}
