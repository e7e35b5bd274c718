/* test_softmax.c: softmax cross-entropy reference on hand-computed values (extreme logits and bad labels
 * included) and by finite differences, the device against the reference, and bad shapes rejected. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/softmax.h"
#include "testutil.h"

static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * (1 + fabs(b)); }

static void reference_values(void **state)
{
    (void)state;
    /* Rows: exps 1 and 3 -> probs 1/4, 3/4; a 1e4 gap -> probs 1, 0 and a loss of exactly the gap; a row with
     * a label out of range -> NaN loss and a NaN gradient row, the other rows untouched. */
    const struct softmax_shape s = {4, 3};
    const double x[12] = {0, log(3.0), -INFINITY, 1e4, -1e4, 0, 2, 2, 2, 5, 6, 7};
    const int labels[4] = {0, 1, 2, 3};
    double probs[12], loss[4], d[12];
    softmax_forward_ref(probs, loss, x, labels, &s);
    assert_true(close_to(probs[0], 0.25) && close_to(probs[1], 0.75) && probs[2] == 0);
    assert_true(close_to(loss[0], log(4.0)));
    assert_true(probs[3] == 1 && probs[4] == 0 && close_to(probs[5], exp(-1e4)));
    assert_true(isfinite(loss[1]) && close_to(loss[1], 2e4));
    assert_true(close_to(probs[6], 1.0 / 3) && close_to(loss[2], log(3.0)));
    assert_true(isnan(loss[3]) && isfinite(probs[9] + probs[10] + probs[11]));
    assert_true(isnan(softmax_mean_loss_ref(loss, 4)));
    assert_true(close_to(softmax_mean_loss_ref(loss, 3), (log(4.0) + 2e4 + log(3.0)) / 3));

    /* The gradient of the mean over 4 samples: (probs - onehot) / 4. */
    memset(d, 0, sizeof d); /* overwritten, not accumulated */
    softmax_backward_ref(d, probs, labels, &s);
    assert_true(close_to(d[0], (0.25 - 1) / 4) && close_to(d[1], 0.75 / 4) && d[2] == 0);
    assert_true(close_to(d[4], -0.25) && close_to(d[3], 0.25));
    assert_true(isnan(d[9]) && isnan(d[10]) && isnan(d[11]));

    /* One class: probability 1, loss 0, gradient 0. Labels -1 and INT_MAX are out of range too. */
    const struct softmax_shape one = {3, 1};
    const double x1[3] = {-7, 0, 1e4};
    const int l1[3] = {0, -1, INT_MAX};
    double p1[3], loss1[3], d1[3];
    softmax_forward_ref(p1, loss1, x1, l1, &one);
    assert_true(p1[0] == 1 && p1[1] == 1 && p1[2] == 1 && loss1[0] == 0);
    assert_true(isnan(loss1[1]) && isnan(loss1[2]));
    softmax_backward_ref(d1, p1, l1, &one);
    assert_true(d1[0] == 0 && isnan(d1[1]) && isnan(d1[2]));
}

struct softmax_fd {
    const struct softmax_shape *s;
    const int *labels;
    double *probs, *loss;
};

static double mean_loss(void *ctx, const double *x)
{
    struct softmax_fd *f = ctx;
    softmax_forward_ref(f->probs, f->loss, x, f->labels, f->s);
    return softmax_mean_loss_ref(f->loss, f->s->n);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    static const struct softmax_shape shapes[] = {{1, 1}, {3, 10}, {3, 37}, {5, 2}};
    for (int t = 0; t < 4; t++) {
        const struct softmax_shape *s = &shapes[t];
        size_t nk = (size_t)s->n * s->k;
        double *x = malloc(nk * sizeof *x), *probs = malloc(nk * sizeof *probs), *d = malloc(nk * sizeof *d),
               *loss = malloc((size_t)s->n * sizeof *loss);
        int *labels = malloc((size_t)s->n * sizeof *labels);
        assert_true(x && probs && d && loss && labels);
        uint64_t seed = 21 + (uint64_t)t;
        test_rand(&seed, x, nk, -3, 3);
        for (int r = 0; r < s->n; r++)
            labels[r] = (int)(acl_rand_u32(&seed) % (uint32_t)s->k);
        softmax_forward_ref(probs, loss, x, labels, s);
        softmax_backward_ref(d, probs, labels, s);
        struct softmax_fd ctx = {s, labels, probs, loss};
        double err = fd_max_error(mean_loss, &ctx, x, nk, d, 1e-6, 1e-9);
        if (err >= 1e-6)
            print_message("N%d K%d: finite-difference error %g\n", s->n, s->k, err);
        assert_true(err < 1e-6);
        free(x);
        free(probs);
        free(d);
        free(loss);
        free(labels);
    }
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("softmax");
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    static const struct softmax_shape bad[] = {{0, 10}, {3, 0}, {-1, 5}, {1 << 16, 1 << 15}};
    static const char *const why[] = {"positive", "positive", "positive", "more than kernels index"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(softmax_check_shape(&bad[i]), ACL_ERR_ARGUMENT);
        assert_non_null(strstr(acl_last_error(), why[i]));
    }
    assert_int_equal(softmax_check_shape(&(struct softmax_shape){128, 1000}), ACL_OK);
    /* The launchers check before touching the device: no context is needed to be refused. */
    struct acl_view none = {NULL, 0};
    const struct softmax_shape s = {2, 3};
    assert_int_equal(softmax_forward(NULL, none, none, none, none, none, &bad[0], NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(softmax_forward(NULL, none, none, none, none, none, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "no buffer for the probabilities"));
    assert_int_equal(softmax_backward(NULL, none, none, none, &s, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "no buffer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
    };
    return cmocka_run_group_tests_name("softmax", tests, NULL, NULL);
}
