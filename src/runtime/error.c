/* error.c: status names, OpenCL error names and the per-thread message of the last failure. */
#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *acl_last_error(void) { return last_error; }

void acl_clear_error(void) { last_error[0] = '\0'; }

acl_status acl_fail(acl_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

acl_status acl_fail_context(acl_status status, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    snprintf(last_error, sizeof last_error, "%s: %s", prefix, old);
    return status;
}

acl_status acl_cl_fail(cl_int err, const char *call, const char *file, int line)
{
    char name[128];
    size_t n = strcspn(call, "(");
    snprintf(name, sizeof name, "%.*s", (int)(n < 100 ? n : 100), call);
    acl_status st = ACL_ERR_OPENCL;
    const char *hint = "";
    if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
        err == CL_INVALID_BUFFER_SIZE) {
        st = ACL_ERR_MEMORY;
        hint = " (not enough memory: try a smaller batch or another device)";
    }
    return acl_fail(st, "%s failed with %s at %s:%d%s", name, acl_cl_error_name(err), file, line, hint);
}

const char *acl_status_name(acl_status status)
{
    switch (status) {
    case ACL_OK: return "ACL_OK";
    case ACL_ERR_ARGUMENT: return "ACL_ERR_ARGUMENT";
    case ACL_ERR_NO_PLATFORM: return "ACL_ERR_NO_PLATFORM";
    case ACL_ERR_NO_DEVICE: return "ACL_ERR_NO_DEVICE";
    case ACL_ERR_OPENCL: return "ACL_ERR_OPENCL";
    case ACL_ERR_BUILD: return "ACL_ERR_BUILD";
    case ACL_ERR_MEMORY: return "ACL_ERR_MEMORY";
    case ACL_ERR_IO: return "ACL_ERR_IO";
    case ACL_ERR_FORMAT: return "ACL_ERR_FORMAT";
    case ACL_ERR_BLAS: return "ACL_ERR_BLAS";
    case ACL_ERR_MISMATCH: return "ACL_ERR_MISMATCH";
    case ACL_ERR_DIVERGED: return "ACL_ERR_DIVERGED";
    case ACL_ERR_INTERRUPTED: return "ACL_ERR_INTERRUPTED";
    case ACL_ERR_CONFLICT: return "ACL_ERR_CONFLICT";
    }
    return "ACL_ERR_UNKNOWN";
}

const char *acl_cl_error_name(cl_int err)
{
    switch (err) {
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
    E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
    E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
    E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
    return "CL_UNKNOWN_ERROR";
}
