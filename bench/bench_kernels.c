/* bench_kernels.c: times every kernel of the engine at the paper's AlexNet layer shapes (batch 32 by
 * default) with OpenCL profiling events, and prints median time, GFLOP/s and GB/s next to the peaks this
 * run measured: the device's copy bandwidth and CLBlast's SGEMM at 2048^3.
 * --shapes mini times the mini preset's layer shapes instead, and a whole mini training step layer by layer.
 * Usage: bench_kernels [--device N|NAME] [--batch N] [--reps N] [--only PREFIX] [--shapes paper|mini]
 *                      [--json FILE] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases.h"
#include "runtime/engine.h"
#include "runtime/error.h"

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "bench_kernels: %s\n", msg);
    fprintf(stderr, "usage: bench_kernels [--device N|NAME] [--batch N] [--reps N] [--only PREFIX] "
                    "[--shapes paper|mini] [--json FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    acl_engine_options opt = {0};
    struct bench_report r = {.batch = 32, .warmup = 1, .reps = 7};
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return usage(NULL) - 2;
        if (!v)
            return usage("every option needs a value");
        if (!strcmp(a, "--device"))
            opt.device = v;
        else if (!strcmp(a, "--batch"))
            r.batch = atoi(v);
        else if (!strcmp(a, "--reps"))
            r.reps = atoi(v);
        else if (!strcmp(a, "--only"))
            r.only = v;
        else if (!strcmp(a, "--shapes")) {
            if (strcmp(v, "paper") && strcmp(v, "mini"))
                return usage("--shapes is paper or mini");
            r.shapes = v;
        } else if (!strcmp(a, "--json"))
            json = v;
        else
            return usage("unknown option");
        i++;
    }
    if (r.batch < 1 || r.batch > 4096 || r.reps < 1 || r.reps > 1000)
        return usage("--batch wants 1..4096 and --reps 1..1000");
    acl_engine *e = NULL;
    acl_status st = acl_engine_create(&opt, &e);
    if (st != ACL_OK) {
        fprintf(stderr, "bench_kernels: %s\n", acl_last_error());
        return 1;
    }
    struct acl_ctx *c = acl_engine_ctx(e);
    if (json && !(r.json = fopen(json, "w"))) {
        fprintf(stderr, "bench_kernels: cannot write %s\n", json);
        acl_engine_destroy(e);
        return 1;
    }
    if ((st = bench_copy_peak(c, &r.copy)) != ACL_OK || (st = bench_gemm_peak(c, &r.gemm_gflops)) != ACL_OK)
        goto out;
    char device[200];
    snprintf(device, sizeof device, "%s (%s)", c->dev.info.name, c->dev.info.version);
    report_begin(&r, device);
    for (int i = 0; bench_cases[i].run; i++)
        if ((st = bench_cases[i].run(c, &r)) != ACL_OK) {
            acl_fail_context(st, "bench of %s", bench_cases[i].name);
            goto out;
        }
    report_end(&r);
out:
    if (r.json)
        fclose(r.json);
    if (st != ACL_OK)
        fprintf(stderr, "bench_kernels: %s\n", acl_last_error());
    acl_engine_destroy(e);
    return st == ACL_OK ? 0 : 1;
}
