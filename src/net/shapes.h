/* shapes.h: a layer's op shape at a batch size: the one place that maps net layers to op shapes, for the
 * device model and the host reference alike. */
#ifndef ACL_NET_SHAPES_H
#define ACL_NET_SHAPES_H

#include "net/net.h"
#include "ops/conv.h"
#include "ops/dropout.h"
#include "ops/fc.h"
#include "ops/lrn.h"
#include "ops/maxpool.h"

static inline int acl_layer_in_place(const struct acl_layer *l)
{
    return l->kind == ACL_RELU || l->kind == ACL_DROPOUT || l->kind == ACL_AVGPOOL;
}

static inline struct conv_shape acl_conv_shape(const struct acl_layer *l, int n)
{
    return (struct conv_shape){n, l->in_c, l->in_h, l->in_w, l->out_c, l->kernel, l->kernel, l->stride, l->pad,
                               l->groups};
}

static inline struct pool_shape acl_pool_shape(const struct acl_layer *l, int n)
{
    return (struct pool_shape){n, l->in_c, l->in_h, l->in_w, l->kernel, l->stride, l->pad, l->ceil_mode};
}

static inline struct lrn_shape acl_lrn_shape(const struct acl_layer *l, int n)
{
    return (struct lrn_shape){n, l->in_c, l->in_h, l->in_w, l->size, l->alpha, l->beta, l->k};
}

static inline struct fc_shape acl_fc_shape(const struct acl_layer *l, int n)
{
    return (struct fc_shape){n, (int)acl_layer_in_size(l), l->out_c};
}

/* A fully connected layer as the 1x1 convolution of a 1x1 image that it is: weight (OUT, IN) is (K, C, 1, 1),
 * input (N, IN) is (N, C, 1, 1). The device model runs it so (see model.c). */
static inline struct conv_shape acl_fc_conv_shape(const struct acl_layer *l, int n)
{
    return (struct conv_shape){n, (int)acl_layer_in_size(l), 1, 1, l->out_c, 1, 1, 1, 0, 1};
}

/* The seed a dropout layer draws with, from the run's seed and the layer's index. */
static inline uint64_t acl_dropout_seed(uint64_t seed, int layer)
{
    return seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(layer + 1));
}

static inline struct dropout_shape acl_dropout_shape(const struct acl_layer *l, int n, uint64_t seed, int layer,
                                                     uint64_t step)
{
    int cols = (int)acl_layer_out_size(l);
    return (struct dropout_shape){n, cols, cols, 0, l->p, acl_dropout_seed(seed, layer), step};
}

#endif
