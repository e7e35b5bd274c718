/* cases.c: the bench cases at the paper's AlexNet shapes (Caffe bvlc_alexnet geometry). */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>

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
    struct bench_item item = {"sgemm", "2048^3", 2.0 * S * S * S, 3.0 * 4 * S * S, enqueue_gemm, &a};
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
    static const struct { const char *layer; size_t in, out; } layers[] = {
        {"fc6", 9216, 4096}, {"fc7", 4096, 4096}, {"fc8", 4096, 1000}};
    const size_t n = (size_t)r->batch;
    acl_status st = ACL_OK;
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        const size_t in = layers[l].in, out = layers[l].out;
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
            ACL_TRY(bench_buf(c, &b, (size_t)fa, &a.a));
            ACL_TRY(bench_buf(c, &b, (size_t)fb, &a.b));
            ACL_TRY(bench_buf(c, &b, (size_t)fc, &a.c));
            struct bench_item item = {"", "", 2.0 * g->m * g->n * g->k, 4 * (fa + fb + (g->beta != 0 ? 2 : 1) * fc),
                                      enqueue_sgemm, &a};
            snprintf(item.kernel, sizeof item.kernel, "sgemm.%c%c", g->trans_a ? 't' : 'n', g->trans_b ? 't' : 'n');
            snprintf(item.shape, sizeof item.shape, "%s %s m%zu n%zu k%zu", layers[l].layer, products[p].what, g->m,
                     g->n, g->k);
            st = report_time(c, r, &item);
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
    static const struct { const char *layer; size_t chw; } layers[] = {
        {"conv1", 96 * 55 * 55}, {"conv2", 256 * 27 * 27}, {"conv3", 384 * 13 * 13}, {"fc6", 4096},
    };
    acl_status st = ACL_OK;
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
        for (int bw = 0; bw < 2; bw++) {
            struct bench_bufs b = {0};
            struct relu_arg a = {.n = layers[l].chw * (size_t)r->batch, .backward = bw};
            ACL_TRY(bench_buf(c, &b, a.n, &a.x));
            ACL_TRY(bench_buf(c, &b, a.n, &a.y));
            ACL_TRY(bench_buf(c, &b, a.n, &a.dy));
            struct bench_item item = {"", "", (double)a.n, (bw ? 12.0 : 8.0) * (double)a.n, enqueue_relu, &a};
            snprintf(item.kernel, sizeof item.kernel, "relu.%s", bw ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d n=%zu", layers[l].layer, r->batch, a.n);
            st = report_time(c, r, &item);
        cleanup:
            bench_bufs_free(&b);
            if (st != ACL_OK)
                return st;
        }
    return st;
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
