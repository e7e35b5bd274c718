/* report.c: prints bench rows as a table and writes them as JSON. */
#include "report.h"

#include <string.h>

void report_begin(struct bench_report *r, const char *device)
{
    printf("device: %s\nbatch %d, median of %d runs after %d warm-up, timed by OpenCL profiling events\n",
           device, r->batch, r->reps, r->warmup);
    printf("peaks measured in this run: copy %.1f GB/s (clEnqueueCopyBuffer %.1f, copy kernel %.1f), "
           "acl_gemm SGEMM 2048^3 %.1f GFLOP/s\n\n", r->copy.gbs, r->copy.buffer_gbs, r->copy.kernel_gbs,
           r->gemm_gflops);
    printf("%-26s %-34s %10s %10s %9s %8s %7s %7s\n", "kernel", "shape", "median ms", "min ms", "GFLOP/s",
           "GB/s", "%gemm", "%copy");
    if (r->json)
        fprintf(r->json, "{\n  \"device\": \"%s\",\n  \"batch\": %d,\n  \"reps\": %d,\n  \"copy_gbs\": %.3f,\n"
                         "  \"copy_buffer_gbs\": %.3f,\n  \"copy_kernel_gbs\": %.3f,\n"
                         "  \"gemm_gflops\": %.3f,\n  \"results\": [", device, r->batch, r->reps, r->copy.gbs,
                r->copy.buffer_gbs, r->copy.kernel_gbs, r->gemm_gflops);
}

void report_row(struct bench_report *r, const struct bench_item *item, const struct bench_result *res)
{
    double pg = r->gemm_gflops > 0 && item->flops > 0 ? 100 * res->gflops / r->gemm_gflops : 0;
    double pc = r->copy.gbs > 0 ? 100 * res->gbs / r->copy.gbs : 0;
    printf("%-26s %-34s %10.3f %10.3f %9.2f %8.2f %6.0f%% %6.0f%%\n", item->kernel, item->shape, res->median_ms,
           res->min_ms, res->gflops, res->gbs, pg, pc);
    fflush(stdout);
    if (r->json)
        fprintf(r->json, "%s\n    {\"kernel\": \"%s\", \"shape\": \"%s\", \"median_ms\": %.6f, \"min_ms\": %.6f, "
                         "\"gflops\": %.4f, \"gbs\": %.4f, \"flops\": %.0f, \"bytes\": %.0f}",
                r->rows ? "," : "", item->kernel, item->shape, res->median_ms, res->min_ms, res->gflops, res->gbs,
                item->flops, item->bytes);
    r->rows++;
}

void report_end(struct bench_report *r)
{
    if (r->json)
        fprintf(r->json, "\n  ]\n}\n");
}

int report_wants(const struct bench_report *r, const char *kernel)
{
    return !r->only || strncmp(kernel, r->only, strlen(r->only)) == 0;
}

acl_status report_time(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item)
{
    if (!report_wants(r, item->kernel))
        return ACL_OK;
    struct bench_result res;
    acl_status st = bench_time(c, item, r->warmup, r->reps, &res);
    if (st == ACL_OK)
        report_row(r, item, &res);
    return st;
}
