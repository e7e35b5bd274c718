/* split_pass.c: the forward and backward passes of a network on two devices (split.h). Every layer is done
 * in phases over both devices: first each device's copies in, then each device's compute, then (backward)
 * the exchange of partial input gradients, so that neither device waits on work the other has not been
 * given yet. Copies between devices wait on a marker of the source's queue; in a shared context the
 * source's queue then waits on the copy before it may overwrite what was read (separate contexts read on
 * the source's own queue, which is in order). */
#include <string.h>

#include "net/shapes.h"
#include "ops/accuracy.h"
#include "ops/add.h"
#include "ops/relu.h"
#include "ops/softmax.h"
#include "parallel/split.h"
#include "runtime/error.h"

#define V(m) ((struct acl_view){(m), 0})

static int is_weight(const struct acl_layer *l) { return l->kind == ACL_CONV || l->kind == ACL_FC; }

static int same(struct acl_range a, struct acl_range b) { return a.begin == b.begin && a.end == b.end; }

static struct acl_range intersect(struct acl_range a, struct acl_range b)
{
    struct acl_range r = {a.begin > b.begin ? a.begin : b.begin, a.end < b.end ? a.end : b.end};
    if (r.end < r.begin)
        r.end = r.begin;
    return r;
}

static struct split_part *part(struct acl_split *s, int i, int d) { return &s->parts[2 * i + d]; }

/* The buffer holding layer i's input on device d (its `in` channels). */
static cl_mem held_input(struct acl_split *s, int i, int d)
{
    return i == 0 ? s->dev[d].input : part(s, i - 1, d)->y;
}

/* Copies channels ch of an N x C x plane tensor from device `from`, where buffer src holds channels
 * src_has, into buffer dst on device `to`, which holds channels dst_has. reused: the source buffer is written
 * again later in this pass (the backward pass's ping-pong gradients and partials), so in a shared context the
 * source's queue must wait for the copy; the forward pass's sources are each layer's own outputs, written
 * once a pass, and a pass starts only when both devices have finished the last (acl_split_forward). */
static acl_status copy_channels(struct acl_split *s, int from, cl_mem src, struct acl_range src_has, int to,
                                cl_mem dst, struct acl_range dst_has, struct acl_range ch, size_t plane, int reused)
{
    acl_status st = ACL_OK;
    cl_event ready = NULL, done = NULL;
    const size_t f = sizeof(float);
    if (acl_range_size(ch) == 0)
        return ACL_OK;
    struct acl_rect r = {(size_t)acl_range_size(ch) * plane * f, (size_t)s->n,
                         (size_t)acl_range_size(src_has) * plane * f, (size_t)acl_range_size(dst_has) * plane * f};
    struct acl_view sv = {src, (size_t)(ch.begin - src_has.begin) * plane};
    struct acl_view dv = {dst, (size_t)(ch.begin - dst_has.begin) * plane};
    if (from == to)
        return acl_copy_rect_between(s->pair, from, sv, to, dv, &r, 0, NULL, NULL);
    cl_command_queue sq = s->dev[from].c->queue;
    CL_TRY(clEnqueueMarkerWithWaitList(sq, 0, NULL, &ready));
    clFlush(sq);
    ACL_TRY(acl_copy_rect_between(s->pair, from, sv, to, dv, &r, 1, &ready, &done));
    if (s->pair->shared && reused)
        CL_TRY(clEnqueueBarrierWithWaitList(sq, 1, &done, NULL));
cleanup:
    if (ready)
        clReleaseEvent(ready);
    if (done)
        clReleaseEvent(done);
    return st;
}

/* Fills dst (holding channels want) with those channels of a tensor whose parts are src[0] on device 0
 * (channels has[0]) and src[1] on device 1 (has[1]), on device d: its own part first, the rest from the
 * other. */
static acl_status assemble(struct acl_split *s, int d, cl_mem dst, struct acl_range want, const cl_mem src[2],
                           const struct acl_range has[2], size_t plane, int reused)
{
    acl_status st = ACL_OK;
    struct acl_range mine = intersect(want, has[d]);
    ACL_TRY(copy_channels(s, d, src[d], has[d], d, dst, want, mine, plane, reused));
    struct acl_range lo = intersect(want, (struct acl_range){want.begin, mine.begin});
    struct acl_range hi = intersect(want, (struct acl_range){mine.end, want.end});
    if (acl_range_size(mine) == 0)
        lo = want, hi = (struct acl_range){want.end, want.end};
    for (int k = 0; k < 2; k++) {
        struct acl_range rest = k ? hi : lo;
        if (acl_range_size(rest) == 0)
            continue;
        if (!same(intersect(rest, has[1 - d]), rest)) {
            st = acl_fail(ACL_ERR_ARGUMENT, "channels [%d, %d) are on neither device", rest.begin, rest.end);
            goto cleanup;
        }
        ACL_TRY(copy_channels(s, 1 - d, src[1 - d], has[1 - d], d, dst, want, rest, plane, reused));
    }
cleanup:
    return st;
}

static struct acl_view wview(struct acl_split *s, int d, cl_mem buf, size_t off)
{
    (void)s;
    (void)d;
    return (struct acl_view){buf, off};
}

/* ---- forward ------------------------------------------------------------------------------------- */

static acl_status forward_in(struct acl_split *s, int i, int d)
{
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = part(s, i, d);
    if (!p->xin || acl_range_size(p->out) == 0)
        return ACL_OK;
    cl_mem src[2] = {held_input(s, i, 0), held_input(s, i, 1)};
    struct acl_range has[2] = {part(s, i, 0)->in, part(s, i, 1)->in};
    return assemble(s, d, p->xin, p->ext, src, has, (size_t)l->in_h * l->in_w, 0);
}

static struct conv_shape share_conv(const struct acl_layer *l, const struct split_part *p, int n)
{
    if (l->kind == ACL_FC)
        return (struct conv_shape){n, acl_range_size(p->ext) * l->in_h * l->in_w, 1, 1, acl_range_size(p->out), 1,
                                   1, 1, 0, 1};
    return (struct conv_shape){n, acl_range_size(p->ext), l->in_h, l->in_w, acl_range_size(p->out), l->kernel,
                               l->kernel, l->stride, l->pad, p->groups};
}

static acl_status forward_compute(struct acl_split *s, int i, int d, int training, uint64_t seed, uint64_t step)
{
    acl_status st = ACL_OK;
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = part(s, i, d);
    struct split_dev *v = &s->dev[d];
    struct acl_ctx *c = v->c;
    int n = s->n, k = acl_range_size(p->out);
    if (k == 0)
        return ACL_OK;
    cl_mem x = p->xin ? p->xin : held_input(s, i, d);
    size_t plane = (size_t)l->out_h * l->out_w;
    switch (l->kind) {
    case ACL_CONV:
    case ACL_FC: {
        struct acl_view w = wview(s, d, v->params, p->w_off), b = wview(s, d, v->params, p->b_off);
        if (l->kind == ACL_FC && v->fc_gemm) {
            struct fc_shape fs = {n, acl_range_size(p->ext) * l->in_h * l->in_w, k};
            ACL_TRY(fc_forward(c, V(p->y), V(x), w, b, &fs, acl_split_event(s, d)));
        } else {
            struct conv_shape cs = share_conv(l, p, n);
            ACL_TRY(conv_forward(c, V(p->y), V(x), w, b, V(v->ws), v->ws_floats, CONV_ALGO_AUTO, &cs,
                                 acl_split_event(s, d)));
        }
        break;
    }
    case ACL_RELU:
        ACL_TRY(relu_forward(c, V(p->y), V(p->y), (size_t)n * k * plane, acl_split_event(s, d)));
        break;
    case ACL_LRN: {
        struct lrn_shape ls = acl_lrn_shape(l, n);
        ls.c = acl_range_size(p->ext);
        if (!p->yext) {
            ACL_TRY(lrn_forward(c, V(p->y), V(x), &ls, acl_split_event(s, d)));
            break;
        }
        ACL_TRY(lrn_forward(c, V(p->yext), V(x), &ls, acl_split_event(s, d)));
        ACL_TRY(copy_channels(s, d, p->yext, p->ext, d, p->y, p->out, p->out, plane, 0));
        break;
    }
    case ACL_MAXPOOL: {
        struct pool_shape ps = acl_pool_shape(l, n);
        ps.c = k;
        ACL_TRY(maxpool_forward(c, V(p->y), V(p->aux), V(x), &ps, acl_split_event(s, d)));
        break;
    }
    case ACL_AVGPOOL:
        break;
    case ACL_DROPOUT:
        if (training && l->p > 0) {
            struct dropout_shape ds = acl_dropout_shape(l, n, seed, i, step);
            ds.cols = k * (int)plane;
            ds.col_base = p->out.begin * (int)plane;
            ACL_TRY(dropout_forward(c, V(p->y), V(p->y), &ds, acl_split_event(s, d)));
        }
        break;
    }
cleanup:
    return st;
}

acl_status acl_split_forward(struct acl_split *s, int training, uint64_t seed, uint64_t step)
{
    acl_status st = ACL_OK;
    const struct acl_net *net = s->net;
    if (s->n < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "forward before any input");
    /* The previous pass's copies may still read this pass's outputs-to-be (copy_channels). acl_split_input's
     * blocking writes already wait for both devices; this covers a forward without new input. */
    ACL_TRY(acl_pair_finish(s->pair));
    for (int i = 0; i < net->n_layers; i++) {
        for (int d = 0; d < 2 && st == ACL_OK; d++)
            st = forward_in(s, i, d);
        for (int d = 0; d < 2 && st == ACL_OK; d++)
            st = forward_compute(s, i, d, training, seed, step);
        if (st != ACL_OK)
            return acl_fail_context(st, "forward of layer %s (line %d) on two devices", net->layers[i].name,
                                    net->layers[i].line);
    }
    struct acl_ctx *c = s->dev[0].c;
    struct softmax_shape ss = {s->n, net->classes};
    struct accuracy_shape as = {s->n, net->classes};
    cl_mem logits = part(s, net->n_layers - 1, 0)->y;
    ACL_TRY(softmax_forward(c, V(s->probs), V(s->loss), V(s->mean), V(logits), V(s->labels), &ss, NULL));
    ACL_TRY(accuracy_count(c, V(s->counts), V(logits), V(s->labels), &as, NULL));
    for (int d = 0; d < 2; d++)
        clFlush(s->dev[d].c->queue);
cleanup:
    return st;
}

/* ---- backward ------------------------------------------------------------------------------------ */

static cl_mem spare(struct acl_split *s, int d)
{
    return s->dy[d] == s->dev[d].dact[0] ? s->dev[d].dact[1] : s->dev[d].dact[0];
}

/* Before the compute: an LRN gathers the output gradient over its extended channels. */
static acl_status backward_in(struct acl_split *s, int i, int d)
{
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = part(s, i, d);
    if (l->kind != ACL_LRN || !p->yext || acl_range_size(p->out) == 0)
        return ACL_OK;
    cl_mem src[2] = {s->dy[0], s->dy[1]};
    struct acl_range has[2] = {part(s, i, 0)->out, part(s, i, 1)->out};
    return assemble(s, d, s->dev[d].dext[0], p->ext, src, has, (size_t)l->out_h * l->out_w, 1);
}

/* The compute of layer i's backward on device d; *dx receives the buffer that will hold the gradient of
 * the held input (for weight layers not direct_dx, only after backward_out). */
static acl_status backward_compute(struct acl_split *s, int i, int d, uint64_t seed, uint64_t step, cl_mem *dx)
{
    acl_status st = ACL_OK;
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = part(s, i, d);
    struct split_dev *v = &s->dev[d];
    struct acl_ctx *c = v->c;
    int n = s->n, k = acl_range_size(p->out), need_dx = i > s->first_weight;
    cl_mem dy = s->dy[d];
    *dx = acl_layer_in_place(l) ? dy : spare(s, d);
    if (k == 0)
        return ACL_OK;
    cl_mem x = p->xin ? p->xin : held_input(s, i, d);
    size_t plane = (size_t)l->out_h * l->out_w, count = (size_t)n * k * plane;
    switch (l->kind) {
    case ACL_CONV:
    case ACL_FC: {
        struct acl_view gw = wview(s, d, v->grads, p->w_off), gb = wview(s, d, v->grads, p->b_off);
        struct acl_view w = wview(s, d, v->params, p->w_off);
        cl_mem into = need_dx ? (p->direct_dx ? *dx : v->part) : NULL;
        if (l->kind == ACL_FC && v->fc_gemm) {
            struct fc_shape fs = {n, acl_range_size(p->ext) * l->in_h * l->in_w, k};
            ACL_TRY(fc_backward(c, V(into), gw, gb, V(dy), V(x), w, &fs, acl_split_event(s, d)));
            break;
        }
        struct conv_shape cs = share_conv(l, p, n);
        ACL_TRY(conv_backward_weights(c, gw, gb, V(dy), V(x), V(v->ws), v->ws_floats, CONV_ALGO_AUTO, &cs,
                                      acl_split_event(s, d)));
        if (into)
            ACL_TRY(conv_backward_data(c, V(into), V(dy), w, V(v->ws), v->ws_floats, CONV_ALGO_AUTO, &cs,
                                       acl_split_event(s, d)));
        break;
    }
    case ACL_RELU:
        ACL_TRY(relu_backward(c, V(dy), V(dy), V(p->y), count, acl_split_event(s, d)));
        break;
    case ACL_LRN: {
        struct lrn_shape ls = acl_lrn_shape(l, n);
        ls.c = acl_range_size(p->ext);
        if (!p->yext) {
            ACL_TRY(lrn_backward(c, V(*dx), V(dy), V(x), &ls, acl_split_event(s, d)));
            break;
        }
        ACL_TRY(lrn_backward(c, V(v->dext[1]), V(v->dext[0]), V(x), &ls, acl_split_event(s, d)));
        ACL_TRY(copy_channels(s, d, v->dext[1], p->ext, d, *dx, p->in, p->in, plane, 1));
        break;
    }
    case ACL_MAXPOOL: {
        struct pool_shape ps = acl_pool_shape(l, n);
        ps.c = k;
        ACL_TRY(maxpool_backward(c, V(*dx), V(dy), V(p->aux), &ps, acl_split_event(s, d)));
        break;
    }
    case ACL_AVGPOOL:
        break;
    case ACL_DROPOUT:
        if (l->p > 0) {
            struct dropout_shape ds = acl_dropout_shape(l, n, seed, i, step);
            ds.cols = k * (int)plane;
            ds.col_base = p->out.begin * (int)plane;
            ACL_TRY(dropout_backward(c, V(dy), V(dy), &ds, acl_split_event(s, d)));
        }
        break;
    }
cleanup:
    return st;
}

/* After both devices' compute: a weight layer's input gradient over the channels device d holds is the sum
 * of the partials of the devices whose ext covers them, added in device order (the same sum on both). */
static acl_status backward_out(struct acl_split *s, int i, int d, cl_mem dx)
{
    acl_status st = ACL_OK;
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = part(s, i, d);
    struct split_dev *v = &s->dev[d];
    int k = acl_range_size(p->in), first = 1;
    if (!is_weight(l) || i <= s->first_weight || k == 0 || (p->direct_dx && acl_range_size(p->out)))
        return ACL_OK;
    size_t plane = (size_t)l->in_h * l->in_w;
    for (int e = 0; e < 2; e++) {
        struct split_part *q = part(s, i, e);
        if (!acl_range_size(q->out) || !same(intersect(p->in, q->ext), p->in))
            continue;
        cl_mem into = first ? dx : v->recv;
        ACL_TRY(copy_channels(s, e, s->dev[e].part, q->ext, d, into, p->in, p->in, plane, 1));
        if (!first)
            ACL_TRY(tensor_add(v->c, V(dx), V(v->recv), (size_t)s->n * k * plane, acl_split_event(s, d)));
        first = 0;
    }
    if (first) /* no device reads these channels: their gradient is zero */
        ACL_TRY(acl_fill_float(v->c, dx, 0, (size_t)s->n * k * plane, 0.0f));
cleanup:
    return st;
}

acl_status acl_split_backward(struct acl_split *s, uint64_t seed, uint64_t step)
{
    acl_status st = ACL_OK;
    const struct acl_net *net = s->net;
    if (!s->training)
        return acl_fail(ACL_ERR_ARGUMENT, "backward on a model created for inference");
    for (int d = 0; d < 2; d++)
        if (s->dev[d].param_count)
            ACL_TRY(acl_fill_float(s->dev[d].c, s->dev[d].grads, 0, s->dev[d].param_count, 0.0f));
    struct softmax_shape ss = {s->n, net->classes};
    s->dy[0] = s->dev[0].dact[0];
    s->dy[1] = s->dev[1].dact[0]; /* device 1 holds none of the logits: its first gradient comes from fc8 */
    ACL_TRY(softmax_backward(s->dev[0].c, V(s->dy[0]), V(s->probs), V(s->labels), &ss, NULL));
    for (int i = net->n_layers - 1; i >= s->first_weight; i--) {
        cl_mem dx[2] = {NULL, NULL};
        for (int d = 0; d < 2 && st == ACL_OK; d++)
            st = backward_in(s, i, d);
        for (int d = 0; d < 2 && st == ACL_OK; d++)
            st = backward_compute(s, i, d, seed, step, &dx[d]);
        for (int d = 0; d < 2 && st == ACL_OK; d++)
            st = backward_out(s, i, d, dx[d]);
        if (st != ACL_OK)
            return acl_fail_context(st, "backward of layer %s (line %d) on two devices", net->layers[i].name,
                                    net->layers[i].line);
        s->dy[0] = dx[0];
        s->dy[1] = dx[1];
    }
    for (int d = 0; d < 2; d++)
        clFlush(s->dev[d].c->queue);
cleanup:
    return st;
}
