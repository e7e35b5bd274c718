/* test_fc.c: the fully connected layer's reference (values, finite differences), device against reference,
 * and shapes and views the launchers refuse. */
#include <limits.h>
#include <string.h>

#include "ops/fc.h"
#include "runtime/ctx.h"
#include "testutil.h"

static void reference_values(void **state)
{
    (void)state;
    /* x = [1 2 3; 4 5 6], W = [1 0 -1; 2 1 0], b = [0.5 -1]:
     * y = x W^T + b = [1-3+0.5  2+2-1; 4-6+0.5  8+5-1] = [-1.5 3; -1.5 12]. */
    const struct fc_shape s = {2, 3, 2};
    const double x[] = {1, 2, 3, 4, 5, 6}, w[] = {1, 0, -1, 2, 1, 0}, b[] = {0.5, -1};
    double y[4];
    fc_forward_ref(y, x, w, b, &s);
    assert_true(y[0] == -1.5 && y[1] == 3 && y[2] == -1.5 && y[3] == 12);
    /* dout = [1 2; 3 -1]: dinp = dout W = [1*[1 0 -1] + 2*[2 1 0]; 3*[1 0 -1] - [2 1 0]] = [5 2 -1; 1 -1 -3];
     * dweight = dout^T x = [1*[1 2 3] + 3*[4 5 6]; 2*[1 2 3] - [4 5 6]] = [13 17 21; -2 -1 0], added
     * to ones; dbias = column sums [4 1], added to [0.5 0.5]. */
    const double dy[] = {1, 2, 3, -1};
    double dx[6] = {9, 9, 9, 9, 9, 9}, dw[6] = {1, 1, 1, 1, 1, 1}, db[2] = {0.5, 0.5};
    fc_backward_ref(dx, dw, db, dy, x, w, &s);
    const double want_dx[] = {5, 2, -1, 1, -1, -3}, want_dw[] = {14, 18, 22, -1, 0, 1};
    for (int i = 0; i < 6; i++) {
        assert_true(dx[i] == want_dx[i]); /* overwritten */
        assert_true(dw[i] == want_dw[i]); /* accumulated */
    }
    assert_true(db[0] == 4.5 && db[1] == 1.5);
    /* NULL skips a gradient and leaves the others as computed. */
    fc_backward_ref(NULL, dw, NULL, dy, x, w, &s);
    assert_true(dw[0] == 27 && dw[5] == 1);
}

/* ---- finite differences: L = sum(dout * y) as a function of each input in turn ------------------ */

enum { FN = 3, FIN = 7, FOUT = 5 };

struct fc_fd {
    struct fc_shape s;
    double x[FN * FIN], w[FOUT * FIN], b[FOUT], dy[FN * FOUT], y[FN * FOUT];
    double *wrt; /* the array the finite differences perturb: x, w or b */
};

static double fc_loss(void *ctx, const double *p)
{
    struct fc_fd *f = ctx;
    const double *x = f->wrt == f->x ? p : f->x, *w = f->wrt == f->w ? p : f->w, *b = f->wrt == f->b ? p : f->b;
    fc_forward_ref(f->y, x, w, b, &f->s);
    return fd_dot(f->dy, f->y, FN * FOUT);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    static struct fc_fd f;
    f.s = (struct fc_shape){FN, FIN, FOUT};
    uint64_t seed = 11;
    test_rand(&seed, f.x, FN * FIN, -1, 1);
    test_rand(&seed, f.w, FOUT * FIN, -1, 1);
    test_rand(&seed, f.b, FOUT, -1, 1);
    test_rand(&seed, f.dy, FN * FOUT, -1, 1);
    double dx[FN * FIN], dw[FOUT * FIN] = {0}, db[FOUT] = {0};
    fc_backward_ref(dx, dw, db, f.dy, f.x, f.w, &f.s);

    double copy[FOUT * FIN];
    struct { double *wrt; size_t n; const double *analytic; } cases[] = {
        {f.x, FN * FIN, dx}, {f.w, FOUT * FIN, dw}, {f.b, FOUT, db}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f.wrt = cases[i].wrt;
        memcpy(copy, cases[i].wrt, cases[i].n * sizeof *copy);
        double err = fd_max_error(fc_loss, &f, copy, cases[i].n, cases[i].analytic, 1e-6, 1e-9);
        print_message("fc gradient %zu: fd error %.3g\n", i, err);
        assert_true(err < 1e-7);
    }
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("fc");
}

/* ---- refusals ------------------------------------------------------------------------------------ */

static void expect_bad(struct fc_shape s, const char *fragment)
{
    acl_status st = fc_check_shape(&s);
    if (st != ACL_ERR_ARGUMENT || !strstr(acl_last_error(), fragment))
        print_message("expected an error about \"%s\", got %d: %s\n", fragment, (int)st, acl_last_error());
    assert_int_equal(st, ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), fragment));
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    assert_int_equal(fc_check_shape(&(struct fc_shape){1, 9216, 4096}), ACL_OK);
    expect_bad((struct fc_shape){0, 37, 67}, "must be positive");
    expect_bad((struct fc_shape){1, -1, 67}, "must be positive");
    expect_bad((struct fc_shape){1, 37, 0}, "must be positive");
    expect_bad((struct fc_shape){65536, 65536, 1}, "the input has");
    expect_bad((struct fc_shape){65536, 1, 65536}, "the output has");
    expect_bad((struct fc_shape){1, 65536, 65536}, "the weight has");
}

static void bad_views_rejected(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    cl_mem m = NULL;
    assert_int_equal(acl_buffer(c, 4096 * sizeof(float), &m), ACL_OK);
    const struct fc_shape s = {2, 9, 5};
    struct acl_view v = {m, 0}, none = {NULL, 0}, far = {m, (size_t)INT_MAX - 10};
    assert_int_equal(fc_forward(c, v, v, v, none, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "no buffer for the bias"));
    assert_int_equal(fc_forward(c, v, v, far, v, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "the weight (offset"));
    assert_int_equal(fc_forward(c, v, v, v, v, &(struct fc_shape){2, 0, 5}, NULL), ACL_ERR_ARGUMENT);
    /* dinp may be absent; the parameter gradients may not. */
    assert_int_equal(fc_backward(c, v, v, none, v, v, v, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "bias gradient"));
    assert_int_equal(fc_backward(c, far, v, v, v, v, v, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "input gradient"));
    assert_int_equal(fc_backward(c, none, none, v, v, v, v, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "weight gradient"));
    clReleaseMemObject(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
        cmocka_unit_test(bad_views_rejected),
    };
    return cmocka_run_group_tests_name("fc", tests, NULL, NULL);
}
