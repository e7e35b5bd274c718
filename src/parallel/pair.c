/* pair.c: creating the two device contexts of a two-device run, shared or separate. */
#include "parallel/pair.h"

#include <string.h>
#include <time.h>

#include "runtime/error.h"

acl_status acl_pair_init(struct acl_pair *p, const struct acl_device_ref *a, const struct acl_device_ref *b,
                         enum acl_pair_mode mode, const acl_engine_options *opt, acl_startup_stats stats[2])
{
    acl_status st = ACL_OK;
    cl_int err = CL_SUCCESS;
    cl_context shared = NULL;
    acl_startup_stats local[2];
    memset(p, 0, sizeof *p);
    if (!stats)
        stats = local;
    if (a->id == b->id) {
        return acl_fail(ACL_ERR_ARGUMENT, "device %d (%s) was named twice: two-device runs need two different "
                        "devices; run `alexnet-cl devices` to list them", a->info.index, a->info.name);
    }
    p->shared = mode == ACL_PAIR_AUTO && a->platform == b->platform;
    if (p->shared) {
        cl_device_id ids[2] = {a->id, b->id};
        cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)a->platform, 0};
        shared = clCreateContext(props, 2, ids, NULL, NULL, &err);
        CL_TRY(err);
    }
    /* Oclgrind runs its queue inside clFlush/clFinish on the calling thread and never returns while a
     * command waits on a user event that another platform's callback would set (seen with 21.10: the
     * event chain of migrate.h livelocks), so pairs with Oclgrind stage with host waits. */
    if (strstr(a->info.platform, "Oclgrind") || strstr(b->info.platform, "Oclgrind"))
        p->stage = ACL_STAGE_HOST_WAIT;
    ACL_TRY(acl_ctx_init_in(&p->dev[0], a, shared, opt, &stats[0]));
    ACL_TRY(acl_ctx_init_in(&p->dev[1], b, shared, opt, &stats[1]));
cleanup:
    if (shared)
        clReleaseContext(shared); /* each acl_ctx holds its own reference */
    if (st != ACL_OK)
        acl_pair_release(p);
    return st;
}

acl_status acl_pair_finish(struct acl_pair *p)
{
    acl_status st = ACL_OK;
    for (int d = 0; d < 2; d++)
        if (p->dev[d].queue)
            CL_TRY(clFinish(p->dev[d].queue));
cleanup:
    /* A finished command's callback may still be running on a driver thread: it touches p and frees the
     * staging memory, so wait for it (also on failure, before p goes away). */
    while (atomic_load(&p->n.pending) > 0)
        nanosleep(&(struct timespec){0, 100000}, NULL);
    return st;
}

void acl_pair_release(struct acl_pair *p)
{
    acl_pair_finish(p);
    for (int d = 0; d < 2; d++)
        if (p->dev[d].context)
            acl_ctx_release(&p->dev[d]);
    memset(p, 0, sizeof *p);
}
