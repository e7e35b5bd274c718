/* program.c: builds one program from source or from the binary cache, printing the build log on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cache.h"
#include "runtime/error.h"
#include "runtime/hash.h"
#include "runtime/program.h"

/* Every define a kernel's header comment lists has a default in the .cl file; the device's tuning table
 * (runtime/tune.h) overrides them here, and the same table is what the launchers read. */
static void program_options(const struct acl_tune *tune, const char *cl_name, char *out, size_t size)
{
    snprintf(out, size, "-cl-std=CL1.2");
    if (tune)
        acl_tune_defines(tune, cl_name, out, size);
}

static void cache_key(const struct acl_device_ref *dev, const char *text, const char *options, char *key,
                      size_t size)
{
    char platform_version[128] = "";
    clGetPlatformInfo(dev->platform, CL_PLATFORM_VERSION, sizeof platform_version, platform_version, NULL);
    platform_version[sizeof platform_version - 1] = '\0';
    size_t n = strlen(text);
    snprintf(key, size,
             "engine alexnet-cl %s\nplatform %s | %s\ndevice %s\ndriver %s\noptions %s\nsource %zu %016llx %016llx\n",
             ACL_VERSION_STRING, dev->info.platform, platform_version, dev->info.name, dev->info.driver_version,
             options, n, (unsigned long long)acl_fnv1a(ACL_FNV_OFFSET, text, n),
             (unsigned long long)acl_fnv1a(0x84222325cbf29ce4ULL, text, n));
}

static acl_status build_log_fail(cl_program prog, const struct acl_device_ref *dev, const char *cl_name,
                                 const char *options, cl_int err)
{
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS && len) {
        log = malloc(len + 1);
        if (log && clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, len, log, NULL) == CL_SUCCESS)
            log[len] = '\0';
    }
    /* The full log goes to stderr (it can be long); the status message names the file. */
    fprintf(stderr, "alexnet-cl: build log of cl/%s on %s (options: %s):\n%s\n", cl_name, dev->info.name,
            options, log ? log : "(no build log)");
    free(log);
    return acl_fail(ACL_ERR_BUILD, "kernel source cl/%s failed to build on device %d (%s) with %s; the build "
                    "log is printed above", cl_name, dev->info.index, dev->info.name, acl_cl_error_name(err));
}

static acl_status from_binary(cl_context ctx, const struct acl_device_ref *dev, const char *options,
                              const unsigned char *bin, size_t len, cl_program *out)
{
    cl_int err = CL_SUCCESS, bin_status = CL_SUCCESS;
    cl_program prog = clCreateProgramWithBinary(ctx, 1, &dev->id, &len, &bin, &bin_status, &err);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (prog)
            clReleaseProgram(prog);
        return ACL_ERR_FORMAT;
    }
    if (clBuildProgram(prog, 1, &dev->id, options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return ACL_ERR_FORMAT;
    }
    *out = prog;
    return ACL_OK;
}

static acl_status store_binary(cl_program prog, const char *cache_dir, const char *key, int verbose)
{
    acl_status st = ACL_OK;
    size_t len = 0;
    unsigned char *bin = NULL;
    CL_TRY(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL));
    if (len == 0)
        goto cleanup; /* the driver offers no binary: nothing to cache */
    bin = malloc(len);
    if (!bin) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory caching a program binary");
        goto cleanup;
    }
    CL_TRY(clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL));
    st = acl_cache_store(cache_dir, key, bin, len);
cleanup:
    if (st != ACL_OK && verbose)
        fprintf(stderr, "alexnet-cl: warning: program cache not written: %s\n", acl_last_error());
    free(bin);
    return ACL_OK; /* a cache that cannot be written only costs time */
}

acl_status acl_build_program(cl_context ctx, const struct acl_device_ref *dev, const char *kernel_dir,
                             const char *cache_dir, const char *cl_name, const struct acl_tune *tune, int verbose,
                             cl_program *out, struct acl_build_result *res)
{
    acl_status st = ACL_OK;
    char *text = NULL, options[1024], *key = NULL;
    unsigned char *bin = NULL;
    size_t bin_len = 0;
    cl_program prog = NULL;
    memset(res, 0, sizeof *res);
    *out = NULL;
    ACL_TRY(acl_program_text(kernel_dir, cl_name, &text));
    program_options(tune, cl_name, options, sizeof options);
    key = malloc(8192);
    if (!key) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    cache_key(dev, text, options, key, 8192);
    ACL_TRY(acl_cache_load(cache_dir, key, &bin, &bin_len, &res->cache_rejected));
    if (res->cache_rejected && verbose)
        fprintf(stderr, "alexnet-cl: discarded an invalid program cache file for cl/%s; rebuilding\n", cl_name);
    if (bin && from_binary(ctx, dev, options, bin, bin_len, &prog) == ACL_OK) {
        res->cache_hit = 1;
        goto done;
    }
    if (bin) { /* validated but the driver refused it: discard */
        char path[4200];
        acl_cache_path(cache_dir, key, path, sizeof path);
        remove(path);
        res->cache_rejected = 1;
    }
    const char *src = text;
    cl_int err = CL_SUCCESS;
    prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err);
    CL_TRY(err);
    err = clBuildProgram(prog, 1, &dev->id, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = build_log_fail(prog, dev, cl_name, options, err);
        goto cleanup;
    }
    store_binary(prog, cache_dir, key, verbose);
done:
    *out = prog;
    prog = NULL;
cleanup:
    if (prog)
        clReleaseProgram(prog);
    free(bin);
    free(key);
    free(text);
    return st;
}
