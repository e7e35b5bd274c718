/* split.c: a network on two devices: the layout of every layer's share, the memory check, the buffers, and
 * the moves of parameters, inputs and results (the passes are in split_pass.c). */
#include "parallel/split.h"

#include <stdlib.h>
#include <string.h>

#include "net/model.h"
#include "net/shapes.h"
#include "ops/sgd.h"
#include "runtime/error.h"

static int is_weight(const struct acl_layer *l) { return l->kind == ACL_CONV || l->kind == ACL_FC; }

static struct acl_range intersect(struct acl_range a, struct acl_range b)
{
    struct acl_range r = {a.begin > b.begin ? a.begin : b.begin, a.end < b.end ? a.end : b.end};
    if (r.end < r.begin)
        r.end = r.begin;
    return r;
}

static int same(struct acl_range a, struct acl_range b) { return a.begin == b.begin && a.end == b.end; }

/* ---- geometry: what each device holds and reads --------------------------------------------------- */

static acl_status weight_geometry(struct acl_split *s, int i)
{
    const struct acl_layer *l = &s->net->layers[i];
    struct split_part *p = &s->parts[2 * i];
    for (int d = 0; d < 2; d++) {
        struct acl_range r = p[d].out;
        p[d].groups = 1;
        p[d].ext = (struct acl_range){0, l->in_c};
        if (acl_range_size(r) == 0) {
            p[d].ext = (struct acl_range){0, 0};
            continue;
        }
        if (l->groups > 1) {
            int og = l->out_c / l->groups, ig = l->in_c / l->groups;
            if (r.begin % og || r.end % og)
                return acl_fail(ACL_ERR_ARGUMENT, "%s (line %d): device %d's share, output channels [%d, %d), cuts "
                                "a group of %d channels; a grouped convolution is split between whole groups: "
                                "choose a --split that falls on a group boundary, or mark the layer cross=0",
                                l->name, l->line, s->pair->dev[d].dev.info.index, r.begin, r.end, og);
            p[d].groups = (r.end - r.begin) / og;
            p[d].ext = (struct acl_range){r.begin / og * ig, r.end / og * ig};
        }
    }
    /* Each device's input gradient is the sum of the partials over the channels it holds: a partial must
     * cover all of them or none (true of every layout placement.c makes, checked for a hand-made net). */
    for (int d = 0; d < 2; d++) {
        p[d].direct_dx = same(p[d].ext, p[d].in);
        for (int e = 0; e < 2; e++) {
            struct acl_range o = intersect(p[d].in, p[e].ext);
            if (acl_range_size(o) && !same(o, p[d].in))
                return acl_fail(ACL_ERR_ARGUMENT, "%s (line %d): device %d reads part of the input channels [%d, "
                                "%d) that device %d holds; this layout is not supported on two devices: mark the "
                                "layer cross=1 or change its groups", l->name, l->line, e, p[d].in.begin,
                                p[d].in.end, d);
            if (e != d && acl_range_size(o) && acl_range_size(p[e].out))
                p[d].direct_dx = 0;
        }
    }
    return ACL_OK;
}

static acl_status geometry(struct acl_split *s)
{
    acl_status st = ACL_OK;
    const struct acl_net *net = s->net;
    s->first_weight = net->n_layers;
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        struct split_part *p = &s->parts[2 * i];
        for (int d = 0; d < 2; d++) {
            p[d].in = i == 0 ? (struct acl_range){0, net->in_c} : s->parts[2 * (i - 1) + d].out;
            p[d].out = s->place.layers[i].dev[d];
            p[d].ext = p[d].in;
        }
        if (is_weight(l)) {
            if (s->first_weight == net->n_layers)
                s->first_weight = i;
            ACL_TRY(weight_geometry(s, i));
        } else if (l->kind == ACL_LRN && !s->place.layers[i].replicated) {
            int reach = l->size - 1;
            for (int d = 0; d < 2; d++)
                if (acl_range_size(p[d].in))
                    p[d].ext = intersect((struct acl_range){p[d].in.begin - reach, p[d].in.end + reach},
                                         (struct acl_range){0, l->in_c});
        }
    }
    /* The parameter slices: each weight layer's output channels on a device are whole rows of its weight
     * (out, in/groups, kh, kw) and a run of its bias, so each slice is one segment of the flat buffer. */
    int cap = 2 * net->n_layers * 2 + 1, n = 0;
    s->segs = calloc((size_t)cap, sizeof *s->segs);
    if (!s->segs)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        if (l->weight < 0)
            continue;
        const struct acl_tensor_desc *w = &net->tensors[l->weight], *b = &net->tensors[l->bias];
        size_t per = w->count / (size_t)l->out_c;
        for (int d = 0; d < 2; d++) {
            struct split_part *p = &s->parts[2 * i + d];
            size_t k = (size_t)acl_range_size(p->out);
            if (!k)
                continue;
            p->w_off = s->dev[d].param_count;
            s->segs[n++] = (struct split_seg){w->offset + (size_t)p->out.begin * per, p->w_off, k * per, d};
            p->b_off = p->w_off + k * per;
            s->segs[n++] = (struct split_seg){b->offset + (size_t)p->out.begin, p->b_off, k, d};
            s->dev[d].param_count = p->b_off + k;
        }
    }
    s->n_segs = n;
cleanup:
    return st;
}

/* ---- buffers: planned first (dry), then allocated ---------------------------------------------- */

static acl_status take(struct acl_split *s, int d, int dry, size_t bytes, cl_mem *out)
{
    if (!bytes)
        return ACL_OK;
    if (dry) {
        s->dev[d].bytes += bytes;
        if (bytes > s->dev[d].largest)
            s->dev[d].largest = bytes;
        return ACL_OK;
    }
    return acl_buffer(s->dev[d].c, bytes, out);
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

static size_t plane_in(const struct acl_layer *l) { return (size_t)l->in_h * l->in_w; }
static size_t plane_out(const struct acl_layer *l) { return (size_t)l->out_h * l->out_w; }

static struct conv_shape share_conv_shape(const struct acl_split *s, const struct acl_layer *l,
                                          const struct split_part *p, int n)
{
    (void)s;
    if (l->kind == ACL_FC)
        return (struct conv_shape){n, acl_range_size(p->ext) * (int)plane_in(l), 1, 1, acl_range_size(p->out), 1,
                                   1, 1, 0, 1};
    return (struct conv_shape){n, acl_range_size(p->ext), l->in_h, l->in_w, acl_range_size(p->out), l->kernel,
                               l->kernel, l->stride, l->pad, p->groups};
}

static acl_status layout(struct acl_split *s, int dry)
{
    acl_status st = ACL_OK;
    const struct acl_net *net = s->net;
    const size_t f = sizeof(float), n = (size_t)s->batch;
    for (int d = 0; d < 2; d++) {
        struct split_dev *v = &s->dev[d];
        size_t dact = 0, part = 0, recv = 0, dext = 0;
        ACL_TRY(take(s, d, dry, v->param_count * f, &v->params));
        if (s->training) {
            ACL_TRY(take(s, d, dry, v->param_count * f, &v->grads));
            ACL_TRY(take(s, d, dry, v->param_count * f, &v->momentum));
        }
        ACL_TRY(take(s, d, dry, n * net->in_c * net->in_h * net->in_w * f, &v->input));
        for (int i = 0; i < net->n_layers; i++) {
            const struct acl_layer *l = &net->layers[i];
            struct split_part *p = &s->parts[2 * i + d];
            size_t out = n * (size_t)acl_range_size(p->out) * plane_out(l) * f;
            size_t in = n * (size_t)acl_range_size(p->in) * plane_in(l) * f;
            size_t ext = n * (size_t)acl_range_size(p->ext) * plane_in(l) * f;
            int active = acl_range_size(p->out) > 0;
            if (acl_layer_in_place(l)) {
                if (!dry) {
                    p->y = i == 0 ? v->input : s->parts[2 * (i - 1) + d].y;
                    if (p->y)
                        clRetainMemObject(p->y);
                }
            } else if (active) {
                ACL_TRY(take(s, d, dry, out, &p->y));
            }
            if (active && !same(p->ext, p->in))
                ACL_TRY(take(s, d, dry, ext, &p->xin));
            if (l->kind == ACL_MAXPOOL && active)
                ACL_TRY(take(s, d, dry, out, &p->aux));
            if (l->kind == ACL_LRN && active) {
                if (!same(p->ext, p->out)) {
                    ACL_TRY(take(s, d, dry, ext, &p->yext));
                    dext = max_sz(dext, ext);
                }
            }
            if (is_weight(l) && active && (l->kind == ACL_CONV || !v->fc_gemm)) {
                struct conv_shape cs = share_conv_shape(s, l, p, s->batch);
                v->ws_floats = max_sz(v->ws_floats, conv_workspace_floats_batch(&cs, CONV_WORKSPACE_CAP));
            }
            if (i >= s->first_weight) {
                dact = max_sz(dact, max_sz(in, out));
                if (is_weight(l) && i > s->first_weight && !p->direct_dx) {
                    part = max_sz(part, ext);
                    recv = max_sz(recv, in);
                }
            }
        }
        if (d == 0)
            dact = max_sz(dact, n * (size_t)net->classes * f);
        ACL_TRY(take(s, d, dry, v->ws_floats * f, &v->ws));
        if (s->training) {
            ACL_TRY(take(s, d, dry, dact, &v->dact[0]));
            ACL_TRY(take(s, d, dry, dact, &v->dact[1]));
            ACL_TRY(take(s, d, dry, part, &v->part));
            ACL_TRY(take(s, d, dry, recv, &v->recv));
            ACL_TRY(take(s, d, dry, dext, &v->dext[0]));
            ACL_TRY(take(s, d, dry, dext, &v->dext[1]));
        }
    }
    ACL_TRY(take(s, 0, dry, n * (size_t)net->classes * f, &s->probs));
    ACL_TRY(take(s, 0, dry, n * f, &s->loss));
    ACL_TRY(take(s, 0, dry, f, &s->mean));
    ACL_TRY(take(s, 0, dry, n * sizeof(cl_int), &s->labels));
    ACL_TRY(take(s, 0, dry, 2 * sizeof(cl_int), &s->counts));
cleanup:
    return st;
}

static acl_status check_memory(const struct acl_split *s)
{
    const double mib = 1048576.0;
    for (int d = 0; d < 2; d++) {
        const struct split_dev *v = &s->dev[d];
        const acl_device_info *info = &v->c->dev.info;
        if (v->bytes <= info->global_mem_bytes && v->largest <= info->max_alloc_bytes)
            continue;
        double lacks = v->bytes > info->global_mem_bytes ? (double)(v->bytes - info->global_mem_bytes) : 0;
        return acl_fail(ACL_ERR_MEMORY, "device %d (%s) cannot hold its share of %s at batch %d: it needs %.0f MiB "
                        "(largest buffer %.0f MiB) and has %.0f MiB (allocations of at most %.0f MiB), %.0f MiB "
                        "short: use a smaller --batch, a --split that gives it less, or another device",
                        info->index, info->name, s->net->name, s->batch, v->bytes / mib, v->largest / mib,
                        info->global_mem_bytes / mib, info->max_alloc_bytes / mib, lacks / mib);
    }
    return ACL_OK;
}

acl_status acl_split_create(struct acl_pair *pair, const struct acl_net *net, double split, int batch, int training,
                            struct acl_split **out)
{
    acl_status st = ACL_OK;
    *out = NULL;
    if (batch < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "batch must be at least 1, not %d", batch);
    struct acl_split *s = calloc(1, sizeof *s);
    if (!s)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    s->pair = pair;
    s->net = net;
    s->batch = batch;
    s->training = training;
    for (int d = 0; d < 2; d++) {
        s->dev[d].c = &pair->dev[d];
        s->dev[d].fc_gemm = acl_fc_through_gemm(&pair->dev[d]);
    }
    s->parts = calloc(2 * (size_t)net->n_layers, sizeof *s->parts);
    if (!s->parts) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    ACL_TRY(acl_placement_plan(net, split, &s->place));
    ACL_TRY(geometry(s));
    ACL_TRY(layout(s, 1));
    ACL_TRY(check_memory(s));
    ACL_TRY(layout(s, 0));
    for (int d = 0; d < 2; d++) {
        if (s->dev[d].param_count)
            ACL_TRY(acl_fill_float(s->dev[d].c, s->dev[d].params, 0, s->dev[d].param_count, 0.0f));
        if (training && s->dev[d].param_count)
            ACL_TRY(acl_fill_float(s->dev[d].c, s->dev[d].momentum, 0, s->dev[d].param_count, 0.0f));
    }
    *out = s;
    s = NULL;
cleanup:
    if (st != ACL_OK)
        acl_fail_context(st, "placing %s on devices %d and %d", net->name, pair->dev[0].dev.info.index,
                         pair->dev[1].dev.info.index);
    acl_split_destroy(s);
    return st;
}

static void release(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

static void drop_events(struct split_dev *v)
{
    for (int k = 0; k < v->n_events; k++)
        if (v->events[k])
            clReleaseEvent(v->events[k]);
    v->n_events = 0;
}

void acl_split_destroy(struct acl_split *s)
{
    if (!s)
        return;
    acl_pair_finish(s->pair);
    if (s->parts)
        for (int i = 0; i < 2 * s->net->n_layers; i++) {
            struct split_part *p = &s->parts[i];
            release(&p->y);
            release(&p->aux);
            release(&p->xin);
            release(&p->yext);
        }
    for (int d = 0; d < 2; d++) {
        struct split_dev *v = &s->dev[d];
        cl_mem *all[] = {&v->params, &v->grads, &v->momentum, &v->input, &v->dact[0], &v->dact[1],
                         &v->part,   &v->recv,  &v->dext[0],  &v->dext[1], &v->ws};
        for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
            release(all[k]);
        drop_events(v);
        free(v->events);
    }
    cl_mem *own[] = {&s->probs, &s->loss, &s->mean, &s->labels, &s->counts};
    for (size_t k = 0; k < sizeof own / sizeof own[0]; k++)
        release(own[k]);
    acl_placement_free(&s->place);
    free(s->parts);
    free(s->segs);
    free(s);
}

/* ---- parameters, inputs, results ------------------------------------------------------------------ */

static cl_mem flat_buffer(struct acl_split *s, int d, int which)
{
    return which == 0 ? s->dev[d].params : which == 1 ? s->dev[d].momentum : s->dev[d].grads;
}

static acl_status flat_check(struct acl_split *s, int which)
{
    if (which != 0 && !s->training)
        return acl_fail(ACL_ERR_ARGUMENT, "the model was created for inference: it has no gradients or momentum");
    return ACL_OK;
}

acl_status acl_split_write_flat(struct acl_split *s, int which, const float *flat)
{
    acl_status st = flat_check(s, which);
    for (int k = 0; st == ACL_OK && k < s->n_segs; k++) {
        const struct split_seg *g = &s->segs[k];
        st = acl_write(s->dev[g->dev].c, flat_buffer(s, g->dev, which), g->local * sizeof(float),
                       g->count * sizeof(float), flat + g->global);
    }
    return st;
}

acl_status acl_split_read_flat(struct acl_split *s, int which, float *flat)
{
    acl_status st = flat_check(s, which);
    if (st == ACL_OK)
        memset(flat, 0, s->net->param_count * sizeof(float));
    for (int k = 0; st == ACL_OK && k < s->n_segs; k++) {
        const struct split_seg *g = &s->segs[k];
        st = acl_read(s->dev[g->dev].c, flat_buffer(s, g->dev, which), g->local * sizeof(float),
                      g->count * sizeof(float), flat + g->global);
    }
    return st;
}

acl_status acl_split_input(struct acl_split *s, const float *images, const int *labels, int n)
{
    const struct acl_net *net = s->net;
    if (n < 1 || n > s->batch)
        return acl_fail(ACL_ERR_ARGUMENT, "a pass of %d images on a model made for batches of up to %d", n, s->batch);
    acl_status st = ACL_OK;
    s->n = n;
    size_t bytes = (size_t)n * net->in_c * net->in_h * net->in_w * sizeof(float);
    for (int d = 0; d < 2; d++)
        ACL_TRY(acl_write(s->dev[d].c, s->dev[d].input, 0, bytes, images));
    if (labels)
        ACL_TRY(acl_write(s->dev[0].c, s->labels, 0, (size_t)n * sizeof(cl_int), labels));
cleanup:
    return st;
}

acl_status acl_split_update(struct acl_split *s, float lr, float momentum, float weight_decay)
{
    struct sgd_params p = {lr, momentum, weight_decay};
    acl_status st = ACL_OK;
    if (!s->training)
        return acl_fail(ACL_ERR_ARGUMENT, "update on a model created for inference");
    for (int d = 0; d < 2; d++) {
        struct split_dev *v = &s->dev[d];
        if (v->param_count)
            ACL_TRY(sgd_update(v->c, (struct acl_view){v->params, 0}, (struct acl_view){v->momentum, 0},
                               (struct acl_view){v->grads, 0}, 0, v->param_count, &p, acl_split_event(s, d)));
    }
cleanup:
    return st;
}

acl_status acl_split_results(struct acl_split *s, float *loss, int *top1, int *top5)
{
    acl_status st = ACL_OK;
    cl_int counts[2] = {0, 0};
    struct acl_ctx *c = s->dev[0].c;
    if (loss)
        ACL_TRY(acl_read(c, s->mean, 0, sizeof *loss, loss));
    ACL_TRY(acl_read(c, s->counts, 0, sizeof counts, counts));
    if (top1)
        *top1 = counts[0];
    if (top5)
        *top5 = counts[1];
cleanup:
    return st;
}

acl_status acl_split_read_logits(struct acl_split *s, float *logits)
{
    const struct acl_net *net = s->net;
    cl_mem y = s->parts[2 * (net->n_layers - 1)].y;
    return acl_read(s->dev[0].c, y, 0, (size_t)s->n * net->classes * sizeof(float), logits);
}

/* ---- timing -------------------------------------------------------------------------------------- */

void acl_split_timing(struct acl_split *s, int on) { s->timing = on; }

cl_event *acl_split_event(struct acl_split *s, int d)
{
    struct split_dev *v = &s->dev[d];
    if (!s->timing)
        return NULL;
    if (v->n_events == v->cap_events) {
        int cap = v->cap_events ? 2 * v->cap_events : 256;
        cl_event *grown = realloc(v->events, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL; /* the command runs, untimed */
        v->events = grown;
        v->cap_events = cap;
    }
    v->events[v->n_events] = NULL;
    return &v->events[v->n_events++];
}

acl_status acl_split_stats(struct acl_split *s, struct acl_split_stats *out)
{
    acl_status st = acl_pair_finish(s->pair);
    memset(out, 0, sizeof *out);
    for (int d = 0; d < 2; d++) {
        struct split_dev *v = &s->dev[d];
        for (int k = 0; k < v->n_events; k++) {
            double ns = 0;
            if (v->events[k] && acl_event_ns(v->events[k], &ns) == ACL_OK)
                out->busy_s[d] += ns * 1e-9;
        }
        drop_events(v);
    }
    acl_migrate_stats(s->pair, &out->moved, 1);
    return st;
}
