/* test_sgd.c: the SGD reference against a hand computation and the paper's equation, device against
 * reference, and parameters and ranges the launcher refuses. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ops/sgd.h"
#include "runtime/ctx.h"
#include "testutil.h"

static void three_steps_match_hand_computation(void **state)
{
    (void)state;
    /* lr 0.1, momentum 0.5, decay 0.1. Element 0: w 1, v 0, g 1 every step:
     *   v1 = 0.5*0       - 0.1*(1 + 0.1*1)       = -0.11      w1 = 0.89
     *   v2 = 0.5*-0.11   - 0.1*(1 + 0.1*0.89)    = -0.1639    w2 = 0.7261
     *   v3 = 0.5*-0.1639 - 0.1*(1 + 0.1*0.7261)  = -0.189211  w3 = 0.536889
     * Element 1: w -2, v 0.4, g 0 (decay alone pulls w towards 0):
     *   v1 = 0.2    - 0.1*(0.1*-2)       = 0.22      w1 = -1.78
     *   v2 = 0.11   - 0.1*(0.1*-1.78)    = 0.1278    w2 = -1.6522
     *   v3 = 0.0639 - 0.1*(0.1*-1.6522)  = 0.080422  w3 = -1.571778 */
    const struct sgd_params p = {0.1f, 0.5f, 0.1f};
    double w[2] = {1, -2}, v[2] = {0, 0.4};
    const double g[2] = {1, 0};
    const double want_v[3][2] = {{-0.11, 0.22}, {-0.1639, 0.1278}, {-0.189211, 0.080422}};
    const double want_w[3][2] = {{0.89, -1.78}, {0.7261, -1.6522}, {0.536889, -1.571778}};
    for (int step = 0; step < 3; step++) {
        sgd_update_ref(w, v, g, 2, &p);
        for (int i = 0; i < 2; i++) {
            /* the float parameters are not exactly 0.1 and 0.5: allow their rounding (~1e-8 relative) */
            assert_true(fabs(v[i] - want_v[step][i]) < 1e-7);
            assert_true(fabs(w[i] - want_w[step][i]) < 1e-7);
        }
    }
}

static void matches_the_papers_equation(void **state)
{
    (void)state;
    /* v_{i+1} = 0.9 v_i - 0.0005 e w_i - e <dL/dw>,  w_{i+1} = w_i + v_{i+1}  (section 5, e = 0.01) */
    enum { N = 100 };
    const struct sgd_params p = {0.01f, 0.9f, 0.0005f};
    const double e = p.lr, mom = p.momentum, decay = p.weight_decay;
    double w[N], v[N], g[N], w2[N], v2[N];
    uint64_t seed = 5;
    test_rand(&seed, w, N, -1, 1);
    test_rand(&seed, v, N, -0.1, 0.1);
    memcpy(w2, w, sizeof w);
    memcpy(v2, v, sizeof v);
    for (int step = 0; step < 3; step++) {
        test_rand(&seed, g, N, -1, 1);
        sgd_update_ref(w, v, g, N, &p);
        for (int i = 0; i < N; i++) {
            v2[i] = mom * v2[i] - decay * e * w2[i] - e * g[i];
            w2[i] = w2[i] + v2[i];
        }
    }
    for (int i = 0; i < N; i++) {
        assert_true(fabs(v[i] - v2[i]) < 1e-15);
        assert_true(fabs(w[i] - w2[i]) < 1e-15);
    }
}

static void zero_rate_only_decays_momentum(void **state)
{
    (void)state;
    enum { N = 67 };
    const struct sgd_params p = {0.0f, 0.9f, 0.0005f};
    double w[N], v[N], g[N], w0[N], v0[N];
    uint64_t seed = 9;
    test_rand(&seed, w, N, -1, 1);
    test_rand(&seed, v, N, -1, 1);
    test_rand(&seed, g, N, -1, 1);
    memcpy(w0, w, sizeof w);
    memcpy(v0, v, sizeof v);
    sgd_update_ref(w, v, g, N, &p);
    for (int i = 0; i < N; i++) {
        double decayed = (double)p.momentum * v0[i];
        assert_true(v[i] == decayed);
        assert_true(w[i] == w0[i] + decayed);
    }
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("sgd");
}

static void expect_bad(struct sgd_params p, const char *fragment)
{
    acl_status st = sgd_check_params(&p);
    if (st != ACL_ERR_ARGUMENT || !strstr(acl_last_error(), fragment))
        print_message("expected an error about \"%s\", got %d: %s\n", fragment, (int)st, acl_last_error());
    assert_int_equal(st, ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), fragment));
}

static void bad_params_rejected(void **state)
{
    (void)state;
    assert_int_equal(sgd_check_params(&(struct sgd_params){0.01f, 0.9f, 0.0005f}), ACL_OK);
    assert_int_equal(sgd_check_params(&(struct sgd_params){0, 0, 0}), ACL_OK);
    expect_bad((struct sgd_params){-0.01f, 0.9f, 0.0005f}, "learning rate");
    expect_bad((struct sgd_params){0.01f, NAN, 0.0005f}, "momentum");
    expect_bad((struct sgd_params){0.01f, 0.9f, INFINITY}, "weight decay");
}

static void bad_ranges_rejected(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    cl_mem m = NULL;
    assert_int_equal(acl_buffer(c, 1024 * sizeof(float), &m), ACL_OK);
    const struct sgd_params p = {0.01f, 0.9f, 0.0005f};
    struct acl_view v = {m, 0}, none = {NULL, 0};
    assert_int_equal(sgd_update(c, v, v, v, 3, 0, &p, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "empty"));
    assert_int_equal(sgd_update(c, v, none, v, 0, 10, &p, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "momentum"));
    assert_int_equal(sgd_update(c, v, v, v, (size_t)INT_MAX - 5, 10, &p, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "INT_MAX"));
    assert_int_equal(sgd_update(c, v, v, (struct acl_view){m, (size_t)INT_MAX}, 0, 1, &p, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "gradient"));
    assert_int_equal(sgd_update(c, v, v, v, 0, 10, &(struct sgd_params){0.01f, -1, 0}, NULL), ACL_ERR_ARGUMENT);
    clReleaseMemObject(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_steps_match_hand_computation),
        cmocka_unit_test(matches_the_papers_equation),
        cmocka_unit_test(zero_rate_only_decays_momentum),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_params_rejected),
        cmocka_unit_test(bad_ranges_rejected),
    };
    return cmocka_run_group_tests_name("sgd", tests, NULL, NULL);
}
