/* relu.h: ReLU, its host reference and its launcher. */
#ifndef ACL_OPS_RELU_H
#define ACL_OPS_RELU_H

#include "ops/check.h"

void relu_forward_ref(double *y, const double *x, size_t n);
void relu_backward_ref(double *dx, const double *dy, const double *y, size_t n);

/* y may be x (in place). */
acl_status relu_forward(struct acl_ctx *c, struct acl_view y, struct acl_view x, size_t n, cl_event *ev);
/* dx may be dy. */
acl_status relu_backward(struct acl_ctx *c, struct acl_view dx, struct acl_view dy, struct acl_view y, size_t n,
                         cl_event *ev);

acl_status relu_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
