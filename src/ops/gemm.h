/* gemm.h: row-major SGEMM through CLBlast, with its host reference. The fully connected layers and the
 * convolution's im2col path use it. C = alpha * op(A) op(B) + beta * C, op(X) = X or X^T. */
#ifndef ACL_OPS_GEMM_H
#define ACL_OPS_GEMM_H

#include "ops/check.h"

struct acl_gemm {
    int trans_a, trans_b;
    size_t m, n, k;
    size_t lda, ldb, ldc;
    float alpha, beta;
};

/* Row-major reference, double accumulation; c holds beta * c on entry. */
void gemm_ref(const struct acl_gemm *g, const double *a, const double *b, double *c);

acl_status acl_gemm(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, struct acl_view b,
                    struct acl_view cm, cl_event *ev);
/* batch GEMMs, the i-th at offsets i*stride_a, i*stride_b, i*stride_c (a stride may be 0: shared). */
acl_status acl_gemm_batched(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, size_t stride_a,
                            struct acl_view b, size_t stride_b, struct acl_view cm, size_t stride_c,
                            size_t batch, cl_event *ev);

const char *acl_clblast_status_name(int code);
acl_status gemm_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
