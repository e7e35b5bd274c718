/* program.h: building one cl/ program for one device, through the binary cache. */
#ifndef ACL_RUNTIME_PROGRAM_H
#define ACL_RUNTIME_PROGRAM_H

#include <CL/cl.h>

#include "runtime/device.h"
#include "runtime/sources.h"
#include "runtime/tune.h"

struct acl_build_result {
    int cache_hit;
    int cache_rejected;
};

/* tune (may be NULL: the .cl defaults) gives the program's -D defines. */
acl_status acl_build_program(cl_context ctx, const struct acl_device_ref *dev, const char *kernel_dir,
                             const char *cache_dir, const char *cl_name, const struct acl_tune *tune, int verbose,
                             cl_program *out, struct acl_build_result *res);

#endif
