/* test_sgemm.c: the own SGEMM (cl/sgemm.cl) against gemm_ref, its determinism, and when acl_gemm takes it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sgemm.h"
#include "runtime/ctx.h"
#include "testutil.h"

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("sgemm"); /* every transposition, tails of every tile, padded rows, alpha, beta, sentinels */
}

/* Two runs of each kernel on the same inputs give the same bits: every sum runs in a fixed order. K 203 takes
 * the k-blocked kernels, K 20 sgemm_tn_small for TN. */
static void runs_are_bit_identical(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    enum { M = 37, N = 70, KMAX = 203 };
    float *host = malloc(3 * (size_t)M * KMAX * sizeof *host), *out = malloc(2 * (size_t)M * N * sizeof *out);
    assert_non_null(host);
    assert_non_null(out);
    uint64_t seed = 77;
    acl_rand_fill(&seed, host, 3 * (size_t)M * KMAX, -1, 1);
    cl_mem m[3] = {NULL};
    assert_int_equal(acl_check_input(c, host, (size_t)M * KMAX, &m[0]), ACL_OK);
    assert_int_equal(acl_check_input(c, host + (size_t)M * KMAX, (size_t)KMAX * N, &m[1]), ACL_OK);
    assert_int_equal(acl_check_output(c, (size_t)M * N, &m[2]), ACL_OK);
    for (int v = 0; v < 8; v++) { /* every transposition, at both K */
        const int ta = v / 2 % 2, tb = v % 2;
        const size_t K = v < 4 ? KMAX : 20;
        struct acl_gemm g = {ta, tb, M, N, K, ta ? M : K, tb ? K : N, N, 1.0f, 0.0f};
        for (int run = 0; run < 2; run++) {
            assert_int_equal(acl_sgemm(c, &g, (struct acl_view){m[0], 0}, (struct acl_view){m[1], 0},
                                       (struct acl_view){m[2], 0}, NULL), ACL_OK);
            assert_int_equal(acl_read(c, m[2], 0, (size_t)M * N * sizeof *out, out + run * M * N), ACL_OK);
        }
        assert_memory_equal(out, out + M * N, (size_t)M * N * sizeof *out);
    }
    acl_release_mems(m, 3);
    free(host);
    free(out);
}

static void environment_chooses(void **state)
{
    (void)state;
    struct acl_ctx c;
    memset(&c, 0, sizeof c);
    snprintf(c.dev.info.type, sizeof c.dev.info.type, "GPU");
    unsetenv("ACL_GEMM");
    assert_false(acl_sgemm_preferred(&c));
    setenv("ACL_GEMM", "own", 1);
    assert_true(acl_sgemm_preferred(&c));
    snprintf(c.dev.info.type, sizeof c.dev.info.type, "CPU");
    setenv("ACL_GEMM", "clblast", 1);
    assert_false(acl_sgemm_preferred(&c));
    unsetenv("ACL_GEMM");
    assert_true(acl_sgemm_preferred(&c));
}

/* Matrices that reach past INT_MAX floats are not the own kernel's (it indexes in int): acl_gemm keeps CLBlast. */
static void refuses_what_int_cannot_index(void **state)
{
    (void)state;
    struct acl_gemm g = {0, 1, 32, 4096, 9216, 9216, 9216, 4096, 1.0f, 0.0f};
    struct acl_view v = {NULL, 0}, far = {NULL, (size_t)2147000000};
    assert_true(acl_sgemm_fits(&g, v, v, v));
    assert_false(acl_sgemm_fits(&g, v, far, v));
    g.ldb = 600000;
    assert_false(acl_sgemm_fits(&g, v, v, v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(runs_are_bit_identical),
        cmocka_unit_test(environment_chooses),
        cmocka_unit_test(refuses_what_int_cannot_index),
    };
    return cmocka_run_group_tests_name("sgemm", tests, NULL, NULL);
}
