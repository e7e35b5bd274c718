/* ctx.c: creates a device's context and queue and builds every program at start-up. */
#include "runtime/ctx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/cache.h"
#include "runtime/error.h"
#include "runtime/program.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static acl_status add_kernels(struct acl_ctx *c, cl_program prog)
{
    acl_status st = ACL_OK;
    cl_uint n = 0;
    cl_kernel *ks = NULL;
    CL_TRY(clCreateKernelsInProgram(prog, 0, NULL, &n));
    ks = calloc(n ? n : 1, sizeof *ks);
    struct acl_kernel_entry *grown = realloc(c->kernels, (size_t)(c->nkernels + (int)n) * sizeof *grown + 1);
    if (!ks || !grown) {
        if (grown)
            c->kernels = grown;
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory creating kernels");
        goto cleanup;
    }
    c->kernels = grown;
    CL_TRY(clCreateKernelsInProgram(prog, n, ks, NULL));
    for (cl_uint i = 0; i < n; i++) {
        struct acl_kernel_entry *e = &c->kernels[c->nkernels++];
        memset(e, 0, sizeof *e);
        e->kernel = ks[i];
        ks[i] = NULL;
        CL_TRY(clGetKernelInfo(e->kernel, CL_KERNEL_FUNCTION_NAME, sizeof e->name - 1, e->name, NULL));
        CL_TRY(clGetKernelWorkGroupInfo(e->kernel, c->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof e->max_wg,
                                        &e->max_wg, NULL));
        if (e->max_wg == 0)
            e->max_wg = 1;
    }
cleanup:
    if (ks)
        for (cl_uint i = 0; i < n; i++)
            if (ks[i])
                clReleaseKernel(ks[i]);
    free(ks);
    return st;
}

acl_status acl_ctx_init(struct acl_ctx *c, const struct acl_device_ref *dev, const acl_engine_options *opt,
                        acl_startup_stats *stats)
{
    return acl_ctx_init_in(c, dev, NULL, opt, stats);
}

acl_status acl_ctx_init_in(struct acl_ctx *c, const struct acl_device_ref *dev, cl_context shared,
                           const acl_engine_options *opt, acl_startup_stats *stats)
{
    struct acl_tune tune;
    char cache_dir[4096];
    acl_cache_dir(opt ? opt->cache_dir : NULL, cache_dir, sizeof cache_dir);
    acl_tune_load(cache_dir, dev, opt ? opt->verbose : 0, &tune);
    return acl_ctx_init_tuned(c, dev, shared, opt, &tune, stats);
}

acl_status acl_ctx_init_tuned(struct acl_ctx *c, const struct acl_device_ref *dev, cl_context shared,
                              const acl_engine_options *opt, const struct acl_tune *tune, acl_startup_stats *stats)
{
    acl_status st = ACL_OK;
    cl_int err = CL_SUCCESS;
    char cache_dir[4096];
    double t0 = now_s();
    memset(c, 0, sizeof *c);
    memset(stats, 0, sizeof *stats);
    c->dev = *dev;
    c->verbose = opt ? opt->verbose : 0;
    const char *kernel_dir = opt && opt->kernel_dir ? opt->kernel_dir : getenv("ACL_KERNEL_DIR");
    acl_cache_dir(opt ? opt->cache_dir : NULL, cache_dir, sizeof cache_dir);
    if (tune)
        c->tune = *tune;
    else
        acl_tune_device_defaults(&c->tune, &dev->info);
    snprintf(c->kernel_dir, sizeof c->kernel_dir, "%s", kernel_dir ? kernel_dir : "");
    snprintf(c->cache_dir, sizeof c->cache_dir, "%s", cache_dir);

    if (shared) {
        /* Retained, so acl_ctx_release() stays the same for both kinds of context. */
        CL_TRY(clRetainContext(shared));
        c->context = shared;
    } else {
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform, 0};
        c->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &err);
        CL_TRY(err);
    }
    c->queue = clCreateCommandQueue(c->context, dev->id, CL_QUEUE_PROFILING_ENABLE, &err);
    CL_TRY(err);

    int n = acl_program_count();
    c->programs = calloc((size_t)n, sizeof *c->programs);
    if (!c->programs) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    for (int i = 0; i < n; i++) {
        struct acl_build_result r;
        const char *name = acl_program_name(i);
        double tp = now_s();
        ACL_TRY(acl_build_program(c->context, dev, kernel_dir, cache_dir, name, &c->tune, c->verbose,
                                  &c->programs[i], &r));
        c->nprograms++;
        stats->programs++;
        stats->cache_hits += r.cache_hit;
        stats->cache_rejects += r.cache_rejected;
        if (c->verbose > 1)
            fprintf(stderr, "alexnet-cl: cl/%s %s in %.3f s\n", name, r.cache_hit ? "loaded from cache" : "built",
                    now_s() - tp);
        ACL_TRY(add_kernels(c, c->programs[i]));
    }
    stats->seconds = now_s() - t0;
    if (c->verbose)
        fprintf(stderr, "alexnet-cl: start-up %.3f s on device %d (%s): %d programs, %d from cache%s%s\n",
                stats->seconds, dev->info.index, dev->info.name, stats->programs, stats->cache_hits,
                cache_dir[0] ? " in " : " (cache off)", cache_dir);
cleanup:
    if (st != ACL_OK)
        acl_ctx_release(c);
    return st;
}

acl_status acl_ctx_rebuild(struct acl_ctx *c, const char *cl_name, const struct acl_tune *tune)
{
    acl_status st = ACL_OK;
    struct acl_build_result r;
    cl_program prog = NULL;
    cl_kernel *ks = NULL;
    cl_uint n = 0;
    int idx = -1;
    for (int i = 0; i < acl_program_count() && i < c->nprograms; i++)
        if (!strcmp(acl_program_name(i), cl_name))
            idx = i;
    if (idx < 0)
        return acl_fail(ACL_ERR_ARGUMENT, "no program cl/%s to rebuild", cl_name);
    ACL_TRY(acl_build_program(c->context, &c->dev, c->kernel_dir[0] ? c->kernel_dir : NULL, c->cache_dir, cl_name,
                              tune, c->verbose, &prog, &r));
    CL_TRY(clCreateKernelsInProgram(prog, 0, NULL, &n));
    ks = calloc(n ? n : 1, sizeof *ks);
    if (!ks) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    CL_TRY(clCreateKernelsInProgram(prog, n, ks, NULL));
    for (cl_uint i = 0; i < n; i++) {
        char name[64] = "";
        struct acl_kernel_entry *e = NULL;
        CL_TRY(clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof name - 1, name, NULL));
        ACL_TRY(acl_kernel(c, name, &e));
        size_t wg = 1;
        CL_TRY(clGetKernelWorkGroupInfo(ks[i], c->dev.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL));
        clReleaseKernel(e->kernel);
        e->kernel = ks[i];
        e->max_wg = wg ? wg : 1;
        ks[i] = NULL;
    }
    clReleaseProgram(c->programs[idx]);
    c->programs[idx] = prog;
    prog = NULL;
    c->tune = *tune;
cleanup:
    if (ks)
        for (cl_uint i = 0; i < n; i++)
            if (ks[i])
                clReleaseKernel(ks[i]);
    free(ks);
    if (prog)
        clReleaseProgram(prog);
    return st;
}

void acl_ctx_release(struct acl_ctx *c)
{
    for (int i = 0; i < c->nkernels; i++)
        clReleaseKernel(c->kernels[i].kernel);
    for (int i = 0; i < c->nprograms; i++)
        clReleaseProgram(c->programs[i]);
    if (c->queue)
        clReleaseCommandQueue(c->queue);
    if (c->context)
        clReleaseContext(c->context);
    free(c->kernels);
    free(c->programs);
    memset(c, 0, sizeof *c);
}
