/* sgemm.h: the engine's own register-tiled SGEMM (cl/sgemm.cl), which acl_gemm takes on CPUs, where CLBlast's
 * default parameters run at a few GFLOP/s. Row-major C = alpha * op(A) op(B) + beta * C, any sizes, any
 * leading dimensions, every transposition; deterministic (no atomics). */
#ifndef ACL_OPS_SGEMM_H
#define ACL_OPS_SGEMM_H

#include "ops/gemm.h"

/* Whether the own kernel can run g on these views: every index it forms must fit in an int. */
int acl_sgemm_fits(const struct acl_gemm *g, struct acl_view a, struct acl_view b, struct acl_view cm);

/* Whether acl_gemm should take the own kernel on this context: ACL_GEMM=own or clblast decides, else CPUs do. */
int acl_sgemm_preferred(const struct acl_ctx *c);

acl_status acl_sgemm(struct acl_ctx *c, const struct acl_gemm *g, struct acl_view a, struct acl_view b,
                     struct acl_view cm, cl_event *ev);

acl_status sgemm_selftest(struct acl_ctx *c, struct acl_selftest *t);

#endif
