/* test_dropout.c: the Philox generator against its published known answers, the dropout reference on
 * hand-computed values, by statistics and by finite differences, the device against the reference, and bad
 * shapes rejected. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/dropout.h"
#include "philox.h"
#include "testutil.h"

/* ---- the generator ---------------------------------------------------------------------------- */

static void philox_known_answers(void **state)
{
    (void)state;
    /* Random123's kat_vectors for philox4x32 with 10 rounds: counter, key, expected output. */
    static const acl_u32 kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e,
         0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
         0x5001e420, 0x24126ea1},
    };
    for (int t = 0; t < 3; t++) {
        struct acl_philox4 ctr = {{kat[t][0], kat[t][1], kat[t][2], kat[t][3]}};
        struct acl_philox4 out = acl_philox4x32_10(ctr, kat[t][4], kat[t][5]);
        for (int w = 0; w < 4; w++) {
            if (out.v[w] != kat[t][6 + w])
                print_message("vector %d word %d: %08x, expected %08x\n", t, w, out.v[w], kat[t][6 + w]);
            assert_true(out.v[w] == kat[t][6 + w]);
        }
    }
}

static void philox_layout_and_uniform(void **state)
{
    (void)state;
    /* Index 4b + w is word w of block b: seed 0, step 0, indices 0..3 are the first known-answer vector. */
    const acl_u32 first[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    for (int w = 0; w < 4; w++)
        assert_true(acl_philox_bits(0, 0, (uint64_t)w) == first[w]);
    /* Every coordinate lands in its own counter or key word: block b = (b low, b high), step = (low, high),
     * seed = key (low, high). */
    const uint64_t seed = 0x299f31d0a4093822ULL, step = 0x0370734413198a2eULL, block = 0x05a308d3243f6a88ULL;
    struct acl_philox4 ctr = {{0x243f6a88, 0x05a308d3, 0x13198a2e, 0x03707344}};
    struct acl_philox4 want = acl_philox4x32_10(ctr, 0xa4093822, 0x299f31d0);
    for (int w = 0; w < 4; w++) {
        acl_u32 bits = acl_philox_bits(seed, step, block * 4 + (uint64_t)w);
        assert_true(bits == want.v[w]);
        /* The float is the top 24 bits over 2^24, exactly. */
        float u = acl_philox_uniform(seed, step, block * 4 + (uint64_t)w);
        assert_true(u == (float)((double)(bits >> 8) / 16777216.0));
    }
    /* Extremes of the 24-bit range stay in [0, 1). */
    float lo = (float)(0u >> 8) * (1.0f / 16777216.0f), hi = (float)(0xffffffffu >> 8) * (1.0f / 16777216.0f);
    assert_true(lo == 0.0f && hi < 1.0f && hi == 1.0f - 1.0f / 16777216.0f);
    /* Over many indices: in range, and the mean near 1/2 (standard deviation of the mean sqrt(1/12/n)). */
    enum { N = 1 << 16 };
    double sum = 0;
    for (uint64_t i = 0; i < N; i++) {
        float u = acl_philox_uniform(7, 3, i);
        assert_true(u >= 0.0f && u < 1.0f);
        sum += u;
    }
    assert_true(fabs(sum / N - 0.5) < 5 * sqrt(1.0 / 12 / N));
}

/* Dropout's draws of b = 2^lb bits: index i takes block (i / (2048 / b)) * 16 + i mod 16 and the bits
 * j b .. j b + b - 1 of it, j = (i / 16) mod (128 / b), counting from bit 0 of word 0. */
static void philox_draw_layout(void **state)
{
    (void)state;
    /* Seed 0, step 0, block 0 is the first known-answer vector 0x6627e8d5 0xe169c58d 0xbc57ac4c 0x9b00dbd8:
     * at 16 bits indices 0, 16, 32, ..., 112 read its four words, low half then high half; at 1 bit indices
     * 0, 16, 32, ... read the bits of 0x...e8d5 from the lowest (1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1). */
    const acl_u32 want16[8] = {0xe8d5, 0x6627, 0xc58d, 0xe169, 0xac4c, 0xbc57, 0xdbd8, 0x9b00};
    for (int j = 0; j < 8; j++)
        assert_true(acl_philox_draw(0, 0, 16 * (uint64_t)j, 4) == want16[j]);
    const acl_u32 want1[12] = {1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1};
    for (int j = 0; j < 12; j++)
        assert_true(acl_philox_draw(0, 0, 16 * (uint64_t)j, 0) == want1[j]);
    /* Bits 32..35 (index 16 * 32 at 1 bit: word 1), and at 4 bits row 8 (bits 32..35): 0x...8d low nibble. */
    assert_true(acl_philox_draw(0, 0, 16 * 32, 0) == 1);
    assert_true(acl_philox_draw(0, 0, 16 * 8, 2) == 0xd);
    /* Elsewhere, against the blocks computed directly: a chunk past 2^32 blocks, every width, lane and row. */
    const uint64_t seed = 0x299f31d0a4093822ULL, step = 0x0370734413198a2eULL, chunk = 0x5a308d3243f6aULL;
    for (acl_u32 lb = 0; lb <= 4; lb++) {
        acl_u32 b = 1u << lb, rows = 128 / b, len = 16 * rows;
        for (int l = 0; l < 16; l++) {
            uint64_t block = chunk * 16 + (uint64_t)l;
            struct acl_philox4 ctr = {{(acl_u32)block, (acl_u32)(block >> 32), (acl_u32)step, (acl_u32)(step >> 32)}};
            struct acl_philox4 out = acl_philox4x32_10(ctr, (acl_u32)seed, (acl_u32)(seed >> 32));
            for (acl_u32 j = 0; j < rows; j++) {
                acl_u32 bit = j * b, want = (out.v[bit / 32] >> (bit % 32)) & ((1u << b) - 1);
                assert_true(acl_philox_draw(seed, step, chunk * len + 16 * (uint64_t)j + (uint64_t)l, lb) == want);
            }
        }
    }
    /* The threshold: round(p * 2^16), decided by the fewest bits that hold it exactly. */
    assert_int_equal(dropout_p16(0.0f), 0);
    assert_int_equal(dropout_p16(0.5f), 32768);
    assert_int_equal(dropout_p16(0.3f), 19661); /* 0.3f * 65536 = 19660.8 */
    assert_int_equal(dropout_p16(0.99999f), 65535);
    static const struct {
        float p;
        acl_u32 lb, threshold;
    } draws[] = {{0.0f, 0, 0},     {0.5f, 0, 1},      {0.25f, 1, 1},        {0.75f, 1, 3},
                 {0.125f, 2, 2},   {0.00390625f, 3, 1}, {0.3f, 4, 19661}, {0.99999f, 4, 65535}};
    for (size_t i = 0; i < sizeof draws / sizeof *draws; i++) {
        struct dropout_draw d = dropout_draw_bits(draws[i].p);
        assert_int_equal(d.lb, draws[i].lb);
        assert_int_equal(d.threshold, draws[i].threshold);
    }
}

/* ---- the reference -------------------------------------------------------------------------------- */

static void reference_values(void **state)
{
    (void)state;
    /* Seed 0, step 0 (philox_draw_layout): with p = 0.5 (one bit) elements 0, 16, 32, 48 draw bits 0..3 of
     * 0x...e8d5 = 1, 0, 1, 0, so 16 and 48 are dropped and the others doubled. With p = 0.8 (sixteen bits) they
     * draw 0xe8d5, 0x6627, 0xc58d, 0xe169 over 2^16 = 0.9095, 0.3990, 0.7717, 0.8805: 16 and 32 are dropped and
     * the others scaled by 1 / 0.2. */
    double x[64], dy[64], y[64], dx[64];
    for (int i = 0; i < 64; i++)
        x[i] = 1 + i, dy[i] = 0.5 * i - 3;
    struct dropout_shape s = {1, 64, 64, 0, 0.5f, 0, 0};
    dropout_forward_ref(y, x, &s);
    assert_true(y[0] == 2 && y[16] == 0 && y[32] == 66 && y[48] == 0);
    memset(dx, 0xff, sizeof dx); /* overwritten, not accumulated */
    dropout_backward_ref(dx, dy, &s);
    assert_true(dx[0] == -6 && dx[16] == 0 && dx[32] == 26 && dx[48] == 0);
    s.p = 0.8f;
    dropout_forward_ref(y, x, &s);
    double scale = 1 / (1 - (double)0.8f);
    assert_true(y[0] == 1 * scale && y[16] == 0 && y[32] == 0 && y[48] == 49 * scale);
    /* p = 0 is the identity, NaN included (kept elements pass through). */
    const double z[3] = {-1.5, NAN, 1e30};
    dropout_forward_ref(y, z, &(struct dropout_shape){1, 3, 3, 0, 0.0f, 99, 12});
    assert_true(y[0] == -1.5 && isnan(y[1]) && y[2] == 1e30);
    /* Element (r, c) of a 2x3 tensor is logical index 3r + c; the mask reads that index. */
    struct dropout_shape m = {2, 3, 3, 0, 0.5f, 1234, 5};
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 3; c++)
            assert_int_equal(dropout_kept_ref(&m, r, c), acl_philox_draw(1234, 5, (uint64_t)(3 * r + c), 0) >= 1);
}

static void keep_rate_statistics(void **state)
{
    (void)state;
    enum { ROWS = 256, COLS = 4096 };
    static const float ps[] = {0.1f, 0.5f, 0.9f, 0.25f, 0.125f}; /* 16, 1, 16, 2 and 4 bits a draw */
    for (int k = 0; k < 5; k++) {
        struct dropout_shape s = {ROWS, COLS, COLS, 0, ps[k], 42 + (uint64_t)k, 1000};
        double n = (double)ROWS * COLS, q = 1 - (double)ps[k], kept = 0;
        for (int r = 0; r < ROWS; r++)
            for (int c = 0; c < COLS; c++)
                kept += dropout_kept_ref(&s, r, c);
        double sigmas = fabs(kept - n * q) / sqrt(n * q * (1 - q));
        if (sigmas > 5)
            print_message("p %g: kept %.0f of %.0f, %.1f sigma off\n", (double)ps[k], kept, n, sigmas);
        assert_true(sigmas <= 5);
    }
    /* Masks of different steps, and of different seeds (two layers), agree as independent masks would:
     * on p^2 + (1-p)^2 of the elements (1/2 at p = 1/2). */
    enum { N = 1 << 18 };
    struct dropout_shape a = {1, N, N, 0, 0.5f, 7, 1}, b = a, c = a;
    b.step = 2;
    c.seed = 8;
    double same_step = 0, same_seed = 0;
    for (int i = 0; i < N; i++) {
        int ka = dropout_kept_ref(&a, 0, i);
        same_step += ka == dropout_kept_ref(&b, 0, i);
        same_seed += ka == dropout_kept_ref(&c, 0, i);
    }
    double sigma = sqrt(N * 0.25);
    assert_true(fabs(same_step - N / 2.0) < 5 * sigma);
    assert_true(fabs(same_seed - N / 2.0) < 5 * sigma);
}

/* A layer split by columns (two devices) gets exactly the columns of the unsplit layer's mask. */
static void split_matches_whole(void **state)
{
    (void)state;
    enum { ROWS = 5, COLS = 74, LEFT = 30 };
    double x[ROWS * COLS], whole[ROWS * COLS], xl[ROWS * LEFT], yl[ROWS * LEFT], xr[ROWS * (COLS - LEFT)],
        yr[ROWS * (COLS - LEFT)];
    uint64_t seed = 3;
    test_rand(&seed, x, ROWS * COLS, 0.5, 1.5);
    struct dropout_shape s = {ROWS, COLS, COLS, 0, 0.4f, 77, 9};
    struct dropout_shape left = {ROWS, LEFT, COLS, 0, 0.4f, 77, 9};
    struct dropout_shape right = {ROWS, COLS - LEFT, COLS, LEFT, 0.4f, 77, 9};
    dropout_forward_ref(whole, x, &s);
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            if (c < LEFT)
                xl[r * LEFT + c] = x[r * COLS + c];
            else
                xr[r * (COLS - LEFT) + c - LEFT] = x[r * COLS + c];
        }
    dropout_forward_ref(yl, xl, &left);
    dropout_forward_ref(yr, xr, &right);
    int dropped = 0;
    for (int r = 0; r < ROWS; r++)
        for (int c = 0; c < COLS; c++) {
            double got = c < LEFT ? yl[r * LEFT + c] : yr[r * (COLS - LEFT) + c - LEFT];
            assert_true(got == whole[r * COLS + c]);
            dropped += got == 0;
        }
    assert_true(dropped > 0 && dropped < ROWS * COLS); /* the comparison saw both kinds of element */
}

struct dropout_fd {
    const struct dropout_shape *s;
    const double *dy;
    double *y;
};

static double dropout_loss(void *ctx, const double *x)
{
    struct dropout_fd *d = ctx;
    dropout_forward_ref(d->y, x, d->s);
    return fd_dot(d->dy, d->y, (size_t)d->s->rows * d->s->cols);
}

static void backward_matches_finite_differences(void **state)
{
    (void)state;
    enum { ROWS = 6, COLS = 37, N = ROWS * COLS };
    double x[N], y[N], dy[N], dx[N];
    uint64_t seed = 11;
    test_rand(&seed, x, N, -1, 1);
    test_rand(&seed, dy, N, -1, 1);
    static const float ps[] = {0.0f, 0.3f, 0.75f};
    for (int k = 0; k < 3; k++) {
        struct dropout_shape s = {ROWS, COLS, COLS, 0, ps[k], 5, (uint64_t)k};
        dropout_backward_ref(dx, dy, &s);
        struct dropout_fd ctx = {&s, dy, y};
        assert_true(fd_max_error(dropout_loss, &ctx, x, N, dx, 1e-6, 1e-9) < 1e-6);
    }
}

static void device_matches_reference(void **state)
{
    (void)state;
    test_op_cases("dropout");
}

/* ---- bad shapes -------------------------------------------------------------------------------- */

static void expect_bad(struct dropout_shape s, const char *fragment)
{
    acl_status st = dropout_check_shape(&s);
    if (st != ACL_ERR_ARGUMENT || !strstr(acl_last_error(), fragment))
        print_message("expected an error about \"%s\", got %d: %s\n", fragment, (int)st, acl_last_error());
    assert_int_equal(st, ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), fragment));
}

static void bad_shapes_rejected(void **state)
{
    (void)state;
    const struct dropout_shape good = {4, 10, 10, 0, 0.5f, 1, 2};
    assert_int_equal(dropout_check_shape(&good), ACL_OK);
    struct dropout_shape s = good;
    s.rows = 0;
    expect_bad(s, "positive");
    s = good;
    s.cols = -3;
    expect_bad(s, "positive");
    s = good;
    s.total_cols = 9; /* fewer than cols */
    expect_bad(s, "columns [0, 10)");
    s = good;
    s.total_cols = 20;
    s.col_base = 11;
    expect_bad(s, "columns [11, 21)");
    s.col_base = -1;
    expect_bad(s, "columns [-1, 9)");
    s = good;
    s.rows = 1 << 16;
    s.cols = s.total_cols = 1 << 15;
    expect_bad(s, "more than kernels index");
    static const float bad_p[] = {-0.1f, 1.0f, 1.5f, NAN, INFINITY};
    for (int i = 0; i < 5; i++) {
        s = good;
        s.p = bad_p[i];
        expect_bad(s, "[0, 1)");
    }
    /* The launchers check before touching the device: no context is needed to be refused. */
    struct acl_view none = {NULL, 0};
    s = good;
    s.p = 1;
    assert_int_equal(dropout_forward(NULL, none, none, &s, NULL), ACL_ERR_ARGUMENT);
    assert_int_equal(dropout_backward(NULL, none, none, &good, NULL), ACL_ERR_ARGUMENT);
    assert_non_null(strstr(acl_last_error(), "no buffer"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(philox_known_answers),
        cmocka_unit_test(philox_layout_and_uniform),
        cmocka_unit_test(philox_draw_layout),
        cmocka_unit_test(reference_values),
        cmocka_unit_test(keep_rate_statistics),
        cmocka_unit_test(split_matches_whole),
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(device_matches_reference),
        cmocka_unit_test(bad_shapes_rejected),
    };
    return cmocka_run_group_tests_name("dropout", tests, NULL, NULL);
}
