/* lrn.h: local response normalization across channels (AlexNet section 3.3): reference, launchers, selftest.
 *
 * Convention (Caffe's and PyTorch's, not the paper's): alpha is divided by the window size n,
 *   scale[c] = k + (alpha / n) * sum_{c' = c - n/2 .. c + (n-1)/2, clipped to [0, C)} x[c']^2
 *   y[c]     = x[c] * scale[c]^(-beta)
 * The paper writes k + alpha * sum(...) with n=5, alpha=1e-4, beta=0.75, k=2: its alpha is ours divided by
 * n, so the paper's layer is alpha = 5e-4 here (Caffe's reference AlexNet keeps alpha = 1e-4 with the
 * division, a five times weaker normalization, and k = 1).
 * The window is n/2 channels before c and (n-1)/2 after, as PyTorch pads (size // 2 before, (size - 1) // 2
 * after); for odd n this is the symmetric window of Caffe and the paper. For even n, ONNX puts the longer
 * half after c instead; we follow PyTorch. Channels outside [0, C) count as zero (the sum still divides by n).
 *
 * Backward, with the window mirrored (c' in [c - (n-1)/2, c + n/2] are the channels whose window holds c):
 *   dx[c] = dy[c] * scale[c]^(-beta) - (2 alpha beta / n) * x[c] * sum_{c'} dy[c'] y[c'] / scale[c']
 * It recomputes scale (and y / scale) from x, which it reads anyway: the forward keeps no scale tensor (Caffe
 * keeps one), the backward reads two tensors rather than four. */
#ifndef ACL_OPS_LRN_H
#define ACL_OPS_LRN_H

#include "ops/check.h"

struct lrn_shape {
    int n, c, h, w; /* batch, channels, height, width */
    int size;       /* window across channels */
    float alpha, beta, k;
};

/* Checks sizes and parameters; k > 0 and alpha >= 0 keep scale positive, so scale^(-beta) is defined. */
acl_status lrn_check_shape(const struct lrn_shape *s);

/* out (N, C, H, W) from inp (N, C, H, W); scale too when not NULL */
void lrn_forward_ref(double *out, double *scale, const double *inp, const struct lrn_shape *s);
/* dinp (N, C, H, W), overwritten */
void lrn_backward_ref(double *dinp, const double *dout, const double *inp, const struct lrn_shape *s);

/* out must not alias inp (every output reads n input channels). */
acl_status lrn_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, const struct lrn_shape *s,
                       cl_event *ev);
/* dinp must not alias dout or inp. */
acl_status lrn_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view inp,
                        const struct lrn_shape *s, cl_event *ev);

acl_status lrn_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
