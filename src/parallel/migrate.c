/* migrate.c: copies between the devices of a pair: one enqueue in a shared context, a read, a callback
 * and a write through host memory across contexts (migrate.h explains the chain). A linear copy is the
 * one-row case of a strided block, and takes the linear commands. */
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

/* ---- the block and its commands -------------------------------------------------------------- */

/* What one call moves: r's rows from byte soff of sbuf to byte doff of dbuf. */
struct block {
    cl_mem sbuf, dbuf;
    size_t soff, doff;
    struct acl_rect r;
};

static size_t block_bytes(const struct block *b) { return b->r.rows * b->r.row_bytes; }

/* The rect commands take a 3-D region; ours is rows of row_bytes in one slice. */
#define REGION(b) ((const size_t[3]){(b)->r.row_bytes, (b)->r.rows, 1})

/* Source rows into a compact host block (rows row_bytes apart). */
static cl_int enqueue_read(cl_command_queue q, const struct block *b, void *host, cl_uint nwait,
                           const cl_event *wait, cl_event *ev)
{
    if (b->r.rows == 1)
        return clEnqueueReadBuffer(q, b->sbuf, CL_FALSE, b->soff, b->r.row_bytes, host, nwait, wait, ev);
    return clEnqueueReadBufferRect(q, b->sbuf, CL_FALSE, (const size_t[3]){b->soff, 0, 0}, (const size_t[3]){0},
                                   REGION(b), b->r.src_pitch, 0, b->r.row_bytes, 0, host, nwait, wait, ev);
}

static cl_int enqueue_write(cl_command_queue q, const struct block *b, const void *host, cl_uint nwait,
                            const cl_event *wait, cl_event *ev)
{
    if (b->r.rows == 1)
        return clEnqueueWriteBuffer(q, b->dbuf, CL_FALSE, b->doff, b->r.row_bytes, host, nwait, wait, ev);
    return clEnqueueWriteBufferRect(q, b->dbuf, CL_FALSE, (const size_t[3]){b->doff, 0, 0}, (const size_t[3]){0},
                                    REGION(b), b->r.dst_pitch, 0, b->r.row_bytes, 0, host, nwait, wait, ev);
}

/* Within one context (or one device). */
static cl_int enqueue_copy(cl_command_queue q, const struct block *b, cl_uint nwait, const cl_event *wait,
                           cl_event *ev)
{
    if (b->r.rows == 1)
        return clEnqueueCopyBuffer(q, b->sbuf, b->dbuf, b->soff, b->doff, b->r.row_bytes, nwait, wait, ev);
    if (b->sbuf != b->dbuf || b->r.src_pitch == b->r.dst_pitch)
        return clEnqueueCopyBufferRect(q, b->sbuf, b->dbuf, (const size_t[3]){b->soff, 0, 0},
                                       (const size_t[3]){b->doff, 0, 0}, REGION(b), b->r.src_pitch, 0,
                                       b->r.dst_pitch, 0, nwait, wait, ev);
    /* Inside one buffer with two pitches: PoCL refuses the rect copy (CL_INVALID_VALUE, reading the spec's
     * "slice pitches and row pitches differ" as "row pitches differ"), so copy row by row, and let a marker
     * stand for all of them. */
    cl_int err = CL_SUCCESS;
    cl_event *rows = malloc(b->r.rows * sizeof *rows);
    if (!rows)
        return CL_OUT_OF_HOST_MEMORY;
    size_t k = 0;
    while (k < b->r.rows && err == CL_SUCCESS) {
        err = clEnqueueCopyBuffer(q, b->sbuf, b->dbuf, b->soff + k * b->r.src_pitch, b->doff + k * b->r.dst_pitch,
                                  b->r.row_bytes, nwait, wait, &rows[k]);
        if (err == CL_SUCCESS)
            k++;
    }
    if (err == CL_SUCCESS)
        err = clEnqueueMarkerWithWaitList(q, (cl_uint)k, rows, ev);
    for (size_t i = 0; i < k; i++)
        clReleaseEvent(rows[i]);
    free(rows);
    return err;
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
            st = acl_fail(ACL_ERR_ARGUMENT, "wait event %u belongs to neither device's context", i);
            goto cleanup;
        }
        side[k][nside[k]++] = wait[i];
    }
cleanup:
    return st;
}

static acl_status copy_staged(struct acl_pair *p, struct acl_ctx *s, struct acl_ctx *d, const struct block *b,
                              cl_uint nwait, const cl_event *wait, cl_event *out)
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
    size_t bytes = block_bytes(b), rounded = (bytes + 4095) / 4096 * 4096;
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
    CL_TRY(enqueue_read(s->queue, b, sg->host, nside[0], nside[0] ? side[0] : NULL, &read_ev));
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
    err = enqueue_write(d->queue, b, sg->host, nside[1], nside[1] ? side[1] : NULL, &write_ev);
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

/* Bytes from a block's first to just past its last byte (0 when nothing moves). */
static size_t extent(const struct acl_rect *r, size_t pitch)
{
    return r->rows && r->row_bytes ? (r->rows - 1) * pitch + r->row_bytes : 0;
}

static acl_status check_range(const struct acl_ctx *c, const char *who, const char *what, cl_mem buf, size_t off,
                              const struct acl_rect *r, size_t pitch)
{
    acl_status st = ACL_OK;
    size_t size = 0;
    CL_TRY(clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof size, &size, NULL));
    if (r->rows > 1 && r->row_bytes && pitch < r->row_bytes) {
        st = acl_fail(ACL_ERR_ARGUMENT, "%s: %s pitch of %zu bytes is less than a row's %zu bytes (rows would "
                      "overlap)", who, what, pitch, r->row_bytes);
        goto cleanup;
    }
    /* The extent could overflow size_t before it is compared: bound the rows first. */
    int fits = off <= size && (r->rows <= 1 || !r->row_bytes || (r->rows - 1) <= (size - off) / pitch);
    size_t ext = fits ? extent(r, pitch) : 0;
    if (fits && ext > size - off)
        fits = 0;
    if (!fits && r->rows <= 1)
        st = acl_fail(ACL_ERR_ARGUMENT, "%s: %s range [%zu, %zu) bytes lies outside its %zu-byte buffer on device "
                      "%d (%s)", who, what, off, off + r->row_bytes, size, c->dev.info.index, c->dev.info.name);
    else if (!fits)
        st = acl_fail(ACL_ERR_ARGUMENT, "%s: %s block of %zu rows of %zu bytes, %zu bytes apart, from byte %zu "
                      "lies outside its %zu-byte buffer on device %d (%s)", who, what, r->rows, r->row_bytes, pitch,
                      off, size, c->dev.info.index, c->dev.info.name);
cleanup:
    return st;
}

/* Both public copies: checks, then one enqueue in a context or the staged chain across contexts. */
static acl_status copy_block(struct acl_pair *p, const char *who, int src, struct acl_view src_view, int dst,
                             struct acl_view dst_view, const struct acl_rect *r, cl_uint nwait, const cl_event *wait,
                             cl_event *out)
{
    acl_status st = ACL_OK;
    cl_event ev = NULL;
    if (out)
        *out = NULL;
    if (src < 0 || src > 1 || dst < 0 || dst > 1)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: device %d -> %d, a pair has devices 0 and 1", who, src, dst);
    if (!r)
        return acl_fail(ACL_ERR_ARGUMENT, "%s: no block given", who);
    struct acl_ctx *s = &p->dev[src], *d = &p->dev[dst];
    struct block b = {src_view.buf, dst_view.buf, src_view.off * sizeof(float), dst_view.off * sizeof(float), *r};
    ACL_TRY(check_range(s, who, "source", b.sbuf, b.soff, r, r->src_pitch));
    ACL_TRY(check_range(d, who, "destination", b.dbuf, b.doff, r, r->dst_pitch));
    if (block_bytes(&b) == 0) {
        /* Nothing moves; the out event still completes after the destination-side waits. */
        if (out)
            ACL_TRY(empty_copy(p, s, d, nwait, wait, out));
        goto cleanup;
    }
    if (p->shared || s == d) {
        CL_TRY(enqueue_copy(d->queue, &b, nwait, nwait ? wait : NULL, &ev));
        atomic_fetch_add(&p->n.pending, 1);
        if (clSetEventCallback(ev, CL_COMPLETE, copy_done, p) != CL_SUCCESS)
            atomic_fetch_sub(&p->n.pending, 1); /* no device time for this copy; the data still moves */
        clFlush(d->queue);
    } else {
        ACL_TRY(copy_staged(p, s, d, &b, nwait, wait, &ev));
    }
    /* The counters are for traffic between the devices; a copy on one device is not. */
    if (s != d) {
        atomic_fetch_add(&p->n.bytes, block_bytes(&b));
        atomic_fetch_add(&p->n.copies, 1);
    }
    if (out) {
        *out = ev;
        ev = NULL;
    }
cleanup:
    if (ev)
        clReleaseEvent(ev);
    if (st != ACL_OK) {
        int si = p->dev[src < 0 || src > 1 ? 0 : src].dev.info.index;
        int di = p->dev[dst < 0 || dst > 1 ? 0 : dst].dev.info.index;
        if (r && r->rows == 1)
            acl_fail_context(st, "copying %zu bytes from device %d to device %d", r->row_bytes, si, di);
        else if (r)
            acl_fail_context(st, "copying %zu rows of %zu bytes from device %d to device %d", r->rows,
                             r->row_bytes, si, di);
    }
    return st;
}

acl_status acl_copy_between(struct acl_pair *p, int src, struct acl_view src_view, int dst,
                            struct acl_view dst_view, size_t bytes, cl_uint nwait, const cl_event *wait,
                            cl_event *out)
{
    const struct acl_rect one_row = {bytes, 1, bytes, bytes};
    return copy_block(p, "acl_copy_between", src, src_view, dst, dst_view, &one_row, nwait, wait, out);
}

acl_status acl_copy_rect_between(struct acl_pair *p, int src, struct acl_view src_view, int dst,
                                 struct acl_view dst_view, const struct acl_rect *r, cl_uint nwait,
                                 const cl_event *wait, cl_event *out)
{
    return copy_block(p, "acl_copy_rect_between", src, src_view, dst, dst_view, r, nwait, wait, out);
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
