/* launch.c: kernel lookup, argument setting, launch with tail rounding, and buffer helpers. */
#include <stdio.h>
#include <string.h>

#include "runtime/ctx.h"
#include "runtime/error.h"

acl_status acl_kernel(struct acl_ctx *c, const char *name, struct acl_kernel_entry **out)
{
    for (int i = 0; i < c->nkernels; i++)
        if (strcmp(c->kernels[i].name, name) == 0) {
            *out = &c->kernels[i];
            return ACL_OK;
        }
    return acl_fail(ACL_ERR_ARGUMENT, "no kernel named %s in the engine's programs", name);
}

acl_status acl_launch(struct acl_ctx *c, const char *name, int dims, const size_t *global,
                      const size_t *local, const struct acl_arg *args, int nargs, cl_event *ev)
{
    acl_status st = ACL_OK;
    struct acl_kernel_entry *k = NULL;
    size_t g[3] = {1, 1, 1}, l[3] = {1, 1, 1};
    static const size_t defaults[3][3] = {{64, 1, 1}, {16, 4, 1}, {8, 4, 2}};
    if (dims < 1 || dims > 3)
        return acl_fail(ACL_ERR_ARGUMENT, "launch of %s: %d dimensions", name, dims);
    ACL_TRY(acl_kernel(c, name, &k));
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k->kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clSetKernelArg(%s, %d)", name, i);
            return acl_cl_fail(err, what, __FILE__, __LINE__);
        }
    }
    size_t total = 1;
    for (int i = 0; i < dims; i++) {
        if (global[i] == 0)
            return ACL_OK; /* nothing to do */
        l[i] = local ? local[i] : defaults[dims - 1][i];
        total *= l[i];
    }
    /* Halve the largest dimension until the group fits what the kernel allows on this device. */
    while (total > k->max_wg) {
        int big = 0;
        for (int i = 1; i < dims; i++)
            if (l[i] > l[big])
                big = i;
        if (l[big] == 1)
            break;
        total /= l[big];
        l[big] = (l[big] + 1) / 2;
        total *= l[big];
    }
    for (int i = 0; i < dims; i++)
        g[i] = (global[i] + l[i] - 1) / l[i] * l[i];
    cl_int err = clEnqueueNDRangeKernel(c->queue, k->kernel, (cl_uint)dims, NULL, g, l, 0, NULL, ev);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", name);
        return acl_cl_fail(err, what, __FILE__, __LINE__);
    }
cleanup:
    return st;
}

acl_status acl_buffer(struct acl_ctx *c, size_t bytes, cl_mem *out)
{
    const acl_device_info *d = &c->dev.info;
    *out = NULL;
    if (bytes == 0)
        bytes = 4; /* OpenCL refuses empty buffers; callers may ask for an empty tensor */
    if (bytes > d->max_alloc_bytes || bytes > d->global_mem_bytes)
        return acl_fail(ACL_ERR_MEMORY, "device %d (%s) cannot hold a buffer of %.1f MiB: its largest "
                        "allocation is %.1f MiB; use a smaller batch or a device with more memory",
                        d->index, d->name, bytes / 1048576.0, d->max_alloc_bytes / 1048576.0);
    cl_int err = CL_SUCCESS;
    *out = clCreateBuffer(c->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS) {
        *out = NULL;
        acl_cl_fail(err, "clCreateBuffer", __FILE__, __LINE__);
        return acl_fail_context(ACL_ERR_MEMORY, "allocating %.1f MiB on device %d (%s)", bytes / 1048576.0,
                                d->index, d->name);
    }
    return ACL_OK;
}

acl_status acl_write(struct acl_ctx *c, cl_mem buf, size_t offset_bytes, size_t bytes, const void *src)
{
    acl_status st = ACL_OK;
    if (bytes)
        CL_TRY(clEnqueueWriteBuffer(c->queue, buf, CL_TRUE, offset_bytes, bytes, src, 0, NULL, NULL));
cleanup:
    return st;
}

acl_status acl_read(struct acl_ctx *c, cl_mem buf, size_t offset_bytes, size_t bytes, void *dst)
{
    acl_status st = ACL_OK;
    if (bytes)
        CL_TRY(clEnqueueReadBuffer(c->queue, buf, CL_TRUE, offset_bytes, bytes, dst, 0, NULL, NULL));
cleanup:
    return st;
}

acl_status acl_fill_float(struct acl_ctx *c, cl_mem buf, size_t offset, size_t n, float value)
{
    acl_status st = ACL_OK;
    if (n)
        CL_TRY(clEnqueueFillBuffer(c->queue, buf, &value, sizeof value, offset * sizeof(float),
                                   n * sizeof(float), 0, NULL, NULL));
cleanup:
    return st;
}

acl_status acl_finish(struct acl_ctx *c)
{
    acl_status st = ACL_OK;
    CL_TRY(clFinish(c->queue));
cleanup:
    return st;
}

acl_status acl_event_ns(cl_event ev, double *ns)
{
    acl_status st = ACL_OK;
    cl_ulong t0 = 0, t1 = 0;
    CL_TRY(clWaitForEvents(1, &ev));
    CL_TRY(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL));
    CL_TRY(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL));
    *ns = (double)(t1 - t0);
cleanup:
    return st;
}
