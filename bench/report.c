/* report.c: prints bench rows as a table with a target and a verdict each, writes them as JSON, and sums up
 * the rows that miss their target. */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "runtime/error.h"

static const char *const role_names[] = {"", "arithmetic", "memory", "alt", "n/a"};

/* A JSON string: the device name and a description file's layer names are not ours to trust. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* Arithmetic: the convolutions, the fully connected layers and the SGEMM do 2 k flops for each output and reuse
 * every input many times, so the SGEMM bounds them. Memory-bound: each element is read and written a few times
 * for a handful of flops. Softmax and top-k accuracy work on N x classes logits (128 KB at batch 32): their
 * time is the latency of a few launches, which neither peak bounds, and under 0.1% of a step, so no target. */
static enum bench_role role_of(const struct bench_item *item)
{
    if (item->role != ROLE_BY_NAME)
        return (enum bench_role)item->role;
    const char *k = item->kernel;
    if (starts(k, "conv.") || starts(k, "fc.") || starts(k, "sgemm."))
        return ROLE_ARITH;
    if (starts(k, "relu.") || starts(k, "lrn.") || starts(k, "maxpool.") || starts(k, "dropout.") || starts(k, "sgd."))
        return ROLE_MEMORY;
    return ROLE_NONE;
}

void report_begin(struct bench_report *r, const char *device)
{
    printf("device: %s\nshapes: %s (%s), batch %d, median of %d runs after %d warm-up, timed by OpenCL profiling "
           "events\n", device, r->shapes, r->net->name, r->batch, r->reps, r->warmup);
    printf("peaks measured in this run: copy %.1f GB/s (clEnqueueCopyBuffer %.1f, copy kernel %.1f); SGEMM 2048^3: "
           "device acl_gemm %.1f GFLOP/s, ", r->copy.gbs, r->copy.buffer_gbs, r->copy.kernel_gbs, r->gemm_gflops);
    if (r->host_gflops > 0)
        printf("host OpenBLAS %.1f GFLOP/s on %d threads\n", r->host_gflops, r->host_threads);
    else
        printf("host OpenBLAS not measured\n");
    printf("%%gemm is against %s, %%copy against the copy peak, each measured again beside the row "
           "(peak: its GFLOP/s or GB/s, the median of %d runs just before the row's and %d just after); targets: "
           "arithmetic >= %.0f%% gemm, memory-bound >= %.0f%% copy; alt: an algorithm the model does not pick at "
           "this shape\n", r->arith_name, BENCH_BESIDE_RUNS, BENCH_BESIDE_RUNS, BENCH_TARGET_ARITH,
           BENCH_TARGET_MEMORY);
    printf("copy*: a memory-bound row of at most %.0f MiB whose own bytes, copied by the copy kernel, reach less than "
           "%.0f%% of the peak (a launch costs more than the bytes): its target is against that copy, measured "
           "beside it\n\n", BENCH_SMALL_BYTES / (1024 * 1024), BENCH_TARGET_MEMORY);
    printf("%-29s %-40s %10s %10s %9s %8s %6s %6s %6s %-9s %s\n", "kernel", "shape", "median ms", "min ms",
           "GFLOP/s", "GB/s", "peak", "%gemm", "%copy", "target", "verdict");
    if (r->json) {
        fprintf(r->json, "{\n  \"device\": ");
        json_str(r->json, device);
        fprintf(r->json, ",\n  \"shapes\": ");
        json_str(r->json, r->shapes);
        fprintf(r->json, ",\n  \"batch\": %d,\n  \"reps\": %d,\n  \"copy_gbs\": %.3f,\n"
                         "  \"copy_buffer_gbs\": %.3f,\n  \"copy_kernel_gbs\": %.3f,\n  \"gemm_gflops\": %.3f,\n"
                         "  \"host_sgemm_gflops\": %.3f,\n  \"host_sgemm_threads\": %d,\n"
                         "  \"arith_peak_gflops\": %.3f,\n"
                         "  \"arith_peak\": \"%s\",\n  \"target_arith_pct\": %.0f,\n  \"target_memory_pct\": %.0f,\n"
                         "  \"results\": [", r->batch, r->reps, r->copy.gbs, r->copy.buffer_gbs, r->copy.kernel_gbs,
                r->gemm_gflops, r->host_gflops, r->host_threads, r->arith_gflops, r->arith_name, BENCH_TARGET_ARITH,
                BENCH_TARGET_MEMORY);
    }
}

void report_row(struct bench_report *r, const struct bench_item *item, const struct bench_result *res)
{
    struct bench_beside none = {0, 0, 0, 0};
    report_row_beside(r, item, res, &none);
}

void report_row_beside(struct bench_report *r, const struct bench_item *item, const struct bench_result *res,
                       const struct bench_beside *b)
{
    double copy_at_size_gbs = b->copy_at_size_gbs, host_gflops = b->host_gflops;
    double peak = b->copy_gbs > 0 ? b->copy_gbs : r->copy.gbs; /* the copy peak this row is held against */
    double arith = b->arith_gflops > 0 ? b->arith_gflops : r->arith_gflops; /* and the arithmetic peak */
    double pg = arith > 0 && item->flops > 0 ? 100 * res->gflops / arith : 0;
    double pc = peak > 0 ? 100 * res->gbs / peak : 0;
    enum bench_role role = role_of(item);
    double target = role == ROLE_ARITH ? BENCH_TARGET_ARITH : role == ROLE_MEMORY ? BENCH_TARGET_MEMORY : 0;
    /* Too small for the peak: even a copy of its bytes misses the target against it. */
    int small = role == ROLE_MEMORY && copy_at_size_gbs > 0 && copy_at_size_gbs < peak * target / 100;
    double pct = role == ROLE_ARITH ? pg : small ? 100 * res->gbs / copy_at_size_gbs : role == ROLE_MEMORY ? pc : 0;
    int miss = target > 0 && pct < target;
    const char *verdict = role == ROLE_ALT ? "alt" : role == ROLE_NONE ? "n/a" : miss ? "MISS" : "ok";
    const char *of = role == ROLE_ARITH ? "gemm" : small ? "copy*" : "copy";
    char tgt[16] = "-";
    if (target > 0)
        snprintf(tgt, sizeof tgt, "%.0f%% %s", target, of);
    char pk[16] = "-";
    if (role == ROLE_ARITH && b->arith_gflops > 0)
        snprintf(pk, sizeof pk, "%.1f", b->arith_gflops);
    else if (b->copy_gbs > 0)
        snprintf(pk, sizeof pk, "%.1f", b->copy_gbs);
    printf("%-29s %-40s %10.3f %10.3f %9.2f %8.2f %6s %5.0f%% %5.0f%% %-9s %s\n", item->kernel, item->shape,
           res->median_ms, res->min_ms, res->gflops, res->gbs, pk, pg, pc, tgt, verdict);
    fflush(stdout);
    if (r->json) {
        fprintf(r->json, "%s\n    {\"kernel\": ", r->rows ? "," : "");
        json_str(r->json, item->kernel);
        fprintf(r->json, ", \"shape\": ");
        json_str(r->json, item->shape);
        fprintf(r->json, ", \"median_ms\": %.6f, \"min_ms\": %.6f, \"gflops\": %.4f, \"gbs\": %.4f, \"flops\": %.0f, "
                         "\"bytes\": %.0f, \"pct_gemm\": %.2f, \"pct_copy\": %.2f, \"role\": \"%s\", ",
                res->median_ms, res->min_ms, res->gflops, res->gbs, item->flops, item->bytes, pg, pc,
                role_names[role]);
        if (b->copy_gbs > 0)
            fprintf(r->json, "\"copy_beside_gbs\": %.4f, ", b->copy_gbs);
        if (b->arith_gflops > 0)
            fprintf(r->json, "\"arith_beside_gflops\": %.4f, ", b->arith_gflops);
        if (copy_at_size_gbs > 0)
            fprintf(r->json, "\"copy_at_size_gbs\": %.4f, ", copy_at_size_gbs);
        if (host_gflops > 0)
            fprintf(r->json, "\"host_gflops_at_shape\": %.4f, ", host_gflops);
        if (target > 0)
            fprintf(r->json, "\"target_pct\": %.0f, \"target_of\": \"%s\", \"pct\": %.2f, ", target,
                    small ? "copy_at_size" : of, pct);
        else
            fprintf(r->json, "\"target_pct\": null, \"target_of\": null, \"pct\": null, ");
        fprintf(r->json, "\"verdict\": \"%s\"}", miss ? "miss" : verdict);
    }
    r->rows++;
    if (r->kept == r->row_cap) {
        int cap = r->row_cap ? 2 * r->row_cap : 64;
        struct bench_row *p = realloc(r->row, (size_t)cap * sizeof *p);
        if (!p)
            return; /* the summary then leaves this row out; the table and the JSON have it */
        r->row = p;
        r->row_cap = cap;
    }
    struct bench_row *w = &r->row[r->kept++];
    snprintf(w->kernel, sizeof w->kernel, "%s", item->kernel);
    snprintf(w->shape, sizeof w->shape, "%s", item->shape);
    w->role = role, w->pct = pct, w->miss = miss, w->small = small;
    w->host_pct = host_gflops > 0 && r->arith_gflops > 0 ? 100 * host_gflops / r->arith_gflops : 0;
}

static void summary_target(const struct bench_report *r, int n, enum bench_role role, const char *what)
{
    int rows = 0, misses = 0;
    for (int i = 0; i < n; i++)
        if (r->row[i].role == role)
            rows++, misses += r->row[i].miss;
    double target = role == ROLE_ARITH ? BENCH_TARGET_ARITH : BENCH_TARGET_MEMORY;
    const char *of = role == ROLE_ARITH ? "gemm" : "copy";
    printf("  %s, target >= %.0f%% of %s: %d of %d rows miss it\n", what, target, of, misses, rows);
    for (int i = 0; i < n; i++) {
        const struct bench_row *w = &r->row[i];
        if (w->role != role || !w->miss)
            continue;
        char shortby[32] = "no time measured";
        if (w->pct > 0)
            snprintf(shortby, sizeof shortby, "%.2fx short", target / w->pct);
        char host[64] = "";
        if (w->host_pct > 0)
            snprintf(host, sizeof host, " (OpenBLAS on the same products: %.0f%%)", w->host_pct);
        printf("    %s %s: %.1f%% of %s, target %.0f%%: %s%s\n", w->kernel, w->shape, w->pct,
               w->small ? "a copy of its bytes" : of, target, shortby, host);
    }
}

void report_end(struct bench_report *r)
{
    int n = r->kept, alt = 0, misses = 0;
    for (int i = 0; i < n; i++)
        alt += r->row[i].role == ROLE_ALT, misses += r->row[i].miss;
    printf("\nsummary (%s, batch %d):\n", r->shapes, r->batch);
    char arith[200];
    if (r->arith_hi > 0)
        snprintf(arith, sizeof arith, "arithmetic (conv direct, fc, sgemm) against %s measured beside each row "
                 "(%.1f-%.1f GFLOP/s)", r->arith_name, r->arith_lo, r->arith_hi);
    else
        snprintf(arith, sizeof arith, "arithmetic (conv direct, fc, sgemm) against %s %.1f GFLOP/s", r->arith_name,
                 r->arith_gflops);
    summary_target(r, n, ROLE_ARITH, arith);
    char memory[200];
    if (r->copy_hi > 0)
        snprintf(memory, sizeof memory, "memory-bound (relu, lrn, maxpool, dropout, sgd) against the copy peak "
                 "measured beside each row (%.1f-%.1f GB/s)", r->copy_lo, r->copy_hi);
    else
        snprintf(memory, sizeof memory, "memory-bound (relu, lrn, maxpool, dropout, sgd) against copy %.1f GB/s",
                 r->copy.gbs);
    summary_target(r, n, ROLE_MEMORY, memory);
    if (alt)
        printf("  %d alt rows (an algorithm the model does not pick at that shape), no verdict\n", alt);
    double layers = 0;
    for (int k = 0; k <= ACL_FC; k++)
        layers += r->kind_s[k];
    double rest = r->step_s > layers ? 1 - layers / r->step_s : 0;
    if (r->step_s > 0) {
        printf("  share of a training step by layer kind (model case, layer by layer, forward + backward):");
        for (int k = 0; k <= ACL_FC; k++)
            if (r->kind_s[k] > 0)
                printf(" %s %.1f%%,", acl_layer_kind_name((enum acl_layer_kind)k), 100 * r->kind_s[k] / r->step_s);
        printf(" rest (loss, gradient zeroing, SGD) %.1f%%\n", 100 * rest);
    } else {
        printf("  share of a training step: the model case did not run (a step past 20 GFLOP runs with "
               "--only model)\n");
    }
    if (r->json) {
        fprintf(r->json, "\n  ],\n  \"misses\": %d,\n  \"step_share\": {", misses);
        for (int k = 0; k <= ACL_FC && r->step_s > 0; k++)
            if (r->kind_s[k] > 0)
                fprintf(r->json, "\"%s\": %.4f, ", acl_layer_kind_name((enum acl_layer_kind)k),
                        r->kind_s[k] / r->step_s);
        if (r->step_s > 0)
            fprintf(r->json, "\"rest\": %.4f", rest);
        fprintf(r->json, "}\n}\n");
    }
    free(r->row);
    r->row = NULL;
    r->kept = r->row_cap = 0;
}

int report_wants(const struct bench_report *r, const char *kernel)
{
    return !r->only || strncmp(kernel, r->only, strlen(r->only)) == 0;
}

int report_wants_kind(const struct bench_report *r, const char *prefix)
{
    if (!r->only)
        return 1;
    size_t a = strlen(prefix), b = strlen(r->only);
    return strncmp(prefix, r->only, a < b ? a : b) == 0;
}

acl_status report_time(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item)
{
    return report_time_host(c, r, item, 0);
}

/* BENCH_BESIDE_RUNS runs of the peak a row of this role is held against, into v (nothing for rows without a
 * target). */
static acl_status peak_runs(struct acl_ctx *c, struct bench_report *r, enum bench_role role, double *v)
{
    if (role == ROLE_MEMORY)
        return bench_copy_again(c, &r->copy, BENCH_BESIDE_RUNS, v);
    if (role != ROLE_ARITH)
        return ACL_OK;
    if (r->arith_host) {
        if (!bench_host_sgemm_runs(r->host_threads, BENCH_BESIDE_RUNS, v))
            return acl_fail(ACL_ERR_MEMORY, "out of host memory for the host SGEMM's operands");
        return ACL_OK;
    }
    for (int i = 0; i < BENCH_BESIDE_RUNS; i++) {
        acl_status st = bench_gemm_peak(c, &v[i]);
        if (st != ACL_OK)
            return st;
    }
    return ACL_OK;
}

static void widen(double *lo, double *hi, double v)
{
    *lo = *lo > 0 && *lo < v ? *lo : v;
    *hi = *hi > v ? *hi : v;
}

acl_status report_time_host(struct acl_ctx *c, struct bench_report *r, const struct bench_item *item,
                            double host_gflops)
{
    if (!report_wants(r, item->kernel))
        return ACL_OK;
    struct bench_result res;
    struct bench_beside b = {0, 0, host_gflops, 0};
    enum bench_role role = role_of(item);
    double peak[2 * BENCH_BESIDE_RUNS];
    acl_status st = peak_runs(c, r, role, peak);
    if (st == ACL_OK)
        st = bench_time(c, item, r->warmup, r->reps, &res);
    if (st == ACL_OK)
        st = peak_runs(c, r, role, peak + BENCH_BESIDE_RUNS);
    if (st == ACL_OK && role == ROLE_MEMORY) {
        b.copy_gbs = bench_median(peak, 2 * BENCH_BESIDE_RUNS);
        widen(&r->copy_lo, &r->copy_hi, b.copy_gbs);
    } else if (st == ACL_OK && role == ROLE_ARITH) {
        b.arith_gflops = bench_median(peak, 2 * BENCH_BESIDE_RUNS);
        widen(&r->arith_lo, &r->arith_hi, b.arith_gflops);
    }
    if (st == ACL_OK && role == ROLE_MEMORY && item->bytes <= BENCH_SMALL_BYTES)
        st = bench_copy_at(c, item->bytes, r->reps, &b.copy_at_size_gbs);
    if (st == ACL_OK)
        report_row_beside(r, item, &res, &b);
    return st;
}
