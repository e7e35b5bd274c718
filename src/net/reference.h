/* reference.h: the whole network on the host, in double, composed from the ops' references: the check that
 * the device model (model.c) wires the layers together correctly, forward and backward. */
#ifndef ACL_NET_REFERENCE_H
#define ACL_NET_REFERENCE_H

#include "net/net.h"

struct acl_net_ref_result {
    double *logits;   /* n x classes */
    double loss;      /* mean */
    int top1, top5;
    double *grads;    /* param_count, when requested */
};

/* Forward (and, when res->grads is not NULL, backward) of n images with labels. training turns dropout
 * on, with the device's mask for (seed, step). res->logits must hold n * classes doubles. */
acl_status acl_net_ref_run(const struct acl_net *net, const double *params, const double *images, const int *labels,
                           int n, int training, uint64_t seed, uint64_t step, struct acl_net_ref_result *res);

#endif
