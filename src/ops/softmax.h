/* softmax.h: softmax with cross-entropy loss over class logits, its host reference and its launchers. */
#ifndef ACL_OPS_SOFTMAX_H
#define ACL_OPS_SOFTMAX_H

#include "ops/check.h"

/* n samples of k class logits; labels are ints in [0, k). */
struct softmax_shape {
    int n, k;
};

/* ACL_OK, or ACL_ERR_ARGUMENT naming what is wrong. */
acl_status softmax_check_shape(const struct softmax_shape *s);

/* ---- references (double) ---------------------------------------------------------------------- */

/* probs (N, K) = softmax of logits (N, K) by rows; loss (N) = logsumexp(row) - row[label], computed after
 * subtracting the row's maximum so that no logit overflows. A label outside [0, K) is a caller error that the
 * device kernel cannot report as a status (it never sees the labels on the host): that sample's loss is NaN,
 * in the reference as on the device, so the mean loss is NaN and the error cannot go unnoticed. */
void softmax_forward_ref(double *probs, double *loss, const double *logits, const int *labels,
                         const struct softmax_shape *s);
/* The mean of the n per-sample losses. */
double softmax_mean_loss_ref(const double *loss, int n);
/* dlogits (N, K) is overwritten with the gradient of the mean loss: (probs - onehot(label)) / N. A sample
 * whose label is out of range gets a row of NaN, like its loss. */
void softmax_backward_ref(double *dlogits, const double *probs, const int *labels, const struct softmax_shape *s);

/* ---- launchers -------------------------------------------------------------------------------- */

/* Writes probs (N, K) and loss (N) from logits (N, K) and labels (N, an int buffer). When mean.buf is not
 * NULL, a second kernel also reduces the losses to their mean in mean (one float) on the device, so that the
 * trainer reads back one number; ev then receives that kernel's event. */
acl_status softmax_forward(struct acl_ctx *c, struct acl_view probs, struct acl_view loss, struct acl_view mean,
                           struct acl_view logits, struct acl_view labels, const struct softmax_shape *s,
                           cl_event *ev);
/* dlogits (N, K; overwritten; may be probs) from probs (N, K) and labels (N). */
acl_status softmax_backward(struct acl_ctx *c, struct acl_view dlogits, struct acl_view probs,
                            struct acl_view labels, const struct softmax_shape *s, cl_event *ev);

acl_status softmax_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
