/* conv_size.h: the direct kernels' blocking and the workspace each pass needs (conv_size.c); internal to
 * src/ops/conv*.c, apart from what conv.h declares. */
#ifndef ACL_OPS_CONV_SIZE_H
#define ACL_OPS_CONV_SIZE_H

#include "ops/conv.h"

/* The blocking of the direct kernels. KB, the channels per work-item, is fixed in cl/conv.cl; RB is its
 * default there (the workspace plan depends on it, so it is not tuned: with 4, 6 and 8 taps a work-item the
 * backward weights of conv1-5 ran within the noise of one another, three alternating rounds of bench_kernels
 * --only conv.backward_weights.direct at batch 32 on PoCL, AVX-512, 2026-12-08; 4 was 5-15% slower at conv3-5
 * in one round). CONV_PX and conv_direct_forward's
 * work-group size come from the device's tuning table (c->tune, runtime/tune.h), which builds the program
 * with the same value: the launcher never uses a constant of its own for them. */
#define CONV_KB 16
#define CONV_RB 6
/* conv_direct_forward sums with the input channels innermost from this many channels per group: at the
 * paper's conv2-5 10-40% faster than channel outermost, at conv1's 3 channels 15% slower. */
#define CONV_CIN_MIN 16
/* conv_direct_backward_weights: the work-items it aims at at least, and the output gradient per slice. */
#define CONV_WEIGHT_ITEMS 64
#define CONV_SLICE_BYTES (96 << 10)
/* Lanes of conv_bias_backward's work-group (a power of two; fewer where the device allows fewer). */
#define CONV_BIAS_LANES 64

enum conv_pass { PASS_FORWARD, PASS_DATA, PASS_WEIGHTS };

/* Workspace of a pass by an algorithm: fixed floats (re-laid weights, partial sums) and floats per image
 * (column matrix, padded input, re-laid output gradient). */
struct ws_need {
    size_t fixed, per_image;
};

/* n rounded up to the direct kernels' channel block. */
int conv_round_kb(int n);
/* Slices of the backward-weights direct kernel's (image, row) sum: a function of the shape only. */
int conv_weight_slices(const struct conv_shape *s);
struct ws_need conv_ws_need(enum conv_pass pass, enum conv_algo algo, const struct conv_shape *s);

#endif
