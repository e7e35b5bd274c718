/* bench.h: timing OpenCL work with profiling events, and reporting it against the machine's peaks. */
#ifndef ACL_BENCH_H
#define ACL_BENCH_H

#include <stddef.h>

#include "runtime/ctx.h"

/* One thing to time: enqueue() puts one run of it on the queue (it may be several kernels). */
struct bench_item {
    char kernel[40];
    char shape[64];
    double flops;     /* floating-point operations of one run */
    double bytes;     /* bytes that one run must at least read and write */
    acl_status (*enqueue)(struct acl_ctx *c, void *arg);
    void *arg;
};

struct bench_result {
    double median_ms, min_ms;
    double gflops, gbs;
};

/* Runs item warmup times, then reps times, each run bracketed by markers on the in-order queue: the time
 * of a run is the profiled end of the closing marker minus the end of the opening one. Median and min. */
acl_status bench_time(struct acl_ctx *c, const struct bench_item *item, int warmup, int reps,
                      struct bench_result *out);

/* The device's copy bandwidth (clEnqueueCopyBuffer of a large buffer, read + write bytes per second). */
acl_status bench_copy_peak(struct acl_ctx *c, double *gbs);

#endif
