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
    int role;         /* enum bench_role (report.h): what the row's target is against; 0 = by the kernel's name */
};

struct bench_result {
    double median_ms, min_ms;
    double gflops, gbs;
};

/* Runs item warmup times, then reps times, each run bracketed by markers on the in-order queue: the time
 * of a run is the profiled end of the closing marker minus the end of the opening one. Median and min. */
acl_status bench_time(struct acl_ctx *c, const struct bench_item *item, int warmup, int reps,
                      struct bench_result *out);

/* The device's copy bandwidth, read + write bytes per second of a 128 MiB buffer (far past any cache), median of
 * 5 runs: by clEnqueueCopyBuffer (buffer_gbs) and by a copy kernel (kernel_gbs), and the larger of the two as
 * the peak (gbs). Both, because PoCL's clEnqueueCopyBuffer is a memcpy on one thread, which a kernel on every
 * core outruns by about 2x on this 2-core machine: the kernels compared against it would read above 100%.
 * The buffers stay allocated (src, dst, until bench_copy_close), so that bench_copy_again can measure the peak
 * again, the same way, beside each memory-bound row. */
struct bench_copy {
    double gbs, buffer_gbs, kernel_gbs;
    cl_mem src, dst;
    size_t bytes;
    int by_kernel; /* the peak is the copy kernel's (else clEnqueueCopyBuffer's) */
};
acl_status bench_copy_peak(struct acl_ctx *c, struct bench_copy *out);
/* n runs of the peak's copy, one at a time, each one's GB/s in gbs[0 .. n). */
acl_status bench_copy_again(struct acl_ctx *c, const struct bench_copy *copy, int n, double *gbs);
void bench_copy_close(struct bench_copy *copy);
/* The median of v[0 .. n) (sorts v); 0 for n = 0. */
double bench_median(double *v, int n);
/* The copy kernel's bandwidth moving bytes in all (bytes / 2 read, bytes / 2 written), median of reps: the
 * bandwidth a tensor of that size can reach at all, where a launch costs more than its bytes. */
acl_status bench_copy_at(struct acl_ctx *c, double bytes, int reps, double *gbs);

/* The host's SGEMM peak: OpenBLAS cblas_sgemm at 2048^3 on threads threads (openblas_set_num_threads), the
 * median of 5 runs after a warm-up, in GFLOP/s. 0 when the bench was built without OpenBLAS (*why says so) or
 * the host memory was short. */
double bench_host_sgemm(int threads, const char **why);
/* n runs of the host's 2048^3 SGEMM (the peak of bench_host_sgemm), one at a time, each one's GFLOP/s in
 * gflops[0 .. n); its operands stay allocated until bench_host_free. 0 without OpenBLAS or host memory. */
int bench_host_sgemm_runs(int threads, int n, double *gflops);
void bench_host_free(void);
/* OpenBLAS on one product of the shape the engine runs (row-major, C = op(A) op(B) + beta C), GFLOP/s; 0 without
 * OpenBLAS. What the host's library reaches at a shape tells a shape's limit from a kernel's. */
double bench_host_sgemm_at(int threads, int ta, int tb, int m, int n, int k, float beta);

#endif
