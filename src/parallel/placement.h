/* placement.h: which output channels of every layer each of two devices holds, and the transfers between
 * the devices that a forward and a backward pass need (the paper's two-GPU layout, for any net).
 *
 * The layout. Every conv and fc layer (a "weight layer") is split: device 0 holds output channels (conv
 * kernels, fc neurons) [0, s), device 1 [s, out_c). relu, lrn, maxpool, avgpool and dropout follow their
 * input's split; layers before the first weight layer read the network input, which both devices hold, and
 * are computed whole on both ("replicated"). A weight layer with cross=1 (net.h) reads every input channel,
 * so each device first receives the other's part of the input; a grouped conv with cross=0 reads only its
 * own device's channels, so it needs none (paper: conv2, conv4, conv5 cross=0; conv3, fc6, fc7, fc8 cross=1).
 *
 * The last layer (fc out=classes) is held whole on device 0, where the loss is computed: its output is a
 * few logits per image and its input is gathered anyway, so splitting it would add a logits gather and a
 * gradient scatter to save a small share of the arithmetic. Device 1's range there is empty.
 *
 * Rounding of the split fraction f (device 0's share):
 * - a grouped conv with cross=0 and G groups gives device 0 round(f*G) groups, at least 1 and at most G-1:
 *   a group must sit on one device for it to read only its own channels. With the paper's two groups that
 *   is one group each whatever f is; mark such a layer cross=1 for it to follow f.
 * - the weight layer feeding such a conv (through relu/lrn/pool/dropout) is split where that conv's input
 *   groups split, whatever f says; if that layer is itself a cross=0 grouped conv whose own groups put the
 *   split elsewhere, the layout is impossible and planning fails naming both layers.
 * - every other weight layer: s = round(f*out_c / 4) * 4 (the kernels' vector width), at least 4 and at
 *   most out_c - 4; a layer narrower than 8 channels rounds to whole channels, and a layer with one output
 *   channel cannot be split (an error). A grouped conv with cross=1 may thus split inside a group: the
 *   device holding part of a group runs that group's kernels on the channels it holds.
 *
 * LRN across channels: output channel c reads size/2 channels before it and (size-1)/2 after (lrn.h), so at
 * the split each device needs a few channels of the other's side (a halo). Each device receives the size - 1
 * input channels next to the split (forward) and the size - 1 output-gradient channels (backward): twice
 * the window's reach, so that the outputs and scales of the channels its backward window reads are exact
 * on its own side (src/parallel/split.h); each keeps the normalization of its own channels only.
 */
#ifndef ACL_PARALLEL_PLACEMENT_H
#define ACL_PARALLEL_PLACEMENT_H

#include <stddef.h>

#include "alexnet_cl.h"
#include "net/net.h"

#define ACL_CHANNEL_ALIGN 4

/* Channels [begin, end); empty when begin == end. */
struct acl_range {
    int begin, end;
};

static inline int acl_range_size(struct acl_range r) { return r.end - r.begin; }

struct acl_layer_place {
    struct acl_range dev[2];  /* output channels each device computes and holds */
    int cross;                /* weight layers: reads both devices' input channels (net.h's cross) */
    int replicated;           /* before the first weight layer: both devices compute every channel */
};

struct acl_placement {
    double split;             /* the f it was planned for */
    int n_layers;
    struct acl_layer_place *layers; /* one per net layer */
};

/* Plans the layout for device 0's share f in (0, 1); fails naming the layer when a layer cannot be split. */
acl_status acl_placement_plan(const struct acl_net *net, double split, struct acl_placement *out);
void acl_placement_free(struct acl_placement *p);

enum acl_pass { ACL_PASS_FORWARD, ACL_PASS_BACKWARD };

enum acl_xfer_kind {
    ACL_XFER_INPUT,        /* forward: the other device's input channels of a cross=1 layer */
    ACL_XFER_INPUT_GRAD,   /* backward: the partial input gradient of the other device's channels, to add */
    ACL_XFER_LRN_HALO,     /* forward: the input channels next to the split that the other's window reads */
    ACL_XFER_LRN_HALO_GRAD /* backward: the same channels of the output gradient */
};

/* One copy between devices. The tensor is the input of `layer` (the output of layer - 1), a channel range of
 * it, every image of the batch; bytes_per_image = channels x height x width x 4. */
struct acl_transfer {
    enum acl_pass pass;
    enum acl_xfer_kind kind;
    int layer;
    int from, to;             /* device 0 or 1 */
    struct acl_range channels;
    size_t bytes_per_image;
};

/* The transfers of one training step: the forward ones in layer order, then the backward ones in reverse
 * layer order (the order a scheduler meets them). *list is malloc'd (NULL when there are none). */
acl_status acl_placement_transfers(const struct acl_net *net, const struct acl_placement *p,
                                   struct acl_transfer **list, int *count);

struct acl_transfer_totals {
    size_t forward, backward, total; /* bytes per step */
};

/* Bytes moved between the devices by a step of `batch` images (an inference step: only .forward). */
void acl_transfer_totals(const struct acl_transfer *list, int count, int batch, struct acl_transfer_totals *out);

const char *acl_xfer_kind_name(enum acl_xfer_kind kind);

#endif
