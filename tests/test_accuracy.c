/* test_accuracy.c: the top-1/top-5 reference on hand-computed rows (ties, NaN, fewer than five classes, bad
 * labels), the device against the reference, and bad shapes rejected. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ops/accuracy.h"
#include "testutil.h"

/* Ranks one sample: its top-1 and top-5 counts (0 or 1 each) must be top1 and top5. */
static void expect(const double *row, int k, int label, int top1, int top5)
{
    int counts[2] = {-1, -1};
    accuracy_ref(counts, row, &label, &(struct accuracy_shape){1, k});
    if (counts[0] != top1 || counts[1] != top5)
        print_message("label %d of %d: top1 %d top5 %d, expected %d %d\n", label, k, counts[0], counts[1], top1,
                      top5);
    assert_int_equal(counts[0], top1);
    assert_int_equal(counts[1], top5);
}

static void reference_values(void **state)
{
    (void)state;
    /* Ranks in a row of 7 distinct logits: 9 > 8 > 7 > 6 > 5 > 4 > 3. */
    const double r[7] = {3, 9, 5, 7, 4, 8, 6};
    expect(r, 7, 1, 1, 1); /* the largest */
    expect(r, 7, 5, 0, 1); /* second */
    expect(r, 7, 2, 0, 1); /* fifth: four are greater */
    expect(r, 7, 4, 0, 0); /* sixth: five are greater */
    expect(r, 7, 0, 0, 0); /* last */

    /* Ties count for the label: equal logits do not push it down. */
    const double tie[6] = {2, 5, 5, 5, 5, 5};
    expect(tie, 6, 1, 1, 1);
    expect(tie, 6, 5, 1, 1);
    expect(tie, 6, 0, 0, 0); /* five strictly greater */
    const double flat[3] = {1, 1, 1};
    expect(flat, 3, 2, 1, 1);

    /* Fewer than five classes: top-5 always holds for a valid label. */
    const double two[2] = {-1, 1};
    expect(two, 2, 0, 0, 1);
    expect(two, 2, 1, 1, 1);
    const double one[1] = {-3};
    expect(one, 1, 0, 1, 1);

    /* NaN: at the label the sample is wrong; elsewhere it ranks above the label. */
    const double nan_row[4] = {NAN, 2, 1, 0};
    expect(nan_row, 4, 0, 0, 0);
    expect(nan_row, 4, 1, 0, 1);

    /* Labels out of range are wrong, not an error. */
    expect(r, 7, -1, 0, 0);
    expect(r, 7, 7, 0, 0);
    expect(r, 7, INT_MAX, 0, 0);

    /* Several samples: the counts add up. */
    const double batch[3 * 7] = {3, 9, 5, 7, 4, 8, 6, 3, 9, 5, 7, 4, 8, 6, 3, 9, 5, 7, 4, 8, 6};
    const int labels[3] = {1, 2, 0};
    int counts[2];
    accuracy_ref(counts, batch, labels, &(struct accuracy_shape){3, 7});
    assert_int_equal(counts[0], 1);
    assert_int_equal(counts[1], 2);
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("accuracy");
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    static const struct accuracy_shape bad[] = {{0, 10}, {3, 0}, {5, -2}, {1 << 16, 1 << 15}};
    static const char *const why[] = {"positive", "positive", "positive", "more than kernels index"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(accuracy_check_shape(&bad[i]), ACL_ERR_ARGUMENT);
        assert_non_null(strstr(acl_last_error(), why[i]));
    }
    assert_int_equal(accuracy_check_shape(&(struct accuracy_shape){1, 1}), ACL_OK);
    /* The launcher checks before touching the device: no context is needed to be refused. */
    struct acl_view none = {NULL, 0};
    assert_int_equal(accuracy_count(NULL, none, none, none, &bad[0], NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(accuracy_count(NULL, none, none, none, &(struct accuracy_shape){2, 3}, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "no buffer for the counts"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_values),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
    };
    return cmocka_run_group_tests_name("accuracy", tests, NULL, NULL);
}
