/* bench.c: marker-bracketed profiling of enqueued work; the copy-bandwidth peak. */
#include "bench.h"

#include <stdlib.h>

#include "ops/add.h"
#include "ops/check.h"
#include "runtime/error.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static acl_status marker_end(cl_event ev, cl_ulong *t)
{
    acl_status st = ACL_OK;
    CL_TRY(clWaitForEvents(1, &ev));
    CL_TRY(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof *t, t, NULL));
cleanup:
    return st;
}

acl_status bench_time(struct acl_ctx *c, const struct bench_item *item, int warmup, int reps,
                      struct bench_result *out)
{
    acl_status st = ACL_OK;
    double *ms = calloc((size_t)reps, sizeof *ms);
    cl_event before = NULL, after = NULL;
    if (!ms)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < warmup; i++)
        ACL_TRY(item->enqueue(c, item->arg));
    ACL_TRY(acl_finish(c));
    for (int r = 0; r < reps; r++) {
        cl_ulong t0 = 0, t1 = 0;
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &before));
        ACL_TRY(item->enqueue(c, item->arg));
        CL_TRY(clEnqueueMarkerWithWaitList(c->queue, 0, NULL, &after));
        ACL_TRY(marker_end(before, &t0));
        ACL_TRY(marker_end(after, &t1));
        ms[r] = (double)(t1 - t0) * 1e-6;
        clReleaseEvent(before);
        clReleaseEvent(after);
        before = after = NULL;
    }
    out->median_ms = bench_median(ms, reps);
    out->min_ms = ms[0];
    out->gflops = out->median_ms > 0 ? item->flops / (out->median_ms * 1e6) : 0;
    out->gbs = out->median_ms > 0 ? item->bytes / (out->median_ms * 1e6) : 0;
cleanup:
    if (before)
        clReleaseEvent(before);
    if (after)
        clReleaseEvent(after);
    free(ms);
    return st;
}

struct copy_arg {
    cl_mem src, dst;
    size_t bytes;
};

static acl_status enqueue_copy(struct acl_ctx *c, void *arg)
{
    struct copy_arg *a = arg;
    acl_status st = ACL_OK;
    CL_TRY(clEnqueueCopyBuffer(c->queue, a->src, a->dst, 0, 0, a->bytes, 0, NULL, NULL));
cleanup:
    return st;
}

static acl_status enqueue_copy_kernel(struct acl_ctx *c, void *arg)
{
    struct copy_arg *a = arg;
    return tensor_copy(c, (struct acl_view){a->dst, 0}, (struct acl_view){a->src, 0}, a->bytes / 4, NULL);
}

/* The source (filled) and destination of a copy of a->bytes. */
static acl_status copy_bufs(struct acl_ctx *c, struct copy_arg *a)
{
    acl_status st = ACL_OK;
    ACL_TRY(acl_buffer(c, a->bytes, &a->src));
    ACL_TRY(acl_buffer(c, a->bytes, &a->dst));
    ACL_TRY(acl_fill_float(c, a->src, 0, a->bytes / 4, 1.0f));
cleanup:
    return st;
}

static void copy_free(struct copy_arg *a)
{
    cl_mem m[2] = {a->src, a->dst};
    acl_release_mems(m, 2);
}

acl_status bench_copy_at(struct acl_ctx *c, double bytes, int reps, double *gbs)
{
    acl_status st = ACL_OK;
    size_t floats = (size_t)(bytes / 8) > 0 ? (size_t)(bytes / 8) : 1;
    struct copy_arg a = {NULL, NULL, floats * 4};
    ACL_TRY(copy_bufs(c, &a));
    struct bench_item item = {"copy", "", 0, 2.0 * (double)a.bytes, enqueue_copy_kernel, &a, 0};
    struct bench_result r = {0};
    ACL_TRY(bench_time(c, &item, 1, reps, &r));
    *gbs = r.gbs;
cleanup:
    copy_free(&a);
    return st;
}

acl_status bench_copy_peak(struct acl_ctx *c, struct bench_copy *out)
{
    acl_status st = ACL_OK;
    struct copy_arg a = {NULL, NULL, (size_t)128 << 20};
    if (a.bytes > c->dev.info.max_alloc_bytes / 2)
        a.bytes = (size_t)(c->dev.info.max_alloc_bytes / 2);
    ACL_TRY(copy_bufs(c, &a));
    struct bench_item item = {"copy", "", 0, 2.0 * (double)a.bytes, enqueue_copy, &a, 0};
    struct bench_result r = {0}; /* GCC 12 -O2 cannot see that bench_time sets it on success */
    ACL_TRY(bench_time(c, &item, 1, 5, &r));
    out->buffer_gbs = r.gbs;
    item.enqueue = enqueue_copy_kernel;
    ACL_TRY(bench_time(c, &item, 1, 5, &r));
    out->kernel_gbs = r.gbs;
    out->by_kernel = out->kernel_gbs >= out->buffer_gbs;
    out->gbs = out->by_kernel ? out->kernel_gbs : out->buffer_gbs;
    out->src = a.src, out->dst = a.dst, out->bytes = a.bytes;
    return ACL_OK;
cleanup:
    copy_free(&a);
    return st;
}

acl_status bench_copy_again(struct acl_ctx *c, const struct bench_copy *copy, int n, double *gbs)
{
    struct copy_arg a = {copy->src, copy->dst, copy->bytes};
    struct bench_item item = {"copy", "", 0, 2.0 * (double)a.bytes, copy->by_kernel ? enqueue_copy_kernel : enqueue_copy,
                              &a, 0};
    for (int i = 0; i < n; i++) {
        struct bench_result r = {0};
        acl_status st = bench_time(c, &item, 0, 1, &r);
        if (st != ACL_OK)
            return st;
        gbs[i] = r.gbs;
    }
    return ACL_OK;
}

void bench_copy_close(struct bench_copy *copy)
{
    struct copy_arg a = {copy->src, copy->dst, copy->bytes};
    copy_free(&a);
    copy->src = copy->dst = NULL;
}
