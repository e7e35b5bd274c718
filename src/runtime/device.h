/* device.h: every platform and device, and choosing one by index or name. */
#ifndef ACL_RUNTIME_DEVICE_H
#define ACL_RUNTIME_DEVICE_H

#include <CL/cl.h>

#include "alexnet_cl.h"

struct acl_device_ref {
    cl_platform_id platform;
    cl_device_id id;
    acl_device_info info;
};

/* Every device of every platform, in platform order; *devs is malloc'd. */
acl_status acl_enumerate(struct acl_device_ref **devs, size_t *count);

/* selector: NULL/"" = device 0; all digits = global index; else a case-insensitive substring of the
 * device name (or platform name), first match wins. */
acl_status acl_select_device(const char *selector, struct acl_device_ref *out);

#endif
