/* engine.h: what acl_engine holds; the ops and tests reach the device context through it. */
#ifndef ACL_RUNTIME_ENGINE_H
#define ACL_RUNTIME_ENGINE_H

#include "runtime/ctx.h"

struct acl_engine {
    struct acl_ctx ctx;
    acl_startup_stats startup;
};

struct acl_ctx *acl_engine_ctx(acl_engine *engine);

#endif
