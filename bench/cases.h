/* cases.h: the bench cases, one function per op, each timing its kernels at the paper's (or mini's) layer
 * shapes, and a whole training step. */
#ifndef ACL_BENCH_CASES_H
#define ACL_BENCH_CASES_H

#include "report.h"

struct bench_case {
    const char *name;
    acl_status (*run)(struct acl_ctx *c, struct bench_report *r);
};

extern const struct bench_case bench_cases[];
acl_status bench_gemm_peak(struct acl_ctx *c, double *gflops);

acl_status bench_case_conv(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_lrn(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_maxpool(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_fc(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_sgd(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_dropout(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_softmax(struct acl_ctx *c, struct bench_report *r);
acl_status bench_case_model(struct acl_ctx *c, struct bench_report *r);

/* Device buffers for a case, freed together. */
struct bench_bufs {
    cl_mem m[16];
    int n;
};
/* A buffer of n floats filled with small random values (so that no kernel sees denormals or NaN). */
acl_status bench_buf(struct acl_ctx *c, struct bench_bufs *b, size_t n, cl_mem *out);
void bench_bufs_free(struct bench_bufs *b);

#endif
