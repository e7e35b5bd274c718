/* test_lighting.c: the paper's PCA lighting: the 3x3 Jacobi eigen-solver (the matrix rebuilt from its
 * decomposition, orthonormal vectors, known cases), the covariance from pixel moments, alpha ~ N(0, 0.1) as a
 * function of (seed, epoch, image), and training crops of an RGB image folder shifted by exactly the offset. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/idx.h"
#include "datatest.h"
#include "testutil.h"
#include "train/lighting.h"
#include "train/sources.h"

/* max |a - sum_k vals[k] v_k v_k^T|, max |V V^T - I| and whether vals decrease. */
static void check_decomposition(const double a[3][3], double tol)
{
    double vals[3], v[3][3], scale = 0;
    acl_eig3_sym(a, vals, v);
    for (int i = 0; i < 3; i++)
        for (int j = i; j < 3; j++)
            scale = fmax(scale, fabs(a[i][j]));
    for (int i = 0; i < 3; i++)
        for (int j = i; j < 3; j++) {
            double r = 0, dot = 0;
            for (int k = 0; k < 3; k++) {
                r += vals[k] * v[k][i] * v[k][j];
                dot += v[i][k] * v[j][k];
            }
            if (fabs(r - a[i][j]) > tol * scale + 1e-300)
                fail_msg("entry (%d,%d): rebuilt %.17g, was %.17g", i, j, r, a[i][j]);
            if (fabs(dot - (i == j)) > 1e-13)
                fail_msg("vectors %d and %d: dot %.17g", i, j, dot);
        }
    assert_true(vals[0] >= vals[1] && vals[1] >= vals[2]);
}

static void jacobi_rebuilds_the_matrix(void **state)
{
    (void)state;
    const double known[][3][3] = {
        {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}},
        {{2, 0, 0}, {0, 2, 0}, {0, 0, 2}},
        {{3, 0, 0}, {0, 1, 0}, {0, 0, 2}},
        {{2, 1, 0}, {1, 2, 0}, {0, 0, 3}},             /* eigenvalues 3, 3, 1: a repeated pair */
        {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}},             /* rank one */
        {{1e-8, 3e-9, 0}, {3e-9, 2e-8, 1e-9}, {0, 1e-9, 5e-9}},
        {{1e6, 1, 0}, {1, 1e-6, 0}, {0, 0, -5}},       /* wide range, a negative eigenvalue */
        {{0.0702, 0.0648, 0.0571}, {0.0648, 0.0677, 0.0620}, {0.0571, 0.0620, 0.0711}}, /* a real RGB covariance */
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        check_decomposition(known[i], 1e-13);
    uint64_t seed = 42;
    for (int t = 0; t < 500; t++) {
        double x[6], a[3][3];
        test_rand(&seed, x, 6, -1, 1);
        double mag = pow(10, (t % 13) - 6);
        a[0][0] = x[0] * mag, a[0][1] = x[1] * mag, a[0][2] = x[2] * mag;
        a[1][1] = x[3] * mag, a[1][2] = x[4] * mag, a[2][2] = x[5] * mag;
        a[1][0] = a[0][1], a[2][0] = a[0][2], a[2][1] = a[1][2];
        check_decomposition((const double(*)[3])a, 1e-13);
    }
}

static void jacobi_known_values(void **state)
{
    (void)state;
    const double a[3][3] = {{4, 1, 0}, {1, 4, 0}, {0, 0, 1}};
    double vals[3], v[3][3];
    acl_eig3_sym(a, vals, v);
    assert_true(fabs(vals[0] - 5) < 1e-14 && fabs(vals[1] - 3) < 1e-14 && fabs(vals[2] - 1) < 1e-14);
    const double r = sqrt(0.5);
    assert_true(fabs(v[0][0] - r) < 1e-14 && fabs(v[0][1] - r) < 1e-14 && fabs(v[0][2]) < 1e-14);
    assert_true(fabs(fabs(v[1][0]) - r) < 1e-14 && fabs(v[1][0] + v[1][1]) < 1e-14 && fabs(v[1][2]) < 1e-14);
    assert_true(fabs(v[2][2] - 1) < 1e-14); /* made positive at its largest component */
}

/* The covariance of pixels in [0, 1], two-pass, in double. */
static void covariance(const uint8_t *rgb, size_t n, double cov[3][3])
{
    double mean[3] = {0};
    for (size_t i = 0; i < n; i++)
        for (int a = 0; a < 3; a++)
            mean[a] += rgb[3 * i + a] / 255.0 / (double)n;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += (rgb[3 * i + a] / 255.0 - mean[a]) * (rgb[3 * i + b] / 255.0 - mean[b]);
            cov[a][b] = s / (double)n;
        }
}

/* cov v_k = lambda_k v_k for each of l's components, to float precision. */
static void check_components(const struct acl_lighting *l, const double cov[3][3])
{
    double scale = fabs(cov[0][0]) + fabs(cov[1][1]) + fabs(cov[2][2]);
    for (int k = 0; k < 3; k++)
        for (int a = 0; a < 3; a++) {
            double cv = 0;
            for (int b = 0; b < 3; b++)
                cv += cov[a][b] * l->eigvec[k][b];
            if (fabs(cv - l->eigval[k] * l->eigvec[k][a]) > 1e-6 * scale)
                fail_msg("component %d, row %d: C v %.9g, lambda v %.9g", k, a, cv, l->eigval[k] * l->eigvec[k][a]);
        }
}

static void moments_give_the_pixel_covariance(void **state)
{
    (void)state;
    enum { N = 5000 };
    uint8_t *px = malloc(3 * N);
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++) { /* correlated channels, as in photographs */
        uint32_t t = acl_rand_u32(&s) % 200, u = acl_rand_u32(&s);
        px[3 * i] = (uint8_t)(t + u % 40);
        px[3 * i + 1] = (uint8_t)(t / 2 + (u >> 8) % 50);
        px[3 * i + 2] = (uint8_t)(235 - t + (u >> 16) % 20 - 20 * ((u >> 24) & 1));
    }
    struct acl_rgb_moments whole = {0}, parts = {0};
    acl_rgb_moments_add(&whole, px, N);
    acl_rgb_moments_add(&parts, px, 1234);
    acl_rgb_moments_add(&parts, px + 3 * 1234, N - 1234);
    struct acl_lighting a, b;
    acl_lighting_from_moments(&whole, &a);
    acl_lighting_from_moments(&parts, &b);
    assert_memory_equal(&a, &b, sizeof a);
    double cov[3][3];
    covariance(px, N, cov);
    check_components(&a, cov);
    assert_true(a.eigval[0] > 0.01 && a.eigval[0] > a.eigval[1] && a.eigval[1] > a.eigval[2]);

    /* pixels along (1, 1, 0): one component, lambda = 2 var(t) */
    for (size_t i = 0; i < N; i++) {
        uint8_t t = (uint8_t)(acl_rand_u32(&s) % 256);
        px[3 * i] = px[3 * i + 1] = t;
        px[3 * i + 2] = 128;
    }
    struct acl_rgb_moments line = {0};
    acl_rgb_moments_add(&line, px, N);
    acl_lighting_from_moments(&line, &a);
    covariance(px, N, cov);
    assert_true(fabs(a.eigval[0] - 2 * cov[0][0]) < 1e-6 * cov[0][0]);
    assert_true(fabs(a.eigvec[0][0] - sqrt(0.5)) < 1e-6 && fabs(a.eigvec[0][1] - sqrt(0.5)) < 1e-6);
    assert_true(a.eigval[1] < 1e-9 && a.eigval[2] < 1e-9);
    struct acl_rgb_moments none = {0};
    acl_lighting_from_moments(&none, &a);
    assert_true(a.eigval[0] == 0 && a.eigval[1] == 0 && a.eigval[2] == 0);
    free(px);
}

static void alphas_are_reproducible_normal_draws(void **state)
{
    (void)state;
    double a[3], b[3];
    acl_lighting_alphas(3, 1, 17, a);
    acl_lighting_alphas(3, 1, 17, b);
    assert_memory_equal(a, b, sizeof a);
    acl_lighting_alphas(3, 2, 17, b);
    assert_true(memcmp(a, b, sizeof a) != 0);
    acl_lighting_alphas(4, 1, 17, b);
    assert_true(memcmp(a, b, sizeof a) != 0);
    acl_lighting_alphas(3, 1, 18, b);
    assert_true(memcmp(a, b, sizeof a) != 0);
    enum { N = 20000 };
    double sum[3] = {0}, sq[3] = {0}, cross = 0;
    for (uint64_t i = 0; i < N; i++) {
        acl_lighting_alphas(9, 0, i, a);
        for (int k = 0; k < 3; k++) {
            assert_true(isfinite(a[k]));
            sum[k] += a[k];
            sq[k] += a[k] * a[k];
        }
        cross += a[0] * a[2];
    }
    for (int k = 0; k < 3; k++) { /* standard errors: 0.0007 on the mean, 0.0005 on the deviation */
        double mean = sum[k] / N, sd = sqrt(sq[k] / N - mean * mean);
        if (fabs(mean) > 0.003 || fabs(sd - ACL_LIGHTING_SIGMA) > 0.003)
            fail_msg("alpha %d: mean %.5f, deviation %.5f", k, mean, sd);
    }
    assert_true(fabs(cross / N) < 0.0003); /* independent: E[a0 a2] = 0, standard error 0.00007 */

    struct acl_lighting l = {{0.2f, 0.02f, 0.004f},
                             {{0.58f, 0.58f, 0.57f}, {-0.7f, 0.01f, 0.71f}, {0.4f, -0.81f, 0.42f}}};
    float off[3];
    acl_lighting_offset(&l, 9, 0, 5, off);
    acl_lighting_alphas(9, 0, 5, a);
    for (int c = 0; c < 3; c++) {
        double want = 0;
        for (int k = 0; k < 3; k++)
            want += 255 * a[k] * l.eigval[k] * l.eigvec[k][c];
        assert_true(fabs(off[c] - want) < 1e-4);
    }
}

/* An image folder of RGB PNGs: 2 classes of 3 images of varied sizes and colours. */
static void make_rgb_folder(char *dir, size_t cap)
{
    temp_folder(dir, cap);
    for (int k = 0; k < 2; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/c%d", dir, k);
        make_folder(path);
        for (int i = 0; i < 3; i++) {
            int h = 20 + 7 * i, w = 31 - 5 * i;
            uint8_t *px = pattern(h, w, 3, 11 * k + 3 * i);
            for (int p = 0; p < h * w; p++) /* a colour cast per image, so the channels vary together */
                px[3 * p + (i + k) % 3] = (uint8_t)(px[3 * p + (i + k) % 3] / 2 + 100);
            struct bytes b = encode_png(px, h, w, 3);
            snprintf(path, sizeof path, "%s/c%d/%d.png", dir, k, i);
            write_bytes(path, b.p, b.n);
            free(b.p);
            free(px);
        }
    }
}

static void training_crops_get_the_offset(void **state)
{
    (void)state;
    char dir[4096];
    make_rgb_folder(dir, sizeof dir);
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse("input channels=3 height=12 width=10\nfc name=f out=classes\n", "tiny", 2, &net),
                     ACL_OK);
    struct acl_sources s;
    assert_int_equal(acl_sources_open(&s, dir, NULL, 0), ACL_OK);
    assert_int_equal(acl_sources_fit(&s, net), ACL_OK);
    assert_ptr_equal(s.train_prep.lighting, &s.lighting);
    assert_null(s.val_prep.lighting);

    /* the components are those of the base images' pixels */
    const struct acl_sample_prep *p = &s.train_prep;
    size_t px = (size_t)p->base * p->base;
    uint8_t *all = malloc(6 * px * 3);
    int label;
    for (int i = 0; i < 6; i++)
        assert_int_equal(acl_sample_load_base(p, i, all + (size_t)i * px * 3, &label), ACL_OK);
    double cov[3][3];
    covariance(all, 6 * px, cov);
    check_components(&s.lighting, cov);
    assert_true(s.lighting.eigval[0] > 1e-3);

    /* a training sample with lighting differs from the same crop without by the offset, at every pixel */
    size_t per = 3 * 12 * 10;
    float *lit = malloc(per * sizeof *lit), *plain = malloc(per * sizeof *plain), *again = malloc(per * sizeof *again);
    int l1, l2;
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(s.train.get(s.train.impl, 4, 1, 77, (uint64_t)epoch, lit, &l1), ACL_OK);
        s.train_prep.lighting = NULL;
        assert_int_equal(s.train.get(s.train.impl, 4, 1, 77, (uint64_t)epoch, plain, &l2), ACL_OK);
        s.train_prep.lighting = &s.lighting;
        assert_int_equal(l1, l2);
        float off[3];
        acl_lighting_offset(&s.lighting, 77, (uint64_t)epoch, 4, off);
        assert_true(fabsf(off[0]) + fabsf(off[1]) + fabsf(off[2]) > 0.01f);
        for (size_t i = 0; i < per; i++)
            if (fabsf(lit[i] - plain[i] - off[i / 120]) > 1e-3f)
                fail_msg("element %zu: %g - %g, offset %g", i, lit[i], plain[i], off[i / 120]);
        /* the same coordinates give the same sample: resumable */
        assert_int_equal(s.train.get(s.train.impl, 4, 1, 77, (uint64_t)epoch, again, &l2), ACL_OK);
        assert_memory_equal(lit, again, per * sizeof *lit);
    }
    /* evaluation crops never get it */
    assert_int_equal(s.train.get(s.train.impl, 4, 0, 77, 0, lit, &l1), ACL_OK);
    s.train_prep.lighting = NULL;
    assert_int_equal(s.train.get(s.train.impl, 4, 0, 77, 0, plain, &l2), ACL_OK);
    assert_memory_equal(lit, plain, per * sizeof *lit);
    acl_sources_close(&s);

    /* --no-lighting */
    assert_int_equal(acl_sources_open(&s, dir, NULL, 0), ACL_OK);
    s.no_lighting = 1;
    assert_int_equal(acl_sources_fit(&s, net), ACL_OK);
    assert_null(s.train_prep.lighting);
    acl_sources_close(&s);
    free(all);
    free(lit);
    free(plain);
    free(again);
    acl_net_free(net);
    remove_tree(dir);
}

static void gray_data_gets_no_lighting(void **state)
{
    (void)state;
    uint8_t pixels[4 * 28 * 28], labels[4] = {0, 1, 0, 1};
    uint64_t seed = 5;
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)acl_rand_u32(&seed);
    struct acl_idx im = {0x08, 3, {4, 28, 28, 0}, pixels, sizeof pixels}, lb = {0x08, 1, {4, 0, 0, 0}, labels, 4};
    struct acl_sources s = {0};
    assert_int_equal(acl_dataset_from_idx(&s.train_ds, "gray", &im, &lb, 2, NULL), ACL_OK);
    s.train.classes = 2;
    struct acl_net *net = NULL;
    assert_int_equal(acl_net_parse("input channels=1 height=28 width=28\nfc name=f out=classes\n", "tiny", 2, &net),
                     ACL_OK);
    assert_int_equal(acl_sources_fit(&s, net), ACL_OK);
    assert_null(s.train_prep.lighting);
    acl_sources_close(&s);
    acl_net_free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jacobi_rebuilds_the_matrix),
        cmocka_unit_test(jacobi_known_values),
        cmocka_unit_test(moments_give_the_pixel_covariance),
        cmocka_unit_test(alphas_are_reproducible_normal_draws),
        cmocka_unit_test(training_crops_get_the_offset),
        cmocka_unit_test(gray_data_gets_no_lighting),
    };
    return cmocka_run_group_tests_name("lighting", tests, NULL, NULL);
}
