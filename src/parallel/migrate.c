/* migrate.c: copies between the devices of a pair: one enqueue in a shared context, a read, a callback
 * and a write through host memory across contexts (migrate.h explains the chain). */
#include "parallel/migrate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/error.h"

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Adds a completed command's device time; a queue without profiling or a failed command adds nothing. */
static void add_device_time(struct acl_pair *p, cl_event ev)
{
    cl_ulong t0 = 0, t1 = 0;
    if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) == CL_SUCCESS &&
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) == CL_SUCCESS && t1 > t0)
        atomic_fetch_add(&p->n.device_ns, (uint64_t)(t1 - t0));
}

static void CL_CALLBACK copy_done(cl_event ev, cl_int status, void *data)
{
    struct acl_pair *p = data;
    if (status == CL_COMPLETE)
        add_device_time(p, ev);
    atomic_fetch_sub(&p->n.pending, 1);
}

/* ---- staging through host memory ------------------------------------------------------------ */

struct staged {
    struct acl_pair *p;
    void *host;
    cl_event user; /* in dst's context (NULL in ACL_STAGE_HOST_WAIT); the read's callback and copy_staged
                    * each hold a reference, so it lives until both are done with it */
    atomic_int refs; /* one per callback still to run; the last frees the block */
};

static void staged_drop(struct staged *s)
{
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        struct acl_pair *p = s->p;
        free(s->host);
        free(s);
        atomic_fetch_sub(&p->n.pending, 1);
    }
}

static void CL_CALLBACK read_done(cl_event ev, cl_int status, void *data)
{
    struct staged *s = data;
    if (status == CL_COMPLETE)
        add_device_time(s->p, ev);
    /* A failed read fails the write with the same status instead of writing garbage. */
    clSetUserEventStatus(s->user, status < 0 ? status : CL_COMPLETE);
    clReleaseEvent(s->user);
    staged_drop(s);
}

static void CL_CALLBACK write_done(cl_event ev, cl_int status, void *data)
{
    struct staged *s = data;
    if (status == CL_COMPLETE)
        add_device_time(s->p, ev);
    staged_drop(s);
}

/* Splits wait into the events of each context (ctx[0] = source's, ctx[1] = destination's). */
static acl_status route_waits(cl_context ctx[2], cl_uint nwait, const cl_event *wait, cl_event *side[2],
                              cl_uint nside[2])
{
    acl_status st = ACL_OK;
    for (cl_uint i = 0; i < nwait; i++) {
        cl_context c = NULL;
        CL_TRY(clGetEventInfo(wait[i], CL_EVENT_CONTEXT, sizeof c, &c, NULL));
        int k = c == ctx[0] ? 0 : c == ctx[1] ? 1 : -1;
        if (k < 0) {
            st = acl_fail(ACL_ERR_ARGUMENT, "acl_copy_between: wait event %u belongs to neither device's "
                          "context", i);
            goto cleanup;
        }
        side[k][nside[k]++] = wait[i];
    }
cleanup:
    return st;
}

static acl_status copy_staged(struct acl_pair *p, struct acl_ctx *s, size_t soff, cl_mem sbuf,
                              struct acl_ctx *d, size_t doff, cl_mem dbuf, size_t bytes, cl_uint nwait,
                              const cl_event *wait, cl_event *out)
{
    acl_status st = ACL_OK;
    cl_int err = CL_SUCCESS;
    cl_event read_ev = NULL, write_ev = NULL, user = NULL;
    cl_event *side[2] = {NULL, NULL};
    cl_uint nside[2] = {0, 0};
    int events = p->stage == ACL_STAGE_EVENTS;
    int read_enqueued = 0;
    struct staged *sg = calloc(1, sizeof *sg);
    side[0] = malloc((nwait + 1) * sizeof(cl_event));
    side[1] = malloc((nwait + 1) * sizeof(cl_event));
    size_t rounded = (bytes + 4095) / 4096 * 4096;
    if (sg)
        sg->host = aligned_alloc(4096, rounded);
    if (!sg || !sg->host || !side[0] || !side[1]) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory staging %zu bytes from device %d to device %d",
                      bytes, s->dev.info.index, d->dev.info.index);
        goto cleanup;
    }
    sg->p = p;
    ACL_TRY(route_waits((cl_context[2]){s->context, d->context}, nwait, wait, side, nside));
    if (events) {
        user = clCreateUserEvent(d->context, &err);
        CL_TRY(err);
        CL_TRY(clRetainEvent(user)); /* the read callback's reference */
        sg->user = user;
        side[1][nside[1]++] = user;
    }
    CL_TRY(clEnqueueReadBuffer(s->queue, sbuf, CL_FALSE, soff, bytes, sg->host, nside[0],
                               nside[0] ? side[0] : NULL, &read_ev));
    read_enqueued = 1;
    clFlush(s->queue);
    if (events) {
        /* From here the callbacks own sg: the read's sets the user event and drops one reference, the
         * write's drops the other. */
        atomic_store(&sg->refs, 2);
        atomic_fetch_add(&p->n.pending, 1);
        err = clSetEventCallback(read_ev, CL_COMPLETE, read_done, sg);
        if (err != CL_SUCCESS) {
            atomic_store(&sg->refs, 0);
            atomic_fetch_sub(&p->n.pending, 1);
            clSetUserEventStatus(user, err); /* nothing will complete it now */
            clReleaseEvent(user);          /* nor release the callback's reference */
            sg->user = NULL;
            CL_TRY(err);
        }
    } else {
        uint64_t t0 = now_ns();
        err = clWaitForEvents(1, &read_ev);
        atomic_fetch_add(&p->n.wait_ns, now_ns() - t0);
        CL_TRY(err);
        add_device_time(p, read_ev);
        atomic_store(&sg->refs, 1);
        atomic_fetch_add(&p->n.pending, 1);
    }
    err = clEnqueueWriteBuffer(d->queue, dbuf, CL_FALSE, doff, bytes, sg->host, nside[1], side[1], &write_ev);
    if (err == CL_SUCCESS)
        err = clSetEventCallback(write_ev, CL_COMPLETE, write_done, sg);
    if (err != CL_SUCCESS) {
        /* The write will not run (or will never report back): only the read's callback frees sg. */
        clWaitForEvents(1, &read_ev);
        if (write_ev)
            clWaitForEvents(1, &write_ev);
        staged_drop(sg);
        sg = NULL;
        CL_TRY(err);
    }
    sg = NULL;
    clFlush(d->queue);
    atomic_fetch_add(&p->n.staged, 1);
cleanup:
    if (sg && read_enqueued && events && atomic_load(&sg->refs) == 0) {
        clWaitForEvents(1, &read_ev); /* the read still writes into sg->host */
    }
    if (sg && !(read_enqueued && atomic_load(&sg->refs) > 0)) {
        if (sg->user)
            clReleaseEvent(sg->user); /* the callback's reference, never handed over */
        free(sg->host);
        free(sg);
    }
    /* Only now: the read's callback may already have run, and the write's wait list needed the event. */
    if (user)
        clReleaseEvent(user);
    if (read_ev)
        clReleaseEvent(read_ev);
    if (st == ACL_OK && out)
        *out = write_ev;
    else if (write_ev)
        clReleaseEvent(write_ev);
    free(side[0]);
    free(side[1]);
    return st;
}

static acl_status empty_copy(struct acl_pair *p, struct acl_ctx *s, struct acl_ctx *d, cl_uint nwait,
                             const cl_event *wait, cl_event *out)
{
    acl_status st = ACL_OK;
    cl_event *side[2] = {malloc((nwait + 1) * sizeof(cl_event)), malloc((nwait + 1) * sizeof(cl_event))};
    cl_uint nside[2] = {0, 0};
    if (!side[0] || !side[1]) {
        st = acl_fail(ACL_ERR_MEMORY, "out of host memory");
        goto cleanup;
    }
    if (p->shared || s == d) {
        nside[1] = nwait;
        if (nwait)
            memcpy(side[1], wait, nwait * sizeof(cl_event));
    } else {
        ACL_TRY(route_waits((cl_context[2]){s->context, d->context}, nwait, wait, side, nside));
    }
    CL_TRY(clEnqueueMarkerWithWaitList(d->queue, nside[1], nside[1] ? side[1] : NULL, out));
cleanup:
    free(side[0]);
    free(side[1]);
    return st;
}

/* ---- the public calls ------------------------------------------------------------------------ */

static acl_status check_range(const struct acl_ctx *c, const char *what, cl_mem buf, size_t off, size_t bytes)
{
    acl_status st = ACL_OK;
    size_t size = 0;
    CL_TRY(clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof size, &size, NULL));
    if (off > size || bytes > size - off)
        st = acl_fail(ACL_ERR_ARGUMENT, "acl_copy_between: %s range [%zu, %zu) bytes lies outside its %zu-byte "
                      "buffer on device %d (%s)", what, off, off + bytes, size, c->dev.info.index,
                      c->dev.info.name);
cleanup:
    return st;
}

acl_status acl_copy_between(struct acl_pair *p, int src, struct acl_view src_view, int dst,
                            struct acl_view dst_view, size_t bytes, cl_uint nwait, const cl_event *wait,
                            cl_event *out)
{
    acl_status st = ACL_OK;
    cl_event ev = NULL;
    if (out)
        *out = NULL;
    if (src < 0 || src > 1 || dst < 0 || dst > 1)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_copy_between: device %d -> %d, a pair has devices 0 and 1",
                        src, dst);
    struct acl_ctx *s = &p->dev[src], *d = &p->dev[dst];
    size_t soff = src_view.off * sizeof(float), doff = dst_view.off * sizeof(float);
    ACL_TRY(check_range(s, "source", src_view.buf, soff, bytes));
    ACL_TRY(check_range(d, "destination", dst_view.buf, doff, bytes));
    if (bytes == 0) {
        /* Nothing moves; the out event still completes after the destination-side waits. */
        if (out)
            ACL_TRY(empty_copy(p, s, d, nwait, wait, out));
        goto cleanup;
    }
    if (p->shared || s == d) {
        CL_TRY(clEnqueueCopyBuffer(d->queue, src_view.buf, dst_view.buf, soff, doff, bytes, nwait,
                                   nwait ? wait : NULL, &ev));
        atomic_fetch_add(&p->n.pending, 1);
        if (clSetEventCallback(ev, CL_COMPLETE, copy_done, p) != CL_SUCCESS)
            atomic_fetch_sub(&p->n.pending, 1); /* no device time for this copy; the data still moves */
        clFlush(d->queue);
    } else {
        ACL_TRY(copy_staged(p, s, soff, src_view.buf, d, doff, dst_view.buf, bytes, nwait, wait, &ev));
    }
    atomic_fetch_add(&p->n.bytes, bytes);
    atomic_fetch_add(&p->n.copies, 1);
    if (out) {
        *out = ev;
        ev = NULL;
    }
cleanup:
    if (ev)
        clReleaseEvent(ev);
    if (st != ACL_OK)
        acl_fail_context(st, "copying %zu bytes from device %d to device %d: ", bytes,
                         p->dev[src < 0 || src > 1 ? 0 : src].dev.info.index,
                         p->dev[dst < 0 || dst > 1 ? 0 : dst].dev.info.index);
    return st;
}

acl_status acl_migrate_buffers(struct acl_pair *p, int dst, cl_uint nmem, const cl_mem *mems, cl_uint nwait,
                               const cl_event *wait, cl_event *out)
{
    acl_status st = ACL_OK;
    cl_event ev = NULL;
    uint64_t total = 0;
    if (out)
        *out = NULL;
    if (dst < 0 || dst > 1)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_migrate_buffers: device %d, a pair has devices 0 and 1", dst);
    if (!p->shared)
        return acl_fail(ACL_ERR_ARGUMENT, "acl_migrate_buffers: devices %d and %d have separate contexts "
                        "(different platforms); buffers cannot migrate between them, copy with "
                        "acl_copy_between", p->dev[0].dev.info.index, p->dev[1].dev.info.index);
    for (cl_uint i = 0; i < nmem; i++) {
        size_t size = 0;
        CL_TRY(clGetMemObjectInfo(mems[i], CL_MEM_SIZE, sizeof size, &size, NULL));
        total += size;
    }
    struct acl_ctx *d = &p->dev[dst];
    CL_TRY(clEnqueueMigrateMemObjects(d->queue, nmem, mems, 0, nwait, nwait ? wait : NULL, &ev));
    atomic_fetch_add(&p->n.pending, 1);
    if (clSetEventCallback(ev, CL_COMPLETE, copy_done, p) != CL_SUCCESS)
        atomic_fetch_sub(&p->n.pending, 1);
    clFlush(d->queue);
    atomic_fetch_add(&p->n.bytes, total);
    atomic_fetch_add(&p->n.copies, 1);
    if (out) {
        *out = ev;
        ev = NULL;
    }
cleanup:
    if (ev)
        clReleaseEvent(ev);
    return st;
}

acl_status acl_pair_wait(struct acl_pair *p, cl_uint n, const cl_event *events)
{
    acl_status st = ACL_OK;
    uint64_t t0 = now_ns();
    /* clWaitForEvents wants one context per call: wait one event at a time. */
    for (cl_uint i = 0; i < n; i++)
        CL_TRY(clWaitForEvents(1, &events[i]));
cleanup:
    atomic_fetch_add(&p->n.wait_ns, now_ns() - t0);
    return st;
}

void acl_migrate_stats(struct acl_pair *p, struct acl_migrate_stats *out, int reset)
{
    if (reset) {
        out->bytes = atomic_exchange(&p->n.bytes, 0);
        out->copies = atomic_exchange(&p->n.copies, 0);
        out->staged = atomic_exchange(&p->n.staged, 0);
        out->device_s = (double)atomic_exchange(&p->n.device_ns, 0) * 1e-9;
        out->wait_s = (double)atomic_exchange(&p->n.wait_ns, 0) * 1e-9;
    } else {
        out->bytes = atomic_load(&p->n.bytes);
        out->copies = atomic_load(&p->n.copies);
        out->staged = atomic_load(&p->n.staged);
        out->device_s = (double)atomic_load(&p->n.device_ns) * 1e-9;
        out->wait_s = (double)atomic_load(&p->n.wait_ns) * 1e-9;
    }
}
