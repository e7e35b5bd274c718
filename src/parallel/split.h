/* split.h: a network placed on two devices (the paper's two-GPU layout, placement.h): each device holds its
 * channel share of every layer's activations and its slices of the parameters, gradients and momentum, runs
 * its part of the forward and backward passes and its own SGD update; the two exchange only the activations
 * and gradients the layout needs, ordered by events (migrate.h). acl_model (src/net/model.h) drives one of
 * these when it was created on a pair: callers see one model whatever the device count.
 *
 * Storage. On device d a layer's output is compact: the |out_d| channels it holds, N x |out_d| x H x W. A
 * layer that reads channels beyond those its device holds first assembles them (`ext`) into a buffer of its
 * own, from its device's part and the other's, by strided copies:
 * - a weight layer reads the input channels of the groups it computes: every channel for a layer with one
 *   group (conv3, fc6-fc8 in the paper: cross=1), only its device's for a cross=0 grouped conv (no copy);
 * - an LRN reads size-1 channels past each edge of its share (its window's reach, twice: the outputs of the
 *   size/2 channels next to the edge must themselves be exact, for the backward pass reads them), and
 *   normalizes the extended range, keeping its own channels.
 * Backward, a weight layer's input gradient over ext is a partial sum; each device adds the partials of
 * the channels it holds (its own and the other's). An LRN's backward assembles the output gradient over
 * ext the same way as its forward input.
 *
 * Results equal one device's up to the order of float sums (the split input gradients are added in another
 * order); dropout masks are drawn at each element's index in the whole layer (dropout.h), so they do not
 * depend on the split. */
#ifndef ACL_PARALLEL_SPLIT_H
#define ACL_PARALLEL_SPLIT_H

#include "net/net.h"
#include "parallel/migrate.h"
#include "parallel/pair.h"
#include "parallel/placement.h"

/* One layer on one device. */
struct split_part {
    struct acl_range in;   /* input channels the device holds (its compact part of the previous output) */
    struct acl_range out;  /* output channels it computes and holds */
    struct acl_range ext;  /* input channels the layer reads; equal to in when nothing is assembled */
    int groups;            /* weight layers: the groups of its share */
    cl_mem y;              /* N x |out| x OH x OW (the input's buffer for in-place layers) */
    cl_mem aux;            /* maxpool: argmax */
    cl_mem xin;            /* the input assembled over ext, or NULL (in == ext: the previous y serves) */
    cl_mem yext;           /* lrn: the output over ext, when ext != out */
    size_t w_off, b_off;   /* weight layers: the slices' offsets in the device's flat buffers */
    int direct_dx;         /* weight layers: the input gradient goes straight to the held channels */
};

struct split_dev {
    struct acl_ctx *c;
    int fc_gemm;           /* as model.c's fc_through_gemm, per device: a CPU and a GPU may differ */
    size_t param_count;
    cl_mem params, grads, momentum;
    cl_mem input;          /* the network input: both devices hold all of it */
    cl_mem dact[2];        /* gradients of held activations, ping-pong */
    cl_mem part;           /* a weight layer's partial input gradient over its ext */
    cl_mem recv;           /* the other device's partial, for the held channels */
    cl_mem dext[2];        /* lrn backward: output gradient and input gradient over ext */
    cl_mem ws;
    size_t ws_floats;
    size_t bytes, largest; /* planned device memory, and the largest buffer */
    cl_event *events;      /* with timing on: this step's commands, for the busy time */
    int n_events, cap_events;
};

/* A run of the flat parameter buffer that lives on one device. */
struct split_seg {
    size_t global, local, count;
    int dev;
};

struct acl_split {
    struct acl_pair *pair;
    const struct acl_net *net;
    struct acl_placement place;
    int batch, training, n;
    int first_weight;      /* layers before it are computed whole on both and need no backward */
    struct split_part *parts; /* n_layers x 2: parts[2 * i + d] */
    struct split_dev dev[2];
    struct split_seg *segs;
    int n_segs;
    cl_mem probs, loss, mean, labels, counts; /* on device 0, which holds the logits */
    int timing;
    double busy_s[2];      /* summed device time of the commands since the last stats read */
    cl_mem dy[2];          /* backward: each device's current output gradient */
};

/* Plans the layout for device 0's share `split`, checks each device's memory (refusing with the device's
 * name and what it lacks), allocates. Parameters start at zero. */
acl_status acl_split_create(struct acl_pair *pair, const struct acl_net *net, double split, int batch, int training,
                            struct acl_split **out);
void acl_split_destroy(struct acl_split *s);

/* The flat parameter (or momentum, gradient) buffer of the one-device layout, scattered to or gathered
 * from the devices' slices: checkpoints do not depend on the device count. which: 0 params, 1 momentum,
 * 2 gradients. */
acl_status acl_split_write_flat(struct acl_split *s, int which, const float *flat);
acl_status acl_split_read_flat(struct acl_split *s, int which, float *flat);

acl_status acl_split_input(struct acl_split *s, const float *images, const int *labels, int n);
acl_status acl_split_forward(struct acl_split *s, int training, uint64_t seed, uint64_t step);
acl_status acl_split_backward(struct acl_split *s, uint64_t seed, uint64_t step);
acl_status acl_split_update(struct acl_split *s, float lr, float momentum, float weight_decay);
acl_status acl_split_results(struct acl_split *s, float *loss, int *top1, int *top5);
acl_status acl_split_read_logits(struct acl_split *s, float *logits);

/* Per-step figures for -v: device time of each device's commands (with timing on) and the transfers. */
struct acl_split_stats {
    double busy_s[2];
    struct acl_migrate_stats moved;
};
/* Turns collecting the commands' events on (for busy times). */
void acl_split_timing(struct acl_split *s, int on);
/* Waits for both devices, then reports and resets the figures since the last call. */
acl_status acl_split_stats(struct acl_split *s, struct acl_split_stats *out);

/* A cl_event slot for a launch on device d when timing is on (NULL otherwise); split_pass.c's launches. */
cl_event *acl_split_event(struct acl_split *s, int d);

#endif
