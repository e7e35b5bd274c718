/* test_relu.c: ReLU reference (values, finite differences) and device against reference. */
#include <math.h>
#include <stdlib.h>

#include "ops/relu.h"
#include "testutil.h"

static void reference_values(void **state)
{
    (void)state;
    const double x[] = {-2, -0.0, 0, 0.5, 3, NAN};
    double y[6], dx[6];
    const double dy[] = {1, 2, 3, 4, 5, 6};
    relu_forward_ref(y, x, 6);
    assert_true(y[0] == 0 && y[1] == 0 && y[2] == 0 && y[3] == 0.5 && y[4] == 3);
    assert_true(isnan(y[5])); /* NaN propagates, so training can see it */
    relu_backward_ref(dx, dy, y, 5);
    assert_true(dx[0] == 0 && dx[2] == 0 && dx[3] == 4 && dx[4] == 5);
}

struct relu_fd {
    const double *dy;
    double *y;
    size_t n;
};

static double relu_loss(void *ctx, const double *x)
{
    struct relu_fd *r = ctx;
    relu_forward_ref(r->y, x, r->n);
    return fd_dot(r->dy, r->y, r->n);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    enum { N = 200 };
    double x[N], y[N], dy[N], dx[N];
    uint64_t seed = 7;
    test_rand(&seed, x, N, -1, 1);
    test_rand(&seed, dy, N, -1, 1);
    for (size_t i = 0; i < N; i++) /* keep away from the kink, where the derivative is undefined */
        if (fabs(x[i]) < 1e-3)
            x[i] = 0.5;
    relu_forward_ref(y, x, N);
    relu_backward_ref(dx, dy, y, N);
    struct relu_fd ctx = {dy, y, N};
    assert_true(fd_max_error(relu_loss, &ctx, x, N, dx, 1e-6, 1e-9) < 1e-6);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("relu");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
    };
    return cmocka_run_group_tests_name("relu", tests, NULL, NULL);
}
