/* test_gemm.c: the GEMM reference on known values, and CLBlast against it. */
#include "ops/gemm.h"
#include "testutil.h"

static void reference_values(void **state)
{
    (void)state;
    /* [1 2; 3 4] x [5 6; 7 8] = [19 22; 43 50]; A^T x B = [26 30; 38 44] */
    const double a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    double c[4] = {1, 1, 1, 1};
    struct acl_gemm g = {0, 0, 2, 2, 2, 2, 2, 2, 1.0f, 0.0f};
    gemm_ref(&g, a, b, c);
    assert_true(c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50);
    g.trans_a = 1;
    g.beta = 1.0f;
    gemm_ref(&g, a, b, c); /* accumulates */
    assert_true(c[0] == 19 + 26 && c[1] == 22 + 30 && c[2] == 43 + 38 && c[3] == 50 + 44);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("gemm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(device_matches_reference),
    };
    return cmocka_run_group_tests_name("gemm", tests, NULL, NULL);
}
