/* test_maxpool.c: max-pool reference (hand values, output sizes, ties, NaN, finite differences), device
 * against reference, bad shapes. */
#include <math.h>
#include <stdlib.h>

#include "ops/maxpool.h"
#include "testutil.h"

static void output_sizes(void **state)
{
    (void)state;
    assert_int_equal(pool_out_size(55, 3, 2, 0, 0), 27); /* pool1 */
    assert_int_equal(pool_out_size(27, 3, 2, 0, 0), 13); /* pool2 */
    assert_int_equal(pool_out_size(13, 3, 2, 0, 0), 6);  /* pool5 */
    assert_int_equal(pool_out_size(55, 3, 2, 0, 1), 27); /* Caffe's ceil agrees on AlexNet */
    assert_int_equal(pool_out_size(6, 3, 2, 0, 0), 2);
    assert_int_equal(pool_out_size(6, 3, 2, 0, 1), 3);   /* ceil keeps the partial window starting at 4 */
    assert_int_equal(pool_out_size(7, 2, 2, 0, 0), 3);
    assert_int_equal(pool_out_size(7, 2, 2, 0, 1), 4);
    assert_int_equal(pool_out_size(7, 3, 1, 1, 0), 7);
    /* ceil would give 7 windows; the 7th starts at 12 - 1 = 11 = h, wholly in the right padding: dropped */
    assert_int_equal(pool_out_size(11, 3, 2, 1, 1), 6);
    /* stride past the window: windows at 0 and 3; a third at 6 would start past the input */
    assert_int_equal(pool_out_size(5, 1, 3, 0, 1), 2);
    assert_int_equal(pool_out_size(2, 3, 1, 0, 0), 0); /* no window fits */
}

static void reference_values(void **state)
{
    (void)state;
    /* 4x4, 2x2 stride 2 */
    const double x[] = {1, 5, 2, 0, 3, 4, 8, 7, -1, -2, -3, -4, -5, -6, -8, -7};
    double y[4];
    int am[4];
    struct pool_shape s = {1, 1, 4, 4, 2, 2, 0, 0};
    maxpool_forward_ref(y, am, x, &s);
    assert_true(y[0] == 5 && y[1] == 8 && y[2] == -1 && y[3] == -3);
    assert_true(am[0] == 1 && am[1] == 6 && am[2] == 8 && am[3] == 10);

    /* Ties: a constant plane picks the first element of each (clipped) window. 5x5, 3x3 stride 2 pad 1. */
    double flat[25], yf[9], dflat[25], dyf[9];
    int amf[9];
    for (int i = 0; i < 25; i++)
        flat[i] = -1;
    s = (struct pool_shape){1, 1, 5, 5, 3, 2, 1, 0};
    maxpool_forward_ref(yf, amf, flat, &s);
    const int first[9] = {0, 1, 3, 5, 6, 8, 15, 16, 18};
    for (int i = 0; i < 9; i++)
        assert_int_equal(amf[i], first[i]);

    /* Overlapping windows choosing the same element add up: 3x3 stride 1 pad 1, maximum in the centre. */
    const double peak[9] = {0, 1, 0, 2, 9, 3, 0, 4, 0};
    double yp[9], dyp[9], dxp[9];
    int amp[9];
    s = (struct pool_shape){1, 1, 3, 3, 3, 1, 1, 0};
    maxpool_forward_ref(yp, amp, peak, &s);
    for (int i = 0; i < 9; i++) {
        assert_true(yp[i] == 9 && amp[i] == 4);
        dyp[i] = i + 1;
    }
    maxpool_backward_ref(dxp, dyp, amp, &s);
    for (int i = 0; i < 9; i++)
        assert_true(dxp[i] == (i == 4 ? 45 : 0));

    /* Backward overwrites: stale values in dinp vanish. */
    for (int i = 0; i < 25; i++)
        dflat[i] = 100;
    for (int i = 0; i < 9; i++)
        dyf[i] = 1;
    s = (struct pool_shape){1, 1, 5, 5, 3, 2, 1, 0};
    maxpool_backward_ref(dflat, dyf, amf, &s);
    assert_true(dflat[0] == 1 && dflat[2] == 0 && dflat[24] == 0);

    /* NaN wins over every number, the first NaN over later ones, so the output shows it. */
    const double xn[] = {1, NAN, 7, NAN, 2, 3, 4, 5, 6};
    double yn[1];
    int amn[1];
    s = (struct pool_shape){1, 1, 3, 3, 3, 1, 0, 0};
    maxpool_forward_ref(yn, amn, xn, &s);
    assert_true(isnan(yn[0]) && amn[0] == 1);
    const double xn2[] = {9, 1, 7, 0, 2, 3, 4, 5, NAN};
    maxpool_forward_ref(yn, amn, xn2, &s);
    assert_true(isnan(yn[0]) && amn[0] == 8); /* a NaN after the maximum still wins */
}

struct pool_fd {
    const struct pool_shape *s;
    const double *dy;
    double *y;
    int *am;
    size_t nout;
};

static double pool_loss(void *ctx, const double *x)
{
    struct pool_fd *r = ctx;
    maxpool_forward_ref(r->y, r->am, x, r->s);
    return fd_dot(r->dy, r->y, r->nout);
}

static void check_fd(const struct pool_shape *s, uint64_t seed)
{
    int oh = pool_out_size(s->h, s->size, s->stride, s->pad, s->ceil_mode);
    int ow = pool_out_size(s->w, s->size, s->stride, s->pad, s->ceil_mode);
    size_t nin = (size_t)s->n * s->c * s->h * s->w, nout = (size_t)s->n * s->c * oh * ow;
    double *x = malloc((2 * nin + 2 * nout) * sizeof *x), *dx = x + nin, *y = dx + nin, *dy = y + nout;
    int *am = malloc(nout * sizeof *am);
    assert_true(x && am);
    /* Distinct values 0.01 apart in shuffled order: no ties, and a step of 1e-6 cannot reorder them. */
    for (size_t i = 0; i < nin; i++)
        x[i] = 0.01 * (double)i - 1;
    for (size_t i = nin - 1; i > 0; i--) {
        size_t j = acl_rand_u32(&seed) % (i + 1);
        double t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
    test_rand(&seed, dy, nout, -1, 1);
    maxpool_forward_ref(y, am, x, s);
    maxpool_backward_ref(dx, dy, am, s);
    struct pool_fd ctx = {s, dy, y, am, nout};
    double err = fd_max_error(pool_loss, &ctx, x, nin, dx, 1e-6, 1e-9);
    if (err >= 1e-8)
        print_message("maxpool fd: %dx%d %d/%d p%d ceil %d: error %g\n", s->h, s->w, s->size, s->stride, s->pad,
                      s->ceil_mode, err);
    assert_true(err < 1e-8);
    free(x);
    free(am);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    const struct pool_shape shapes[] = {
        {2, 3, 7, 9, 3, 2, 0, 0}, {1, 2, 7, 7, 3, 2, 1, 1}, {2, 2, 6, 5, 2, 2, 0, 1},
        {1, 3, 5, 5, 3, 1, 1, 0}, {1, 1, 9, 9, 4, 3, 2, 1}, {1, 2, 5, 4, 1, 3, 0, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_fd(&shapes[i], 21 + i);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("maxpool");
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    const struct pool_shape bad[] = {
        {1, 3, 5, 5, 0, 1, 0, 0},  /* size < 1 */
        {1, 3, 5, 5, 3, 0, 0, 0},  /* stride < 1 */
        {1, 3, 5, 5, 3, 2, 3, 0},  /* pad >= size */
        {1, 3, 5, 5, 3, 2, -1, 0}, /* negative pad */
        {1, 3, 2, 5, 3, 2, 0, 0},  /* output height < 1 */
        {1, 3, 5, 1, 3, 2, 0, 1},  /* output width < 1, ceil mode too */
        {0, 3, 5, 5, 3, 2, 0, 0},  {1, 0, 5, 5, 3, 2, 0, 0},
        {2, 65536, 128, 128, 3, 2, 0, 0}, /* 2^31 elements */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pool_check_shape(&bad[i]), ACL_ERR_ARGUMENT);
    const struct pool_shape good = {1, 3, 5, 5, 3, 2, 2, 1};
    assert_int_equal(pool_check_shape(&good), ACL_OK);

    struct acl_ctx *c = test_ctx();
    if (c) {
        struct acl_view none = {NULL, 0};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            assert_int_equal(maxpool_forward(c, none, none, none, &bad[i], NULL), ACL_ERR_ARGUMENT);
            assert_int_equal(maxpool_backward(c, none, none, none, &bad[i], NULL), ACL_ERR_ARGUMENT);
        }
        struct acl_view far = {NULL, (size_t)2147483647 - 10};
        assert_int_equal(maxpool_backward(c, far, none, none, &good, NULL), ACL_ERR_ARGUMENT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(output_sizes),
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
    };
    return cmocka_run_group_tests_name("maxpool", tests, NULL, NULL);
}
