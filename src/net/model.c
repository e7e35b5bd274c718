/* model.c: places a network on a device and runs its forward, backward and update passes through the ops. */
#include "net/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/shapes.h"
#include "ops/accuracy.h"
#include "ops/relu.h"
#include "ops/sgemm.h"
#include "ops/sgd.h"
#include "ops/softmax.h"
#include "parallel/split.h"
#include "runtime/error.h"

#define V(m) ((struct acl_view){(m), 0})

static acl_status check_plan(struct acl_ctx *c, const struct acl_net *net, int batch, struct acl_memory_plan *p)
{
    const acl_device_info *d = &c->dev.info;
    const double mib = 1048576.0;
    if (p->total <= d->global_mem_bytes && p->largest <= d->max_alloc_bytes)
        return ACL_OK;
    return acl_fail(ACL_ERR_MEMORY,
                    "%s at batch %d needs %.0f MiB on device %d (%s) (parameters %.0f, activations %.0f, workspace "
                    "%.0f; largest buffer %.0f MiB), which has %.0f MiB with allocations of at most %.0f MiB: use a "
                    "smaller --batch or another device",
                    net->name, batch, p->total / mib, d->index, d->name, p->params / mib, p->activations / mib,
                    p->workspace / mib, p->largest / mib, d->global_mem_bytes / mib, d->max_alloc_bytes / mib);
}

/* Fully connected layers are GEMMs. On a GPU they go to CLBlast, whose kernels are tuned for each vendor; on a
 * CPU through PoCL, CLBlast's default parameters reach 4-7 GFLOP/s, so acl_gemm takes the own register-tiled
 * kernel there (src/ops/sgemm.c), which ran fc6 at batch 32 3.7-10x faster than the same product as a 1x1
 * convolution through the direct kernels (bench --only model, ACL_FC_PATH=gemm vs conv). A CPU forced onto
 * CLBlast (ACL_GEMM=clblast) keeps the convolutions. ACL_FC_PATH=gemm|conv overrides the choice. */
int acl_fc_through_gemm(const struct acl_ctx *c)
{
    const char *e = getenv("ACL_FC_PATH");
    if (e && !strcmp(e, "gemm"))
        return 1;
    if (e && !strcmp(e, "conv"))
        return 0;
    return strcmp(c->dev.info.type, "CPU") != 0 || acl_sgemm_preferred(c);
}

acl_status acl_model_create(struct acl_ctx *c, const struct acl_net *net, int batch, int training,
                            struct acl_model **out)
{
    acl_status st = ACL_OK;
    *out = NULL;
    if (batch < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "batch must be at least 1, not %d", batch);
    struct acl_model *m = calloc(1, sizeof *m);
    if (!m)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    m->net = net;
    m->c = c;
    m->batch = batch;
    m->fc_gemm = acl_fc_through_gemm(c);
    m->training = training;
    acl_net_memory_plan(net, batch, training, &m->plan);
    ACL_TRY(check_plan(c, net, batch, &m->plan));
    m->act = calloc((size_t)net->n_layers + 1, sizeof *m->act);
    m->aux = calloc((size_t)net->n_layers, sizeof *m->aux);
    if (!m->act || !m->aux) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    const size_t f = sizeof(float), n = (size_t)batch;
    size_t max_act = (size_t)net->in_c * net->in_h * net->in_w;
    ACL_TRY(acl_buffer(c, net->param_count * f, &m->params));
    ACL_TRY(acl_fill_float(c, m->params, 0, net->param_count, 0.0f));
    if (training) {
        ACL_TRY(acl_buffer(c, net->param_count * f, &m->grads));
        ACL_TRY(acl_buffer(c, net->param_count * f, &m->momentum));
        ACL_TRY(acl_fill_float(c, m->momentum, 0, net->param_count, 0.0f));
    }
    ACL_TRY(acl_buffer(c, n * max_act * f, &m->act[0]));
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        size_t out_n = acl_layer_out_size(l);
        if (out_n > max_act)
            max_act = out_n;
        if (acl_layer_in_place(l)) {
            m->act[i + 1] = m->act[i];
            clRetainMemObject(m->act[i]);
        } else {
            ACL_TRY(acl_buffer(c, n * out_n * f, &m->act[i + 1]));
        }
        if (l->kind == ACL_MAXPOOL)
            ACL_TRY(acl_buffer(c, n * out_n * f, &m->aux[i]));
        if (l->kind == ACL_CONV || (l->kind == ACL_FC && !m->fc_gemm)) {
            struct conv_shape s = l->kind == ACL_CONV ? acl_conv_shape(l, batch) : acl_fc_conv_shape(l, batch);
            size_t ws = conv_workspace_floats_batch(&s, CONV_WORKSPACE_CAP);
            if (ws > m->ws_floats)
                m->ws_floats = ws;
        }
    }
    if (m->ws_floats)
        ACL_TRY(acl_buffer(c, m->ws_floats * f, &m->ws));
    if (training) {
        ACL_TRY(acl_buffer(c, n * max_act * f, &m->dact[0]));
        ACL_TRY(acl_buffer(c, n * max_act * f, &m->dact[1]));
    }
    ACL_TRY(acl_buffer(c, n * (size_t)net->classes * f, &m->probs));
    ACL_TRY(acl_buffer(c, n * f, &m->loss));
    ACL_TRY(acl_buffer(c, f, &m->mean));
    ACL_TRY(acl_buffer(c, n * sizeof(cl_int), &m->labels));
    ACL_TRY(acl_buffer(c, 2 * sizeof(cl_int), &m->counts));
    *out = m;
    m = NULL;
cleanup:
    acl_model_destroy(m);
    return st;
}

acl_status acl_model_create_pair(struct acl_pair *pair, const struct acl_net *net, double split, int batch,
                                 int training, struct acl_model **out)
{
    acl_status st = ACL_OK;
    *out = NULL;
    struct acl_model *m = calloc(1, sizeof *m);
    if (!m)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    m->net = net;
    m->c = &pair->dev[0];
    m->batch = batch;
    m->training = training;
    m->fc_gemm = acl_fc_through_gemm(m->c);
    ACL_TRY(acl_split_create(pair, net, split, batch, training, &m->split));
    for (int d = 0; d < 2; d++) {
        m->plan.total += m->split->dev[d].bytes;
        if (m->split->dev[d].largest > m->plan.largest)
            m->plan.largest = m->split->dev[d].largest;
    }
    *out = m;
    m = NULL;
cleanup:
    acl_model_destroy(m);
    return st;
}

static void release(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

void acl_model_destroy(struct acl_model *m)
{
    if (!m)
        return;
    acl_split_destroy(m->split);
    if (m->act)
        for (int i = 0; i <= m->net->n_layers; i++)
            release(&m->act[i]);
    if (m->aux)
        for (int i = 0; i < m->net->n_layers; i++)
            release(&m->aux[i]);
    cl_mem *all[] = {&m->params, &m->grads, &m->momentum, &m->dact[0], &m->dact[1], &m->ws,
                     &m->probs,  &m->loss,  &m->mean,     &m->labels,  &m->counts};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        release(all[i]);
    free(m->act);
    free(m->aux);
    free(m->profile);
    free(m);
}

static acl_status transfer(struct acl_model *m, cl_mem buf, float *host, const float *src)
{
    size_t bytes = m->net->param_count * sizeof(float);
    if (!buf)
        return acl_fail(ACL_ERR_ARGUMENT, "the model was created for inference: it has no gradients or momentum");
    return src ? acl_write(m->c, buf, 0, bytes, src) : acl_read(m->c, buf, 0, bytes, host);
}

acl_status acl_model_write_params(struct acl_model *m, const float *p)
{
    return m->split ? acl_split_write_flat(m->split, 0, p) : transfer(m, m->params, NULL, p);
}

acl_status acl_model_read_params(struct acl_model *m, float *p)
{
    return m->split ? acl_split_read_flat(m->split, 0, p) : transfer(m, m->params, p, NULL);
}

acl_status acl_model_write_momentum(struct acl_model *m, const float *v)
{
    return m->split ? acl_split_write_flat(m->split, 1, v) : transfer(m, m->momentum, NULL, v);
}

acl_status acl_model_read_momentum(struct acl_model *m, float *v)
{
    return m->split ? acl_split_read_flat(m->split, 1, v) : transfer(m, m->momentum, v, NULL);
}

acl_status acl_model_read_grads(struct acl_model *m, float *g)
{
    return m->split ? acl_split_read_flat(m->split, 2, g) : transfer(m, m->grads, g, NULL);
}

acl_status acl_model_input(struct acl_model *m, const float *images, const int *labels, int n)
{
    if (m->split)
        return acl_split_input(m->split, images, labels, n);
    const struct acl_net *net = m->net;
    if (n < 1 || n > m->batch)
        return acl_fail(ACL_ERR_ARGUMENT, "a pass of %d images on a model made for batches of up to %d", n, m->batch);
    acl_status st = ACL_OK;
    m->n = n;
    size_t per = (size_t)net->in_c * net->in_h * net->in_w;
    ACL_TRY(acl_write(m->c, m->act[0], 0, (size_t)n * per * sizeof(float), images));
    if (labels)
        ACL_TRY(acl_write(m->c, m->labels, 0, (size_t)n * sizeof(cl_int), labels));
cleanup:
    return st;
}

static struct acl_view param(const struct acl_model *m, cl_mem buf, int tensor)
{
    return (struct acl_view){buf, m->net->tensors[tensor].offset};
}

static acl_status layer_forward(struct acl_model *m, int i, int training, uint64_t seed, uint64_t step)
{
    const struct acl_layer *l = &m->net->layers[i];
    struct acl_ctx *c = m->c;
    int n = m->n;
    cl_mem x = m->act[i], y = m->act[i + 1];
    switch (l->kind) {
    case ACL_CONV: {
        struct conv_shape s = acl_conv_shape(l, n);
        return conv_forward(c, V(y), V(x), param(m, m->params, l->weight), param(m, m->params, l->bias), V(m->ws),
                            m->ws_floats, CONV_ALGO_AUTO, &s, NULL);
    }
    case ACL_RELU:
        return relu_forward(c, V(y), V(x), (size_t)n * acl_layer_out_size(l), NULL);
    case ACL_LRN: {
        struct lrn_shape s = acl_lrn_shape(l, n);
        return lrn_forward(c, V(y), V(x), &s, NULL);
    }
    case ACL_MAXPOOL: {
        struct pool_shape s = acl_pool_shape(l, n);
        return maxpool_forward(c, V(y), V(m->aux[i]), V(x), &s, NULL);
    }
    case ACL_AVGPOOL:
        return ACL_OK; /* identity: the input has the output's size (checked when parsing) */
    case ACL_DROPOUT: {
        if (!training || l->p == 0)
            return ACL_OK;
        struct dropout_shape s = acl_dropout_shape(l, n, seed, i, step);
        return dropout_forward(c, V(y), V(x), &s, NULL);
    }
    case ACL_FC: {
        if (m->fc_gemm) {
            struct fc_shape s = acl_fc_shape(l, n);
            return fc_forward(c, V(y), V(x), param(m, m->params, l->weight), param(m, m->params, l->bias), &s, NULL);
        }
        struct conv_shape s = acl_fc_conv_shape(l, n);
        return conv_forward(c, V(y), V(x), param(m, m->params, l->weight), param(m, m->params, l->bias), V(m->ws),
                            m->ws_floats, CONV_ALGO_AUTO, &s, NULL);
    }
    }
    return acl_fail(ACL_ERR_ARGUMENT, "layer %s: unknown kind", l->name);
}

acl_status acl_model_profile(struct acl_model *m)
{
    if (!m->profile && !(m->profile = calloc(2 * (size_t)m->net->n_layers, sizeof *m->profile)))
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    return ACL_OK;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* With profiling on, waits for the layer and adds its time to slot. */
static acl_status profile_mark(struct acl_model *m, int slot, double *t)
{
    if (!m->profile)
        return ACL_OK;
    acl_status st = acl_finish(m->c);
    double now = now_s();
    m->profile[slot] += now - *t;
    *t = now;
    return st;
}

acl_status acl_model_forward(struct acl_model *m, int training, uint64_t seed, uint64_t step)
{
    if (m->split)
        return acl_split_forward(m->split, training, seed, step);
    double t = 0;
    if (m->profile) {
        acl_finish(m->c);
        t = now_s();
    }
    acl_status st = ACL_OK;
    const struct acl_net *net = m->net;
    if (m->n < 1)
        return acl_fail(ACL_ERR_ARGUMENT, "forward before any input");
    for (int i = 0; i < net->n_layers; i++) {
        st = layer_forward(m, i, training, seed, step);
        if (st == ACL_OK)
            st = profile_mark(m, i, &t);
        if (st != ACL_OK)
            return acl_fail_context(st, "forward of layer %s (line %d)", net->layers[i].name, net->layers[i].line);
    }
    struct softmax_shape s = {m->n, net->classes};
    struct accuracy_shape as = {m->n, net->classes};
    cl_mem logits = m->act[net->n_layers];
    ACL_TRY(softmax_forward(m->c, V(m->probs), V(m->loss), V(m->mean), V(logits), V(m->labels), &s, NULL));
    ACL_TRY(accuracy_count(m->c, V(m->counts), V(logits), V(m->labels), &as, NULL));
cleanup:
    return st;
}

/* dy is the gradient of layer i's output; writes the gradient of its input into *dx_buf (possibly dy's own
 * buffer for in-place layers). need_dx = 0 for the first layer, whose input gradient nobody reads. */
static acl_status layer_backward(struct acl_model *m, int i, cl_mem dy, cl_mem spare, cl_mem *dx_out, int need_dx,
                                 uint64_t seed, uint64_t step)
{
    const struct acl_layer *l = &m->net->layers[i];
    struct acl_ctx *c = m->c;
    int n = m->n;
    cl_mem x = m->act[i], y = m->act[i + 1];
    size_t count = (size_t)n * acl_layer_out_size(l);
    acl_status st = ACL_OK;
    *dx_out = acl_layer_in_place(l) ? dy : spare;
    switch (l->kind) {
    case ACL_CONV: {
        struct conv_shape s = acl_conv_shape(l, n);
        ACL_TRY(conv_backward_weights(c, param(m, m->grads, l->weight), param(m, m->grads, l->bias), V(dy), V(x),
                                      V(m->ws), m->ws_floats, CONV_ALGO_AUTO, &s, NULL));
        if (need_dx)
            ACL_TRY(conv_backward_data(c, V(spare), V(dy), param(m, m->params, l->weight), V(m->ws), m->ws_floats,
                                       CONV_ALGO_AUTO, &s, NULL));
        break;
    }
    case ACL_RELU:
        ACL_TRY(relu_backward(c, V(dy), V(dy), V(y), count, NULL));
        break;
    case ACL_LRN: {
        struct lrn_shape s = acl_lrn_shape(l, n);
        ACL_TRY(lrn_backward(c, V(spare), V(dy), V(x), &s, NULL));
        break;
    }
    case ACL_MAXPOOL: {
        struct pool_shape s = acl_pool_shape(l, n);
        ACL_TRY(maxpool_backward(c, V(spare), V(dy), V(m->aux[i]), &s, NULL));
        break;
    }
    case ACL_AVGPOOL:
        break;
    case ACL_DROPOUT:
        if (l->p > 0) {
            struct dropout_shape s = acl_dropout_shape(l, n, seed, i, step);
            ACL_TRY(dropout_backward(c, V(dy), V(dy), &s, NULL));
        }
        break;
    case ACL_FC: {
        if (m->fc_gemm) {
            struct fc_shape s = acl_fc_shape(l, n);
            struct acl_view dx = need_dx ? V(spare) : (struct acl_view){NULL, 0};
            ACL_TRY(fc_backward(c, dx, param(m, m->grads, l->weight), param(m, m->grads, l->bias), V(dy), V(x),
                                param(m, m->params, l->weight), &s, NULL));
            break;
        }
        struct conv_shape s = acl_fc_conv_shape(l, n); /* as a 1x1 convolution, as in layer_forward */
        ACL_TRY(conv_backward_weights(c, param(m, m->grads, l->weight), param(m, m->grads, l->bias), V(dy), V(x),
                                      V(m->ws), m->ws_floats, CONV_ALGO_AUTO, &s, NULL));
        if (need_dx)
            ACL_TRY(conv_backward_data(c, V(spare), V(dy), param(m, m->params, l->weight), V(m->ws), m->ws_floats,
                                       CONV_ALGO_AUTO, &s, NULL));
        break;
    }
    }
cleanup:
    return st;
}

acl_status acl_model_backward(struct acl_model *m, uint64_t seed, uint64_t step)
{
    if (m->split)
        return acl_split_backward(m->split, seed, step);
    acl_status st = ACL_OK;
    const struct acl_net *net = m->net;
    if (!m->training)
        return acl_fail(ACL_ERR_ARGUMENT, "backward on a model created for inference");
    ACL_TRY(acl_fill_float(m->c, m->grads, 0, net->param_count, 0.0f));
    struct softmax_shape s = {m->n, net->classes};
    cl_mem dy = m->dact[0];
    ACL_TRY(softmax_backward(m->c, V(dy), V(m->probs), V(m->labels), &s, NULL));
    double t = 0;
    if (m->profile) {
        ACL_TRY(acl_finish(m->c));
        t = now_s();
    }
    for (int i = net->n_layers - 1; i >= 0; i--) {
        cl_mem spare = dy == m->dact[0] ? m->dact[1] : m->dact[0], dx = NULL;
        st = layer_backward(m, i, dy, spare, &dx, i > 0, seed, step);
        if (st == ACL_OK)
            st = profile_mark(m, net->n_layers + i, &t);
        if (st != ACL_OK)
            return acl_fail_context(st, "backward of layer %s (line %d)", net->layers[i].name, net->layers[i].line);
        dy = dx;
    }
cleanup:
    return st;
}

acl_status acl_model_update(struct acl_model *m, float lr, float momentum, float weight_decay)
{
    if (m->split)
        return acl_split_update(m->split, lr, momentum, weight_decay);
    struct sgd_params p = {lr, momentum, weight_decay};
    if (!m->training)
        return acl_fail(ACL_ERR_ARGUMENT, "update on a model created for inference");
    return sgd_update(m->c, V(m->params), V(m->momentum), V(m->grads), 0, m->net->param_count, &p, NULL);
}

acl_status acl_model_results(struct acl_model *m, float *loss, int *top1, int *top5)
{
    if (m->split)
        return acl_split_results(m->split, loss, top1, top5);
    acl_status st = ACL_OK;
    cl_int counts[2] = {0, 0};
    if (loss)
        ACL_TRY(acl_read(m->c, m->mean, 0, sizeof *loss, loss));
    ACL_TRY(acl_read(m->c, m->counts, 0, sizeof counts, counts));
    if (top1)
        *top1 = counts[0];
    if (top5)
        *top5 = counts[1];
cleanup:
    return st;
}

acl_status acl_model_read_logits(struct acl_model *m, float *logits)
{
    if (m->split)
        return acl_split_read_logits(m->split, logits);
    return acl_read(m->c, m->act[m->net->n_layers], 0, (size_t)m->n * m->net->classes * sizeof(float), logits);
}
