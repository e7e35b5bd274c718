/* accuracy.h: top-1 and top-5 correct counts from class logits, computed on the device. */
#ifndef ACL_OPS_ACCURACY_H
#define ACL_OPS_ACCURACY_H

#include "ops/check.h"

/* n samples of k class logits; labels are ints in [0, k). */
struct accuracy_shape {
    int n, k;
};

/* ACL_OK, or ACL_ERR_ARGUMENT naming what is wrong. */
acl_status accuracy_check_shape(const struct accuracy_shape *s);

/* The rank rule, the same on host and device. A sample is in the top k when fewer than k of its logits are
 * strictly greater than the logit of its label:
 *   - ties count for the label: a logit equal to the label's does not push it down, so a row of equal logits
 *     is top-1 correct for any label (optimistic, but independent of class order and of the device);
 *   - a NaN logit counts as greater than the label's, and a NaN at the label makes the sample wrong, so a
 *     diverged network never looks accurate;
 *   - a label outside [0, k) makes the sample wrong (softmax_forward reports it as a NaN loss);
 *   - with k < 5 classes every sample with a valid label and a non-NaN logit is top-5 correct. */
/* counts[0] = top-1 correct samples, counts[1] = top-5 correct samples, of logits (N, K) and labels (N). */
void accuracy_ref(int counts[2], const double *logits, const int *labels, const struct accuracy_shape *s);

/* counts: an int buffer of 2 elements (top-1, top-5) written on the device, so the trainer reads two ints. */
acl_status accuracy_count(struct acl_ctx *c, struct acl_view counts, struct acl_view logits, struct acl_view labels,
                          const struct accuracy_shape *s, cl_event *ev);

acl_status accuracy_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
