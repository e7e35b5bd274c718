/* cases.h: the bench cases, one function per op, each timing its kernels at the layer shapes of the network that
 * --shapes loaded (report.h: r->net), and a whole training step of that network. */
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

/* Layers of the same kind and geometry are timed once: whether layer i repeats an earlier one, and the label
 * of layer i ("conv3", "conv1.relu" for an unnamed layer after conv1; " x2" when later layers repeat it). */
int bench_layer_repeats(const struct acl_net *net, int i);
void bench_layer_label(const struct acl_net *net, int i, char *buf, size_t size);

/* Device buffers for a case, freed together. */
struct bench_bufs {
    cl_mem m[16];
    int n;
};
/* A buffer of n floats filled with small random values (so that no kernel sees denormals or NaN). */
acl_status bench_buf(struct acl_ctx *c, struct bench_bufs *b, size_t n, cl_mem *out);
void bench_bufs_free(struct bench_bufs *b);

#endif
