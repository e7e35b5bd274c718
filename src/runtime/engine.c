/* engine.c: the public engine object: one device's context with every kernel ready. */
#include <stdlib.h>

#include "runtime/ctx.h"
#include "runtime/engine.h"
#include "runtime/error.h"

acl_status acl_engine_create(const acl_engine_options *options, acl_engine **engine)
{
    struct acl_device_ref dev;
    *engine = NULL;
    acl_clear_error();
    acl_status st = acl_select_device(options ? options->device : NULL, &dev);
    if (st != ACL_OK)
        return st;
    acl_engine *e = calloc(1, sizeof *e);
    if (!e)
        return acl_fail(ACL_ERR_MEMORY, "out of host memory");
    st = acl_ctx_init(&e->ctx, &dev, options, &e->startup);
    if (st != ACL_OK) {
        free(e);
        return st;
    }
    *engine = e;
    return ACL_OK;
}

void acl_engine_destroy(acl_engine *engine)
{
    if (!engine)
        return;
    acl_ctx_release(&engine->ctx);
    free(engine);
}

acl_status acl_engine_device(const acl_engine *engine, acl_device_info *info)
{
    if (!engine || !info)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_engine_device: NULL argument");
    *info = engine->ctx.dev.info;
    return ACL_OK;
}

acl_status acl_engine_startup(const acl_engine *engine, acl_startup_stats *stats)
{
    if (!engine || !stats)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_engine_startup: NULL argument");
    *stats = engine->startup;
    return ACL_OK;
}

struct acl_ctx *acl_engine_ctx(acl_engine *engine) { return &engine->ctx; }
