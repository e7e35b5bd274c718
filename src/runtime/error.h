/* error.h: status codes with messages, and the one macro that checks an OpenCL call.
 *
 * A failing function records a message with acl_fail() (or CL_TRY for OpenCL calls, which names the
 * error, the call and file:line) and returns the status; callers pass the status up unchanged. */
#ifndef ACL_RUNTIME_ERROR_H
#define ACL_RUNTIME_ERROR_H

#include <CL/cl.h>

#include "alexnet_cl.h"

/* Records a printf-style message as this thread's last error and returns status. */
acl_status acl_fail(acl_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the recorded message with more context ("loading x.bin: " + old message). */
acl_status acl_fail_context(acl_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records an OpenCL failure: "clFoo(...) failed with CL_OUT_OF_RESOURCES at file:line". */
acl_status acl_cl_fail(cl_int err, const char *call, const char *file, int line);
/* The name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES". */
const char *acl_cl_error_name(cl_int err);
void acl_clear_error(void);

/* Needs `acl_status st` and a `cleanup:` label in the calling function. */
#define CL_TRY(call)                                                                             \
    do {                                                                                         \
        cl_int cl_err_ = (call);                                                                 \
        if (cl_err_ != CL_SUCCESS) {                                                             \
            st = acl_cl_fail(cl_err_, #call, __FILE__, __LINE__);                                \
            goto cleanup;                                                                        \
        }                                                                                        \
    } while (0)

/* Runs an acl_status expression; on failure jumps to cleanup with st set. */
#define ACL_TRY(expr)                                                                            \
    do {                                                                                         \
        st = (expr);                                                                             \
        if (st != ACL_OK)                                                                        \
            goto cleanup;                                                                        \
    } while (0)

#endif
