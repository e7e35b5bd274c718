/* fc.h: the fully connected layer y = x W^T + b: host references, launchers (CLBlast GEMMs plus the bias
 * kernels of cl/fc.cl), selftest cases. */
#ifndef ACL_OPS_FC_H
#define ACL_OPS_FC_H

#include "ops/check.h"

/* Input (N, IN): each row is one image's features, so conv5's pooled output (N, 256, 6, 6) is read in place
 * as (N, 9216). Weight (OUT, IN) as PyTorch and Caffe store it, bias (OUT), output (N, OUT). */
struct fc_shape {
    int n, in, out;
};

/* ACL_OK, or ACL_ERR_ARGUMENT naming what is wrong with s. */
acl_status fc_check_shape(const struct fc_shape *s);

/* ---- references (double) ---------------------------------------------------------------------- */

/* out (N, OUT) = inp (N, IN) weight^T (IN, OUT) + bias (OUT) on every row. */
void fc_forward_ref(double *out, const double *inp, const double *weight, const double *bias,
                    const struct fc_shape *s);
/* From dout (N, OUT): dinp (N, IN) = dout weight is overwritten (dinp may be NULL: not computed);
 * dweight (OUT, IN) += dout^T inp and dbias (OUT) += the column sums of dout accumulate. */
void fc_backward_ref(double *dinp, double *dweight, double *dbias, const double *dout, const double *inp,
                     const double *weight, const struct fc_shape *s);

/* ---- launchers -------------------------------------------------------------------------------- */
/* Shapes and views are validated before anything is enqueued; every view must end below INT_MAX floats
 * (kernels and CLBlast's direct path take int offsets). Outputs must not overlap inputs. ev (may be NULL)
 * receives a marker event that completes when all of the op's work has. */

/* out (N, OUT) = inp weight^T + bias: a GEMM with beta = 0, then fc_bias_forward adds the bias in place. */
acl_status fc_forward(struct acl_ctx *c, struct acl_view out, struct acl_view inp, struct acl_view weight,
                      struct acl_view bias, const struct fc_shape *s, cl_event *ev);
/* dinp (N, IN) is overwritten (dinp.buf may be NULL: not computed, as below a layer that needs no input
 * gradient); dweight (OUT, IN) += and dbias (OUT) += accumulate, deterministically. */
acl_status fc_backward(struct acl_ctx *c, struct acl_view dinp, struct acl_view dweight, struct acl_view dbias,
                       struct acl_view dout, struct acl_view inp, struct acl_view weight, const struct fc_shape *s,
                       cl_event *ev);

acl_status fc_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
