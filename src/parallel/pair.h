/* pair.h: two devices driven together: one shared OpenCL context when both are on the same platform (one
 * queue each, programs built for each), or a context each when they are on different platforms. */
#ifndef ACL_PARALLEL_PAIR_H
#define ACL_PARALLEL_PAIR_H

#include <stdatomic.h>
#include <stdint.h>

#include "runtime/ctx.h"

enum acl_pair_mode {
    ACL_PAIR_AUTO,     /* shared context when both devices are on one platform, else one each */
    ACL_PAIR_SEPARATE, /* a context each even on one platform: exercises the host-staged path */
};

/* Staged copies between contexts: ordered by events and callbacks (default), or by the host waiting for
 * the read before it enqueues the write (simpler, blocks the caller; a fallback for drivers whose event
 * callbacks misbehave). */
enum acl_stage_mode {
    ACL_STAGE_EVENTS,
    ACL_STAGE_HOST_WAIT,
};

/* What the transfers cost, for the -v report. Updated from event callbacks, hence atomics. */
struct acl_pair_counters {
    atomic_uint_fast64_t bytes;       /* bytes copied between the devices */
    atomic_uint_fast64_t copies;      /* calls that moved data */
    atomic_uint_fast64_t staged;      /* of which went through host memory */
    atomic_uint_fast64_t device_ns;   /* device time of the copy commands (profiling) */
    atomic_uint_fast64_t wait_ns;     /* host time blocked waiting on transfers */
    atomic_int pending;               /* staged copies whose last callback has not run yet */
};

struct acl_pair {
    struct acl_ctx dev[2];
    int shared; /* 1: dev[0].context == dev[1].context */
    enum acl_stage_mode stage;
    struct acl_pair_counters n;
};

/* Sets up both devices (a and b must differ). stats (may be NULL) receives each device's start-up. */
acl_status acl_pair_init(struct acl_pair *p, const struct acl_device_ref *a, const struct acl_device_ref *b,
                         enum acl_pair_mode mode, const acl_engine_options *opt, acl_startup_stats stats[2]);
/* Finishes both queues and waits until every transfer callback has run: the counters are then final. */
acl_status acl_pair_finish(struct acl_pair *p);
/* Finishes both queues, waits for outstanding transfer callbacks, releases everything. */
void acl_pair_release(struct acl_pair *p);

#endif
