/* case_loss.c: bench cases for the network's dropout layers, softmax cross-entropy and top-k accuracy on its
 * logits. */
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"
#include "net/shapes.h"
#include "ops/accuracy.h"
#include "ops/dropout.h"
#include "ops/softmax.h"
#include "runtime/error.h"

#define V(m) ((struct acl_view){(m), 0})

struct drop_arg {
    struct dropout_shape s;
    cl_mem x, y;
    int backward;
};

static acl_status enqueue_dropout(struct acl_ctx *c, void *arg)
{
    struct drop_arg *a = arg;
    return a->backward ? dropout_backward(c, V(a->y), V(a->x), &a->s, NULL)
                       : dropout_forward(c, V(a->y), V(a->x), &a->s, NULL);
}

acl_status bench_case_dropout(struct acl_ctx *c, struct bench_report *r)
{
    acl_status st = ACL_OK;
    if (!report_wants_kind(r, "dropout."))
        return ACL_OK;
    for (int l = 0; l < r->net->n_layers; l++) {
        const struct acl_layer *layer = &r->net->layers[l];
        if (layer->kind != ACL_DROPOUT || bench_layer_repeats(r->net, l))
            continue;
        char label[48];
        bench_layer_label(r->net, l, label, sizeof label);
        struct bench_bufs b = {0};
        struct drop_arg a = {.s = acl_dropout_shape(layer, r->batch, 1234, l, 7)};
        double n = (double)r->batch * acl_layer_in_size(layer);
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.x));
        ACL_TRY(bench_buf(c, &b, (size_t)n, &a.y));
        for (a.backward = 0; a.backward < 2; a.backward++) {
            /* A Philox4x32-10 block (10 rounds of 2 multiplies and 4 xors/adds, counted as 60 ops) for every
             * 128 / b elements at b bits a draw, then a compare and a multiply an element */
            double b_bits = (double)(1u << dropout_draw_bits(layer->p).lb);
            struct bench_item item = {"", "", (60 * b_bits / 128 + 2) * n, 8 * n, enqueue_dropout, &a, 0};
            snprintf(item.kernel, sizeof item.kernel, "dropout.%s", a.backward ? "backward" : "forward");
            snprintf(item.shape, sizeof item.shape, "%s N%d %zu p%g", label, r->batch, acl_layer_in_size(layer),
                     (double)layer->p);
            ACL_TRY(report_time(c, r, &item));
        }
    cleanup:
        bench_bufs_free(&b);
        if (st != ACL_OK)
            return st;
    }
    return st;
}

struct loss_arg {
    int n, k, which; /* 0 softmax forward (with the mean), 1 backward, 2 accuracy */
    cl_mem logits, labels, probs, loss, mean, counts;
};

static acl_status enqueue_loss(struct acl_ctx *c, void *arg)
{
    struct loss_arg *a = arg;
    struct softmax_shape s = {a->n, a->k};
    struct accuracy_shape as = {a->n, a->k};
    if (a->which == 0)
        return softmax_forward(c, V(a->probs), V(a->loss), V(a->mean), V(a->logits), V(a->labels), &s, NULL);
    if (a->which == 1)
        return softmax_backward(c, V(a->probs), V(a->probs), V(a->labels), &s, NULL);
    return accuracy_count(c, V(a->counts), V(a->logits), V(a->labels), &as, NULL);
}

acl_status bench_case_softmax(struct acl_ctx *c, struct bench_report *r)
{
    struct bench_bufs b = {0};
    struct loss_arg a = {.n = r->batch, .k = r->net->classes};
    if (!report_wants_kind(r, "softmax.") && !report_wants_kind(r, "accuracy."))
        return ACL_OK;
    double nk = (double)a.n * a.k;
    acl_status st = ACL_OK;
    int *labels = malloc((size_t)a.n * sizeof *labels);
    if (!labels)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < a.n; i++)
        labels[i] = (i * 37) % a.k;
    ACL_TRY(bench_buf(c, &b, (size_t)nk, &a.logits));
    ACL_TRY(bench_buf(c, &b, (size_t)nk, &a.probs));
    ACL_TRY(bench_buf(c, &b, (size_t)a.n, &a.loss));
    ACL_TRY(bench_buf(c, &b, 1, &a.mean));
    ACL_TRY(bench_buf(c, &b, 2, &a.counts));
    ACL_TRY(bench_buf(c, &b, (size_t)a.n, &a.labels));
    ACL_TRY(acl_write(c, a.labels, 0, (size_t)a.n * sizeof *labels, labels));
    static const char *names[] = {"softmax.forward", "softmax.backward", "accuracy.top1_top5"};
    static const double flops[] = {4, 2, 1}, bytes[] = {8, 8, 4};
    for (a.which = 0; a.which < 3; a.which++) {
        struct bench_item item = {"", "", flops[a.which] * nk, bytes[a.which] * nk, enqueue_loss, &a, 0};
        snprintf(item.kernel, sizeof item.kernel, "%s", names[a.which]);
        snprintf(item.shape, sizeof item.shape, "logits N%d K%d", a.n, a.k);
        ACL_TRY(report_time(c, r, &item));
    }
cleanup:
    free(labels);
    bench_bufs_free(&b);
    return st;
}
