/* maxpool.h: max pooling (any window, stride, padding; floor or ceil output size): reference, launchers,
 * selftest.
 *
 * Output size: oh = (h + 2 pad - size) / stride + 1, rounded down, or up with ceil_mode (Caffe rounds up);
 * in ceil mode a last window that would start at or past h + pad (wholly in the right padding) is dropped,
 * as PyTorch and Caffe do, so that every window holds at least one input element (pad < size does the same
 * at the left edge). Padding never wins: windows are clipped to the input.
 * argmax holds, per output, the index of the chosen element within its (n, c) input plane (iy * w + ix).
 * Ties: the first maximum in row-major window order wins. NaN wins over any number (the first NaN of the
 * window), so a NaN in the input reaches the output and training sees it; its gradient goes to the NaN.
 * Backward gathers: each input element sums dout over the windows whose argmax is that element (overlapping
 * windows may pick the same element), in a fixed order: deterministic, no atomics; dinp is overwritten. */
#ifndef ACL_OPS_MAXPOOL_H
#define ACL_OPS_MAXPOOL_H

#include "ops/check.h"
#include "ops/pool_size.h"

struct pool_shape {
    int n, c, h, w;          /* input: batch, channels, height, width */
    int size, stride, pad;   /* square window, its step, padding on every side */
    int ceil_mode;           /* 0: round the output size down (PyTorch's default); 1: up (Caffe) */
};

/* Checks the shape: positive sizes, size >= 1, stride >= 1, 0 <= pad < size, output >= 1, counts < INT_MAX. */
acl_status pool_check_shape(const struct pool_shape *s);

void maxpool_forward_ref(double *out, int *argmax, const double *inp, const struct pool_shape *s);
/* out, argmax (N, C, OH, OW) from inp (N, C, H, W) */
void maxpool_backward_ref(double *dinp, const double *dout, const int *argmax, const struct pool_shape *s);
/* dinp (N, C, H, W), overwritten, from dout and argmax (N, C, OH, OW) */

/* argmax is an int buffer (its view's offset counts ints). */
acl_status maxpool_forward(struct acl_ctx *c, struct acl_view out, struct acl_view argmax, struct acl_view inp,
                           const struct pool_shape *s, cl_event *ev);
acl_status maxpool_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view argmax,
                            const struct pool_shape *s, cl_event *ev);

acl_status maxpool_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
