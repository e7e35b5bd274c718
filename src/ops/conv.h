/* conv.h: 2-D convolution with stride, padding and groups: host references, launchers, selftest cases. */
#ifndef ACL_OPS_CONV_H
#define ACL_OPS_CONV_H

#include "ops/check.h"

/* Input (N, C, H, W), weight (K, C/groups, KH, KW) as PyTorch and Caffe store it, bias (K), output
 * (N, K, OH, OW) with OH = (H + 2*pad - KH)/stride + 1 (the same for OW). Group g maps input channels
 * [g*C/groups, (g+1)*C/groups) to output channels [g*K/groups, (g+1)*K/groups). */
struct conv_shape {
    int n, c, h, w;
    int k;
    int kh, kw;
    int stride, pad;
    int groups;
};

/* How a pass computes. IM2COL: column matrices and CLBlast GEMMs (col2im for backward data). DIRECT: the
 * direct kernels of cl/conv.cl over a zero-padded copy of the input (backward data: stride 1 only). AUTO runs
 * what the conv_pick_*_algo() functions measured faster (see conv.c), never one that needs more workspace
 * than the caller gave. */
enum conv_algo { CONV_ALGO_AUTO, CONV_ALGO_IM2COL, CONV_ALGO_DIRECT };

/* Output height and width; 0 when the kernel is larger than the padded input. */
int conv_out_h(const struct conv_shape *s);
int conv_out_w(const struct conv_shape *s);
/* The least workspace (floats) that every algorithm of every pass accepts: what it needs for one image (its
 * column matrix, or its padded input and re-laid output gradient) plus what it needs once (re-laid weights,
 * partial sums). A larger workspace processes the batch in chunks of as many images as fit. */
size_t conv_workspace_floats(const struct conv_shape *s);
/* The workspace with which the direct kernels do every pass over all s->n images at once (fewest launches),
 * but no more than cap floats, and never less than conv_workspace_floats(s). */
size_t conv_workspace_floats_batch(const struct conv_shape *s, size_t cap);
/* The cap a whole-network model gives conv_workspace_floats_batch: 256 MiB (bigger batches go in chunks). */
#define CONV_WORKSPACE_CAP ((size_t)64 << 20)
/* ACL_OK, or ACL_ERR_ARGUMENT naming what is wrong with s. */
acl_status conv_check_shape(const struct conv_shape *s);
/* "N.. C.. HxW K.. khxkw/stride p.. g..", for messages and selftest rows. */
void conv_shape_str(const struct conv_shape *s, char *buf, size_t size);

/* ---- references (double) ---------------------------------------------------------------------- */

/* out (N, K, OH, OW); bias may be NULL (no bias). */
void conv_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                      const struct conv_shape *s);
/* dinp (N, C, H, W) is overwritten with the gradient of the input, from dout (N, K, OH, OW). */
void conv_backward_data_ref(double *dinp, const double *dout, const double *weight, const struct conv_shape *s);
/* dweight (K, C/groups, KH, KW) += and dbias (K) += (dbias may be NULL) the gradients from dout and inp. */
void conv_backward_weights_ref(double *dweight, double *dbias, const double *dout, const double *inp,
                               const struct conv_shape *s);

/* ---- launchers -------------------------------------------------------------------------------- */
/* ws is a scratch view of ws_floats floats (at least conv_workspace_floats()); a workspace too small for one
 * image of the pass is ACL_ERR_ARGUMENT naming the size needed. Shapes and sizes are validated before anything
 * is enqueued. ev (may be NULL) receives a marker event that completes when all of the op's work has. */

/* out (N, K, OH, OW) = conv(inp) + bias; bias.buf may be NULL (no bias). */
acl_status conv_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, struct acl_view weight,
                        struct acl_view bias, struct acl_view ws, size_t ws_floats, enum conv_algo algo,
                        const struct conv_shape *s, cl_event *ev);
/* dinp (N, C, H, W) is overwritten. DIRECT needs stride 1. */
acl_status conv_backward_data(struct acl_ctx *c, struct acl_view dinp, struct acl_view dout, struct acl_view weight,
                              struct acl_view ws, size_t ws_floats, enum conv_algo algo, const struct conv_shape *s,
                              cl_event *ev);
/* dweight += and dbias += (dbias.buf may be NULL: not computed). */
acl_status conv_backward_weights(struct acl_ctx *c, struct acl_view dweight, struct acl_view dbias,
                                 struct acl_view dout, struct acl_view inp, struct acl_view ws, size_t ws_floats,
                                 enum conv_algo algo, const struct conv_shape *s, cl_event *ev);

/* The algorithm AUTO runs for each pass of s with a workspace of ws_floats. */
enum conv_algo conv_pick_forward_algo(const struct conv_shape *s, size_t ws_floats);
enum conv_algo conv_pick_backward_data_algo(const struct conv_shape *s, size_t ws_floats);
enum conv_algo conv_pick_backward_weights_algo(const struct conv_shape *s, size_t ws_floats);

acl_status conv_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
