/* alexnet_cl.h: the public C API of alexnet-cl, an OpenCL engine that trains and runs AlexNet.
 *
 * Every function returns an acl_status; on failure acl_last_error() holds a one-line message that says
 * what went wrong, where, and what to do. The library never exits or aborts. */
#ifndef ALEXNET_CL_H
#define ALEXNET_CL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ACL_VERSION_STRING "0.1.0"

typedef enum acl_status {
    ACL_OK = 0,
    ACL_ERR_ARGUMENT,    /* a caller passed something invalid */
    ACL_ERR_NO_PLATFORM, /* no OpenCL platform is installed */
    ACL_ERR_NO_DEVICE,   /* the requested device does not exist */
    ACL_ERR_OPENCL,      /* an OpenCL call failed */
    ACL_ERR_BUILD,       /* a kernel failed to compile */
    ACL_ERR_MEMORY,      /* not enough host or device memory */
    ACL_ERR_IO,          /* a file could not be read or written */
    ACL_ERR_FORMAT,      /* a file is corrupt, truncated or of another format */
    ACL_ERR_BLAS,        /* CLBlast failed */
    ACL_ERR_MISMATCH,    /* a device result differs from the host reference */
    ACL_ERR_DIVERGED,    /* training produced a NaN or infinite loss */
    ACL_ERR_INTERRUPTED, /* stopped on request (Ctrl-C) after saving a checkpoint */
    ACL_ERR_CONFLICT,    /* an argument contradicts a file (resuming a checkpoint with another batch size) */
} acl_status;

/* The status's name, e.g. "ACL_ERR_OPENCL". */
const char *acl_status_name(acl_status status);
/* The message of this thread's last failure ("" if none). */
const char *acl_last_error(void);

/* ---- devices ------------------------------------------------------------------------------------ */

typedef struct acl_device_info {
    int index;               /* global index across platforms, as `--device N` takes it */
    int platform_index;
    char platform[128];
    char name[128];
    char vendor[64];
    char version[64];        /* e.g. "OpenCL 3.0 PoCL ..." */
    char driver_version[64];
    char type[16];           /* "GPU", "CPU", "accelerator", "other" */
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    uint32_t compute_units;
    size_t max_work_group_size;
    uint32_t float_vector_width; /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT: 16 on PoCL with AVX-512 */
} acl_device_info;

/* Lists every device of every platform. *devices is malloc'd; free it with free(). */
acl_status acl_list_devices(acl_device_info **devices, size_t *count);

/* ---- the engine: one device, its context and queue, and every kernel built ------------------------ */

typedef struct acl_engine acl_engine;

typedef struct acl_engine_options {
    const char *device;      /* an index ("1") or a substring of the device name; NULL or "" = device 0 */
    const char *cache_dir;   /* program-binary cache; NULL = $ACL_CACHE_DIR or ~/.cache/alexnet-cl; "" = off */
    const char *kernel_dir;  /* read cl/ sources from here; NULL = $ACL_KERNEL_DIR or the embedded copy */
    int verbose;             /* print start-up details to stderr */
} acl_engine_options;

typedef struct acl_startup_stats {
    double seconds;          /* from context creation to every kernel ready */
    int programs;            /* programs built or loaded */
    int cache_hits;          /* of those, loaded from the binary cache */
    int cache_rejects;       /* cache files found but discarded (corrupt, foreign, stale) */
} acl_startup_stats;

acl_status acl_engine_create(const acl_engine_options *options, acl_engine **engine);
void acl_engine_destroy(acl_engine *engine);
acl_status acl_engine_device(const acl_engine *engine, acl_device_info *info);
acl_status acl_engine_startup(const acl_engine *engine, acl_startup_stats *stats);

/* ---- selftest: every kernel against its host reference ----------------------------------------- */

typedef struct acl_check_row {
    char op[32];             /* e.g. "conv.forward" */
    char shape[96];          /* e.g. "N1 C3 227x227 K96 11x11/4 g1" */
    double max_err;          /* max |device - reference| / (atol + rtol*|reference|): pass when <= 1 */
    double max_abs;          /* max |device - reference| */
    int pass;                /* 0 also on NaN/Inf, on a touched sentinel, or on an untouched output */
    char note[64];           /* why it failed, when it did */
} acl_check_row;

typedef void (*acl_check_fn)(const acl_check_row *row, void *user);

/* Runs every op's cases; each result goes to report(). tiny = only the small shapes (for simulators).
 * op_filter = NULL or a prefix of the op names to run. *failures counts failed rows. */
acl_status acl_selftest(acl_engine *engine, int tiny, const char *op_filter, acl_check_fn report,
                        void *user, int *failures);

#ifdef __cplusplus
}
#endif
#endif
