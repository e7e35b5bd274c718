/* test_lrn.c: LRN reference (hand values, window convention, finite differences), device against reference,
 * bad shapes. */
#include <math.h>
#include <stdlib.h>

#include "ops/lrn.h"
#include "testutil.h"

static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }

static void reference_values(void **state)
{
    (void)state;
    /* One pixel, C = 3, x = (1, 2, 3), beta = 1, k = 1; alpha = n so that alpha / n = 1. */
    const double x[] = {1, 2, 3};
    double y[3], sc[3];
    struct lrn_shape s = {1, 3, 1, 1, 3, 3.0f, 1.0f, 1.0f};
    lrn_forward_ref(y, sc, x, &s); /* windows {0,1}, {0,1,2}, {1,2} */
    assert_true(close_to(sc[0], 6) && close_to(sc[1], 15) && close_to(sc[2], 14));
    assert_true(close_to(y[0], 1.0 / 6) && close_to(y[1], 2.0 / 15) && close_to(y[2], 3.0 / 14));

    /* n = 4: PyTorch pads size/2 = 2 channels before and (size-1)/2 = 1 after, so channel 0 sees {0, 1}
     * and channel 2 sees {0, 1, 2}. (ONNX's floor/ceil window would give channel 0 {0, 1, 2}.) */
    s.size = 4;
    s.alpha = 4.0f;
    lrn_forward_ref(y, sc, x, &s);
    assert_true(close_to(sc[0], 6) && close_to(sc[1], 15) && close_to(sc[2], 15));

    /* The paper's parameters in this convention (alpha = 5e-4 = 1e-4 * n), beta = 0.75, k = 2. */
    s = (struct lrn_shape){1, 3, 1, 1, 5, 5e-4f, 0.75f, 2.0f};
    lrn_forward_ref(y, sc, x, &s);
    double paper = 2 + 1e-4 * 14; /* every window of 5 holds all three channels */
    assert_true(fabs(sc[1] - paper) < 1e-9 && fabs(y[1] - 2 * pow(paper, -0.75)) < 1e-9);

    /* Window 1 is pointwise: scale = k + alpha x^2. Two planes (h*w = 2) must not mix. */
    const double x2[] = {1, -2, 3, 0.5};
    double y2[4], sc2[4];
    s = (struct lrn_shape){1, 2, 1, 2, 1, 1.0f, 0.5f, 1.0f};
    lrn_forward_ref(y2, sc2, x2, &s);
    for (int i = 0; i < 4; i++)
        assert_true(close_to(sc2[i], 1 + x2[i] * x2[i]) && close_to(y2[i], x2[i] / sqrt(1 + x2[i] * x2[i])));

    /* A NaN reaches every output whose window holds it. */
    const double x3[] = {1, NAN, 2, 3, 4};
    double y3[5], sc3[5];
    s = (struct lrn_shape){1, 5, 1, 1, 3, 1.0f, 0.75f, 2.0f};
    lrn_forward_ref(y3, sc3, x3, &s);
    assert_true(isnan(y3[0]) && isnan(y3[1]) && isnan(y3[2]) && !isnan(y3[3]) && !isnan(y3[4]));
}

struct lrn_fd {
    const struct lrn_shape *s;
    const double *dy;
    double *y, *scale;
};

static double lrn_loss(void *ctx, const double *x)
{
    struct lrn_fd *r = ctx;
    lrn_forward_ref(r->y, r->scale, x, r->s);
    return fd_dot(r->dy, r->y, (size_t)r->s->n * r->s->c * r->s->h * r->s->w);
}

static void check_fd(const struct lrn_shape *s, uint64_t seed)
{
    size_t n = (size_t)s->n * s->c * s->h * s->w;
    double *x = malloc(5 * n * sizeof *x), *y = x + n, *sc = y + n, *dy = sc + n, *dx = dy + n;
    assert_non_null(x);
    test_rand(&seed, x, n, -2, 2);
    test_rand(&seed, dy, n, -1, 1);
    lrn_backward_ref(dx, dy, x, s);
    struct lrn_fd ctx = {s, dy, y, sc};
    double err = fd_max_error(lrn_loss, &ctx, x, n, dx, 1e-5, 1e-9);
    if (err >= 1e-7)
        print_message("lrn fd: n=%d c=%d %dx%d size=%d: error %g\n", s->n, s->c, s->h, s->w, s->size, err);
    assert_true(err < 1e-7);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    /* alpha large enough that the cross-channel term matters; odd, even, 1 and wider-than-C windows */
    const struct lrn_shape shapes[] = {
        {2, 7, 3, 2, 5, 1.5f, 0.75f, 2.0f}, {1, 6, 2, 3, 4, 2.0f, 0.75f, 1.0f}, {2, 5, 1, 3, 2, 1.0f, 0.6f, 1.0f},
        {1, 4, 2, 2, 1, 1.0f, 0.75f, 1.0f}, {1, 3, 3, 1, 7, 3.0f, 1.0f, 0.5f}, {1, 9, 1, 2, 6, 2.5f, 0.9f, 1.5f},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_fd(&shapes[i], 11 + i);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("lrn");
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    const struct lrn_shape bad[] = {
        {1, 3, 5, 5, 0, 1e-4f, 0.75f, 2}, /* window 0 */
        {1, 0, 5, 5, 5, 1e-4f, 0.75f, 2}, /* no channels */
        {0, 3, 5, 5, 5, 1e-4f, 0.75f, 2}, {1, 3, -1, 5, 5, 1e-4f, 0.75f, 2},
        {1, 3, 5, 5, 5, 1e-4f, 0.75f, 0},    /* k = 0: scale may be 0 */
        {1, 3, 5, 5, 5, -1e-4f, 0.75f, 2},   /* alpha < 0: scale may be negative */
        {1, 3, 5, 5, 5, 1e-4f, NAN, 2},      {1, 3, 5, 5, 5, INFINITY, 0.75f, 2},
        {2, 65536, 128, 128, 5, 1e-4f, 0.75f, 2}, /* 2^31 elements */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lrn_check_shape(&bad[i]), ACL_ERR_ARGUMENT);
    const struct lrn_shape good = {1, 3, 5, 5, 5, 1e-4f, 0.75f, 2};
    assert_int_equal(lrn_check_shape(&good), ACL_OK);

    /* The launchers refuse before touching a buffer. */
    struct acl_ctx *c = test_ctx();
    if (c) {
        struct acl_view none = {NULL, 0};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(lrn_forward(c, none, none, &bad[i], NULL), ACL_ERR_ARGUMENT);
            assert_int_equal(lrn_backward(c, none, none, none, &bad[i], NULL), ACL_ERR_ARGUMENT);
        }
        struct acl_view far = {NULL, (size_t)2147483647 - 10};
        assert_int_equal(lrn_forward(c, none, far, &good, NULL), ACL_ERR_ARGUMENT);
        assert_int_equal(lrn_backward(c, none, none, far, &good, NULL), ACL_ERR_ARGUMENT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
    };
    return cmocka_run_group_tests_name("lrn", tests, NULL, NULL);
}
