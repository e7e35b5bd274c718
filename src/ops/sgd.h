/* sgd.h: the SGD update with momentum and weight decay over a range of the flat parameter buffer: host
 * reference, launcher, selftest cases. */
#ifndef ACL_OPS_SGD_H
#define ACL_OPS_SGD_H

#include "ops/check.h"

/* Krizhevsky et al. 2012, section 5: v <- momentum * v - lr * (g + weight_decay * w), then w <- w + v.
 * The paper trains with lr 0.01, momentum 0.9 and weight decay 0.0005. */
struct sgd_params {
    float lr, momentum, weight_decay;
};

/* ACL_OK, or ACL_ERR_ARGUMENT naming the value that is not finite and >= 0. */
acl_status sgd_check_params(const struct sgd_params *p);

/* One step in place on w (n) and v (n) from the gradient g (n), in double. */
void sgd_update_ref(double *w, double *v, const double *g, size_t n, const struct sgd_params *p);

/* The same step on elements [offset, offset + count) of w, v and g, which share one layout (the flat
 * parameter, momentum and gradient buffers): call it once over everything, or per tensor (for example without
 * decay on the biases). count >= 1; every view must end below INT_MAX floats. ev may be NULL. */
acl_status sgd_update(struct acl_ctx *c, struct acl_view w, struct acl_view v, struct acl_view g, size_t offset,
                      size_t count, const struct sgd_params *p, cl_event *ev);

acl_status sgd_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
