/* add.h: elementwise y += x, its host reference and its launcher: how the two-device model sums the partial
 * results of a layer whose input channels are split across the devices. */
#ifndef ACL_OPS_ADD_H
#define ACL_OPS_ADD_H

#include "ops/check.h"

void add_ref(double *y, const double *x, size_t n); /* y += x */

/* y[i] += x[i] for i < n. y and x must not overlap unless they are the same view (y doubles). */
acl_status tensor_add(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev);

/* y[i] = x[i] for i < n; y and x must not overlap. A kernel, where clEnqueueCopyBuffer may run on one thread
 * of a CPU device (PoCL): the bench times both as the device's copy bandwidth. */
acl_status tensor_copy(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev);

acl_status add_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
