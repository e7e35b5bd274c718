/* model.h: a network placed on one device: its flat parameter, gradient and momentum buffers, every
 * layer's activations, and the forward, backward and update passes over a batch. */
#ifndef ACL_NET_MODEL_H
#define ACL_NET_MODEL_H

#include "net/net.h"
#include "runtime/ctx.h"

struct acl_pair;
struct acl_split;

struct acl_model {
    const struct acl_net *net;
    struct acl_ctx *c;
    int batch;                  /* the largest batch; a pass may use fewer images */
    int training;
    int n;                      /* images in the current pass */
    cl_mem params, grads, momentum;
    cl_mem *act;                /* n_layers + 1: act[0] the input, act[i + 1] layer i's output (ReLU, dropout
                                 * and an identity avgpool share their input's buffer: they run in place) */
    cl_mem *aux;                /* per layer: pooling argmax, else NULL */
    cl_mem dact[2];             /* activation gradients, ping-pong */
    cl_mem ws;                  /* convolution workspace */
    size_t ws_floats;
    cl_mem probs, loss, mean, labels, counts;
    struct acl_memory_plan plan;
    int fc_gemm;                /* fully connected layers as GEMMs through acl_gemm (1: the own SGEMM on CPUs, CLBlast
                                 * elsewhere) or the convolution kernels as 1x1 convolutions (0) */
    struct acl_split *split;    /* on two devices (src/parallel/split.h): every pass goes there, and the
                                 * buffers above stay NULL */
    double *profile;            /* NULL, or 2 * n_layers seconds: forward then backward time of each layer, summed
                                 * over passes (acl_model_profile turns it on; it waits for every layer) */
};

/* Turns per-layer timing on (a finish after every layer: for diagnosis, not for speed). */
acl_status acl_model_profile(struct acl_model *m);

/* Allocates everything for batches of up to batch images, after checking the memory plan against the
 * device (refused with the numbers when it does not fit). Parameters start at zero. */
acl_status acl_model_create(struct acl_ctx *c, const struct acl_net *net, int batch, int training,
                            struct acl_model **out);
/* The same on the two devices of a pair, device 0 holding the share split of every layer (placement.h);
 * each device's memory is checked first, a refusal naming the device and what it lacks. plan.total is then
 * both devices' sum. Every other call below works the same on such a model. */
acl_status acl_model_create_pair(struct acl_pair *pair, const struct acl_net *net, double split, int batch,
                                 int training, struct acl_model **out);
void acl_model_destroy(struct acl_model *m);

/* Whether fully connected layers run as GEMMs on this device (acl_gemm: the own SGEMM on CPUs, CLBlast elsewhere;
 * else as 1x1 convolutions). ACL_FC_PATH=gemm|conv overrides. */
int acl_fc_through_gemm(const struct acl_ctx *c);

acl_status acl_model_write_params(struct acl_model *m, const float *params);
acl_status acl_model_read_params(struct acl_model *m, float *params);
acl_status acl_model_write_momentum(struct acl_model *m, const float *momentum);
acl_status acl_model_read_momentum(struct acl_model *m, float *momentum);
acl_status acl_model_read_grads(struct acl_model *m, float *grads);

/* Uploads n images (n x C x H x W floats) and, when labels is not NULL, their labels. */
acl_status acl_model_input(struct acl_model *m, const float *images, const int *labels, int n);
/* Forward through every layer and, when labels were given, the loss and the top-1/top-5 counts. training
 * turns dropout on; its mask is a function of (seed, step, layer, element). */
acl_status acl_model_forward(struct acl_model *m, int training, uint64_t seed, uint64_t step);
/* Zeroes the gradients and runs the backward pass of the last forward (which must have been training). */
acl_status acl_model_backward(struct acl_model *m, uint64_t seed, uint64_t step);
/* The paper's SGD step over every parameter. */
acl_status acl_model_update(struct acl_model *m, float lr, float momentum, float weight_decay);
/* Mean loss of the last forward, and its top-1 and top-5 correct counts (blocking reads). */
acl_status acl_model_results(struct acl_model *m, float *loss, int *top1, int *top5);
/* The logits (n x classes) of the last forward. */
acl_status acl_model_read_logits(struct acl_model *m, float *logits);

#endif
