/* net.h: a network as a sequence of layers with their geometry, and the table of its parameter tensors in
 * one flat buffer. Built from a plain-text description (netdesc.c); the presets are such descriptions.
 *
 * The description format, one layer per line (blank lines and # comments ignored):
 *   input channels=3 height=227 width=227          (first line; `size=227` sets height and width)
 *   conv name=conv1 out=96 kernel=11 stride=4 pad=0 groups=1 bias_init=0 tensors=features.0
 *   relu
 *   lrn size=5 alpha=1e-4 beta=0.75 k=2             (alpha is divided by size, as Caffe and PyTorch)
 *   maxpool size=3 stride=2 pad=0 ceil=0
 *   avgpool out=6                                   (adaptive average pool to out x out)
 *   dropout p=0.5
 *   fc name=fc6 out=4096 bias_init=1                (out=classes: one output per class)
 * `name` names the layer (default: kind and index); `tensors` is the prefix of its parameter tensors
 * (default: the name), so the weight is "<tensors>.weight" and the bias "<tensors>.bias". `bias_init` is the
 * bias value of the paper's initialization (weights N(0, 0.01)). `cross=0|1` (conv, fc) says whether, split
 * across two devices (src/parallel/placement.h), the layer reads the input channels of both devices (1) or
 * only its own device's (0, only for a grouped conv); default: grouped convs 0, the rest 1. An unknown kind
 * or key, a bad value or a layer that does not fit its input is an error naming the line. */
#ifndef ACL_NET_NET_H
#define ACL_NET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "alexnet_cl.h"

enum acl_layer_kind { ACL_CONV, ACL_RELU, ACL_LRN, ACL_MAXPOOL, ACL_AVGPOOL, ACL_DROPOUT, ACL_FC };

#define ACL_MAX_DIMS 4

struct acl_tensor_desc {
    char name[80];      /* "conv1.weight", "features.0.bias" */
    int ndim;
    int dims[ACL_MAX_DIMS];
    size_t offset;      /* in floats, in the flat parameter buffer */
    size_t count;
};

struct acl_layer {
    enum acl_layer_kind kind;
    char name[32];
    int line;                       /* in the description */
    int in_c, in_h, in_w;           /* input (per image) */
    int out_c, out_h, out_w;        /* output (per image) */
    int kernel, stride, pad, groups, ceil_mode; /* conv, maxpool */
    int size;                       /* lrn window */
    float alpha, beta, k;           /* lrn */
    float p;                        /* dropout */
    float bias_init;                /* conv, fc: the paper's bias value */
    int cross;                      /* conv, fc: on two devices, reads both devices' channels (0 for others) */
    int weight, bias;               /* tensor indices, -1 when the layer has none */
};

struct acl_net {
    char name[64];
    int in_c, in_h, in_w;
    int classes;
    int n_layers;
    struct acl_layer *layers;
    int n_tensors;
    struct acl_tensor_desc *tensors;
    size_t param_count;             /* floats in the flat parameter buffer */
};

static inline size_t acl_layer_in_size(const struct acl_layer *l) { return (size_t)l->in_c * l->in_h * l->in_w; }
static inline size_t acl_layer_out_size(const struct acl_layer *l) { return (size_t)l->out_c * l->out_h * l->out_w; }

/* Parses a description; source names it in messages (a file path or "preset mini"). classes fills
 * `out=classes`. */
acl_status acl_net_parse(const char *text, const char *source, int classes, struct acl_net **out);
/* "paper", "torchvision" or "mini". */
acl_status acl_net_preset(const char *name, int classes, struct acl_net **out);
/* The description text of a preset, or NULL. */
const char *acl_net_preset_text(const char *name);
/* A preset name or a path to a description file. */
acl_status acl_net_load(const char *model, int classes, struct acl_net **out);
void acl_net_free(struct acl_net *net);
const char *acl_layer_kind_name(enum acl_layer_kind kind);

/* The paper's initialization (weights N(0, 0.01), biases bias_init) or He's (weights N(0, 2/fan_in),
 * biases 0), drawn from Philox with the seed: the same seed gives the same weights on any machine. */
enum acl_init { ACL_INIT_PAPER, ACL_INIT_HE };
void acl_net_init_params(const struct acl_net *net, float *params, enum acl_init init, uint64_t seed);

/* Bytes a batch needs on the device. */
struct acl_memory_plan {
    size_t params;        /* parameters, gradients and momentum */
    size_t activations;   /* every layer's output, LRN scales, pooling indices */
    size_t workspace;     /* activation gradients, convolution workspace, loss */
    size_t total;
    size_t largest;       /* the largest single buffer */
};
void acl_net_memory_plan(const struct acl_net *net, int batch, int training, struct acl_memory_plan *plan);

#endif
