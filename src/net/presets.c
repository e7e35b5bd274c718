/* presets.c: the built-in networks as descriptions (format in net.h), parameter initialization and the
 * memory plan. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "net/shapes.h"
#include "philox.h"
#include "runtime/error.h"

/* The 2012 network in the geometry of Caffe's bvlc_alexnet: 227 px input, groups of two where the paper's
 * two GPUs did not talk, LRN after conv1 and conv2. Caffe's LRN uses alpha 1e-4 with alpha/n and k = 1;
 * the paper states k = 2 and alpha = 1e-4 without /n: we keep the paper's k and alpha (see lrn.h). */
static const char paper[] =
    "input name=paper channels=3 size=227\n"
    "conv name=conv1 out=96 kernel=11 stride=4\n"
    "relu\n"
    "lrn size=5 alpha=1e-4 beta=0.75 k=2\n"
    "maxpool size=3 stride=2\n"
    "conv name=conv2 out=256 kernel=5 pad=2 groups=2 bias_init=1\n"
    "relu\n"
    "lrn size=5 alpha=1e-4 beta=0.75 k=2\n"
    "maxpool size=3 stride=2\n"
    "conv name=conv3 out=384 kernel=3 pad=1\n"
    "relu\n"
    "conv name=conv4 out=384 kernel=3 pad=1 groups=2 bias_init=1\n"
    "relu\n"
    "conv name=conv5 out=256 kernel=3 pad=1 groups=2 bias_init=1\n"
    "relu\n"
    "maxpool size=3 stride=2\n"
    "fc name=fc6 out=4096 bias_init=1\n"
    "relu\n"
    "dropout p=0.5\n"
    "fc name=fc7 out=4096 bias_init=1\n"
    "relu\n"
    "dropout p=0.5\n"
    "fc name=fc8 out=classes\n";

/* torchvision.models.alexnet: 224 px, 64-192-384-256-256, no LRN, no groups; tensor names as its
 * state_dict. Dropout comes before fc6 and fc7 there. */
static const char torchvision[] =
    "input name=torchvision channels=3 size=224\n"
    "conv name=conv1 tensors=features.0 out=64 kernel=11 stride=4 pad=2\n"
    "relu\n"
    "maxpool size=3 stride=2\n"
    "conv name=conv2 tensors=features.3 out=192 kernel=5 pad=2\n"
    "relu\n"
    "maxpool size=3 stride=2\n"
    "conv name=conv3 tensors=features.6 out=384 kernel=3 pad=1\n"
    "relu\n"
    "conv name=conv4 tensors=features.8 out=256 kernel=3 pad=1\n"
    "relu\n"
    "conv name=conv5 tensors=features.10 out=256 kernel=3 pad=1\n"
    "relu\n"
    "maxpool size=3 stride=2\n"
    "avgpool out=6\n"
    "dropout p=0.5\n"
    "fc name=fc6 tensors=classifier.1 out=4096\n"
    "relu\n"
    "dropout p=0.5\n"
    "fc name=fc7 tensors=classifier.4 out=4096\n"
    "relu\n"
    "fc name=fc8 tensors=classifier.6 out=classes\n";

/* Every layer kind of the paper, scaled down for 28x28 gray images (Fashion-MNIST): 28 -> 14 -> 7 -> 3. The
 * pools round up, as Caffe's do (ceil=1), so that pool5 keeps a 3x3 map (rounding down gave 2x2 and lost the
 * last row and column of conv5): 87-88% top-1 after 3 epochs instead of 85-86%, for 24% more arithmetic.
 * Channels per group are multiples of 16, the direct convolution kernels' block. */
static const char mini[] =
    "input name=mini channels=1 size=28\n"
    "conv name=conv1 out=32 kernel=5 pad=2\n"
    "relu\n"
    "lrn size=5 alpha=1e-4 beta=0.75 k=2\n"
    "maxpool size=3 stride=2 ceil=1\n"
    "conv name=conv2 out=64 kernel=5 pad=2 groups=2 bias_init=1\n"
    "relu\n"
    "lrn size=5 alpha=1e-4 beta=0.75 k=2\n"
    "maxpool size=3 stride=2 ceil=1\n"
    "conv name=conv3 out=96 kernel=3 pad=1\n"
    "relu\n"
    "conv name=conv4 out=96 kernel=3 pad=1 groups=2 bias_init=1\n"
    "relu\n"
    "conv name=conv5 out=64 kernel=3 pad=1 groups=2 bias_init=1\n"
    "relu\n"
    "maxpool size=3 stride=2 ceil=1\n"
    "fc name=fc6 out=256 bias_init=1\n"
    "relu\n"
    "dropout p=0.5\n"
    "fc name=fc7 out=256 bias_init=1\n"
    "relu\n"
    "dropout p=0.5\n"
    "fc name=fc8 out=classes\n";

const char *acl_net_preset_text(const char *name)
{
    if (!name)
        return NULL;
    if (!strcmp(name, "paper"))
        return paper;
    if (!strcmp(name, "torchvision"))
        return torchvision;
    if (!strcmp(name, "mini"))
        return mini;
    return NULL;
}

acl_status acl_net_preset(const char *name, int classes, struct acl_net **out)
{
    const char *text = acl_net_preset_text(name);
    *out = NULL;
    if (!text)
        return acl_fail(ACL_ERR_ARGUMENT, "unknown model preset \"%s\" (presets: paper, torchvision, mini)", name);
    char source[64];
    snprintf(source, sizeof source, "preset %s", name);
    acl_status st = acl_net_parse(text, source, classes, out);
    if (st == ACL_OK)
        snprintf((*out)->name, sizeof (*out)->name, "%s", name);
    return st;
}

/* A standard normal from two Philox uniforms (Box-Muller); u1 is moved off 0 so the log is finite. */
static double normal(uint64_t seed, uint64_t stream, uint64_t i)
{
    double u1 = acl_philox_uniform(seed, stream, 2 * i) + 0.5 / 16777216.0;
    double u2 = acl_philox_uniform(seed, stream, 2 * i + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void acl_net_init_params(const struct acl_net *net, float *params, enum acl_init init, uint64_t seed)
{
    for (int li = 0; li < net->n_layers; li++) {
        const struct acl_layer *l = &net->layers[li];
        if (l->weight < 0)
            continue;
        const struct acl_tensor_desc *w = &net->tensors[l->weight], *b = &net->tensors[l->bias];
        size_t fan_in = w->count / (size_t)w->dims[0];
        double sd = init == ACL_INIT_HE ? sqrt(2.0 / (double)fan_in) : 0.01;
        /* One generator stream per tensor: adding a layer does not change the others' weights. */
        for (size_t i = 0; i < w->count; i++)
            params[w->offset + i] = (float)(sd * normal(seed, 0x1000 + (uint64_t)l->weight, i));
        for (size_t i = 0; i < b->count; i++)
            params[b->offset + i] = init == ACL_INIT_HE ? 0.0f : l->bias_init;
    }
}

void acl_net_memory_plan(const struct acl_net *net, int batch, int training, struct acl_memory_plan *plan)
{
    const size_t f = sizeof(float), n = (size_t)batch;
    size_t largest_act = net->param_count * f, max_act = (size_t)net->in_c * net->in_h * net->in_w;
    memset(plan, 0, sizeof *plan);
    plan->params = net->param_count * f * (training ? 3 : 1);
    plan->activations = n * max_act * f; /* the input */
    size_t ws = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const struct acl_layer *l = &net->layers[i];
        size_t out = acl_layer_out_size(l);
        if (out > max_act)
            max_act = out;
        plan->activations += n * out * f;
        if (l->kind == ACL_MAXPOOL)
            plan->activations += n * out * f; /* argmax */
        if (l->kind == ACL_CONV || l->kind == ACL_FC) { /* model.c runs fully connected layers as convolutions */
            struct conv_shape s = l->kind == ACL_CONV ? acl_conv_shape(l, batch) : acl_fc_conv_shape(l, batch);
            size_t conv_ws = conv_workspace_floats_batch(&s, CONV_WORKSPACE_CAP) * f;
            if (conv_ws > ws)
                ws = conv_ws;
        }
    }
    if (n * max_act * f > largest_act)
        largest_act = n * max_act * f;
    /* Two activation-gradient buffers (ping-pong), the convolutions' workspace (as model.c sizes it),
     * probabilities and loss. */
    plan->workspace = (training ? 2 * n * max_act * f : 0) + ws + 2 * n * (size_t)net->classes * f + 64;
    plan->total = plan->params + plan->activations + plan->workspace;
    plan->largest = largest_act > ws ? largest_act : ws;
}
