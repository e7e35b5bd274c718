/* test_resize.c: the tent-filter resize against hand-computed values and a direct double-precision reference,
 * centre crops, and the shorter-side-then-crop preprocessing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/resize.h"
#include "testutil.h"

/* The filter written directly from its definition, in double, in two dimensions at once: output (y, x) of a
 * resize to (dh, dw) weights input (i, j) by tent_y(i) * tent_x(j), normalized over the taps inside the image. */
static double tent_weight(int k, int o, int out_size, int in_size)
{
    double scale = (double)in_size / out_size, support = scale > 1 ? scale : 1;
    double x = fabs((k + 0.5 - (o + 0.5) * scale) / support);
    return x < 1 ? 1 - x : 0;
}

static void resize_reference(double *dst, int dh, int dw, const uint8_t *src, int sh, int sw, int c)
{
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++)
            for (int k = 0; k < c; k++) {
                double acc = 0, norm = 0;
                for (int i = 0; i < sh; i++)
                    for (int j = 0; j < sw; j++) {
                        double wgt = tent_weight(i, y, dh, sh) * tent_weight(j, x, dw, sw);
                        acc += wgt * src[((size_t)i * sw + j) * c + k];
                        norm += wgt;
                    }
                dst[((size_t)y * dw + x) * c + k] = acc / norm;
            }
}

static void hand_computed_values(void **state)
{
    (void)state;
    /* Enlarging [0 100] to 4: pixel centres at -0.25, 0.25, 0.75, 1.25 in source pixels, edges repeated. */
    const uint8_t up[2] = {0, 100};
    uint8_t out[4];
    assert_int_equal(acl_resize(out, 1, 4, up, 1, 2, 1), ACL_OK);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 25);
    assert_int_equal(out[2], 75);
    assert_int_equal(out[3], 100);
    /* Shrinking [0 40 80 120] to 2: the tent is 2 pixels wide each side; output 0 is centred at 1.0 and weighs
     * pixels 0, 1, 2 by 0.75, 0.75, 0.25 (pixel 3 is at distance 2.5, and -1 is outside):
     * (0*.75 + 40*.75 + 80*.25) / 1.75 = 28.57; output 1: (40*.25 + 80*.75 + 120*.75) / 1.75 = 91.43.
     * Plain bilinear sampling would give 20 and 100: the filter averages, so it does not alias. */
    const uint8_t down[4] = {0, 40, 80, 120};
    assert_int_equal(acl_resize(out, 1, 2, down, 1, 4, 1), ACL_OK);
    assert_int_equal(out[0], 29);
    assert_int_equal(out[1], 91);
    /* The same along the vertical axis, with 2 channels kept apart. */
    const uint8_t col[8] = {0, 200, 40, 200, 80, 200, 120, 200};
    assert_int_equal(acl_resize(out, 2, 1, col, 4, 1, 2), ACL_OK);
    assert_true(out[0] == 29 && out[1] == 200 && out[2] == 91 && out[3] == 200);
}

static void identity_and_flat_images(void **state)
{
    (void)state;
    enum { H = 9, W = 13, C = 3 };
    uint8_t src[H * W * C], dst[H * W * C];
    uint64_t seed = 3;
    double r[H * W * C];
    test_rand(&seed, r, H * W * C, 0, 256);
    for (int i = 0; i < H * W * C; i++)
        src[i] = (uint8_t)r[i];
    assert_int_equal(acl_resize(dst, H, W, src, H, W, C), ACL_OK);
    assert_memory_equal(dst, src, sizeof src);

    /* A flat image stays exactly flat whatever the sizes (the fixed-point weights sum to exactly one). */
    uint8_t *flat = malloc(37 * 53 * 3), *big = malloc(256 * 256 * 3);
    memset(flat, 137, 37 * 53 * 3);
    const int sizes[][2] = {{256, 256}, {5, 7}, {1, 1}, {37, 200}, {100, 2}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int h = sizes[k][0], w = sizes[k][1];
        assert_int_equal(acl_resize(big, h, w, flat, 37, 53, 3), ACL_OK);
        for (int i = 0; i < h * w * 3; i++)
            assert_int_equal(big[i], 137);
    }
    free(flat);
    free(big);
}

static void matches_direct_reference(void **state)
{
    (void)state;
    /* Sizes that shrink a lot, shrink a little, enlarge, and mix both axes; odd sizes; 1 and 3 channels. */
    const int cases[][5] = {{17, 23, 5, 6, 3}, {31, 29, 4, 4, 1}, {6, 5, 19, 13, 3}, {12, 40, 30, 9, 3},
                            {1, 9, 3, 4, 1},   {64, 48, 7, 11, 3}, {10, 10, 9, 9, 1},
                            {1, 5000, 1, 3, 1}, {3001, 2, 2, 1, 1}}; /* extreme ratios: thousands of taps */
    uint64_t seed = 11;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int sh = cases[t][0], sw = cases[t][1], dh = cases[t][2], dw = cases[t][3], c = cases[t][4];
        size_t ns = (size_t)sh * sw * c, nd = (size_t)dh * dw * c;
        uint8_t *src = malloc(ns), *dst = malloc(nd);
        double *r = malloc(ns * sizeof *r), *ref = malloc(nd * sizeof *ref);
        test_rand(&seed, r, ns, 0, 256);
        for (size_t i = 0; i < ns; i++)
            src[i] = (uint8_t)r[i];
        resize_reference(ref, dh, dw, src, sh, sw, c);
        assert_int_equal(acl_resize(dst, dh, dw, src, sh, sw, c), ACL_OK);
        /* Two roundings (after each pass) and fixed-point weights: within one step of the exact value. */
        for (size_t i = 0; i < nd; i++)
            if (fabs(dst[i] - ref[i]) > 1.0)
                fail_msg("%dx%d -> %dx%d c%d: element %zu is %d, reference %.3f", sh, sw, dh, dw, c, i, dst[i],
                         ref[i]);
        free(src);
        free(dst);
        free(r);
        free(ref);
    }
}

static void shorter_side_sizes(void **state)
{
    (void)state;
    int h, w;
    acl_resize_shorter_size(375, 500, 256, &h, &w);
    assert_true(h == 256 && w == 341); /* floor(256 * 500 / 375) = floor(341.33) */
    acl_resize_shorter_size(500, 375, 256, &h, &w);
    assert_true(h == 341 && w == 256);
    acl_resize_shorter_size(300, 300, 256, &h, &w);
    assert_true(h == 256 && w == 256);
    acl_resize_shorter_size(28, 28, 256, &h, &w);
    assert_true(h == 256 && w == 256);
}

static void centre_crop_offsets(void **state)
{
    (void)state;
    /* 5x7 with value 10*y + x: the 3x3 centre starts at (1, 2); the 2x4 one at (1, 1) (floor of 1.5). */
    uint8_t src[5 * 7], dst[12];
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++)
            src[y * 7 + x] = (uint8_t)(10 * y + x);
    assert_int_equal(acl_center_crop(dst, 3, 3, src, 5, 7, 1), ACL_OK);
    assert_int_equal(dst[0], 12);
    assert_int_equal(dst[8], 34);
    assert_int_equal(acl_center_crop(dst, 2, 4, src, 5, 7, 1), ACL_OK);
    assert_int_equal(dst[0], 11);
    assert_int_equal(dst[7], 24);
    assert_int_equal(acl_center_crop(dst, 6, 3, src, 5, 7, 1), ACL_ERR_ARGUMENT);
}

static void shorter_side_crop_is_resize_then_crop(void **state)
{
    (void)state;
    /* The window resize computes only the crop; it must equal the full resize followed by the centre crop. */
    const int cases[][3] = {{75, 100, 3}, {100, 75, 3}, {333, 250, 1}, {20, 31, 3}, {64, 64, 3}};
    enum { S = 64 };
    uint64_t seed = 5;
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        int h = cases[t][0], w = cases[t][1], c = cases[t][2], rh, rw;
        acl_resize_shorter_size(h, w, S, &rh, &rw);
        size_t ns = (size_t)h * w * c;
        uint8_t *src = malloc(ns), *full = malloc((size_t)rh * rw * c), *crop = malloc(S * S * c),
                *direct = malloc(S * S * c);
        double *r = malloc(ns * sizeof *r);
        test_rand(&seed, r, ns, 0, 256);
        for (size_t i = 0; i < ns; i++)
            src[i] = (uint8_t)r[i];
        assert_int_equal(acl_resize(full, rh, rw, src, h, w, c), ACL_OK);
        assert_int_equal(acl_center_crop(crop, S, S, full, rh, rw, c), ACL_OK);
        assert_int_equal(acl_resize_shorter_crop(direct, S, src, h, w, c), ACL_OK);
        assert_memory_equal(direct, crop, (size_t)S * S * c);
        free(src);
        free(full);
        free(crop);
        free(direct);
        free(r);
    }
}

static void bad_arguments_are_refused(void **state)
{
    (void)state;
    uint8_t a[16] = {0}, b[16];
    assert_int_equal(acl_resize(b, 0, 2, a, 2, 2, 1), ACL_ERR_ARGUMENT);
    assert_int_equal(acl_resize(b, 2, 2, a, 2, -1, 1), ACL_ERR_ARGUMENT);
    assert_int_equal(acl_resize(b, 2, 2, a, 2, 2, 5), ACL_ERR_ARGUMENT);
    assert_int_equal(acl_resize_window(b, 1, 0, 2, 2, 2, 2, a, 2, 2, 1), ACL_ERR_ARGUMENT); /* past the bottom */
    assert_int_equal(acl_resize_shorter_crop(b, 0, a, 2, 2, 1), ACL_ERR_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_computed_values),
        cmocka_unit_test(identity_and_flat_images),
        cmocka_unit_test(matches_direct_reference),
        cmocka_unit_test(shorter_side_sizes),
        cmocka_unit_test(centre_crop_offsets),
        cmocka_unit_test(shorter_side_crop_is_resize_then_crop),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return cmocka_run_group_tests_name("resize", tests, NULL, NULL);
}
