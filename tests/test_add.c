/* test_add.c: y += x, the reference and the device: random data, offsets inside larger buffers, a length that
 * is not a multiple of the work-group size, and poison on both sides of the output that must survive. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/add.h"
#include "runtime/error.h"
#include "testutil.h"

static void reference_values(void **state)
{
    (void)state;
    double y[4] = {1, -2, 0.5, 7};
    const double x[4] = {1, 2, -0.25, 100};
    add_ref(y, x, 3); /* the last element is past n and keeps its value */
    assert_true(y[0] == 2 && y[1] == 0 && y[2] == 0.25 && y[3] == 7);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("add");
}

/* The engine adds a device's partial result into a slice of a larger activation buffer: both views at
 * offsets, everything outside [y_off, y_off + n) left as it was. */
static void offsets_and_poison(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    enum { N = 1000 + 3, YOFF = 37, XOFF = 130, GUARD = 211 }; /* N: 15 groups of 64 and a tail of 43 */
    const size_t ylen = YOFF + N + GUARD, xlen = XOFF + N;
    float *y0 = malloc(ylen * sizeof *y0), *x = malloc(xlen * sizeof *x), *y = malloc(ylen * sizeof *y);
    double *xd = malloc(N * sizeof *xd), *yd = malloc(N * sizeof *yd);
    assert_true(y0 && x && y && xd && yd);
    uint64_t seed = 42;
    acl_rand_fill(&seed, y0, ylen, -10, 10);
    acl_rand_fill(&seed, x, xlen, -10, 10);
    for (size_t i = YOFF + N; i < ylen; i++) /* poison after the output: a NaN with a payload */
        memcpy(&y0[i], &(uint32_t){0x7fc0beefu}, sizeof(float));
    acl_to_double(x + XOFF, xd, N);
    acl_to_double(y0 + YOFF, yd, N);
    add_ref(yd, xd, N);

    cl_mem m[2] = {NULL};
    assert_int_equal(acl_buffer(c, ylen * sizeof(float), &m[0]), ACL_OK);
    assert_int_equal(acl_buffer(c, xlen * sizeof(float), &m[1]), ACL_OK);
    assert_int_equal(acl_write(c, m[0], 0, ylen * sizeof(float), y0), ACL_OK);
    assert_int_equal(acl_write(c, m[1], 0, xlen * sizeof(float), x), ACL_OK);
    assert_int_equal(tensor_add(c, (struct acl_view){m[0], YOFF}, (struct acl_view){m[1], XOFF}, N, NULL), ACL_OK);
    assert_int_equal(acl_read(c, m[0], 0, ylen * sizeof(float), y), ACL_OK);

    double maxref = 0;
    for (size_t i = 0; i < N; i++)
        maxref = fmax(maxref, fabs(yd[i]));
    for (size_t i = 0; i < ylen; i++) {
        if (i < YOFF || i >= YOFF + N) { /* untouched, bit for bit */
            if (memcmp(&y[i], &y0[i], sizeof(float)) != 0)
                fail_msg("element %zu outside the output changed", i);
            continue;
        }
        double ref = yd[i - YOFF], err = fabs((double)y[i] - ref);
        if (!isfinite(y[i]) || err > 1e-7 * (fabs(ref) + maxref))
            fail_msg("y[%zu] = %.9g, reference %.9g", i - YOFF, (double)y[i], ref);
    }

    /* y and x the same view: y doubles, exactly. */
    assert_int_equal(tensor_add(c, (struct acl_view){m[1], XOFF}, (struct acl_view){m[1], XOFF}, N, NULL), ACL_OK);
    assert_int_equal(acl_read(c, m[1], 0, xlen * sizeof(float), y), ACL_OK);
    for (size_t i = 0; i < xlen; i++)
        assert_true(y[i] == (i < XOFF ? x[i] : 2 * x[i]));

    acl_release_mems(m, 2);
    free(y0);
    free(x);
    free(y);
    free(xd);
    free(yd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(offsets_and_poison),
    };
    return cmocka_run_group_tests_name("add", tests, NULL, NULL);
}
