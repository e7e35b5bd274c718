/* test_migrate.c: copies between two devices (src/parallel): one shared context (two PoCL devices), two
 * contexts on one platform (the host-staged path, with event callbacks and with host waits), and two
 * platforms (PoCL and Oclgrind, skipped visibly without Oclgrind). Random bits at odd offsets and odd byte
 * counts go 0 -> 1 -> 0 and must come back bit-exact, with the poison around each range untouched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel/migrate.h"
#include "runtime/device.h"
#include "runtime/error.h"
#include "testutil.h"

#define SENTINEL 0xbf9e0651u

/* ---- the pairs, built once per process --------------------------------------------------------- */

enum which { SHARED, SEPARATE_EVENTS, SEPARATE_HOST_WAIT, TWO_PLATFORMS, NPAIRS };

static struct acl_pair pairs[NPAIRS];
static int pair_state[NPAIRS]; /* 0 untried, 1 ready, -1 unavailable */
static char why[NPAIRS][256];

/* Two devices for the case: on one platform, or on two (the second one's first device). */
static int pick(enum which w, struct acl_device_ref *a, struct acl_device_ref *b)
{
    struct acl_device_ref *devs = NULL;
    size_t n = 0;
    int found = 0;
    if (acl_enumerate(&devs, &n) != ACL_OK) {
        snprintf(why[w], sizeof why[w], "no OpenCL device: %s", acl_last_error());
        return 0;
    }
    for (size_t i = 0; i < n && !found; i++)
        for (size_t j = i + 1; j < n && !found; j++)
            if ((devs[i].platform == devs[j].platform) == (w != TWO_PLATFORMS)) {
                *a = devs[i];
                *b = devs[j];
                found = 1;
            }
    if (!found)
        snprintf(why[w], sizeof why[w], w == TWO_PLATFORMS
                 ? "only one OpenCL platform is visible (Oclgrind not installed, or OCL_ICD_VENDORS lists one ICD)"
                 : "no platform has two devices (POCL_DEVICES=\"pthread pthread\" gives PoCL two)");
    free(devs);
    return found;
}

static struct acl_pair *get_pair(enum which w)
{
    if (pair_state[w] == 0) {
        struct acl_device_ref a, b;
        pair_state[w] = -1;
        if (pick(w, &a, &b)) {
            enum acl_pair_mode mode = w == SEPARATE_EVENTS || w == SEPARATE_HOST_WAIT ? ACL_PAIR_SEPARATE
                                                                                      : ACL_PAIR_AUTO;
            acl_status st = acl_pair_init(&pairs[w], &a, &b, mode, NULL, NULL);
            if (st != ACL_OK)
                fail_msg("acl_pair_init(%s, %s): %s", a.info.name, b.info.name, acl_last_error());
            if (w == SEPARATE_HOST_WAIT)
                pairs[w].stage = ACL_STAGE_HOST_WAIT;
            pair_state[w] = 1;
            print_message("[   INFO   ] devices %d (%s, %s) and %d (%s, %s), %s context%s\n", a.info.index,
                          a.info.name, a.info.platform, b.info.index, b.info.name, b.info.platform,
                          pairs[w].shared ? "one shared" : "separate", pairs[w].shared ? "" : "s");
            if (!pairs[w].shared)
                print_message("[   INFO   ] staged with %s\n", pairs[w].stage == ACL_STAGE_EVENTS
                              ? "event callbacks" : "host waits");
        }
    }
    if (pair_state[w] < 0) {
        print_message("[  SKIPPED ] %s\n", why[w]);
        skip();
    }
    return &pairs[w];
}

/* ---- the round trip ----------------------------------------------------------------------------- */

static uint32_t next_bits(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 32);
}

/* A buffer of n floats on device d, poisoned; the write's event goes to *ev (host must outlive it). */
static cl_mem poisoned(struct acl_pair *p, int d, size_t n, uint32_t *host, cl_event *ev)
{
    cl_mem m = NULL;
    assert_int_equal(acl_buffer(&p->dev[d], n * 4, &m), ACL_OK);
    for (size_t i = 0; i < n; i++)
        host[i] = SENTINEL;
    assert_int_equal(clEnqueueWriteBuffer(p->dev[d].queue, m, CL_FALSE, 0, n * 4, host, 0, NULL, ev), CL_SUCCESS);
    return m;
}

/* dst must hold exactly want's bytes [from, from + bytes) at byte doff and the sentinel everywhere else. */
static void expect_range(const uint32_t *dst, size_t n, size_t doff, const unsigned char *want, size_t bytes)
{
    const unsigned char *d = (const unsigned char *)dst;
    uint32_t s = SENTINEL;
    for (size_t i = 0; i < n * 4; i++) {
        unsigned char expect = i >= doff && i < doff + bytes ? want[i - doff] : ((unsigned char *)&s)[i % 4];
        if (d[i] != expect)
            fail_msg("byte %zu of the destination is 0x%02x, expected 0x%02x (copied range [%zu, %zu))", i,
                     d[i], expect, doff, doff + bytes);
    }
}

/* Random bits from device 0 at float offset o0 to device 1 at o1, then back to device 0 at o2; bytes is
 * odd. Nothing waits on the host until the end: each step waits on the events before it. */
static void round_trip(struct acl_pair *p, uint64_t seed, size_t n, size_t o0, size_t o1, size_t o2, size_t bytes)
{
    uint32_t *src = malloc(n * 4), *mid = malloc(n * 4), *back = malloc(n * 4), *got = malloc(n * 4);
    assert_non_null(src && mid && back && got);
    for (size_t i = 0; i < n; i++)
        src[i] = next_bits(&seed);
    struct acl_migrate_stats before;
    acl_migrate_stats(p, &before, 1);

    cl_mem a = NULL, b = NULL, c = NULL;
    cl_event ev_a = NULL, ev_b = NULL, ev_c = NULL, ev_ab = NULL, ev_bc = NULL;
    assert_int_equal(acl_buffer(&p->dev[0], n * 4, &a), ACL_OK);
    assert_int_equal(clEnqueueWriteBuffer(p->dev[0].queue, a, CL_FALSE, 0, n * 4, src, 0, NULL, &ev_a), CL_SUCCESS);
    b = poisoned(p, 1, n, mid, &ev_b);
    c = poisoned(p, 0, n, back, &ev_c);

    /* The wait list mixes both devices' events: the copy routes each to its own side. */
    cl_event w1[2] = {ev_a, ev_b};
    assert_int_equal(acl_copy_between(p, 0, (struct acl_view){a, o0}, 1, (struct acl_view){b, o1}, bytes, 2, w1,
                                      &ev_ab), ACL_OK);
    cl_event w2[2] = {ev_ab, ev_c};
    assert_int_equal(acl_copy_between(p, 1, (struct acl_view){b, o1}, 0, (struct acl_view){c, o2}, bytes, 2, w2,
                                      &ev_bc), ACL_OK);
    assert_non_null(ev_bc);
    assert_int_equal(acl_pair_wait(p, 1, &ev_bc), ACL_OK);

    assert_int_equal(clEnqueueReadBuffer(p->dev[1].queue, b, CL_TRUE, 0, n * 4, got, 0, NULL, NULL), CL_SUCCESS);
    expect_range(got, n, o1 * 4, (const unsigned char *)src + o0 * 4, bytes);
    assert_int_equal(clEnqueueReadBuffer(p->dev[0].queue, c, CL_TRUE, 0, n * 4, got, 0, NULL, NULL), CL_SUCCESS);
    expect_range(got, n, o2 * 4, (const unsigned char *)src + o0 * 4, bytes);

    struct acl_migrate_stats st;
    /* Callbacks may still be counting until acl_pair_finish returns. */
    assert_int_equal(acl_pair_finish(p), ACL_OK);
    acl_migrate_stats(p, &st, 1);
    assert_int_equal(st.bytes, 2 * bytes);
    assert_int_equal(st.copies, 2);
    assert_int_equal(st.staged, p->shared ? 0 : 2);
    assert_true(st.wait_s >= 0.0);
    print_message("[   INFO   ] moved %llu bytes in %llu copies (%llu staged): device %.3f ms, host wait %.3f ms\n",
                  (unsigned long long)st.bytes, (unsigned long long)st.copies, (unsigned long long)st.staged,
                  st.device_s * 1e3, st.wait_s * 1e3);

    cl_event evs[] = {ev_a, ev_b, ev_c, ev_ab, ev_bc};
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
        clReleaseEvent(evs[i]);
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clReleaseMemObject(c);
    free(src);
    free(mid);
    free(back);
    free(got);
}

static void trips(enum which w)
{
    struct acl_pair *p = get_pair(w);
    round_trip(p, 11 + (uint64_t)w, 10007, 1237, 389, 4099, 4 * 3001 + 3);
    round_trip(p, 23 + (uint64_t)w, 97, 0, 13, 1, 1);               /* one byte */
    round_trip(p, 37 + (uint64_t)w, 70001, 7, 3, 5, 4 * 69991 + 2); /* nearly the whole buffer */
}

static void shared_context(void **state)
{
    (void)state;
    trips(SHARED);
    assert_true(pairs[SHARED].shared);
}

static void separate_contexts_events(void **state)
{
    (void)state;
    trips(SEPARATE_EVENTS);
    assert_false(pairs[SEPARATE_EVENTS].shared);
}

static void separate_contexts_host_wait(void **state)
{
    (void)state;
    trips(SEPARATE_HOST_WAIT);
}

static void two_platforms(void **state)
{
    (void)state;
    trips(TWO_PLATFORMS);
    assert_false(pairs[TWO_PLATFORMS].shared);
}

/* Whole buffers handed over with clEnqueueMigrateMemObjects in the shared context. */
static void migrate_whole_buffers(void **state)
{
    (void)state;
    struct acl_pair *p = get_pair(SHARED);
    enum { N = 3001 };
    uint32_t src[N], got[N];
    uint64_t seed = 5;
    for (size_t i = 0; i < N; i++)
        src[i] = next_bits(&seed);
    cl_mem m[2] = {NULL, NULL};
    cl_event w = NULL, ev = NULL;
    assert_int_equal(acl_buffer(&p->dev[0], N * 4, &m[0]), ACL_OK);
    assert_int_equal(acl_buffer(&p->dev[0], 17, &m[1]), ACL_OK);
    assert_int_equal(clEnqueueWriteBuffer(p->dev[0].queue, m[0], CL_FALSE, 0, N * 4, src, 0, NULL, &w), CL_SUCCESS);
    struct acl_migrate_stats st;
    acl_migrate_stats(p, &st, 1);
    assert_int_equal(acl_migrate_buffers(p, 1, 2, m, 1, &w, &ev), ACL_OK);
    assert_int_equal(clEnqueueReadBuffer(p->dev[1].queue, m[0], CL_TRUE, 0, N * 4, got, 1, &ev, NULL), CL_SUCCESS);
    assert_memory_equal(got, src, sizeof src);
    acl_migrate_stats(p, &st, 1);
    assert_int_equal(st.bytes, N * 4 + 17);
    clReleaseEvent(w);
    clReleaseEvent(ev);
    clReleaseMemObject(m[0]);
    clReleaseMemObject(m[1]);
}

/* Ranges outside a buffer, a device index out of range, migrating across contexts, a device twice. */
static void bad_arguments(void **state)
{
    (void)state;
    struct acl_pair *p = get_pair(SEPARATE_EVENTS);
    cl_mem a = NULL, b = NULL;
    cl_event ev = (cl_event)1;
    assert_int_equal(acl_buffer(&p->dev[0], 400, &a), ACL_OK);
    assert_int_equal(acl_buffer(&p->dev[1], 400, &b), ACL_OK);
    assert_int_equal(acl_copy_between(p, 0, (struct acl_view){a, 90}, 1, (struct acl_view){b, 0}, 41, 0, NULL, &ev),
                     ACL_ERR_ARGUMENT);
    assert_null(ev);
    assert_non_null(strstr(acl_last_error(), "source range [360, 401) bytes lies outside its 400-byte buffer"));
    assert_int_equal(acl_copy_between(p, 0, (struct acl_view){a, 0}, 1, (struct acl_view){b, 101}, 1, 0, NULL, NULL),
                     ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "destination range"));
    assert_int_equal(acl_copy_between(p, 0, (struct acl_view){a, 0}, 2, (struct acl_view){b, 0}, 4, 0, NULL, NULL),
                     ACL_ERR_ARGUMENT);
    assert_int_equal(acl_migrate_buffers(p, 1, 1, &a, 0, NULL, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "separate contexts"));
    /* Zero bytes: nothing moves, but the event still orders what follows. */
    assert_int_equal(acl_copy_between(p, 0, (struct acl_view){a, 100}, 1, (struct acl_view){b, 100}, 0, 0, NULL, &ev),
                     ACL_OK);
    assert_non_null(ev);
    assert_int_equal(acl_pair_wait(p, 1, &ev), ACL_OK);
    clReleaseEvent(ev);
    clReleaseMemObject(a);
    clReleaseMemObject(b);

    struct acl_pair twice;
    assert_int_equal(acl_pair_init(&twice, &p->dev[0].dev, &p->dev[0].dev, ACL_PAIR_AUTO, NULL, NULL),
                     ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "named twice"));
}

static int release_pairs(void **state)
{
    (void)state;
    for (int w = 0; w < NPAIRS; w++)
        if (pair_state[w] > 0)
            acl_pair_release(&pairs[w]);
    return 0;
}

int main(void)
{
    /* Two PoCL CPU devices unless the environment chose (tests/CMakeLists.txt sets it too); it must be
     * set before the first OpenCL call. */
    setenv("POCL_DEVICES", "pthread pthread", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_context),
        cmocka_unit_test(migrate_whole_buffers),
        cmocka_unit_test(separate_contexts_events),
        cmocka_unit_test(separate_contexts_host_wait),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(two_platforms),
    };
    return cmocka_run_group_tests(tests, NULL, release_pairs);
}
