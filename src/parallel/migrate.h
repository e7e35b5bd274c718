/* migrate.h: moving bytes between the two devices of a pair, ordered by events, and what it cost.
 *
 * One context (same platform): the copy is one clEnqueueCopyBuffer on the destination's queue, waiting on
 * the caller's events (events of one context can be waited on from any of its queues); whole buffers can
 * instead be handed over with clEnqueueMigrateMemObjects (acl_migrate_buffers).
 *
 * Two contexts (different platforms): an event of one context cannot appear in a wait list of the other,
 * so the copy is staged through host memory and the two halves are chained by a callback:
 *   1. a non-blocking read on the source queue, waiting on the caller's source-context events, into a
 *      host staging block;
 *   2. a write on the destination queue from that block, waiting on a user event of the destination
 *      context (plus the caller's destination-context events);
 *   3. the read's completion callback sets the user event complete (or to the read's error, which fails
 *      the write too), so the write starts without the host ever blocking;
 *   4. the write's completion callback frees the staging block.
 * ACL_STAGE_HOST_WAIT replaces 3 by clWaitForEvents on the read before enqueuing the write (blocking the
 * caller; counted in wait time). The staging block is plain page-aligned host memory allocated per copy;
 * a pool of pinned (CL_MEM_ALLOC_HOST_PTR, mapped) blocks would help real GPUs' DMA and is left for later.
 */
#ifndef ACL_PARALLEL_MIGRATE_H
#define ACL_PARALLEL_MIGRATE_H

#include <stdint.h>

#include "parallel/pair.h"

/* Copies bytes from src_view on device src (0 or 1) to dst_view on device dst. View offsets are in
 * floats, as everywhere in the engine; bytes need not be a multiple of 4. wait: events of either device's
 * context, each routed to the side it belongs to. out (may be NULL) receives an event of dst's context
 * that completes when the data is in place; the caller releases it. Both ranges are checked against their
 * buffers' sizes first. The one-row case of acl_copy_rect_between (and, like it, uncounted when src == dst). */
acl_status acl_copy_between(struct acl_pair *p, int src, struct acl_view src_view, int dst,
                            struct acl_view dst_view, size_t bytes, cl_uint nwait, const cl_event *wait,
                            cl_event *out);

/* A strided block: rows rows of row_bytes bytes each, consecutive rows src_pitch bytes apart in the source and
 * dst_pitch bytes apart in the destination: for example a channel range of every image of an NCHW tensor
 * (rows = images, row_bytes = channels * H * W * 4, pitches = C * H * W * 4 of each tensor). */
struct acl_rect {
    size_t row_bytes, rows, src_pitch, dst_pitch;
};

/* Copies the block *r from src_view on device src to dst_view on device dst; each side's block starts at its
 * view's offset (in floats). With more than one row, each pitch must be at least row_bytes. src may equal dst:
 * a copy on one device, between two buffers or inside one (the two blocks must not overlap). One context (or
 * one device): one clEnqueueCopyBufferRect on dst's queue; two contexts: staged through a compact host block
 * of rows * row_bytes, as acl_copy_between. Both extents (offset + (rows - 1) * pitch + row_bytes) are checked
 * against their buffers first (ACL_ERR_ARGUMENT). rows or row_bytes 0: nothing moves, *out still completes
 * after the waits. wait and out as in acl_copy_between. A copy on one device does not count in the pair's
 * counters, which are for traffic between the devices. */
acl_status acl_copy_rect_between(struct acl_pair *p, int src, struct acl_view src_view, int dst,
                                 struct acl_view dst_view, const struct acl_rect *r, cl_uint nwait,
                                 const cl_event *wait, cl_event *out);

/* Hands whole buffers over to device dst with clEnqueueMigrateMemObjects (shared context only: buffers of
 * different contexts cannot migrate, use acl_copy_between). Counts each buffer's size as moved. */
acl_status acl_migrate_buffers(struct acl_pair *p, int dst, cl_uint nmem, const cl_mem *mems, cl_uint nwait,
                               const cl_event *wait, cl_event *out);

/* Blocks until the events (of either context) complete; the time counts as transfer wait. */
acl_status acl_pair_wait(struct acl_pair *p, cl_uint n, const cl_event *events);

struct acl_migrate_stats {
    uint64_t bytes, copies, staged;
    double device_s; /* device time of the copy commands, summed over both devices */
    double wait_s;   /* host time blocked on transfers */
};

/* A snapshot of the counters; reset = 1 zeroes them (per training step reports). */
void acl_migrate_stats(struct acl_pair *p, struct acl_migrate_stats *out, int reset);

#endif
