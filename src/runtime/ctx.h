/* ctx.h: one device's execution context: OpenCL context, in-order profiling queue, every program built
 * and every kernel created, looked up by name. The ops enqueue work through acl_launch(). */
#ifndef ACL_RUNTIME_CTX_H
#define ACL_RUNTIME_CTX_H

#include <CL/cl.h>
#include <stddef.h>

#include "alexnet_cl.h"
#include "runtime/device.h"
#include "runtime/tune.h"

struct acl_kernel_entry {
    char name[64];
    cl_kernel kernel;
    size_t max_wg; /* CL_KERNEL_WORK_GROUP_SIZE on this device */
};

struct acl_ctx {
    struct acl_device_ref dev;
    cl_context context;
    cl_command_queue queue;
    cl_program *programs;
    int nprograms;
    struct acl_kernel_entry *kernels;
    int nkernels;
    int verbose;
    /* The values the programs were built with and the launchers must use (runtime/tune.h). */
    struct acl_tune tune;
    char kernel_dir[4096], cache_dir[4096]; /* kernel_dir "" = the embedded sources */
};

/* Creates the context and queue on dev and builds every program of cl/ (through the binary cache). */
acl_status acl_ctx_init(struct acl_ctx *c, const struct acl_device_ref *dev, const acl_engine_options *opt,
                        acl_startup_stats *stats);
/* The same in an existing context that holds dev among its devices (two devices sharing one context,
 * src/parallel/pair.c): the context is retained, and the queue and programs are dev's own. */
acl_status acl_ctx_init_in(struct acl_ctx *c, const struct acl_device_ref *dev, cl_context shared,
                           const acl_engine_options *opt, acl_startup_stats *stats);
/* The same with an explicit tuning table instead of the device's stored one (tune NULL: the defaults); the
 * tuner starts from here. */
acl_status acl_ctx_init_tuned(struct acl_ctx *c, const struct acl_device_ref *dev, cl_context shared,
                              const acl_engine_options *opt, const struct acl_tune *tune, acl_startup_stats *stats);
/* Rebuilds program cl_name with tune's defines and swaps its kernels in; c->tune becomes tune. Only for
 * fields of cl_name's own defines and for launch sizes (the tuner): other programs keep what they were built
 * with. */
acl_status acl_ctx_rebuild(struct acl_ctx *c, const char *cl_name, const struct acl_tune *tune);
void acl_ctx_release(struct acl_ctx *c);

/* The kernel named name, or ACL_ERR_ARGUMENT naming it. */
acl_status acl_kernel(struct acl_ctx *c, const char *name, struct acl_kernel_entry **out);

/* ---- a device tensor: a buffer and an element offset into it --------------------------------- */

struct acl_view {
    cl_mem buf;
    size_t off; /* in floats (or in elements of the buffer's type) */
};

static inline struct acl_view acl_at(struct acl_view v, size_t elems)
{
    v.off += elems;
    return v;
}

/* ---- kernel arguments and launch -------------------------------------------------------------- */

struct acl_arg {
    size_t size;
    const void *value; /* NULL with a size: __local memory of that many bytes */
};

#define ARG_MEM(m) ((struct acl_arg){sizeof(cl_mem), &(cl_mem){(m)}})
#define ARG_INT(v) ((struct acl_arg){sizeof(cl_int), &(cl_int){(cl_int)(v)}})
#define ARG_UINT(v) ((struct acl_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(v)}})
#define ARG_ULONG(v) ((struct acl_arg){sizeof(cl_ulong), &(cl_ulong){(cl_ulong)(v)}})
#define ARG_FLOAT(v) ((struct acl_arg){sizeof(cl_float), &(cl_float){(cl_float)(v)}})
#define ARG_LOCAL(bytes) ((struct acl_arg){(bytes), NULL})
/* A tensor is passed as two kernel arguments: (__global float *p, int p_off). */
#define ARG_VIEW(v) ARG_MEM((v).buf), ARG_INT((v).off)

/* Sets args and enqueues name on the context's queue. global is the logical size: it is rounded up to a
 * multiple of local, so kernels must guard their tails. local NULL = 64 (1-D), 16x4 (2-D), 8x4x2 (3-D),
 * clamped to what the kernel allows. ev (may be NULL) receives the kernel's event. */
acl_status acl_launch(struct acl_ctx *c, const char *name, int dims, const size_t *global,
                      const size_t *local, const struct acl_arg *args, int nargs, cl_event *ev);

#define ACL_ARGS(...) (const struct acl_arg[]){__VA_ARGS__}, \
    (int)(sizeof((const struct acl_arg[]){__VA_ARGS__}) / sizeof(struct acl_arg))

/* A 1-D launch over n items with the default work-group size. */
#define ACL_LAUNCH1(c, name, n, ev, ...) \
    acl_launch((c), (name), 1, (const size_t[]){(size_t)(n)}, NULL, ACL_ARGS(__VA_ARGS__), (ev))

/* ---- buffers -------------------------------------------------------------------------------- */

/* A device buffer of bytes; refuses, naming the device and the sizes, what the device cannot hold. */
acl_status acl_buffer(struct acl_ctx *c, size_t bytes, cl_mem *out);
acl_status acl_write(struct acl_ctx *c, cl_mem buf, size_t offset_bytes, size_t bytes, const void *src);
acl_status acl_read(struct acl_ctx *c, cl_mem buf, size_t offset_bytes, size_t bytes, void *dst);
acl_status acl_fill_float(struct acl_ctx *c, cl_mem buf, size_t offset, size_t n, float value);
acl_status acl_finish(struct acl_ctx *c);
/* Nanoseconds between an event's start and end (it must have completed). */
acl_status acl_event_ns(cl_event ev, double *ns);

#endif
