/* bench_kernels.c: times every kernel of the engine at the layer shapes of a network (a preset or a description
 * file; the paper's AlexNet at batch 32 by default) with OpenCL profiling events, and prints median time,
 * GFLOP/s and GB/s next to the peaks this run measured (the device's copy bandwidth, its SGEMM at 2048^3 and
 * the host's OpenBLAS SGEMM), with each row's target and verdict, and a summary of the rows that miss.
 * Usage: bench_kernels [--device N|NAME] [--batch N] [--reps N] [--only PREFIX]
 *                      [--shapes paper|torchvision|mini|FILE] [--classes N] [--json FILE] */
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
                    "[--shapes paper|torchvision|mini|FILE] [--classes N] [--json FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    acl_engine_options opt = {0};
    struct bench_report r = {.batch = 32, .warmup = 1, .reps = 7, .shapes = "paper"};
    const char *json = NULL;
    int classes = 0;
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
        else if (!strcmp(a, "--shapes"))
            r.shapes = v;
        else if (!strcmp(a, "--classes"))
            classes = atoi(v);
        else if (!strcmp(a, "--json"))
            json = v;
        else
            return usage("unknown option");
        i++;
    }
    if (r.batch < 1 || r.batch > 4096 || r.reps < 1 || r.reps > 1000 || classes < 0 || classes > 1000000)
        return usage("--batch wants 1..4096, --reps 1..1000 and --classes 1..1000000");
    /* The network first: a bad --shapes is a usage error, told before any device starts. */
    struct acl_net *net = NULL;
    acl_status st = acl_net_load(r.shapes, classes ? classes : !strcmp(r.shapes, "mini") ? 10 : 1000, &net);
    if (st != ACL_OK) {
        fprintf(stderr, "bench_kernels: --shapes %s: %s\n", r.shapes, acl_last_error());
        return usage("--shapes takes paper, torchvision, mini or a network description file (net.h)");
    }
    r.net = net;
    acl_engine *e = NULL;
    if ((st = acl_engine_create(&opt, &e)) != ACL_OK) {
        fprintf(stderr, "bench_kernels: %s\n", acl_last_error());
        acl_net_free(net);
        return 1;
    }
    struct acl_ctx *c = acl_engine_ctx(e);
    if (json && !(r.json = fopen(json, "w"))) {
        fprintf(stderr, "bench_kernels: cannot write %s\n", json);
        acl_engine_destroy(e);
        acl_net_free(net);
        return 1;
    }
    /* On a CPU device the kernels run on the host's cores, where OpenBLAS shows what SGEMM can reach: the
     * arithmetic kernels are held against it, on as many threads as the device has compute units. On a GPU
     * (or without OpenBLAS) against the device's own acl_gemm. The header's figures, measured here, are the
     * run's first look; each row is held against its peak measured again beside it (report.h). */
    const char *why = NULL;
    r.host_threads = (int)c->dev.info.compute_units;
    r.host_gflops = bench_host_sgemm(r.host_threads, &why);
    if ((st = bench_copy_peak(c, &r.copy)) != ACL_OK || (st = bench_gemm_peak(c, &r.gemm_gflops)) != ACL_OK)
        goto out;
    int cpu = !strcmp(c->dev.info.type, "CPU");
    r.arith_host = cpu && r.host_gflops > 0;
    r.arith_gflops = r.arith_host ? r.host_gflops : r.gemm_gflops;
    r.arith_name = r.arith_host ? "host OpenBLAS SGEMM" : "device acl_gemm SGEMM";
    if (why)
        printf("host SGEMM peak not measured: %s\n", why);
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
    free(r.row);
    bench_copy_close(&r.copy);
    bench_host_free();
    if (r.json)
        fclose(r.json);
    if (st != ACL_OK)
        fprintf(stderr, "bench_kernels: %s\n", acl_last_error());
    acl_engine_destroy(e);
    acl_net_free(net);
    return st == ACL_OK ? 0 : 1;
}
