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

/* ---- strided blocks: a channel range of every image of an NCHW tensor ----------------------------- */

/* One N x C x HW tensor inside a buffer of len floats, starting at float pad. */
struct nchw {
    size_t n, c, hw, pad, len;
};

static size_t at(const struct nchw *t, size_t n, size_t c, size_t i) { return t->pad + (n * t->c + c) * t->hw + i; }

/* The block of channels [c0, c0 + cn) of every image, from tensor s to channel c1 of tensor d. */
static struct acl_rect channels(const struct nchw *s, const struct nchw *d, size_t cn)
{
    return (struct acl_rect){cn * s->hw * 4, s->n, s->c * s->hw * 4, d->c * d->hw * 4};
}

/* got (d's buffer, read back) holds want's channels [c0, c0 + cn) at channel c1 of every image, and the
 * sentinel everywhere else (other channels, before and after the tensor). Element by element. */
static void expect_channels(const uint32_t *got, const struct nchw *d, size_t c1, const uint32_t *want,
                            const struct nchw *s, size_t c0, size_t cn)
{
    for (size_t k = 0; k < d->len; k++) {
        uint32_t expect = SENTINEL;
        if (k >= d->pad && k < d->pad + d->n * d->c * d->hw) {
            size_t e = k - d->pad, n = e / (d->c * d->hw), c = e / d->hw % d->c, i = e % d->hw;
            if (c >= c1 && c < c1 + cn)
                expect = want[at(s, n, c - c1 + c0, i)];
        }
        if (got[k] != expect)
            fail_msg("float %zu of the destination is 0x%08x, expected 0x%08x", k, got[k], expect);
    }
}

/* Channels [2, 5) of a 3 x 7 x 13x11 tensor on device 0 go to channels [1, 4) of a 3 x 5 x 13x11 tensor on
 * device 1 (other pitch, other offset), then back to channels [2, 5) of a poisoned copy of the first shape
 * on device 0. The wait lists mix both devices' events; nothing waits on the host until the end. */
static void rect_round_trip(struct acl_pair *p, uint64_t seed)
{
    const struct nchw ta = {3, 7, 143, 0, 3 * 7 * 143}, tb = {3, 5, 143, 29, 29 + 3 * 5 * 143 + 31},
                      tc = {3, 7, 143, 5, 5 + 3 * 7 * 143 + 3};
    const size_t c0 = 2, c1 = 1, cn = 3;
    uint32_t *src = malloc(ta.len * 4), *mid = malloc(tb.len * 4), *back = malloc(tc.len * 4),
             *got = malloc(tc.len * 4);
    assert_non_null(src && mid && back && got);
    for (size_t i = 0; i < ta.len; i++)
        src[i] = next_bits(&seed);
    struct acl_migrate_stats st;
    acl_migrate_stats(p, &st, 1);

    cl_mem a = NULL, b = NULL, c = NULL;
    cl_event ev_a = NULL, ev_b = NULL, ev_c = NULL, ev_ab = NULL, ev_bc = NULL;
    assert_int_equal(acl_buffer(&p->dev[0], ta.len * 4, &a), ACL_OK);
    assert_int_equal(clEnqueueWriteBuffer(p->dev[0].queue, a, CL_FALSE, 0, ta.len * 4, src, 0, NULL, &ev_a),
                     CL_SUCCESS);
    b = poisoned(p, 1, tb.len, mid, &ev_b);
    c = poisoned(p, 0, tc.len, back, &ev_c);

    struct acl_rect there = channels(&ta, &tb, cn), home = channels(&tb, &tc, cn);
    cl_event w1[2] = {ev_a, ev_b}, w2[2] = {ev_c, NULL};
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, at(&ta, 0, c0, 0)}, 1,
                                           (struct acl_view){b, at(&tb, 0, c1, 0)}, &there, 2, w1, &ev_ab), ACL_OK);
    w2[1] = ev_ab;
    assert_int_equal(acl_copy_rect_between(p, 1, (struct acl_view){b, at(&tb, 0, c1, 0)}, 0,
                                           (struct acl_view){c, at(&tc, 0, c0, 0)}, &home, 2, w2, &ev_bc), ACL_OK);
    assert_non_null(ev_bc);
    assert_int_equal(acl_pair_wait(p, 1, &ev_bc), ACL_OK);

    assert_int_equal(clEnqueueReadBuffer(p->dev[1].queue, b, CL_TRUE, 0, tb.len * 4, got, 0, NULL, NULL),
                     CL_SUCCESS);
    expect_channels(got, &tb, c1, src, &ta, c0, cn);
    assert_int_equal(clEnqueueReadBuffer(p->dev[0].queue, c, CL_TRUE, 0, tc.len * 4, got, 0, NULL, NULL),
                     CL_SUCCESS);
    expect_channels(got, &tc, c0, src, &ta, c0, cn);

    assert_int_equal(acl_pair_finish(p), ACL_OK);
    acl_migrate_stats(p, &st, 1);
    assert_int_equal(st.bytes, 2 * there.rows * there.row_bytes);
    assert_int_equal(st.copies, 2);
    assert_int_equal(st.staged, p->shared ? 0 : 2);

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

/* src == dst: between two buffers of device 1, then inside one buffer of device 0 (from the tensor to a
 * compact block after it: other pitch, no overlap); one device's copies leave the counters at zero. */
static void rect_one_device(struct acl_pair *p, uint64_t seed)
{
    const struct nchw ta = {4, 6, 35, 3, 3 + 4 * 6 * 35}, tb = {4, 9, 35, 0, 4 * 9 * 35 + 17};
    const struct nchw whole = {4, 6, 35, 0, 4 * 6 * 35 + 4 * 2 * 35 + 11}, packed = {4, 2, 35, 4 * 6 * 35,
                                                                                     whole.len};
    const size_t c0 = 3, c1 = 5, cn = 2;
    uint32_t *src = malloc(whole.len * 4), *poison = malloc(tb.len * 4), *got = malloc((whole.len > tb.len ? whole.len : tb.len) * 4);
    assert_non_null(src && poison && got);
    for (size_t i = 0; i < whole.len; i++)
        src[i] = next_bits(&seed);
    struct acl_migrate_stats st;
    acl_migrate_stats(p, &st, 1);

    cl_mem a = NULL, b = NULL, w = NULL;
    cl_event ev_a = NULL, ev_b = NULL, ev_w = NULL, ev_ab = NULL, ev_ww = NULL;
    assert_int_equal(acl_buffer(&p->dev[1], ta.len * 4, &a), ACL_OK);
    assert_int_equal(clEnqueueWriteBuffer(p->dev[1].queue, a, CL_FALSE, 0, ta.len * 4, src, 0, NULL, &ev_a),
                     CL_SUCCESS);
    b = poisoned(p, 1, tb.len, poison, &ev_b);
    cl_event w1[2] = {ev_a, ev_b};
    struct acl_rect r1 = channels(&ta, &tb, cn);
    assert_int_equal(acl_copy_rect_between(p, 1, (struct acl_view){a, at(&ta, 0, c0, 0)}, 1,
                                           (struct acl_view){b, at(&tb, 0, c1, 0)}, &r1, 2, w1, &ev_ab), ACL_OK);
    assert_int_equal(clEnqueueReadBuffer(p->dev[1].queue, b, CL_TRUE, 0, tb.len * 4, got, 1, &ev_ab, NULL),
                     CL_SUCCESS);
    expect_channels(got, &tb, c1, src, &ta, c0, cn);

    /* Inside one buffer: the packed block's floats start out as whatever src held there. */
    assert_int_equal(acl_buffer(&p->dev[0], whole.len * 4, &w), ACL_OK);
    assert_int_equal(clEnqueueWriteBuffer(p->dev[0].queue, w, CL_FALSE, 0, whole.len * 4, src, 0, NULL, &ev_w),
                     CL_SUCCESS);
    struct acl_rect r2 = channels(&whole, &packed, cn);
    test_expect_status(acl_copy_rect_between(p, 0, (struct acl_view){w, at(&whole, 0, c0, 0)}, 0,
                                             (struct acl_view){w, packed.pad}, &r2, 1, &ev_w, &ev_ww), ACL_OK, "");
    /* And with one pitch: channels [0, 2) of every image onto channels [4, 6) of the same image, which the
     * packed copy above read before (the copies are ordered by the event). */
    struct acl_rect r3 = channels(&whole, &whole, 2);
    cl_event ev_same = NULL;
    test_expect_status(acl_copy_rect_between(p, 0, (struct acl_view){w, at(&whole, 0, 0, 0)}, 0,
                                             (struct acl_view){w, at(&whole, 0, 4, 0)}, &r3, 1, &ev_ww, &ev_same),
                       ACL_OK, "");
    clReleaseEvent(ev_ww);
    ev_ww = ev_same;
    assert_int_equal(clEnqueueReadBuffer(p->dev[0].queue, w, CL_TRUE, 0, whole.len * 4, got, 1, &ev_ww, NULL),
                     CL_SUCCESS);
    for (size_t k = 0; k < whole.len; k++) {
        uint32_t expect = src[k];
        if (k >= packed.pad && k < packed.pad + packed.n * packed.c * packed.hw) {
            size_t e = k - packed.pad, n = e / (packed.c * packed.hw), c = e / packed.hw % packed.c;
            expect = src[at(&whole, n, c0 + c, e % packed.hw)];
        } else if (k < whole.n * whole.c * whole.hw && k / whole.hw % whole.c >= 4) {
            expect = src[k - 4 * whole.hw];
        }
        if (got[k] != expect)
            fail_msg("float %zu of the buffer is 0x%08x, expected 0x%08x", k, got[k], expect);
    }

    assert_int_equal(acl_pair_finish(p), ACL_OK);
    acl_migrate_stats(p, &st, 1);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.copies, 0);
    assert_int_equal(st.staged, 0);

    cl_event evs[] = {ev_a, ev_b, ev_w, ev_ab, ev_ww};
    for (size_t i = 0; i < sizeof evs / sizeof *evs; i++)
        clReleaseEvent(evs[i]);
    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clReleaseMemObject(w);
    free(src);
    free(poison);
    free(got);
}

static void trips(enum test_pair_kind w)
{
    struct acl_pair *p = test_pair(w);
    round_trip(p, 11 + (uint64_t)w, 10007, 1237, 389, 4099, 4 * 3001 + 3);
    round_trip(p, 23 + (uint64_t)w, 97, 0, 13, 1, 1);               /* one byte */
    round_trip(p, 37 + (uint64_t)w, 70001, 7, 3, 5, 4 * 69991 + 2); /* nearly the whole buffer */
    rect_round_trip(p, 51 + (uint64_t)w);
}

static void shared_context(void **state)
{
    (void)state;
    trips(TEST_PAIR_SHARED);
    assert_true(test_pair(TEST_PAIR_SHARED)->shared);
}

static void separate_contexts_events(void **state)
{
    (void)state;
    trips(TEST_PAIR_SEPARATE_EVENTS);
    assert_false(test_pair(TEST_PAIR_SEPARATE_EVENTS)->shared);
}

static void separate_contexts_host_wait(void **state)
{
    (void)state;
    trips(TEST_PAIR_SEPARATE_HOST_WAIT);
}

static void two_platforms(void **state)
{
    (void)state;
    trips(TEST_PAIR_TWO_PLATFORMS);
    assert_false(test_pair(TEST_PAIR_TWO_PLATFORMS)->shared);
}

static void one_device_shared(void **state)
{
    (void)state;
    rect_one_device(test_pair(TEST_PAIR_SHARED), 61);
}

static void one_device_separate(void **state)
{
    (void)state;
    rect_one_device(test_pair(TEST_PAIR_SEPARATE_EVENTS), 67);
}

/* Whole buffers handed over with clEnqueueMigrateMemObjects in the shared context. */
static void migrate_whole_buffers(void **state)
{
    (void)state;
    struct acl_pair *p = test_pair(TEST_PAIR_SHARED);
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
    struct acl_pair *p = test_pair(TEST_PAIR_SEPARATE_EVENTS);
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

    /* Strided blocks: an extent past the end on either side, rows that overlap, nothing to move. */
    assert_int_equal(acl_buffer(&p->dev[0], 400, &a), ACL_OK);
    assert_int_equal(acl_buffer(&p->dev[1], 400, &b), ACL_OK);
    const struct acl_rect r = {16, 4, 100, 40}; /* source extent 316 bytes, destination 136 */
    ev = (cl_event)1;
    test_expect_status(acl_copy_rect_between(p, 0, (struct acl_view){a, 22}, 1, (struct acl_view){b, 0}, &r, 0, NULL,
                                             &ev), ACL_ERR_ARGUMENT,
                       "source block of 4 rows of 16 bytes, 100 bytes apart, from byte 88 lies outside its 400-byte");
    assert_null(ev);
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 21}, 1, (struct acl_view){b, 0}, &r, 0, NULL,
                                           NULL), ACL_OK); /* 84 + 316 = 400: just fits */
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 0}, 1, (struct acl_view){b, 67}, &r, 0, NULL,
                                           NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "destination block"));
    const struct acl_rect huge = {16, SIZE_MAX / 64, 100, 40}; /* the extent would overflow size_t */
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 0}, 1, (struct acl_view){b, 0}, &huge, 0,
                                           NULL, NULL), ACL_ERR_ARGUMENT);
    const struct acl_rect overlap = {16, 2, 8, 40};
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 0}, 1, (struct acl_view){b, 0}, &overlap, 0,
                                           NULL, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "less than a row's 16 bytes"));
    assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 0}, 1, (struct acl_view){b, 0}, NULL, 0, NULL,
                                           NULL), ACL_ERR_ARGUMENT);
    const struct acl_rect none[] = {{16, 0, 100, 40}, {0, 4, 100, 40}};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(acl_copy_rect_between(p, 0, (struct acl_view){a, 50}, 1, (struct acl_view){b, 50}, &none[i],
                                               0, NULL, &ev), ACL_OK);
        assert_non_null(ev);
        assert_int_equal(acl_pair_wait(p, 1, &ev), ACL_OK);
        clReleaseEvent(ev);
    }
    assert_int_equal(acl_pair_finish(p), ACL_OK);
    clReleaseMemObject(a);
    clReleaseMemObject(b);

    struct acl_pair twice;
    assert_int_equal(acl_pair_init(&twice, &p->dev[0].dev, &p->dev[0].dev, ACL_PAIR_AUTO, NULL, NULL),
                     ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "named twice"));
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
        cmocka_unit_test(one_device_shared),
        cmocka_unit_test(one_device_separate),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(two_platforms),
    };
    return cmocka_run_group_tests(tests, NULL, test_pairs_release);
}
