/* test_conv.c: convolution references on hand-computed values and by finite differences, the device against
 * the references, and bad shapes rejected. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/conv.h"
#include "testutil.h"

static void assert_all(const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (got[i] != want[i])
            print_message("element %zu: %g, expected %g\n", i, got[i], want[i]);
        assert_true(got[i] == want[i]);
    }
}

static void reference_values(void **state)
{
    (void)state;
    /* 3x3 input 1..9, a 3x3 kernel of ones, stride 2, pad 1: four windows, each the sum of the 2x2 block of
     * the input inside it. */
    const struct conv_shape s = {1, 1, 3, 3, 1, 3, 3, 2, 1, 1};
    assert_int_equal(conv_out_h(&s), 2);
    assert_int_equal(conv_out_w(&s), 2);
    const double x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, bias = 0.5;
    double out[4];
    conv_forward_ref(out, x, ones, &bias, &s);
    assert_all(out, (const double[]){12.5, 16.5, 24.5, 28.5}, 4);

    /* Each input pixel gets the dout of every window that covers it. */
    const double dout[4] = {1, 2, 3, 4};
    double dinp[9];
    memset(dinp, 0xff, sizeof dinp); /* overwritten, not accumulated */
    conv_backward_data_ref(dinp, dout, ones, &s);
    assert_all(dinp, (const double[]){1, 3, 2, 4, 10, 6, 3, 7, 4}, 9);

    /* dW[i][j] = sum over windows of dout * the input under tap (i, j); both gradients accumulate onto 1 and
     * 0.5. Tap (0,0) sees only x=5 (window 4); (0,1) sees 4 and 6 (windows 3, 4); (1,1) sees the corners. */
    double dw[9], db = 0.5;
    for (int i = 0; i < 9; i++)
        dw[i] = 1;
    conv_backward_weights_ref(dw, &db, dout, x, &s);
    assert_all(dw, (const double[]){1 + 20, 1 + 36, 1 + 15, 1 + 36, 1 + 64, 1 + 26, 1 + 10, 1 + 16, 1 + 5}, 9);
    assert_true(db == 10.5);
    conv_backward_weights_ref(dw, NULL, dout, x, &s); /* dbias may be NULL */
    assert_true(dw[4] == 1 + 2 * 64);

    /* Groups: channel 0 feeds outputs 0 and 1, channel 1 feeds 2 and 3 (1x1 kernels, no bias). */
    const struct conv_shape g = {1, 2, 1, 2, 4, 1, 1, 1, 0, 2};
    const double gx[4] = {1, 2, 3, 4}, gw[4] = {1, 2, 3, 4};
    double gout[8];
    conv_forward_ref(gout, gx, gw, NULL, &g);
    assert_all(gout, (const double[]){1, 2, 2, 4, 9, 12, 12, 16}, 8);
}

/* ---- finite differences: L = dot(dout, conv(inp, weight, bias)) ------------------------------- */

struct conv_fd {
    const struct conv_shape *s;
    const double *inp, *weight, *bias, *dout;
    double *out;
    int wrt; /* 0 inp, 1 weight, 2 bias */
};

static double conv_loss(void *ctx, const double *x)
{
    struct conv_fd *f = ctx;
    conv_forward_ref(f->out, f->wrt == 0 ? x : f->inp, f->wrt == 1 ? x : f->weight, f->wrt == 2 ? x : f->bias,
                     f->s);
    return fd_dot(f->dout, f->out, (size_t)f->s->n * f->s->k * conv_out_h(f->s) * conv_out_w(f->s));
}

static void check_fd(const struct conv_shape *s, uint64_t seed)
{
    size_t ni = (size_t)s->n * s->c * s->h * s->w, no = (size_t)s->n * s->k * conv_out_h(s) * conv_out_w(s);
    size_t nw = (size_t)s->k * (s->c / s->groups) * s->kh * s->kw, nb = (size_t)s->k;
    double *buf = calloc(2 * ni + 2 * nw + 2 * nb + 2 * no, sizeof *buf);
    assert_non_null(buf);
    double *inp = buf, *w = inp + ni, *b = w + nw, *dout = b + nb, *out = dout + no, *dinp = out + no;
    double *dw = dinp + ni, *db = dw + nw; /* zero: the accumulating gradients start from nothing */
    test_rand(&seed, inp, ni, -1, 1);
    test_rand(&seed, w, nw, -1, 1);
    test_rand(&seed, b, nb, -1, 1);
    test_rand(&seed, dout, no, -1, 1);
    conv_backward_data_ref(dinp, dout, w, s);
    conv_backward_weights_ref(dw, db, dout, inp, s);
    struct conv_fd f = {s, inp, w, b, dout, out, 0};
    assert_true(fd_max_error(conv_loss, &f, inp, ni, dinp, 1e-4, 1e-9) < 1e-7);
    f.wrt = 1;
    assert_true(fd_max_error(conv_loss, &f, w, nw, dw, 1e-4, 1e-9) < 1e-7);
    f.wrt = 2;
    assert_true(fd_max_error(conv_loss, &f, b, nb, db, 1e-4, 1e-9) < 1e-7);
    free(buf);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    /* {n, c, h, w, k, kh, kw, stride, pad, groups} */
    check_fd(&(struct conv_shape){2, 3, 5, 6, 4, 3, 3, 2, 1, 1}, 11);
    check_fd(&(struct conv_shape){2, 4, 7, 5, 6, 3, 3, 2, 1, 2}, 12);
    check_fd(&(struct conv_shape){1, 4, 6, 7, 2, 2, 3, 1, 0, 2}, 13);
    check_fd(&(struct conv_shape){2, 2, 9, 8, 3, 5, 5, 4, 2, 1}, 14);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("conv");
}

/* ---- bad shapes -------------------------------------------------------------------------------- */

static void expect_bad(struct conv_shape s, const char *fragment)
{
    acl_status st = conv_check_shape(&s);
    if (st != ACL_ERR_ARGUMENT || !strstr(acl_last_error(), fragment))
        print_message("expected an error about \"%s\", got %d: %s\n", fragment, (int)st, acl_last_error());
    assert_int_equal(st, ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), fragment));
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    const struct conv_shape ok = {2, 6, 13, 11, 4, 3, 3, 2, 1, 2};
    assert_int_equal(conv_check_shape(&ok), ACL_OK);
    struct conv_shape s = ok;
    s.k = 5; /* not divisible by 2 groups */
    expect_bad(s, "groups");
    s = ok;
    s.c = 3;
    expect_bad(s, "groups");
    s = ok;
    s.kh = 16; /* 13 + 2 < 16 */
    expect_bad(s, "larger than the padded");
    assert_int_equal(conv_out_h(&s), 0);
    s = ok;
    s.kw = 14, s.pad = 0;
    expect_bad(s, "larger than the padded");
    const int fields = (int)(sizeof ok / sizeof(int));
    for (int f = 0; f < fields; f++) { /* each size zero in turn; pad 0 is fine, pad -1 is not */
        s = ok;
        ((int *)&s)[f] = f == 8 ? -1 : 0;
        expect_bad(s, "positive");
    }
    s = ok;
    s.n = 1 << 20, s.c = 1 << 10, s.groups = 1; /* 2^30 * 143 input elements */
    expect_bad(s, "more than kernels index");
}

static void launchers_reject_bad_arguments(void **state)
{
    (void)state;
    TEST_NEED_DEVICE();
    struct acl_ctx *c = test_ctx();
    const struct conv_shape s = {2, 6, 13, 11, 4, 3, 3, 2, 1, 2};
    /* The largest one-image need: the im2col column matrix (6*9 rows x 7*6 pixels) against the direct
     * backward weights' padded input (6x15x13), its output gradient (42 pixels x 2 groups x 16) and partial
     * sums (slices x 2 groups x 27 taps x 16). */
    size_t per = conv_workspace_floats(&s), col = (size_t)6 * 9 * 7 * 6;
    assert_true(per >= col);
    assert_true(conv_workspace_floats_batch(&s, 0) == per); /* the cap never goes below the least */
    assert_true(conv_workspace_floats_batch(&s, (size_t)1 << 30) >= per);
    cl_mem m = NULL;
    assert_int_equal(acl_buffer(c, 16384 * sizeof(float), &m), ACL_OK);
    struct acl_view v = {m, 0};
    char needed[32];
    snprintf(needed, sizeof needed, "(%zu floats)", col);
    /* A workspace too small for one image, for every path; the message names the size that path needs. */
    assert_int_equal(conv_forward(c, v, v, v, v, v, col - 1, CONV_ALGO_IM2COL, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), needed));
    assert_int_equal(conv_backward_data(c, v, v, v, v, col - 1, CONV_ALGO_IM2COL, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), needed));
    static const enum conv_algo algos[] = {CONV_ALGO_IM2COL, CONV_ALGO_DIRECT, CONV_ALGO_AUTO};
    for (int a = 0; a < 3; a++) {
        assert_int_equal(conv_forward(c, v, v, v, v, v, 0, algos[a], &s, NULL), ACL_ERR_ARGUMENT);
        assert_non_null(strstr(acl_last_error(), "smaller than one image needs"));
        assert_int_equal(conv_backward_weights(c, v, v, v, v, v, 0, algos[a], &s, NULL), ACL_ERR_ARGUMENT);
        assert_non_null(strstr(acl_last_error(), "smaller than one image needs"));
    }
    /* The direct backward data takes stride 1 only; AUTO then runs im2col. */
    assert_int_equal(conv_backward_data(c, v, v, v, v, 4096, CONV_ALGO_DIRECT, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "stride 1"));
    assert_int_equal(conv_pick_backward_data_algo(&s, 4096), CONV_ALGO_IM2COL);
    /* AUTO runs the direct kernels where their workspace fits, im2col where only its workspace does. */
    assert_int_equal(conv_pick_forward_algo(&s, per), CONV_ALGO_DIRECT);
    assert_int_equal(conv_pick_backward_weights_algo(&s, per), CONV_ALGO_DIRECT);
    struct conv_shape s1 = s;
    s1.stride = 1;
    assert_int_equal(conv_pick_backward_data_algo(&s1, conv_workspace_floats(&s1)), CONV_ALGO_DIRECT);
    struct acl_view none = {NULL, 0}, far = {m, (size_t)INT_MAX - 10};
    assert_true(per <= 12000);
    assert_int_equal(conv_forward(c, v, acl_at(v, 1000), acl_at(v, 3000), acl_at(v, 3200), acl_at(v, 4096), per,
                                  CONV_ALGO_AUTO, &s, NULL), ACL_OK);
    assert_int_equal(conv_forward(c, v, acl_at(v, 1000), acl_at(v, 3000), none, acl_at(v, 4096), per,
                                  CONV_ALGO_AUTO, &s, NULL), ACL_OK);
    assert_int_equal(acl_finish(c), ACL_OK);
    /* A bad shape, a bad algorithm, a missing tensor, a view past what an int offset reaches. */
    struct conv_shape bad = s;
    bad.k = 3;
    assert_int_equal(conv_forward(c, v, v, v, v, v, 4096, CONV_ALGO_DIRECT, &bad, NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(conv_forward(c, v, v, v, v, v, 4096, (enum conv_algo)7, &s, NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(conv_backward_data(c, none, v, v, v, 4096, CONV_ALGO_IM2COL, &s, NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(conv_forward(c, far, v, v, v, v, 4096, CONV_ALGO_IM2COL, &s, NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(conv_forward(c, v, v, v, v, far, 4096, CONV_ALGO_IM2COL, &s, NULL), ACL_ERR_ARGUMENT);
    clReleaseMemObject(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(bad_shapes_rejected),
        cmocka_unit_test(launchers_reject_bad_arguments),
        cmocka_unit_test(device_matches_reference),
    };
    return cmocka_run_group_tests_name("conv", tests, NULL, NULL);
}
