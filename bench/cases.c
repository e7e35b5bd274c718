/* cases.c: the GEMM peak, the SGEMM and ReLU cases at the network's layer shapes, the helpers the cases share. */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/gemm.h"
#include "ops/sgemm.h"
#include "ops/relu.h"
#include "runtime/error.h"

acl_status bench_buf(struct acl_ctx *c, struct bench_bufs *b, size_t n, cl_mem *out)
{
    if (b->n == (int)(sizeof b->m / sizeof b->m[0]))
        return acl_fail(ACL_ERR_ARGUMENT, "bench case uses too many buffers");
    float *host = malloc(n * sizeof *host);
    if (!host)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory (%zu floats)", n);
    uint64_t seed = 42 + (uint64_t)b->n;
    acl_rand_fill(&seed, host, n, -1, 1);
    acl_status st = acl_check_input(c, host, n, &b->m[b->n]);
    free(host);
    if (st == ACL_OK)
        *out = b->m[b->n++];
    return st;
}

void bench_bufs_free(struct bench_bufs *b) { acl_release_mems(b->m, b->n); b->n = 0; }

/* ---- GEMM ---------------------------------------------------------------------------------- */

struct gemm_arg {
    struct acl_gemm g;
    cl_mem a, b, c;
};

static acl_status enqueue_gemm(struct acl_ctx *c, void *arg)
{
    struct gemm_arg *a = arg;
    return acl_gemm(c, &a->g, (struct acl_view){a->a, 0}, (struct acl_view){a->b, 0}, (struct acl_view){a->c, 0},
                    NULL);
}

acl_status bench_gemm_peak(struct acl_ctx *c, double *gflops)
{
    enum { S = 2048 };
    struct bench_bufs b = {0};
    struct gemm_arg a = {.g = {0, 0, S, S, S, S, S, S, 1.0f, 0.0f}};
    acl_status st = ACL_OK;
    ACL_TRY(bench_buf(c, &b, (size_t)S * S, &a.a));
    ACL_TRY(bench_buf(c, &b, (size_t)S * S, &a.b));
    ACL_TRY(bench_buf(c, &b, (size_t)S * S, &a.c));
    struct bench_item item = {"sgemm", "2048^3", 2.0 * S * S * S, 3.0 * 4 * S * S, enqueue_gemm, &a, 0};
    struct bench_result res;
    ACL_TRY(bench_time(c, &item, 1, 3, &res));
    *gflops = res.gflops;
cleanup:
    bench_bufs_free(&b);
    return st;
}

/* The own SGEMM (cl/sgemm.cl) alone, on the three products of each fully connected layer, whatever device. */
static acl_status enqueue_sgemm(struct acl_ctx *c, void *arg)
{
    struct gemm_arg *a = arg;
    return acl_sgemm(c, &a->g, (struct acl_view){a->a, 0}, (struct acl_view){a->b, 0}, (struct acl_view){a->c, 0},
                     NULL);
}

static acl_status case_sgemm(struct acl_ctx *c, struct bench_report *r)
{
    const size_t n = (size_t)r->batch;
    acl_status st = ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_FC || bench_layer_repeats(r->net, l))
            continue;
        const size_t in = acl_layer_in_size(layer), out = (size_t)layer->out_c;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        /* forward y = x W^T, backward data dx = dy W, backward weights dW += dy^T x (fc.c) */
        const struct { const char *what; struct acl_gemm g; } products[] = {
            {"forward", {0, 1, n, out, in, in, in, out, 1.0f, 0.0f}},
            {"data", {0, 0, n, in, out, out, in, in, 1.0f, 0.0f}},
            {"weights", {1, 0, out, in, n, out, in, in, 1.0f, 1.0f}},
        };
        for (size_t p = 0; p < sizeof products / sizeof products[0]; p++) {
            struct bench_bufs b = {0};
            struct gemm_arg a = {.g = products[p].g};
            const struct acl_gemm *g = &a.g;
            double fa = (double)g->m * g->k, fb = (double)g->k * g->n, fc = (double)g->m * g->n;
            struct bench_item item = {"", "", 2.0 * g->m * g->n * g->k, 4 * (fa + fb + (g->beta != 0 ? 2 : 1) * fc),
                                      enqueue_sgemm, &a, 0};
            snprintf(item.kernel, sizeof item.kernel, "sgemm.%c%c", g->trans_a ? 't' : 'n', g->trans_b ? 't' : 'n');
            if (!report_wants(r, item.kernel))
                continue;
            snprintf(item.shape, sizeof item.shape, "%s %s m%zu n%zu k%zu", label, products[p].what, g->m, g->n,
                     g->k);
            ACL_TRY(bench_buf(c, &b, (size_t)fa, &a.a));
            ACL_TRY(bench_buf(c, &b, (size_t)fb, &a.b));
            ACL_TRY(bench_buf(c, &b, (size_t)fc, &a.c));
            double host = r->host_gflops > 0 ? bench_host_sgemm_at(r->host_threads, g->trans_a, g->trans_b, (int)g->m,
                                                                   (int)g->n, (int)g->k, g->beta)
                                              : 0;
            st = report_time_host(c, r, &item, host);
        cleanup:
            bench_bufs_free(&b);
            if (st != ACL_OK)
                return st;
        }
    }
    return st;
}

/* ---- ReLU ---------------------------------------------------------------------------------- */

struct relu_arg {
    cl_mem x, y, dy;
    size_t n;
    int backward;
};

static acl_status enqueue_relu(struct acl_ctx *c, void *arg)
{
    struct relu_arg *a = arg;
    struct acl_view x = {a->x, 0}, y = {a->y, 0}, dy = {a->dy, 0};
    /* backward: x stands for the forward's output and y receives dx, three distinct buffers as in training (dy
     * and the output as one buffer would be read once for two and show 12 bytes an element where 8 moved) */
    return a->backward ? relu_backward(c, y, dy, x, a->n, NULL) : relu_forward(c, y, x, a->n, NULL);
}

static acl_status case_relu(struct acl_ctx *c, struct bench_report *r)
{
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "relu."))
        return ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_RELU || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct relu_arg a = {.n = acl_layer_in_size(layer) * (size_t)r->batch};
        ACL_TRY(bench_buf(c, &b, a.n, &a.x));
        ACL_TRY(bench_buf(c, &b, a.n, &a.y));
        ACL_TRY(bench_buf(c, &b, a.n, &a.dy));
        for (a.backward = 0; a.backward < 2; a.backward++) {
            struct bench_item item = {"", "", (double)a.n, (a.backward ? 12.0 : 8.0) * (double)a.n, enqueue_relu, &a,
                                      0};
            snprintf(item.kernel, sizeof item.kernel, "relu.%s", a.backward ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d n=%zu", label, r->batch, a.n);
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}

/* ---- the network's layers --------------------------------------------------------------------------- */

static int same_layer(const struct acl_layer *a, const struct acl_layer *b)
{
    return a->kind == b->kind && a->in_c == b->in_c && a->in_h == b->in_h && a->in_w == b->in_w &&
           a->out_c == b->out_c && a->out_h == b->out_h && a->out_w == b->out_w && a->kernel == b->kernel &&
           a->stride == b->stride && a->pad == b->pad && a->groups == b->groups && a->ceil_mode == b->ceil_mode &&
           a->size == b->size && a->alpha == b->alpha && a->beta == b->beta && a->k == b->k && a->p == b->p;
}

int bench_layer_repeats(const struct acl_net *net, int i)
{
    for (int j = 0; j < i; j++)
        if (same_layer(&net->layers[j], &net->layers[i]))
            return 1;
    return 0;
}

void bench_layer_label(const struct acl_net *net, int i, char *buf, size_t size)
{
    const struct acl_layer *l = &net->layers[i];
    char dflt[48];
    snprintf(dflt, sizeof dflt, "%s%d", acl_layer_kind_name(l->kind), i);
    int prev = i - 1;
    while (prev >= 0 && net->layers[prev].kind != ACL_CONV && net->layers[prev].kind != ACL_FC)
        prev--;
    int times = 1;
    for (int j = i + 1; j < net->n_layers; j++)
        times += same_layer(&net->layers[j], l);
    char repeat[16] = "";
    if (times > 1)
        snprintf(repeat, sizeof repeat, " x%d", times);
    /* a layer the description did not name is labelled by the conv or fc layer before it */
    if (strcmp(l->name, dflt) || prev < 0)
        snprintf(buf, size, "%s%s", l->name, repeat);
    else
        snprintf(buf, size, "%s.%s%s", net->layers[prev].name, acl_layer_kind_name(l->kind), repeat);
}

const struct bench_case bench_cases[] = {
    {"conv", bench_case_conv},
    {"relu", case_relu},
    {"lrn", bench_case_lrn},
    {"maxpool", bench_case_maxpool},
    {"fc", bench_case_fc},
    {"sgemm", case_sgemm},
    {"dropout", bench_case_dropout},
    {"softmax", bench_case_softmax},
    {"sgd", bench_case_sgd},
    {"model", bench_case_model},
    {NULL, NULL},
};
