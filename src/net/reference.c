/* reference.c: the whole network on the host in double (see reference.h). */
#include "net/reference.h"

#include <stdlib.h>
#include <string.h>

#include "net/shapes.h"
#include "ops/accuracy.h"
#include "ops/relu.h"
#include "ops/softmax.h"
#include "runtime/error.h"

struct ref_buffers {
    double **act;  /* n_layers + 1 */
    int **argmax;  /* pooling */
};

static void free_buffers(const struct acl_net *net, struct ref_buffers *b)
{
    for (int i = 0; b->act && i <= net->n_layers; i++)
        free(b->act[i]);
    for (int i = 0; b->argmax && i < net->n_layers; i++)
        free(b->argmax[i]);
    free(b->act);
    free(b->argmax);
}

static void layer_forward(const struct acl_net *net, int i, const double *params, struct ref_buffers *b, int n,
                          int training, uint64_t seed, uint64_t step)
{
    const struct acl_layer *l = &net->layers[i];
    const double *x = b->act[i];
    double *y = b->act[i + 1];
    size_t count = (size_t)n * acl_layer_out_size(l);
    switch (l->kind) {
    case ACL_CONV: {
        struct conv_shape s = acl_conv_shape(l, n);
        conv_forward_ref(y, x, params + net->tensors[l->weight].offset, params + net->tensors[l->bias].offset, &s);
        break;
    }
    case ACL_RELU:
        relu_forward_ref(y, x, count);
        break;
    case ACL_LRN: {
        struct lrn_shape s = acl_lrn_shape(l, n);
        lrn_forward_ref(y, NULL, x, &s);
        break;
    }
    case ACL_MAXPOOL: {
        struct pool_shape s = acl_pool_shape(l, n);
        maxpool_forward_ref(y, b->argmax[i], x, &s);
        break;
    }
    case ACL_AVGPOOL:
        memcpy(y, x, count * sizeof *y);
        break;
    case ACL_DROPOUT:
        if (training && l->p > 0) {
            struct dropout_shape s = acl_dropout_shape(l, n, seed, i, step);
            dropout_forward_ref(y, x, &s);
        } else {
            memcpy(y, x, count * sizeof *y);
        }
        break;
    case ACL_FC: {
        struct fc_shape s = acl_fc_shape(l, n);
        fc_forward_ref(y, x, params + net->tensors[l->weight].offset, params + net->tensors[l->bias].offset, &s);
        break;
    }
    }
}

static void layer_backward(const struct acl_net *net, int i, const double *params, double *grads,
                           struct ref_buffers *b, const double *dy, double *dx, int n, int training, uint64_t seed,
                           uint64_t step)
{
    const struct acl_layer *l = &net->layers[i];
    const double *x = b->act[i], *y = b->act[i + 1];
    size_t count = (size_t)n * acl_layer_out_size(l);
    switch (l->kind) {
    case ACL_CONV: {
        struct conv_shape s = acl_conv_shape(l, n);
        conv_backward_weights_ref(grads + net->tensors[l->weight].offset, grads + net->tensors[l->bias].offset, dy, x,
                                  &s);
        conv_backward_data_ref(dx, dy, params + net->tensors[l->weight].offset, &s);
        break;
    }
    case ACL_RELU:
        relu_backward_ref(dx, dy, y, count);
        break;
    case ACL_LRN: {
        struct lrn_shape s = acl_lrn_shape(l, n);
        lrn_backward_ref(dx, dy, x, &s);
        break;
    }
    case ACL_MAXPOOL: {
        struct pool_shape s = acl_pool_shape(l, n);
        maxpool_backward_ref(dx, dy, b->argmax[i], &s);
        break;
    }
    case ACL_AVGPOOL:
        memcpy(dx, dy, count * sizeof *dx);
        break;
    case ACL_DROPOUT:
        if (training && l->p > 0) {
            struct dropout_shape s = acl_dropout_shape(l, n, seed, i, step);
            dropout_backward_ref(dx, dy, &s);
        } else {
            memcpy(dx, dy, count * sizeof *dx);
        }
        break;
    case ACL_FC: {
        struct fc_shape s = acl_fc_shape(l, n);
        fc_backward_ref(dx, grads + net->tensors[l->weight].offset, grads + net->tensors[l->bias].offset, dy, x,
                        params + net->tensors[l->weight].offset, &s);
        break;
    }
    }
}

acl_status acl_net_ref_run(const struct acl_net *net, const double *params, const double *images, const int *labels,
                           int n, int training, uint64_t seed, uint64_t step, struct acl_net_ref_result *res)
{
    acl_status st = ACL_OK;
    struct ref_buffers b = {0};
    double *probs = NULL, *loss = NULL, *dy = NULL, *dx = NULL;
    size_t in_size = (size_t)net->in_c * net->in_h * net->in_w, max_act = in_size;
    b.act = calloc((size_t)net->n_layers + 1, sizeof *b.act);
    b.argmax = calloc((size_t)net->n_layers, sizeof *b.argmax);
    int ok = b.act && b.argmax && (b.act[0] = malloc((size_t)n * in_size * sizeof(double)));
    for (int i = 0; ok && i < net->n_layers; i++) {
        size_t out = acl_layer_out_size(&net->layers[i]);
        max_act = out > max_act ? out : max_act;
        ok = (b.act[i + 1] = malloc((size_t)n * out * sizeof(double))) != NULL;
        if (ok && net->layers[i].kind == ACL_MAXPOOL)
            ok = (b.argmax[i] = malloc((size_t)n * out * sizeof(int))) != NULL;
    }
    size_t nk = (size_t)n * net->classes;
    ok = ok && (probs = malloc(nk * sizeof *probs)) && (loss = malloc((size_t)n * sizeof *loss)) &&
         (dy = malloc((size_t)n * max_act * sizeof *dy)) && (dx = malloc((size_t)n * max_act * sizeof *dx));
    if (!ok) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory for the reference network");
        goto cleanup;
    }
    memcpy(b.act[0], images, (size_t)n * in_size * sizeof(double));
    for (int i = 0; i < net->n_layers; i++)
        layer_forward(net, i, params, &b, n, training, seed, step);
    const double *logits = b.act[net->n_layers];
    memcpy(res->logits, logits, nk * sizeof *logits);
    struct softmax_shape s = {n, net->classes};
    struct accuracy_shape as = {n, net->classes};
    softmax_forward_ref(probs, loss, logits, labels, &s);
    res->loss = softmax_mean_loss_ref(loss, n);
    int counts[2];
    accuracy_ref(counts, logits, labels, &as);
    res->top1 = counts[0];
    res->top5 = counts[1];
    if (res->grads) {
        memset(res->grads, 0, net->param_count * sizeof *res->grads);
        softmax_backward_ref(dy, probs, labels, &s);
        for (int i = net->n_layers - 1; i >= 0; i--) {
            layer_backward(net, i, params, res->grads, &b, dy, dx, n, training, seed, step);
            double *t = dy;
            dy = dx;
            dx = t;
        }
    }
cleanup:
    free_buffers(net, &b);
    free(probs);
    free(loss);
    free(dy);
    free(dx);
    return st;
}
